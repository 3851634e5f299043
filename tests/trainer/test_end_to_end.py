"""End to end, all real: API submit → Celery worker → bubblewrap sandbox → TensorFlow → trusted score → approval →
an Open Badges credential whose result is that score."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from rest_framework.test import APIClient

from credentials.keys import keyfile_create
from credentials.models import IssuedCredential
from credentials.selectors import credential_verify_here
from evidence.models import Evidence, Status
from evidence.services import EvidenceInput, evidence_create, review_record
from tests.credentials.test_schema import violations
from tests.trainer.conftest import REFERENCE, Worker, wait_for_run
from tracker.models import User
from trainer.models import TaskSpec, TrainingRun

pytestmark = [pytest.mark.slow, pytest.mark.django_db(transaction=True)]


def test_reference_solution_is_trained_scored_and_queued_for_the_mentor(
    worker: Worker, tiny_task: TaskSpec, alice: User, charlie: User, settings: Any, tmp_path: Path
) -> None:
    api = APIClient()
    api.force_authenticate(alice)
    upload = SimpleUploadedFile("reference.py", REFERENCE)
    response = api.post(
        "/api/evidence/",
        {"claim": tiny_task.claim_id, "kind": "training", "task": tiny_task.slug, "file": upload},
        format="multipart",
    )
    assert response.status_code == 201, response.json()
    body = response.json()
    # Notebooks handed out before attempts existed post here: an attempt, filed if it passes.
    assert body["status"] == "queued" and body["run"] == body["id"] and body["file_if_passes"] is True

    stages: set[str] = set()
    run = wait_for_run(TrainingRun.objects.get(pk=body["run"]), stages=stages)
    assert run.status == "succeeded", (run.error_kind, run.error_message, run.log_tail[-2000:])
    assert {"train", "predict", "done"} <= stages, stages  # the run page names the stage it is in
    assert run.passed is True and run.metrics["accuracy"] >= tiny_task.threshold
    assert len(run.history) == tiny_task.max_epochs and {"loss", "val_loss", "accuracy"} <= set(run.history[0])
    assert run.environment["keras"] == "3.15.1" and run.environment["backend"] == "tensorflow"
    assert run.param_count and run.param_count < tiny_task.max_params
    assert "Conv2D" in run.model_summary or "conv2d" in run.model_summary
    assert {"train", "predict", "score"} <= set(run.timings)
    assert run.artifact_path("model.keras") and run.artifact_path("predict/architecture.png")
    assert run.worker.startswith("test-")

    evidence = Evidence.objects.get(filing__run=run, filing__automatic=True)
    assert evidence.status == Status.SUBMITTED and evidence.file_sha256 == run.code_sha256
    mentor = APIClient()
    mentor.force_authenticate(charlie)
    queue = mentor.get("/api/evidence/?scope=queue").json()["results"]
    assert [row["id"] for row in queue] == [evidence.pk]
    detail = mentor.get(f"/api/runs/{run.pk}/").json()
    assert detail["metrics"] == run.metrics and detail["passed"] is True
    assert detail["dataset"]["checksum"] == tiny_task.dataset.checksum
    assert mentor.get(detail["model_url"]).status_code == 200

    # The mentor approves it, and every other required claim: the credential carries this run's trusted result.
    settings.CREDENTIALS_SIGNING_KEY, settings.CREDENTIALS_KEY_FILE = "", tmp_path / "credentials_keys"
    keyfile_create(settings.CREDENTIALS_KEY_FILE)
    approved = mentor.post(f"/api/evidence/{evidence.pk}/reviews/", {"decision": "approve"}, format="json")
    assert approved.status_code == 201, approved.json()
    for claim in tiny_task.claim.competency.active_claims().filter(required=True).exclude(pk=tiny_task.claim_id):
        data = EvidenceInput(kind="written", body=f"My answer to {claim.text}, in enough words to count.")
        written = evidence_create(learner=alice, claim=claim, data=data, submit=True)
        review_record(evidence=written, reviewer=charlie, decision="approve")
    credential = IssuedCredential.objects.get(learner=alice, competency=tiny_task.claim.competency)
    document = credential.document
    assert violations(document) == [] and credential_verify_here(document).valid
    [description] = document["credentialSubject"]["achievement"]["resultDescription"]
    [result] = document["credentialSubject"]["result"]
    assert result["resultDescription"] == description["id"]
    assert float(result["value"]) == pytest.approx(run.metrics["accuracy"], abs=5e-5)
    assert description["requiredValue"] == f"{tiny_task.threshold:g}"
    narrative = next(e["narrative"] for e in document["evidence"] if "Trained and scored" in e["narrative"])
    for fact in (run.code_sha256, tiny_task.dataset.checksum, "tensorflow", run.environment["tensorflow"]):
        assert fact in narrative, (fact, narrative)
