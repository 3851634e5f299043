"""The OpenAPI schema lists every status an operation can answer, not only its success.

Most error statuses follow from what an operation is, and are added here to every operation they apply to:
bad input (400), credentials (401), refusals of writes (403), unknown objects and pages (404), oversized
bodies (413) and throttles (429). Refusals only some operations make (409 for a state that does not allow the
action, 429 for a quota or a login lockout) are declared on those operations with `CONFLICT`, `OVER_QUOTA` and
`LOCKED_OUT`.
"""

from __future__ import annotations

from types import SimpleNamespace
from typing import Any, cast

from django.contrib.auth.models import AnonymousUser
from drf_spectacular import openapi
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiResponse
from rest_framework import serializers
from rest_framework.request import Request

WRITES = ("POST", "PUT", "PATCH", "DELETE")


class ErrorSerializer(serializers.Serializer[Any]):
    detail = serializers.CharField(help_text="What was refused and why, in a sentence.")


CONFLICT = OpenApiResponse(ErrorSerializer, "The state of things does not allow this now; `detail` says why.")
OVER_QUOTA = OpenApiResponse(ErrorSerializer, "Over an attempt quota; `Retry-After` says when to try again.")
LOCKED_OUT = OpenApiResponse(
    ErrorSerializer, "Too many failed logins for this username or address; `Retry-After` says when to try again."
)
_RETRY_AFTER = {"schema": {"type": "integer"}, "description": "Seconds after which the same request can succeed."}


class AutoSchema(openapi.AutoSchema):
    """drf-spectacular's schema, with each operation's error statuses added to its responses."""

    def get_operation(self, *args: Any, **kwargs: Any) -> dict[str, Any] | None:
        operation: dict[str, Any] | None = super().get_operation(*args, **kwargs)
        if operation is None:
            return None
        responses = operation["responses"]
        for code, response in self._error_responses(operation).items():
            responses.setdefault(code, self._get_response_for_code(response, code))
        if "429" in responses:
            responses["429"].setdefault("headers", {}).setdefault("Retry-After", _RETRY_AFTER)
        return operation

    def _error_responses(self, operation: dict[str, Any]) -> dict[str, OpenApiResponse]:
        where = {parameter["in"] for parameter in operation.get("parameters", [])}
        names = {parameter["name"] for parameter in operation.get("parameters", [])}
        body = "requestBody" in operation
        errors: dict[str, OpenApiResponse] = {}
        if body or "query" in where:
            errors["400"] = OpenApiResponse(
                OpenApiTypes.OBJECT,
                "Bad input: each field or query parameter at fault, named with its messages (or `detail`).",
            )
        errors["401"] = _error(
            "Not signed in, or the token is not valid."
            if self._needs_sign_in()
            else "The token sent is not valid (the operation itself is open to anyone)."
        )
        if self.method in WRITES:
            errors["403"] = _error("Not allowed to the caller (role, ownership), or no CSRF token with a session.")
        if "path" in where or "page" in names:
            errors["404"] = _error("No such object, or not one the caller may see; or a page past the last.")
        if body:
            errors["413"] = _error("The request body is larger than the site accepts (MAX_REQUEST_BYTES).")
        if self.view.get_throttles():
            errors["429"] = _error("Too many requests; `Retry-After` says when to try again.")
        return errors

    def _needs_sign_in(self) -> bool:
        """Whether an anonymous caller is refused by the operation's permissions."""
        # Permissions read the method and the user: that much of a request is enough to ask them.
        anonymous = cast(Request, SimpleNamespace(method=self.method, user=AnonymousUser(), auth=None))
        try:
            return not all(
                permission.has_permission(anonymous, self.view) for permission in self.view.get_permissions()
            )
        # A permission that needs more of the request than its method and user: count it as requiring sign-in.
        except Exception:  # noqa: BLE001
            return True


def _error(description: str) -> OpenApiResponse:
    return OpenApiResponse(ErrorSerializer, description)
