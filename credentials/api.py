"""The credentials API: the caller's credentials, one credential as JSON-LD, and verification of any credential."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.http import QueryDict
from django.shortcuts import get_object_or_404
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema, inline_serializer
from rest_framework import serializers, status
from rest_framework.permissions import IsAuthenticated
from rest_framework.renderers import JSONRenderer
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from credentials import selectors
from credentials.baking import CredentialParseError, credential_read
from credentials.models import IssuedCredential
from credentials.verification import RESULT_KEYS


class CredentialSerializer(serializers.ModelSerializer[IssuedCredential]):
    competency: serializers.SlugRelatedField[Any] = serializers.SlugRelatedField(slug_field="slug", read_only=True)
    url = serializers.CharField(source="public_url", read_only=True)
    revoked = serializers.BooleanField(source="is_revoked", read_only=True)

    class Meta:
        model = IssuedCredential
        fields = [
            "id", "competency", "competency_version", "issued_at", "valid_from", "valid_until", "public",
            "revoked", "revoked_at", "revocation_reason", "url",
        ]  # fmt: skip


VerificationSerializer = inline_serializer(
    "CredentialVerification",
    {
        "valid": serializers.BooleanField(),
        "proof": serializers.BooleanField(),
        "issuer_key": serializers.BooleanField(),
        "status": serializers.ChoiceField(choices=["active", "revoked", "unchecked"]),
        "expired": serializers.BooleanField(),
        "not_yet_valid": serializers.BooleanField(),
        "errors": serializers.ListField(child=serializers.CharField()),
    },
)
assert set(VerificationSerializer.fields) == set(RESULT_KEYS)
MULTIPART_OVERHEAD = 16 * 1024
UploadSerializer = inline_serializer("CredentialUpload", {"file": serializers.FileField()})


class CredentialList(APIView):
    permission_classes = [IsAuthenticated]

    @extend_schema(responses=CredentialSerializer(many=True))
    def get(self, request: Request) -> Response:
        credentials = selectors.credentials_of(learner=request.user)  # type: ignore[arg-type]
        return Response(CredentialSerializer(credentials, many=True).data)


class LdJsonRenderer(JSONRenderer):
    media_type = "application/ld+json"
    format = "jsonld"


class CredentialDetail(APIView):
    """The signed credential itself, as JSON-LD: the caller's own, or anyone's the learner made public."""

    permission_classes = [IsAuthenticated]
    # A JSON-LD client asks for application/ld+json; plain JSON clients are answered the same document.
    renderer_classes = [LdJsonRenderer, JSONRenderer]

    @extend_schema(responses={(200, "application/ld+json"): OpenApiTypes.OBJECT})
    def get(self, request: Request, pk: str) -> Response:
        credential = get_object_or_404(IssuedCredential, pk=pk)
        if not credential.visible_to(request.user):
            return Response({"detail": "No such credential."}, status=status.HTTP_404_NOT_FOUND)
        return Response(credential.document, content_type="application/ld+json")


class CredentialVerify(APIView):
    """Verify any credential against this site's keys and status lists.

    The body is the credential as JSON, or a multipart upload whose `file` is the credential's JSON file or its
    baked badge (PNG or SVG, Open Badges 3.0 baking).
    """

    permission_classes = [IsAuthenticated]

    @extend_schema(
        request={"application/json": OpenApiTypes.OBJECT, "multipart/form-data": UploadSerializer},
        responses={200: VerificationSerializer},
    )
    def post(self, request: Request) -> Response:
        limit = settings.CREDENTIALS_VERIFY_MAX_BYTES
        length = str(request.META.get("CONTENT_LENGTH") or "0")
        size = int(length) if length.isdigit() else 0  # a malformed header: the request-size middleware judges
        # A multipart upload's part headers and boundaries come on top of the file.
        allowance = limit + (MULTIPART_OVERHEAD if request.content_type.startswith("multipart/") else 0)
        if size > allowance:
            detail = f"The body is larger than {limit // 1024} KB; a credential or baked badge is smaller."
            return Response({"detail": detail}, status=400)
        try:
            document = _credential_in(request, limit)
        except CredentialParseError as error:
            return Response({"detail": str(error)}, status=400)
        return Response(selectors.credential_verify_here(document).as_dict())


def _credential_in(request: Request, limit: int) -> dict[str, Any]:
    if request.content_type.startswith("multipart/form-data"):
        upload = request.FILES.get("file")
        if upload is None:
            raise CredentialParseError("Send the credential as the `file` field (its JSON file or baked badge).")
        return credential_read(upload.read(limit + 1))
    if not isinstance(request.data, dict) or isinstance(request.data, QueryDict):  # a form is no credential
        raise CredentialParseError("The body must be a credential: a JSON object.")
    return dict(request.data)
