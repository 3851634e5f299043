"""API tokens: hashed, named, expiring, listed and revoked on their page, dead after a password change or reset."""

from __future__ import annotations

import hashlib
import importlib
import re
from datetime import timedelta
from types import SimpleNamespace
from typing import Any

import pytest
from django.apps import apps
from django.db import connection
from django.test import Client
from django.utils import timezone
from rest_framework.test import APIClient

from tests.conftest import PASSWORD
from tracker.models import ApiToken, User
from tracker.tokens import api_token_create

pytestmark = pytest.mark.django_db

NEW_PASSWORD = "another-long-passphrase-7"


def token_for(user: User, password: str = PASSWORD, **data: str) -> str:
    response = APIClient().post("/api/auth/token/", {"username": user.username, "password": password, **data})
    assert response.status_code == 200, response.content
    return response.json()["token"]


def status_with(secret: str) -> int:
    api = APIClient()
    api.credentials(HTTP_AUTHORIZATION=f"Token {secret}")
    return api.get("/api/runs/").status_code


def test_a_token_from_the_api_is_kept_only_as_a_hash(alice: User) -> None:
    secret = token_for(alice)
    token = ApiToken.objects.get(user=alice)
    assert token.digest == hashlib.sha256(secret.encode()).hexdigest()
    assert token.name.startswith("API token created ")
    stored = " ".join(str(value) for value in ApiToken.objects.values().get().values())
    assert secret not in stored
    assert status_with(secret) == 200


def test_each_call_makes_a_new_named_token_and_both_work(alice: User) -> None:
    first, second = token_for(alice), token_for(alice, name="Colab")
    assert first != second
    assert "Colab" in ApiToken.objects.values_list("name", flat=True)
    assert status_with(first) == status_with(second) == 200


def test_a_token_expires_after_api_token_days(alice: User, settings: Any) -> None:
    settings.API_TOKEN_DAYS = 7
    secret = token_for(alice)
    token = ApiToken.objects.get()
    assert abs(token.expires_at - (timezone.now() + timedelta(days=7))) < timedelta(minutes=1)
    ApiToken.objects.update(expires_at=timezone.now() - timedelta(seconds=1))
    assert status_with(secret) == 401


def test_unknown_and_malformed_tokens_are_401(alice: User) -> None:
    assert status_with("sp_nothing-like-it") == 401
    assert status_with(token_for(alice) + "x") == 401


def test_tokens_die_with_a_password_change(client: Client, alice: User) -> None:
    secret = token_for(alice)
    client.force_login(alice)
    response = client.post(
        "/accounts/password_change/",
        {"old_password": PASSWORD, "new_password1": NEW_PASSWORD, "new_password2": NEW_PASSWORD},
    )
    assert response.status_code == 302
    assert status_with(secret) == 401
    assert status_with(token_for(alice, NEW_PASSWORD)) == 200  # new ones work


def test_tokens_die_with_a_password_reset(client: Client, alice: User, mailoutbox: list) -> None:
    secret = token_for(alice)
    client.post("/accounts/password_reset/", {"email": "alice@example.com"})
    link = re.search(r"http://\S+/accounts/reset/\S+/", mailoutbox[0].body)
    assert link
    form = client.get(link.group(0), follow=True)
    response = client.post(form.redirect_chain[-1][0], {"new_password1": NEW_PASSWORD, "new_password2": NEW_PASSWORD})
    assert response.status_code == 302 and response["Location"].endswith("/reset/done/")
    assert status_with(secret) == 401


def test_tokens_die_with_a_password_set_by_an_admin(alice: User) -> None:
    secret = token_for(alice)
    alice.set_password(NEW_PASSWORD)
    alice.save()
    assert status_with(secret) == 401


def test_tokens_of_a_deactivated_user_stop_working(alice: User) -> None:
    secret = token_for(alice)
    User.objects.filter(pk=alice.pk).update(is_active=False)
    assert status_with(secret) == 401


def test_the_tokens_page_shows_a_new_secret_once_then_lists_and_revokes_it(client: Client, alice: User) -> None:
    client.force_login(alice)
    assert 'href="/accounts/tokens/"' in client.get("/").content.decode()  # in the account menu
    response = client.post("/accounts/tokens/", {"name": "Laptop script"})
    assert response.status_code == 200 and response["Cache-Control"] == "no-store"
    secret = re.search(r'<code class="token-secret">([^<]+)</code>', response.content.decode())
    assert secret and status_with(secret.group(1)) == 200
    page = client.get("/accounts/tokens/").content.decode()
    assert "Laptop script" in page and secret.group(1) not in page and secret.group(1)[:9] in page
    token = ApiToken.objects.get(user=alice)
    assert client.post(f"/accounts/tokens/{token.pk}/revoke/").status_code == 302
    assert status_with(secret.group(1)) == 401
    assert "Laptop script" not in client.get("/accounts/tokens/").content.decode()


def test_the_tokens_page_says_which_tokens_a_password_change_ended(client: Client, alice: User) -> None:
    token_for(alice)
    alice.set_password(NEW_PASSWORD)
    alice.save()
    client.force_login(alice)
    assert "ended by a password change" in client.get("/accounts/tokens/").content.decode()


def test_nobody_revokes_someone_elses_token(client: Client, alice: User, bob: User) -> None:
    secret = token_for(alice)
    client.force_login(bob)
    assert client.post(f"/accounts/tokens/{ApiToken.objects.get().pk}/revoke/").status_code == 404
    assert status_with(secret) == 200


def test_the_tokens_page_needs_a_login(client: Client) -> None:
    assert client.get("/accounts/tokens/")["Location"].startswith("/accounts/login/")


def test_making_a_token_clears_the_users_expired_ones(alice: User) -> None:
    old, _secret = api_token_create(user=alice)
    ApiToken.objects.filter(pk=old.pk).update(expires_at=timezone.now() - timedelta(days=1))
    api_token_create(user=alice)
    assert not ApiToken.objects.filter(pk=old.pk).exists()


def test_drf_tokens_from_before_are_kept_hashed_and_go_on_working(alice: User) -> None:
    migration = importlib.import_module("tracker.migrations.0005_api_tokens_from_authtoken")
    legacy = "a" * 40
    with connection.cursor() as cursor:
        cursor.execute("CREATE TABLE authtoken_token (key varchar(40) PRIMARY KEY, user_id bigint, created timestamp)")
        cursor.execute("INSERT INTO authtoken_token (key, user_id) VALUES (%s, %s)", [legacy, alice.pk])
    editor = SimpleNamespace(connection=connection, execute=lambda sql: connection.cursor().execute(sql))
    migration.forwards(apps, editor)
    with connection.cursor() as cursor:
        cursor.execute("SELECT COUNT(*) FROM authtoken_token")
        assert cursor.fetchone()[0] == 0  # no plain-text key left
        cursor.execute("DROP TABLE authtoken_token")
    assert ApiToken.objects.get(user=alice).digest == hashlib.sha256(legacy.encode()).hexdigest()
    assert status_with(legacy) == 200
