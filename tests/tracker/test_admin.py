import json
from pathlib import Path
from typing import Any

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.http import HttpResponse
from django.test import Client

from tests.conftest import SEED_FILE, make_user
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
            # Checkboxes and the rubric's boxes send one value each under one name.
            "evidence_kinds": ["written", "link"],
            "rubric": [" Correctness ", "", ""],
            "is_active": "on",
        },
    )
    claim.refresh_from_db()
    assert claim.text == "Reworded claim."
    assert (claim.evidence_kinds, claim.rubric) == (["written", "link"], ["Correctness"])
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
        {"competency": keras.pk, "order": 1, "text": "x", "evidence_kinds": ["telepathy"]},
    )
    assert response.status_code == 200
    assert "“telepathy” is no kind of evidence this site takes." in response.content.decode()


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


def _as_posted(page: HttpResponse) -> dict[str, Any]:
    """What the admin's change form sends back unchanged: its form, its inlines and their management forms."""
    forms = [page.context["adminform"].form]
    for inline in page.context["inline_admin_formsets"]:
        forms += [inline.formset.management_form, *inline.formset.forms]
    data: dict[str, Any] = {}
    for form in forms:
        for field in form:
            value = field.value()
            if value not in (None, False):
                data[field.html_name] = "on" if value is True else value
    return data


def test_admin_edits_a_claim_through_the_competency_page(
    admin_client: Client, keras: Competency, admin_user: User
) -> None:
    url = f"/admin/tracker/competency/{keras.pk}/change/"
    claim = keras.claims.get(order=1)
    before = (list(claim.evidence_kinds), list(claim.rubric))
    data = _as_posted(admin_client.get(url))
    index = next(n for n in range(10) if data[f"claims-{n}-id"] == claim.pk)
    data[f"claims-{index}-evidence_kinds"] = ["notebook", "written"]
    data[f"claims-{index}-rubric"] = ["  Accuracy ", "", "Speed", ""]
    response = admin_client.post(url, data)
    assert response.status_code == 302, response.context["errors"] if response.context else response
    claim.refresh_from_db()
    assert (claim.evidence_kinds, claim.rubric) == (["written", "notebook"], ["Accuracy", "Speed"])
    latest, previous = claim.history.all()[:2]
    assert latest.history_user == admin_user
    assert (previous.evidence_kinds, previous.rubric) == before
    # The other claims were sent unchanged and stay so.
    assert claim.history.count() == 2
    assert all(other.history.count() == 1 for other in keras.claims.exclude(pk=claim.pk))


def test_a_claim_with_no_kind_ticked_is_refused_on_the_competency_page(admin_client: Client, keras: Competency) -> None:
    url = f"/admin/tracker/competency/{keras.pk}/change/"
    data = _as_posted(admin_client.get(url))
    del data["claims-0-evidence_kinds"]
    response = admin_client.post(url, data)
    assert response.status_code == 200
    assert "Tick at least one kind of evidence that proves this claim." in response.content.decode()
    assert all(claim.history.count() == 1 for claim in keras.claims.all())


def test_competency_page_shows_checkboxes_boxes_and_only_the_chosen_mentors(
    admin_client: Client, keras: Competency, charlie: User
) -> None:
    for n in range(30):
        make_user(f"learner{n}", "learner")
    page = admin_client.get(f"/admin/tracker/competency/{keras.pk}/change/").content.decode()
    assert '<input type="checkbox" name="claims-0-evidence_kinds" value="written"' in page
    assert '<label for="id_claims-0-rubric">Criterion 1</label>' in page
    assert 'name="claims-0-evidence_kinds">' not in page  # no JSON text box
    mentors = page[page.index('<select name="mentors"') :]
    mentors = mentors[: mentors.index("</select>")]
    assert "admin-autocomplete" in mentors
    assert mentors.count("<option") == 1 and ">charlie</option>" in mentors


AUTOCOMPLETE = "/admin/autocomplete/?app_label=tracker&model_name=competency&field_name=mentors"


def _offered(client: Client, term: str = "") -> list[str]:
    response = client.get(f"{AUTOCOMPLETE}&term={term}")
    assert response.status_code == 200
    return [result["text"] for result in response.json()["results"]]


def test_mentor_autocomplete_offers_active_mentors_only(admin_client: Client, charlie: User) -> None:
    make_user("mira", "mentor")
    retired = make_user("mort", "mentor")
    retired.is_active = False
    retired.save()
    make_user("mirabel", "learner")
    assert _offered(admin_client) == ["charlie", "mira"]
    # The user list itself still finds everyone.
    assert b"mirabel" in admin_client.get("/admin/tracker/user/?q=mir").content


def test_mentor_autocomplete_matches_names_and_addresses(admin_client: Client) -> None:
    mira = make_user("mira", "mentor")
    mira.first_name, mira.last_name = "Miranda", "Okafor"
    mira.save()
    make_user("otto", "mentor")
    assert _offered(admin_client, "okaf") == ["mira"]
    assert _offered(admin_client, "otto@example") == ["otto"]
    assert _offered(admin_client, "nobody") == []


@pytest.mark.parametrize("role", ["learner", "mentor", None])
def test_only_staff_can_use_the_mentor_autocomplete(client: Client, charlie: User, role: str | None) -> None:
    if role:
        client.force_login(make_user("someone", role))
    response = client.get(f"{AUTOCOMPLETE}&term=char")
    assert response.status_code == 302
    assert response["Location"].startswith("/admin/login/")


def test_competency_page_refuses_a_non_mentor_sent_by_hand(admin_client: Client, keras: Competency) -> None:
    learner = make_user("mirabel", "learner")
    url = f"/admin/tracker/competency/{keras.pk}/change/"
    data = _as_posted(admin_client.get(url)) | {"mentors": [learner.pk]}
    response = admin_client.post(url, data)
    assert response.status_code == 200
    assert f"User {learner.pk} is no mentor: give them the mentor role on their user page first." in (
        response.content.decode()
    )
    assert not keras.mentors.exists()


def test_a_reviewer_who_is_no_longer_a_mentor_does_not_block_saving(
    admin_client: Client, keras: Competency, charlie: User
) -> None:
    charlie.groups.clear()
    url = f"/admin/tracker/competency/{keras.pk}/change/"
    data = _as_posted(admin_client.get(url)) | {"title": "Keras 3"}
    assert data["mentors"] == [charlie.pk]
    assert admin_client.post(url, data).status_code == 302
    keras.refresh_from_db()
    assert (keras.title, list(keras.mentors.all())) == ("Keras 3", [charlie])
