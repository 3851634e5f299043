import pytest
from django.test import Client

from tracker.models import Competency, User

pytestmark = pytest.mark.django_db


def test_home_lists_published_competencies(client: Client, keras: Competency) -> None:
    response = client.get("/")
    assert response.status_code == 200
    assert b"Keras" in response.content


def test_competency_list_shows_standing_to_a_signed_in_learner(client: Client, keras: Competency, alice: User) -> None:
    client.force_login(alice)
    response = client.get("/competencies/")
    assert response.status_code == 200
    assert b"Not started" in response.content
    assert b"0/10 required" in response.content


def test_competency_list_hides_standing_from_anonymous(client: Client, keras: Competency) -> None:
    assert b"Your standing" not in client.get("/competencies/").content


def test_competency_detail_shows_claims_and_resources(client: Client, keras: Competency) -> None:
    response = client.get(keras.get_absolute_url())
    assert response.status_code == 200
    body = response.content.decode()
    assert body.count('class="claim"') == 10
    assert 'href="https://keras.io/"' in body
    assert "<p>Keras is an open-source" in body  # Markdown rendered


def test_description_markdown_is_sanitised(client: Client) -> None:
    Competency.objects.create(title="Evil", description="<script>alert(1)</script> [x](javascript:alert(1))")
    body = client.get("/competencies/evil/").content.decode()
    assert "<script>alert" not in body
    assert 'href="javascript' not in body


def test_draft_competency_is_not_shown(client: Client) -> None:
    Competency.objects.create(title="Secret", status=Competency.Status.DRAFT)
    assert client.get("/competencies/secret/").status_code == 404
    assert b"Secret" not in client.get("/competencies/").content


def test_unknown_url_shows_styled_404(client: Client) -> None:
    response = client.get("/no/such/page/")
    assert response.status_code == 404
    assert b"Page not found" in response.content
    assert b"css/app.css" in response.content


def test_signup_creates_a_learner_who_logs_in_after_the_mailed_link(client: Client, mailoutbox: list) -> None:
    response = client.post(
        "/accounts/signup/",
        {
            "username": "erin",
            "email": "erin@example.com",
            "password1": "a-long-passphrase-9",
            "password2": "a-long-passphrase-9",
        },
    )
    assert response.status_code == 302 and response["Location"] == "/accounts/signup/done/"
    erin = User.objects.get(username="erin")
    assert erin.is_learner and not erin.is_mentor and not erin.is_staff and not erin.is_active
    link = next(line for line in mailoutbox[0].body.splitlines() if "/accounts/activate/" in line)
    client.get(link.strip())
    assert client.post("/accounts/login/", {"username": "erin", "password": "a-long-passphrase-9"}).status_code == 302
    assert client.get("/competencies/").context["user"] == erin


def test_signup_with_bad_input_shows_field_errors(client: Client, alice: User) -> None:
    response = client.post(
        "/accounts/signup/", {"username": "alice", "email": "not-an-email", "password1": "a", "password2": "b"}
    )
    assert response.status_code == 400
    body = response.content.decode()
    assert "A user with that username already exists." in body
    assert "Enter a valid email address." in body
    assert "didn’t match" in body or "didn't match" in body


def test_login_page_and_wrong_password(client: Client, alice: User) -> None:
    assert client.get("/accounts/login/").status_code == 200
    response = client.post("/accounts/login/", {"username": "alice", "password": "wrong"})
    assert response.status_code == 200
    assert b"Please enter a correct username and password" in response.content


def test_password_change_requires_login(client: Client) -> None:
    response = client.get("/accounts/password_change/")
    assert response.status_code == 302
    assert "/accounts/login/" in response["Location"]


def test_password_reset_sends_mail(client: Client, alice: User, mailoutbox: list) -> None:
    response = client.post("/accounts/password_reset/", {"email": "alice@example.com"})
    assert response.status_code == 302
    assert len(mailoutbox) == 1
    assert "/accounts/reset/" in mailoutbox[0].body


def test_logout_is_a_post(client: Client, alice: User) -> None:
    client.force_login(alice)
    assert client.post("/accounts/logout/").status_code == 302
    assert "_auth_user_id" not in client.session
