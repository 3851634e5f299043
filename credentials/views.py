"""Public, read-only views: the issuer's DID document."""

from __future__ import annotations

from django.http import HttpRequest, JsonResponse
from django.views.decorators.http import require_GET

from credentials.did import did_document


@require_GET
def did_json(request: HttpRequest) -> JsonResponse:
    response = JsonResponse(did_document(), json_dumps_params={"indent": 2})
    # Verifiers in other sites' pages (e.g. VerifierPlus) fetch it from the browser.
    response["Access-Control-Allow-Origin"] = "*"
    return response
