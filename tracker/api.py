"""Catalogue API: public reads, admin-only writes, token auth for scripts and notebooks."""

from __future__ import annotations

from typing import Any

from django.contrib.auth import authenticate
from django.core.exceptions import PermissionDenied as DjangoPermissionDenied
from django.db.models import ProtectedError
from django.http import Http404
from drf_spectacular.utils import extend_schema, inline_serializer
from rest_framework import generics, permissions, serializers
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView
from rest_framework.views import exception_handler as drf_exception_handler

from tracker import selectors, throttling, tokens
from tracker.errors import DomainError
from tracker.models import Competency
from tracker.openapi import LOCKED_OUT
from tracker.serializers import CompetencyListSerializer, CompetencySerializer


class IsAdminRoleOrReadOnly(permissions.BasePermission):
    """Anyone may read the published catalogue; only admins change it."""

    def has_permission(self, request: Request, view: Any) -> bool:
        if request.method in permissions.SAFE_METHODS:
            return True
        return bool(request.user and request.user.is_authenticated and request.user.is_admin_role)


class CompetencyList(generics.ListCreateAPIView[Competency]):
    permission_classes = [IsAdminRoleOrReadOnly]

    def get_queryset(self) -> Any:
        return selectors.competency_list_published()

    def get_serializer_class(self) -> Any:
        return CompetencySerializer if self.request.method == "POST" else CompetencyListSerializer


class CompetencyDetail(generics.RetrieveUpdateDestroyAPIView[Competency]):
    permission_classes = [IsAdminRoleOrReadOnly]
    serializer_class = CompetencySerializer
    lookup_field = "slug"

    def get_queryset(self) -> Any:
        return selectors.competency_detail_queryset()


class TokenRequestSerializer(serializers.Serializer[Any]):
    username = serializers.CharField(max_length=150)
    password = serializers.CharField(max_length=4096, trim_whitespace=False, style={"input_type": "password"})
    name = serializers.CharField(max_length=100, required=False, allow_blank=True)


@extend_schema(
    request=TokenRequestSerializer,
    responses={
        200: inline_serializer(
            "TokenResponse",
            {
                "token": serializers.CharField(),
                "name": serializers.CharField(),
                "expires_at": serializers.DateTimeField(),
            },
        ),
        429: LOCKED_OUT,
    },
)
class ObtainTokenView(APIView):
    """POST username and password: a new named token for `Authorization: Token <token>`, shown this once.

    Failures count towards the login lockout (django-axes): when it holds, the answer is 429 with Retry-After,
    even for the right password.
    """

    permission_classes = [permissions.AllowAny]

    def post(self, request: Request) -> Response | Any:
        serializer = TokenRequestSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = serializer.validated_data
        # The DRF request, so that axes reads the username from JSON bodies too and flags this request.
        user = authenticate(request, username=data["username"], password=data["password"])  # type: ignore[arg-type]
        if getattr(request, "axes_locked_out", False):
            return throttling.lockout_response(request)
        if user is None:
            raise serializers.ValidationError({"non_field_errors": ["Unable to log in with provided credentials."]})
        token, secret = tokens.api_token_create(user=user, name=data.get("name", ""))  # type: ignore[arg-type]
        return Response({"token": secret, "name": token.name, "expires_at": token.expires_at})


def exception_handler(exc: Exception, context: dict[str, Any]) -> Response | None:
    """DRF's handler, plus the domain's refusals and Django's own 404/403 as JSON (never an HTML page or a 500)."""
    if isinstance(exc, DjangoPermissionDenied):
        return Response({"detail": str(exc) or "Permission denied."}, status=403)
    if isinstance(exc, DomainError):
        headers = {"Retry-After": str(exc.retry_after)} if exc.retry_after else None
        return Response({"detail": exc.message}, status=exc.status, headers=headers)
    if isinstance(exc, ProtectedError):
        return Response(
            {"detail": "It is still in use (evidence or tasks refer to it), so it cannot be deleted."}, status=409
        )
    if isinstance(exc, Http404):
        return Response({"detail": "Not found."}, status=404)
    return drf_exception_handler(exc, context)
