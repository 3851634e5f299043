"""The credentials API: the caller's credentials, one credential as JSON-LD, and verification of any credential."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.shortcuts import get_object_or_404
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema, inline_serializer
from rest_framework import serializers, status
from rest_framework.permissions import IsAuthenticated
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from credentials import selectors
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


class CredentialList(APIView):
    permission_classes = [IsAuthenticated]

    @extend_schema(responses=CredentialSerializer(many=True))
    def get(self, request: Request) -> Response:
        credentials = selectors.credentials_of(learner=request.user)  # type: ignore[arg-type]
        return Response(CredentialSerializer(credentials, many=True).data)


class CredentialDetail(APIView):
    """The signed credential itself, as JSON-LD: the caller's own, or anyone's the learner made public."""

    permission_classes = [IsAuthenticated]

    @extend_schema(responses={(200, "application/ld+json"): OpenApiTypes.OBJECT})
    def get(self, request: Request, pk: str) -> Response:
        credential = get_object_or_404(IssuedCredential, pk=pk)
        if not credential.visible_to(request.user):
            return Response({"detail": "No such credential."}, status=status.HTTP_404_NOT_FOUND)
        return Response(credential.document, content_type="application/ld+json")


class CredentialVerify(APIView):
    """Verify any credential against this site's keys and status lists; the body is the credential."""

    permission_classes = [IsAuthenticated]

    @extend_schema(request=OpenApiTypes.OBJECT, responses={200: VerificationSerializer})
    def post(self, request: Request) -> Response:
        length = str(request.META.get("CONTENT_LENGTH") or "0")
        size = int(length) if length.isdigit() else 0  # a malformed header: the request-size middleware judges
        if size > settings.CREDENTIALS_VERIFY_MAX_BYTES:
            return Response({"detail": "A credential is a few KB; this body is too large."}, status=400)
        document: Any = request.data
        if not isinstance(document, dict):
            return Response({"detail": "The body must be a credential: a JSON object."}, status=400)
        return Response(selectors.credential_verify_here(dict(document)).as_dict())
