"""API tokens: made, listed and revoked by their owner; checked by `ApiTokenAuthentication` on every API call.

The secret is shown once, when the token is made; the database keeps its SHA-256 only. Tokens expire after
API_TOKEN_DAYS and die with a password change (see `ApiToken`).
"""

from __future__ import annotations

import secrets
from datetime import timedelta
from typing import Any

from django.conf import settings
from django.db.models import QuerySet
from django.utils import timezone
from rest_framework.authentication import TokenAuthentication
from rest_framework.exceptions import AuthenticationFailed

from tracker.models import ApiToken, User

# Recognisable in logs and by secret scanners; the hint shown in lists is the prefix and a few characters.
SECRET_PREFIX = "sp_"  # noqa: S105 - a label before the random part, not a secret
HINT_LENGTH = len(SECRET_PREFIX) + 6
# last_used_at is written at most this often, not on every call.
LAST_USED_PRECISION = timedelta(minutes=1)


def api_token_create(*, user: User, name: str = "") -> tuple[ApiToken, str]:
    """Make a token; returns it and its secret, which is never available again. The user's dead tokens go."""
    now = timezone.now()
    user.api_tokens.filter(expires_at__lte=now).delete()
    secret = SECRET_PREFIX + secrets.token_urlsafe(32)
    token = ApiToken.objects.create(
        user=user,
        name=name.strip() or f"API token created {timezone.localtime(now):%Y-%m-%d %H:%M}",
        digest=ApiToken.digest_of(secret),
        hint=secret[:HINT_LENGTH],
        password_fingerprint=user.password_fingerprint(),
        expires_at=now + timedelta(days=settings.API_TOKEN_DAYS),
    )
    return token, secret


def api_token_revoke(*, user: User, token_id: int) -> bool:
    """Delete one of the user's tokens; False if they have none with that id."""
    deleted, _ = ApiToken.objects.filter(user=user, pk=token_id).delete()
    return bool(deleted)


def api_tokens_of(user: User) -> QuerySet[ApiToken]:
    return ApiToken.objects.filter(user=user).select_related("user")


def api_token_check(secret: str) -> ApiToken | None:
    """The live token with this secret (its last use noted), or None."""
    token = ApiToken.objects.select_related("user").filter(digest=ApiToken.digest_of(secret)).first()
    if token is None or not token.is_live:
        return None
    now = timezone.now()
    if token.last_used_at is None or now - token.last_used_at > LAST_USED_PRECISION:
        ApiToken.objects.filter(pk=token.pk).update(last_used_at=now)
    return token


class ApiTokenAuthentication(TokenAuthentication):
    """`Authorization: Token <secret>`, checked against the stored hashes, expiry and password changes."""

    def authenticate_credentials(self, key: str) -> tuple[Any, Any]:
        token = api_token_check(key)
        if token is None:
            raise AuthenticationFailed("Invalid or expired token.")
        return token.user, token
