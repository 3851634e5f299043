"""Evidence API: creating each kind, the state transitions, and bad input as clear 4xx answers."""

from __future__ import annotations

import json

import nbformat
import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from rest_framework.test import APIClient

from evidence.models import Evidence, Review, Status
from tests.conftest import PASSWORD
from tests.evidence.helpers import ANSWER, make_evidence, written_claim
from tracker.models import Competency, User

pytestmark = pytest.mark.django_db


@pytest.fixture
def api(alice: User) -> APIClient:
    client = APIClient()
    client.force_authenticate(alice)
    return client


def notebook_bytes() -> bytes:
    nb = nbformat.v4.new_notebook()
    nb.cells = [
        nbformat.v4.new_markdown_cell("# Keras in Colab"),
        nbformat.v4.new_code_cell("import keras\nprint(keras.__version__)"),
    ]
    return nbformat.writes(nb).encode()


def test_written_answer_is_submitted_by_default(api: APIClient, keras: Competency) -> None:
    response = api.post(
        "/api/evidence/", {"claim": written_claim(keras).pk, "kind": "written", "body": ANSWER}, format="json"
    )
    assert response.status_code == 201, response.json()
    data = response.json()
    assert data["status"] == "submitted" and data["claim_text"] == written_claim(keras).text
    assert data["competency"] == "keras"


def test_evidence_that_cites_no_run_reads_run_null_as_the_schema_allows(
    api: APIClient, alice: User, keras: Competency
) -> None:
    evidence = make_evidence(alice, written_claim(keras))
    assert api.get(f"/api/evidence/{evidence.pk}/").json()["run"] is None
    schema = api.get("/api/schema/", HTTP_ACCEPT="application/json").json()
    run = schema["components"]["schemas"]["TrainingEvidence"]["properties"]["run"]
    assert run["type"] == "integer" and run["nullable"] is True


def test_draft_then_submit(api: APIClient, keras: Competency) -> None:
    data = api.post(
        "/api/evidence/",
        {"claim": written_claim(keras).pk, "kind": "link", "url": "https://example.com/x", "draft": True},
        format="json",
    ).json()
    assert data["status"] == "draft"
    assert api.post(f"/api/evidence/{data['id']}/submit/").json()["status"] == "submitted"
    second = api.post(f"/api/evidence/{data['id']}/submit/")
    assert second.status_code == 409
    assert "cannot be submitted again" in second.json()["detail"]


def test_notebook_upload_with_a_token_as_from_colab(alice: User, keras: Competency) -> None:
    client = APIClient()
    token = client.post("/api/auth/token/", {"username": "alice", "password": PASSWORD}).json()["token"]
    client.credentials(HTTP_AUTHORIZATION=f"Token {token}")
    content = notebook_bytes()
    upload = SimpleUploadedFile("colab.ipynb", content, content_type="application/x-ipynb+json")
    response = client.post(
        "/api/evidence/",
        {"claim": keras.claims.get(order=3).pk, "kind": "notebook", "file": upload},
        format="multipart",
    )
    assert response.status_code == 201, response.json()
    data = response.json()
    assert data["file_name"] == "colab.ipynb" and len(data["file_sha256"]) == 64
    download = client.get(data["file_url"])
    assert download.status_code == 200
    assert b"".join(download.streaming_content) == content


@pytest.mark.parametrize("body,message", [
    ({"kind": "written", "body": ""}, "at least 20 characters"),
    ({"kind": "written", "body": "x" * 1_000_000}, "no more than 50000 characters"),
    ({"kind": "link", "url": "javascript:alert(1)"}, "Enter a valid URL"),
    ({"kind": "link", "url": "ftp://example.com/file"}, "http:// or https://"),
    ({"kind": "training"}, "This claim is proven with"),
    ({"kind": "bogus"}, "is not a valid choice"),
])  # fmt: skip
def test_bad_input_is_a_clear_400(api: APIClient, keras: Competency, body: dict[str, str], message: str) -> None:
    response = api.post("/api/evidence/", {"claim": written_claim(keras).pk, **body}, format="json")
    assert response.status_code == 400
    assert message in json.dumps(response.json())
    assert not Evidence.objects.exists()


@pytest.mark.parametrize("content,message", [
    (b"not json at all", "not valid JSON"),
    (b"[1, 2, 3]", "not a Jupyter notebook"),
    (b'{"nbformat": 4, "nbformat_minor": 5, "metadata": {}}', "cells"),
])  # fmt: skip
def test_invalid_notebooks_are_refused(api: APIClient, keras: Competency, content: bytes, message: str) -> None:
    upload = SimpleUploadedFile("bad.ipynb", content)
    response = api.post(
        "/api/evidence/",
        {"claim": keras.claims.get(order=3).pk, "kind": "notebook", "file": upload},
        format="multipart",
    )
    assert response.status_code == 400
    assert message in response.json()["detail"]


