"""Evidence pages: forms keep what was typed, errors are clear, notebooks render read-only."""

from __future__ import annotations

from pathlib import Path

import nbformat
import pytest
from django.conf import settings
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client

from evidence.models import Evidence, Review
from evidence.notebooks import pygments_css
from evidence.services import EvidenceInput, evidence_create
from tests.evidence.helpers import ANSWER, make_evidence, written_claim
from tracker.models import Competency, User

pytestmark = pytest.mark.django_db


@pytest.fixture
def as_alice(client: Client, alice: User) -> Client:
    client.force_login(alice)
    return client


def test_form_offers_only_the_claims_kinds(as_alice: Client, keras: Competency) -> None:
    body = as_alice.get(f"/claims/{written_claim(keras).pk}/evidence/new/").content.decode()
    assert 'value="written"' in body and 'value="link"' in body
    assert 'value="notebook"' not in body and 'name="file"' not in body


def test_submitting_through_the_form(as_alice: Client, keras: Competency) -> None:
    response = as_alice.post(
        f"/claims/{written_claim(keras).pk}/evidence/new/", {"kind": "written", "body": ANSWER, "submit": ""}
    )
    evidence = Evidence.objects.get()
    assert response.status_code == 302 and response["Location"] == f"/evidence/{evidence.pk}/"
    assert evidence.status == "submitted"


def test_saving_a_draft_through_the_form(as_alice: Client, keras: Competency) -> None:
    as_alice.post(f"/claims/{written_claim(keras).pk}/evidence/new/", {"kind": "written", "body": ANSWER, "draft": ""})
    assert Evidence.objects.get().status == "draft"


def test_form_error_keeps_what_was_typed(as_alice: Client, keras: Competency) -> None:
    response = as_alice.post(
        f"/claims/{written_claim(keras).pk}/evidence/new/", {"kind": "written", "body": "too short"}
    )
    assert response.status_code == 400
    body = response.content.decode()
    assert "Write at least 20 characters." in body
    assert "too short" in body
    assert not Evidence.objects.exists()


def test_double_submit_through_the_form_is_explained(as_alice: Client, keras: Competency) -> None:
    url = f"/claims/{written_claim(keras).pk}/evidence/new/"
    as_alice.post(url, {"kind": "written", "body": ANSWER})
    response = as_alice.post(url, {"kind": "written", "body": ANSWER})
    assert response.status_code == 400
    assert "already have evidence awaiting review" in response.content.decode()
    assert Evidence.objects.count() == 1


def test_oversized_upload_gets_a_413_page(as_alice: Client, keras: Competency) -> None:
    claim = keras.claims.get(order=3)
    big = SimpleUploadedFile("big.ipynb", b"x" * (31 * 1024 * 1024))
    response = as_alice.post(f"/claims/{claim.pk}/evidence/new/", {"kind": "notebook", "file": big})
    assert response.status_code == 413
    assert "the limit is 30 MB. Nothing was saved." in response.content.decode()


def test_notebook_is_shown_highlighted_without_scripts(as_alice: Client, alice: User, keras: Competency) -> None:
    nb = nbformat.v4.new_notebook()
    cell = nbformat.v4.new_code_cell("import keras\nmodel = keras.Sequential()")
    cell.outputs = [
        nbformat.v4.new_output("stream", name="stdout", text="3.15.1\n"),
        nbformat.v4.new_output("display_data", data={"text/html": "<script>alert(1)</script>", "text/plain": "<HTML>"}),
    ]
    nb.cells = [nbformat.v4.new_markdown_cell("## Results <img src=x onerror=alert(1)>"), cell]
    upload = SimpleUploadedFile("work.ipynb", nbformat.writes(nb).encode())
    evidence = evidence_create(
        learner=alice, claim=keras.claims.get(order=3), data=EvidenceInput(kind="notebook", file=upload), submit=True
    )
    body = as_alice.get(evidence.get_absolute_url()).content.decode()
    assert 'class="nb-code' in body and "3.15.1" in body
    assert "<script>alert(1)" not in body and "<img" not in body  # shown escaped, never as markup
    assert "pygments.css" in body


def test_review_form_error_keeps_the_comment(client: Client, alice: User, charlie: User, keras: Competency) -> None:
    evidence = make_evidence(alice, written_claim(keras))
    client.force_login(charlie)
    response = client.post(f"/evidence/{evidence.pk}/review/", {"decision": "", "comment": "A long thoughtful comment"})
    assert response.status_code == 400
    assert "A long thoughtful comment" in response.content.decode()
    assert not Review.objects.exists()


def test_claim_text_shown_as_submitted_after_an_edit(
    client: Client, alice: User, charlie: User, keras: Competency
) -> None:
    claim = written_claim(keras)
    evidence = make_evidence(alice, claim)
    original = claim.text
    claim.text = "Reworded by an admin."
    claim.save()
    client.force_login(charlie)
    body = client.get(evidence.get_absolute_url()).content.decode()
    assert original in body
    assert "The claim has since been reworded" in body


def test_notifications_bell_and_list(client: Client, alice: User, charlie: User, keras: Competency) -> None:
    make_evidence(alice, written_claim(keras))
    client.force_login(charlie)
    assert "Notifications, 1 unread" in client.get("/").content.decode()
    assert "alice submitted written answer for Keras, claim 1." in client.get("/notifications/").content.decode()
    client.post("/notifications/")
    assert "Notifications, 0 unread" in client.get("/").content.decode()


def test_pygments_stylesheet_is_current() -> None:
    path = Path(settings.BASE_DIR) / "static" / "css" / "pygments.css"
    assert pygments_css() in path.read_text()
