import json
from pathlib import Path

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client

from tests.conftest import SEED_FILE
from tracker.models import Competency, User

pytestmark = pytest.mark.django_db


@pytest.fixture
def admin_client(client: Client, admin_user: User) -> Client:
    client.force_login(admin_user)
    return client


def test_admin_edits_competency_with_inlines(admin_client: Client, keras: Competency) -> None:
    response = admin_client.get(f"/admin/tracker/competency/{keras.pk}/change/")
    assert response.status_code == 200
    assert b"claims-TOTAL_FORMS" in response.content
    assert b"resources-TOTAL_FORMS" in response.content


def test_edit_keeps_history_with_who_changed_it(admin_client: Client, keras: Competency, admin_user: User) -> None:
    claim = keras.claims.first()
    admin_client.post(
        f"/admin/tracker/claim/{claim.pk}/change/",
        {
            "competency": keras.pk,
            "order": 1,
            "text": "Reworded claim.",
            "required": "on",
            "evidence_kinds": '["written"]',
            "is_active": "on",
        },
    )
    claim.refresh_from_db()
    assert claim.text == "Reworded claim."
    latest = claim.history.first()
    assert latest.history_user == admin_user
    assert claim.history.count() == 2
    page = admin_client.get(f"/admin/tracker/claim/{claim.pk}/history/")
    assert page.status_code == 200
    assert b"root" in page.content


def test_claim_with_unknown_evidence_kind_is_refused(admin_client: Client, keras: Competency) -> None:
    claim = keras.claims.first()
    response = admin_client.post(
        f"/admin/tracker/claim/{claim.pk}/change/",
        {"competency": keras.pk, "order": 1, "text": "x", "evidence_kinds": '["telepathy"]'},
    )
    assert response.status_code == 200
    assert b"Unknown kinds: telepathy." in response.content


@pytest.mark.parametrize("action,needle", [
    ("export_markdown", "# Competency - ML Framework - Keras"),
    ("export_case", '"CFDocument"'),
    ("export_moodle", '"Parent id number","Id number",Shortname'),
])  # fmt: skip
def test_export_actions(admin_client: Client, keras: Competency, action: str, needle: str) -> None:
    response = admin_client.post("/admin/tracker/competency/", {"action": action, "_selected_action": [keras.pk]})
    assert response.status_code == 200
    assert "attachment" in response["Content-Disposition"]
    assert needle in response.content.decode()


def test_case_export_is_json(admin_client: Client, keras: Competency) -> None:
    response = admin_client.post(
        "/admin/tracker/competency/", {"action": "export_case", "_selected_action": [keras.pk]}
    )
    package = json.loads(response.content)
    assert len(package["CFItems"]) == 10


def test_import_page_imports_a_file(admin_client: Client) -> None:
    upload = SimpleUploadedFile("keras.md", SEED_FILE.read_bytes(), content_type="text/markdown")
    response = admin_client.post("/admin/tracker/competency/import/", {"file": upload})
    assert response.status_code == 302
    assert Competency.objects.get().claims.count() == 10


@pytest.mark.parametrize("content,message", [
    (b"\xff\xfe not utf-8", b"not UTF-8"),
    (b"# Competency - A - B\n\n## How do you prove it?\n\n- x\n\n## How do you improve it?\n\n- bad\n", b"line 9"),
    (b"x" * (1024 * 1024 + 1), b"larger than 1024 KB"),
])  # fmt: skip
def test_import_page_reports_bad_files(admin_client: Client, content: bytes, message: bytes) -> None:
    response = admin_client.post("/admin/tracker/competency/import/", {"file": SimpleUploadedFile("x.md", content)})
    assert response.status_code == 200
    assert message in response.content
    assert Competency.objects.count() == 0


def test_admin_assigns_mentor_on_user_page(admin_client: Client, charlie: User, keras: Competency) -> None:
    response = admin_client.get(f"/admin/tracker/user/{charlie.pk}/change/")
    assert response.status_code == 200
    assert b"competencies this user mentors" in response.content.lower()


def test_learner_cannot_open_admin(client: Client, alice: User) -> None:
    client.force_login(alice)
    assert client.get("/admin/tracker/competency/").status_code == 302


def test_moodle_round_trip_through_import(admin_client: Client, keras: Competency, tmp_path: Path) -> None:
    response = admin_client.post(
        "/admin/tracker/competency/", {"action": "export_moodle", "_selected_action": [keras.pk]}
    )
    keras.delete()
    upload = SimpleUploadedFile("keras.csv", response.content, content_type="text/csv")
    # A framework file is previewed first (nothing saved), then imported when the admin confirms.
    preview = admin_client.post("/admin/tracker/competency/import/", {"file": upload})
    assert preview.status_code == 200 and not Competency.objects.filter(slug="keras").exists()
    confirm = {"token": preview.context["token"], "action": "import"}
    assert admin_client.post("/admin/tracker/competency/import/", confirm).status_code == 302
    imported = Competency.objects.get(slug="keras")
    assert imported.claims.count() == 10
