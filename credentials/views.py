"""Credential pages: the learner's list, the public page, the verify page; the DID document and status lists."""

from __future__ import annotations

import json
from typing import Any
from urllib.parse import urlencode

from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.http import require_GET, require_POST

from credentials import selectors, services
from credentials.badge import badge_svg
from credentials.baking import MEDIA_TYPES
from credentials.did import did_document
from credentials.forms import CredentialUploadForm
from credentials.models import IssuedCredential, IssuerProfile, StatusList
from tracker.models import Competency
from tracker.types import AuthenticatedHttpRequest

LD_JSON = "application/ld+json"


def _public(response: HttpResponse) -> HttpResponse:
    # Verifiers in other sites' pages (e.g. VerifierPlus) fetch these from the browser.
    response["Access-Control-Allow-Origin"] = "*"
    return response


@require_GET
def did_json(request: HttpRequest) -> HttpResponse:
    return _public(JsonResponse(did_document(), json_dumps_params={"indent": 2}))


@require_GET
def status_list(request: HttpRequest, pk: int) -> HttpResponse:
    document = services.status_list_document(status_list=get_object_or_404(StatusList, pk=pk))
    return _public(JsonResponse(document, content_type=LD_JSON, json_dumps_params={"indent": 2}))


def linkedin_url(credential: IssuedCredential, organisation: str) -> str:
    """LinkedIn's "Add licence or certification" form, filled in."""
    query = {
        "startTask": "CERTIFICATION_NAME",
        "name": credential.name,
        "organizationName": organisation,
        "issueYear": credential.issued_at.year,
        "issueMonth": credential.issued_at.month,
        "certUrl": credential.public_url,
        "certId": str(credential.pk),
    }
    if credential.valid_until:
        query |= {"expirationYear": credential.valid_until.year, "expirationMonth": credential.valid_until.month}
    return "https://www.linkedin.com/profile/add?" + urlencode(query)


@login_required
def my_credentials(request: AuthenticatedHttpRequest) -> HttpResponse:
    credentials = selectors.credentials_of(learner=request.user)
    organisation = IssuerProfile.load().name
    rows = [(credential, linkedin_url(credential, organisation)) for credential in credentials]
    return render(request, "credentials/my_credentials.html", {"rows": rows})


@login_required
@require_POST
def credential_share(request: AuthenticatedHttpRequest, pk: str) -> HttpResponse:
    credential = get_object_or_404(IssuedCredential, pk=pk, learner=request.user)
    services.credential_set_public(
        credential=credential, learner=request.user, public=request.POST.get("public") == "1"
    )
    return redirect("my-credentials")


def _visible(request: HttpRequest, pk: str) -> IssuedCredential:
    credential = get_object_or_404(IssuedCredential.objects.select_related("competency", "learner"), pk=pk)
    if not credential.visible_to(request.user):
        raise Http404("No such credential.")  # the same answer as for an unknown id: nothing to learn
    return credential


@require_GET
def credential_public(request: HttpRequest, pk: str) -> HttpResponse:
    credential = _visible(request, pk)
    context = {
        "credential": credential,
        "achievement": credential.document["credentialSubject"]["achievement"],
        "evidence": selectors.evidence_summary(credential=credential),
        "result": selectors.credential_verify_here(credential.document),
    }
    return render(request, "credentials/credential_public.html", context)


@require_GET
def credential_badge(request: HttpRequest, pk: str, image_format: str) -> HttpResponse:
    """The badge with the credential baked in (Open Badges 3.0 baking): a file to keep, show or upload anywhere."""
    credential = _visible(request, pk)
    image = selectors.credential_badge(credential=credential, image_format=image_format)
    response = HttpResponse(image, content_type=MEDIA_TYPES[image_format])
    response["Content-Disposition"] = f'attachment; filename="credential-{credential.pk}.{image_format}"'
    return _public(response)


@require_GET
def achievement_badge(request: HttpRequest, uuid: str) -> HttpResponse:
    """The achievement's image (`achievement.image` of its credentials): the badge, nothing baked in."""
    competency = get_object_or_404(Competency.objects.exclude(status=Competency.Status.DRAFT), uuid=uuid)
    response = HttpResponse(
        badge_svg(name=competency.title, issuer=IssuerProfile.load().name), content_type=MEDIA_TYPES["svg"]
    )
    response["Cache-Control"] = "public, max-age=3600"
    return _public(response)


@require_GET
def credential_json(request: HttpRequest, pk: str) -> HttpResponse:
    credential = _visible(request, pk)
    response = HttpResponse(json.dumps(credential.document, indent=2), content_type=LD_JSON)
    response["Content-Disposition"] = f'attachment; filename="credential-{credential.pk}.json"'
    return _public(response)


def credential_verify_page(request: HttpRequest) -> HttpResponse:
    form = CredentialUploadForm(request.POST or None, request.FILES or None)
    context: dict[str, Any] = {"form": form}
    if request.method == "POST" and form.is_valid():
        context["result"] = selectors.credential_verify_here(form.cleaned_data["file"])
    return render(request, "credentials/verify.html", context, status=400 if form.errors else 200)
