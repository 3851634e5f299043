"""Brute force and mail floods: login, token, sign-up and password reset are limited, through real requests."""

from __future__ import annotations

import io
from datetime import timedelta
from typing import Any

import pytest
from axes.models import AccessAttempt, AccessAttemptExpiration, AccessFailureLog
from django.test import Client, RequestFactory
from django.utils import timezone
from rest_framework.test import APIClient

from tests.conftest import PASSWORD
from tracker.models import User
from tracker.throttling import client_address

pytestmark = pytest.mark.django_db

LIMIT = 10  # LOGIN_FAILURE_LIMIT's default
BASE = 5 * 60  # LOGIN_LOCKOUT_MINUTES' default, in seconds


def login(client: Client, password: str, username: str = "alice", **extra: Any) -> Any:
    return client.post("/accounts/login/", {"username": username, "password": password}, **extra)


def token(api: APIClient, password: str, username: str = "alice", **extra: Any) -> Any:
    return api.post("/api/auth/token/", {"username": username, "password": password}, format="json", **extra)


def test_wrong_passwords_on_the_login_form_end_in_a_429_page_with_retry_after(client: Client, alice: User) -> None:
    for _ in range(LIMIT - 1):
        assert login(client, "wrong").status_code == 200
    response = login(client, "wrong")
    assert response.status_code == 429
    assert response["Retry-After"] == str(BASE)
    assert "Too many attempts" in response.content.decode()
    assert "Try again in 5 minutes" in response.content.decode()


def test_the_right_password_is_refused_while_the_lockout_lasts(client: Client, alice: User) -> None:
    for _ in range(LIMIT):
        login(client, "wrong")
    response = login(client, PASSWORD)
    assert response.status_code == 429
    assert "_auth_user_id" not in client.session


def test_wrong_passwords_on_the_token_endpoint_end_in_a_json_429(alice: User) -> None:
    api = APIClient()
    for _ in range(LIMIT - 1):
        assert token(api, "wrong").status_code == 400
    response = token(api, "wrong")
    assert response.status_code == 429
    assert response["Retry-After"] == str(BASE)
    assert response.json()["retry_after"] == BASE and "Too many attempts" in response.json()["detail"]
    right = token(api, PASSWORD)
    assert right.status_code == 429 and "token" not in right.json()


