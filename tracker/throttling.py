"""Limits on the account endpoints: logins and tokens (django-axes), sign-up and password reset (counted here).

Logins (the form, the admin's, `POST /api/auth/token/`) go through django-axes: LOGIN_FAILURE_LIMIT failures for
one username or from one address lock them out. The lockout refuses even the right password, lasts
LOGIN_LOCKOUT_MINUTES, and doubles for every further LOGIN_FAILURE_LIMIT failures within a day; an admin lifts it
by deleting the access attempts (Django admin, or `manage.py axes_reset`). Sign-up and password reset send mail,
so they are counted per address and per e-mail address instead. Either way the answer is 429 with Retry-After.
"""

from __future__ import annotations

import hashlib
import ipaddress
import math
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from axes.helpers import get_client_username
from axes.models import AccessAttempt, AccessFailureLog
from django.conf import settings
from django.db.models import Q
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import render
from django.utils import timezone

from tracker.models import RateLimitHit

# However many failures, a lockout never lasts longer than this.
LONGEST_LOCKOUT = timedelta(days=1)
# How far back failures count towards a longer lockout.
FAILURE_MEMORY = timedelta(days=1)


@dataclass(frozen=True)
class Rate:
    per_address: int
    per_account: int
    period: timedelta = timedelta(hours=1)


RATES = {
    "signup": Rate(per_address=10, per_account=3),
    "password_reset": Rate(per_address=10, per_account=3),
}


def client_address(request: HttpRequest) -> str | None:
    """The client's IP address: REMOTE_ADDR, or behind PROXY_COUNT proxies, the address the outermost one saw.

    Only the entries our own proxies appended to X-Forwarded-For are trusted; a client can write the rest.
    """
    if settings.PROXY_COUNT:
        hops = [hop.strip() for hop in request.META.get("HTTP_X_FORWARDED_FOR", "").split(",") if hop.strip()]
        if len(hops) >= settings.PROXY_COUNT and _is_ip(hops[-settings.PROXY_COUNT]):
            return hops[-settings.PROXY_COUNT]
    address = request.META.get("REMOTE_ADDR", "")
    return address if _is_ip(address) else None


def _is_ip(value: str) -> bool:
    try:
        ipaddress.ip_address(value)
    except ValueError:
        return False
    return True


def login_cool_off(request: Any = None) -> timedelta:
    """How long a login lockout lasts for this client (django-axes' AXES_COOLOFF_TIME).

    The base time, doubled for each LOGIN_FAILURE_LIMIT failures past the first within a day, counted for the
    username asked for and for the address asking.
    """
    base = timedelta(minutes=settings.LOGIN_LOCKOUT_MINUTES)
    failures = _recent_failures(request) if request is not None else 0
    doublings = max(failures // settings.LOGIN_FAILURE_LIMIT - 1, 0)
    # The cap keeps 2**n bounded: an hour-long base needs fewer than 5 doublings to reach a day.
    return min(base * 2 ** min(doublings, 20), LONGEST_LOCKOUT)


def _recent_failures(request: Any) -> int:
    who = Q(ip_address=getattr(request, "axes_ip_address", None) or client_address(request))
    username = get_client_username(request, getattr(request, "axes_credentials", None))
    if username:
        who |= Q(username=username)
    return AccessFailureLog.objects.filter(who, attempt_time__gte=timezone.now() - FAILURE_MEMORY).count()


def lockout_response(
    request: Any, original_response: HttpResponse | None = None, credentials: Any = None
) -> HttpResponse:
    """django-axes' AXES_LOCKOUT_CALLABLE: a locked-out login answers 429 until the lockout ends."""
    return too_many_requests(request, seconds=_whole_seconds(login_cool_off(request)), locked=True)


def too_many_requests(request: HttpRequest, *, seconds: int, locked: bool = False) -> HttpResponse:
    """429 with Retry-After: JSON for the API, the friendly page for people."""
    minutes = max(math.ceil(seconds / 60), 1)
    wait = f"{minutes} minute{'s' if minutes != 1 else ''}"
    response: HttpResponse
    if request.path.startswith("/api/"):
        detail = f"Too many attempts. Try again in {wait}."
        response = JsonResponse({"detail": detail, "retry_after": seconds}, status=429)
    else:
        context = {"wait": wait, "locked": locked}
        response = render(request, "registration/too_many_attempts.html", context, status=429)
    response["Retry-After"] = str(seconds)
    return response


def rate_limit_hit(*, scope: str, address: str | None, account: str) -> int:
    """Count one sign-up or password-reset request against its address and its e-mail address.

    Returns:
        0 if it may go ahead (it is counted), else the seconds until it may (it is not counted).
    """
    rate, now = RATES[scope], timezone.now()
    since = now - rate.period
    RateLimitHit.objects.filter(scope=scope, created_at__lt=since).delete()
    limits = {
        _key(value): limit for value, limit in ((address, rate.per_address), (account, rate.per_account)) if value
    }
    wait = max((_wait(scope, key, limit, since, rate.period) for key, limit in limits.items()), default=0)
    if not wait:
        RateLimitHit.objects.bulk_create(RateLimitHit(scope=scope, key=key, created_at=now) for key in limits)
    return wait


def _key(value: str) -> str:
    return hashlib.sha256(value.strip().lower().encode()).hexdigest()


def _wait(scope: str, key: str, limit: int, since: Any, period: timedelta) -> int:
    hits = RateLimitHit.objects.filter(scope=scope, key=key, created_at__gte=since).order_by("-created_at")
    times = list(hits.values_list("created_at", flat=True)[:limit])
    if len(times) < limit:
        return 0
    return max(_whole_seconds(times[-1] + period - timezone.now()), 1)


def _whole_seconds(delta: timedelta) -> int:
    return math.ceil(delta.total_seconds())


def login_records_prune(now: datetime | None = None) -> dict[str, int]:
    """Forget what no lockout needs any more: failures older than FAILURE_MEMORY (they no longer lengthen a
    lockout) and attempts whose lockout has expired. Without this the tables only grow (a bot trying
    random usernames adds a row per try). Run hourly by beat."""
    now = now or timezone.now()
    failures, _ = AccessFailureLog.objects.filter(attempt_time__lt=now - FAILURE_MEMORY).delete()
    expired, _ = AccessAttempt.objects.filter(expiration__expires_at__lte=now).delete()
    return {"failures": failures, "attempts": expired}
