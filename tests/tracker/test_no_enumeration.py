"""Nothing answers differently for a registered e-mail, a hidden learner or a draft competency than for an unknown one."""

from __future__ import annotations

from typing import Any

import pytest
from django.test import Client
from rest_framework.test import APIClient

from tests.trainer.conftest import REFERENCE, data_dir, submit, tiny_task  # noqa: F401 - fixtures
from tracker.models import Competency, User
from trainer.models import TaskSpec

pytestmark = pytest.mark.django_db

PASSPHRASE = "a-long-passphrase-9"


def signup(client: Client, username: str, email: str) -> Any:
    data = {"username": username, "email": email, "password1": PASSPHRASE, "password2": PASSPHRASE}
    return client.post("/accounts/signup/", data, follow=True)


def test_signup_with_a_registered_email_answers_as_a_new_one(client: Client, alice: User, mailoutbox: list) -> None:
    new = signup(client, "erin", "erin@example.com")
    taken = signup(client, "mallory", "ALICE@example.com")
    assert new.status_code == taken.status_code == 200
    assert new.redirect_chain == taken.redirect_chain == [("/accounts/signup/done/", 302)]
    assert new.content == taken.content
    assert not User.objects.filter(username="mallory").exists()
    # The address's owner hears of it, with no link that would take over their account.
    to_alice = next(mail for mail in mailoutbox if mail.to == ["alice@example.com"])
    assert "already has an account" in to_alice.body and "/accounts/activate/" not in to_alice.body


def test_signup_again_before_activating_sends_the_link_again(client: Client, mailoutbox: list) -> None:
    signup(client, "erin", "erin@example.com")
    signup(client, "erin2", "erin@example.com")
    assert "/accounts/activate/" in mailoutbox[1].body
    assert list(User.objects.filter(email="erin@example.com").values_list("username", flat=True)) == ["erin"]


def test_a_taken_username_gets_a_neutral_error_on_the_username_only(client: Client, alice: User) -> None:
    response = client.post(
        "/accounts/signup/",
        {"username": "alice", "email": "alice@example.com", "password1": PASSPHRASE, "password2": PASSPHRASE},
    )
    assert response.status_code == 400
    assert list(response.context["form"].errors) == ["username"]


def test_the_activation_link_works_once(client: Client, mailoutbox: list) -> None:
    signup(client, "erin", "erin@example.com")
    link = next(line.strip() for line in mailoutbox[0].body.splitlines() if "/accounts/activate/" in line)
    assert client.post("/accounts/login/", {"username": "erin", "password": PASSPHRASE}).status_code == 200
    assert "is active" in client.get(link, follow=True).content.decode()
    assert "expired or was used" in client.get(link, follow=True).content.decode()
    assert User.objects.get(username="erin").is_active


def test_runs_of_a_hidden_learner_look_like_those_of_nobody(
    alice: User,
    bob: User,
    dana: User,
    tiny_task: TaskSpec,  # noqa: F811 - the imported fixture
) -> None:
    submit(bob, tiny_task, REFERENCE)
    for caller in (alice, dana):  # a learner; a mentor of another competency
        api = APIClient()
        api.force_authenticate(caller)
        hidden = api.get(f"/api/runs/?learner={bob.pk}")
        unknown = api.get("/api/runs/?learner=987654")
        assert hidden.status_code == unknown.status_code == 200
        assert hidden.json() == unknown.json() == {"count": 0, "next": None, "previous": None, "results": []}


def test_standing_in_a_draft_competency_is_the_same_404_as_an_unknown_one(alice: User) -> None:
    Competency.objects.create(title="Secret plans", slug="secret", status=Competency.Status.DRAFT)
    api = APIClient()
    api.force_authenticate(alice)
    draft = api.get("/api/me/standing/?competency=secret")
    unknown = api.get("/api/me/standing/?competency=no-such-thing")
    assert draft.status_code == unknown.status_code == 404
    assert draft.json() == unknown.json()
    assert "Secret plans" not in draft.content.decode()


def test_standing_in_a_published_competency_still_answers(alice: User) -> None:
    Competency.objects.create(title="Open", slug="open")
    api = APIClient()
    api.force_authenticate(alice)
    assert api.get("/api/me/standing/?competency=open").json()[0]["title"] == "Open"