def test_the_form_and_the_api_share_one_count(client: Client, alice: User) -> None:
    for _ in range(LIMIT // 2):
        login(client, "wrong")
        token(APIClient(), "wrong")
    assert token(APIClient(), PASSWORD).status_code == 429


def test_wrong_passwords_in_a_row_meet_ever_longer_lockouts_up_to_a_day(alice: User) -> None:
    # The 600 in a row, cut to what reaches the cap (5 minutes doubled 9 times is over a day).
    api = APIClient()
    waits = [token(api, "wrong").get("Retry-After") for _ in range(120)]
    assert waits[LIMIT - 2] is None  # the ninth failure is still an ordinary 400
    assert [int(w) for w in waits[LIMIT - 1 : 3 * LIMIT : LIMIT]] == [BASE, 2 * BASE, 4 * BASE]
    assert waits[-1] == str(24 * 3600)
    assert token(api, PASSWORD).status_code == 429


def test_a_lockout_ends_after_its_time_and_the_next_one_lasts_twice_as_long(client: Client, alice: User) -> None:
    for _ in range(LIMIT):
        login(client, "wrong")
    _time_passes(minutes=6)
    assert login(client, PASSWORD).status_code == 302  # over: the right password works again
    client.logout()
    for _ in range(LIMIT - 1):
        assert login(client, "wrong").status_code == 200
    assert login(client, "wrong")["Retry-After"] == str(2 * BASE)


def test_the_limit_counts_per_address_across_accounts(client: Client, alice: User) -> None:
    for n in range(LIMIT):
        login(client, "wrong", username=f"guess{n}")
    assert login(client, PASSWORD).status_code == 429
    assert login(client, PASSWORD, REMOTE_ADDR="10.0.0.2").status_code == 302  # another address is not locked


def test_the_limit_counts_per_account_across_addresses(client: Client, alice: User) -> None:
    for n in range(LIMIT):
        login(client, "wrong", REMOTE_ADDR=f"10.0.1.{n}")
    assert login(client, PASSWORD, REMOTE_ADDR="10.0.2.1").status_code == 429


def test_an_admin_lifts_a_lockout_in_the_admin(client: Client, alice: User, admin_user: User) -> None:
    for _ in range(LIMIT):
        login(client, "wrong")
    admin = Client()
    admin.force_login(admin_user)
    assert admin.get("/admin/axes/accessattempt/").status_code == 200
    ids = [str(pk) for pk in AccessAttempt.objects.values_list("pk", flat=True)]
    response = admin.post(
        "/admin/axes/accessattempt/", {"action": "delete_selected", "_selected_action": ids, "post": "yes"}
    )
    assert response.status_code == 302
    assert login(client, PASSWORD).status_code == 302


def test_axes_reset_lifts_a_lockout(client: Client, alice: User) -> None:
    from django.core.management import call_command

    for _ in range(LIMIT):
        login(client, "wrong")
    call_command("axes_reset_username", "alice", stdout=io.StringIO())
    call_command("axes_reset_ip", "127.0.0.1", stdout=io.StringIO())
    assert login(client, PASSWORD).status_code == 302


def test_login_records_no_lockout_needs_are_pruned_by_beat(client: Client, alice: User) -> None:
    from datetime import timedelta

    from axes.models import AccessAttempt, AccessFailureLog
    from django.utils import timezone

    from tracker.project.settings import CELERY_BEAT_SCHEDULE
    from tracker.tasks import prune_login_records

    for number in range(LIMIT):
        login(client, "wrong", username=f"bot-{number}")  # a bot trying usernames: a row per try
    assert AccessFailureLog.objects.count() == LIMIT and AccessAttempt.objects.exists()
    assert prune_login_records() == {"failures": 0, "attempts": 0}  # all still needed: the lockout holds
    assert login(client, PASSWORD).status_code == 429
    later = timezone.now() + timedelta(days=1, minutes=1)
    AccessFailureLog.objects.update(attempt_time=timezone.now() - timedelta(days=1, minutes=1))
    from tracker.throttling import login_records_prune

    pruned = login_records_prune(now=later)
    assert pruned["failures"] == LIMIT + 1 and pruned["attempts"] >= 1  # the refused right password counted too
    assert not AccessFailureLog.objects.exists() and not AccessAttempt.objects.exists()
    assert login(client, PASSWORD).status_code == 302
    assert CELERY_BEAT_SCHEDULE["prune-login-records"]["task"] == "tracker.tasks.prune_login_records"


def test_signup_is_limited_per_email_address(client: Client) -> None:
    for n in range(3):
        assert signup(client, f"erin{n}", "erin@example.com").status_code == 302
    response = signup(client, "erin9", "erin@example.com")
    assert response.status_code == 429 and int(response["Retry-After"]) > 3500
    assert "Too many attempts" in response.content.decode()


def test_signup_is_limited_per_address(client: Client) -> None:
    for n in range(10):
        assert signup(client, f"user{n}", f"user{n}@example.com").status_code == 302
    assert signup(client, "user10", "user10@example.com").status_code == 429
    assert signup(client, "user10", "user10@example.com", REMOTE_ADDR="10.0.0.3").status_code == 302


def test_password_reset_is_limited_per_email_address(client: Client, alice: User, mailoutbox: list) -> None:
    for _ in range(3):
        assert client.post("/accounts/password_reset/", {"email": "alice@example.com"}).status_code == 302
    response = client.post("/accounts/password_reset/", {"email": "ALICE@example.com"})
    assert response.status_code == 429 and response.has_header("Retry-After")
    assert len(mailoutbox) == 3


def test_x_forwarded_for_counts_only_behind_the_configured_proxies(settings: Any) -> None:
    request = RequestFactory().get("/", REMOTE_ADDR="10.9.9.9", HTTP_X_FORWARDED_FOR="6.6.6.6, 1.2.3.4")
    assert client_address(request) == "10.9.9.9"
    settings.PROXY_COUNT = 1
    assert client_address(request) == "1.2.3.4"  # what our proxy saw; the client wrote 6.6.6.6 itself
    settings.PROXY_COUNT = 2
    assert client_address(request) == "6.6.6.6"
    garbage = RequestFactory().get("/", REMOTE_ADDR="10.9.9.9", HTTP_X_FORWARDED_FOR="not-an-ip")
    settings.PROXY_COUNT = 1
    assert client_address(garbage) == "10.9.9.9"


def signup(client: Client, username: str, email: str, **extra: Any) -> Any:
    data = {
        "username": username,
        "email": email,
        "password1": "a-long-passphrase-9",
        "password2": "a-long-passphrase-9",
    }
    return client.post("/accounts/signup/", data, **extra)


def _time_passes(*, minutes: int) -> None:
    """Move every recorded failure into the past, as a clock would."""
    delta = timedelta(minutes=minutes)
    for attempt in AccessAttempt.objects.all():
        AccessAttempt.objects.filter(pk=attempt.pk).update(attempt_time=attempt.attempt_time - delta)
    for expiration in AccessAttemptExpiration.objects.all():
        AccessAttemptExpiration.objects.filter(pk=expiration.pk).update(expires_at=expiration.expires_at - delta)
    for failure in AccessFailureLog.objects.all():
        AccessFailureLog.objects.filter(pk=failure.pk).update(attempt_time=failure.attempt_time - delta)
    assert AccessAttempt.objects.filter(attempt_time__gt=timezone.now() - delta).count() == 0