def test_notebook_with_50_mb_of_outputs_is_refused_before_it_is_read(api: APIClient, keras: Competency) -> None:
    huge = (
        b'{"cells": [{"cell_type": "code", "outputs": [{"output_type": "stream", "name": "stdout", "text": "'
        + b"x" * (50 * 1024 * 1024)
        + b'"}]}]}'
    )
    upload = SimpleUploadedFile("huge.ipynb", huge)
    response = api.post(
        "/api/evidence/",
        {"claim": keras.claims.get(order=3).pk, "kind": "notebook", "file": upload},
        format="multipart",
    )
    assert response.status_code == 413
    assert "the limit is 30 MB" in response.json()["detail"]
    assert not Evidence.objects.exists()


def test_file_over_the_per_file_limit_is_refused(api: APIClient, keras: Competency) -> None:
    upload = SimpleUploadedFile("big.txt", b"a" * (11 * 1024 * 1024))
    response = api.post(
        "/api/evidence/", {"claim": keras.claims.get(order=6).pk, "kind": "file", "file": upload}, format="multipart"
    )
    assert response.status_code == 400
    assert "10" in response.json()["detail"] and "MB" in response.json()["detail"]


def test_wrongly_typed_upload_is_refused(api: APIClient, keras: Competency) -> None:
    upload = SimpleUploadedFile("run.exe", b"MZ\x90\x00")
    response = api.post(
        "/api/evidence/", {"claim": keras.claims.get(order=6).pk, "kind": "file", "file": upload}, format="multipart"
    )
    assert response.status_code == 400
    assert "not accepted" in response.json()["detail"]


def test_decision_on_withdrawn_evidence_is_409(alice: User, charlie: User, keras: Competency) -> None:
    evidence = make_evidence(alice, written_claim(keras))
    owner = APIClient()
    owner.force_authenticate(alice)
    assert owner.post(f"/api/evidence/{evidence.pk}/withdraw/").status_code == 200
    mentor = APIClient()
    mentor.force_authenticate(charlie)
    response = mentor.post(f"/api/evidence/{evidence.pk}/reviews/", {"decision": "approve"}, format="json")
    assert response.status_code == 409
    assert "withdrawn" in response.json()["detail"]
    assert not Review.objects.exists()


def test_review_via_api_with_rubric(alice: User, charlie: User, keras: Competency) -> None:
    evidence = make_evidence(alice, written_claim(keras))
    mentor = APIClient()
    mentor.force_authenticate(charlie)
    bad = mentor.post(f"/api/evidence/{evidence.pk}/reviews/", {"decision": "reject"}, format="json")
    assert bad.status_code == 400 and "Explain the decision" in bad.json()["detail"]
    ok = mentor.post(
        f"/api/evidence/{evidence.pk}/reviews/", {"decision": "approve", "rubric": {"Clarity": 5}}, format="json"
    )
    assert ok.status_code == 201
    evidence.refresh_from_db()
    assert evidence.status == Status.APPROVED


def test_mentor_queue_filters(alice: User, bob: User, charlie: User, keras: Competency) -> None:
    make_evidence(alice, written_claim(keras))
    make_evidence(bob, keras.claims.get(order=4))
    mentor = APIClient()
    mentor.force_authenticate(charlie)
    assert mentor.get("/api/evidence/?scope=queue").json()["count"] == 2
    assert mentor.get(f"/api/evidence/?scope=queue&learner={bob.pk}").json()["count"] == 1
    assert mentor.get(f"/api/evidence/?claim={written_claim(keras).pk}").json()["count"] == 1
    assert mentor.get("/api/evidence/?competency=keras&kind=link").json()["count"] == 0
    assert mentor.get("/api/evidence/?min_age_days=1").json()["count"] == 0


def test_my_standing(api: APIClient, alice: User, charlie: User, keras: Competency) -> None:
    assert api.get("/api/me/standing/").json()[0]["status"] == "not_started"
    evidence = make_evidence(alice, written_claim(keras))
    assert api.get("/api/me/standing/").json()[0]["status"] == "awaiting_review"
    from evidence.services import review_record

    review_record(evidence=evidence, reviewer=charlie, decision="approve")
    row = api.get("/api/me/standing/?competency=keras").json()[0]
    assert row == {
        "competency": "keras", "title": "Keras", "status": "in_progress", "status_label": "In progress",
        "approved_required": 1, "required_claims": 10, "percent": 10,
    }  # fmt: skip
