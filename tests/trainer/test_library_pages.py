"""The task catalogue, dataset cards, the claim a multi-claim task files evidence under, leaderboards and the
training-data download (no training here: runs are made by hand where one is needed)."""

from __future__ import annotations

import io

import numpy as np
import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from django.utils import timezone
from rest_framework.test import APIClient

from tests.trainer.conftest import REFERENCE, submit
from tracker.models import Claim, Competency, User
from trainer.models import TaskSpec, TrainingRun

pytestmark = pytest.mark.django_db


@pytest.fixture
def listed(tiny_task: TaskSpec) -> TaskSpec:
    """The tiny task, shown in the catalogue like a full one."""
    tiny_task.is_tiny = False
    tiny_task.save()
    return tiny_task


def test_catalogue_lists_every_claim_with_what_proves_it(client: Client, keras: Competency, listed: TaskSpec) -> None:
    body = client.get("/tasks/").content.decode()
    for claim in keras.claims.filter(is_active=True):
        assert f'id="claim-{claim.pk}"' in body
    # The task is listed under its own claim and under the claims it also proves (2, 5 and 10).
    assert body.count(f'href="{listed.get_absolute_url()}"') == 1 + listed.also_claims.count() == 4
    assert "reviewed by a mentor" in body  # claims about ideas are proven with written or link evidence
    assert "records the Keras backend and versions" in body


def test_task_page_has_a_dataset_card_with_pictures(client: Client, listed: TaskSpec) -> None:
    body = client.get(listed.get_absolute_url()).content.decode()
    assert "Dataset card" in body and "Debian package dataset-fashion-mnist" in body and "MIT" in body
    assert "Ankle boot" in body and "10.0%" in body  # class balance of the stratified tiny set
    picture = f"/tasks/{listed.slug}/card/images.png"
    assert f'src="{picture}"' in body
    response = client.get(picture)
    assert response.status_code == 200 and response["Content-Type"] == "image/png"
    assert b"".join(response.streaming_content).startswith(b"\x89PNG")
    for name in ("other.png", "..%2Flabels%2Ftest_labels.npz", "test_labels.npz"):
        assert client.get(f"/tasks/{listed.slug}/card/{name}").status_code == 404, name


def test_a_task_proving_several_claims_files_evidence_under_the_chosen_one(
    client: Client, alice: User, listed: TaskSpec
) -> None:
    client.force_login(alice)
    page = client.get(listed.get_absolute_url()).content.decode()
    design = Claim.objects.get(competency=listed.claim.competency, order=5)
    assert 'name="claim"' in page and f'value="{design.pk}"' in page
    response = client.post(
        listed.get_absolute_url(), {"file": SimpleUploadedFile("model.py", REFERENCE), "claim": design.pk}
    )
    assert response.status_code == 302
    run = TrainingRun.objects.get()
    assert run.claim == design and run.task == listed  # the claim a passing run is filed for
    other = Claim.objects.get(competency=listed.claim.competency, order=1)  # not proven by this task
    response = client.post(
        listed.get_absolute_url(), {"file": SimpleUploadedFile("m.py", REFERENCE), "claim": other.pk}
    )
    assert response.status_code == 400 and TrainingRun.objects.count() == 1


def scored(learner: User, task: TaskSpec, accuracy: float, claim: Claim | None = None) -> TrainingRun:
    from trainer.services import attempt_submit

    run = attempt_submit(learner=learner, task=task, upload=SimpleUploadedFile("m.py", REFERENCE), claim=claim)
    TrainingRun.objects.filter(pk=run.pk).update(
        status="succeeded", passed=accuracy >= task.threshold, metrics={"accuracy": accuracy, "macro_f1": 0.5},
        finished_at=timezone.now(),
    )  # fmt: skip
    return run


def test_leaderboard_shows_each_opted_in_learners_best_passing_run(
    client: Client, alice: User, bob: User, listed: TaskSpec
) -> None:
    design = Claim.objects.get(competency=listed.claim.competency, order=5)
    scored(alice, listed, 0.80)
    scored(alice, listed, 0.90, claim=design)
    scored(bob, listed, 0.95)  # bob has not opted in
    alice.first_name, alice.last_name, alice.on_leaderboards = "Alice", "Liddell", True
    alice.save()

    body = client.get(f"/tasks/{listed.slug}/leaderboard/").content.decode()
    assert "Alice Liddell" in body and "0.9000" in body and "0.8000" not in body
    assert "bob" not in body and "0.9500" not in body

    client.force_login(bob)
    body = client.get(f"/tasks/{listed.slug}/leaderboard/").content.decode()
    assert "bob (you)" in body and "only you see this row" in body
    assert body.index("bob (you)") < body.index("Alice Liddell")  # 0.95 ranks first, in bob's own view

    response = client.post(f"/tasks/{listed.slug}/leaderboard/", {"show": "1"})
    assert response.status_code == 302
    client.logout()
    assert "0.9500" in client.get(f"/tasks/{listed.slug}/leaderboard/").content.decode()


def test_leaderboard_opt_in_needs_a_login_and_csrf(alice: User, listed: TaskSpec) -> None:
    anonymous = Client()
    response = anonymous.post(f"/tasks/{listed.slug}/leaderboard/", {"show": "1"})
    assert response.status_code == 302 and "/login" in response["Location"]
    strict = Client(enforce_csrf_checks=True)
    strict.force_login(alice)
    assert strict.post(f"/tasks/{listed.slug}/leaderboard/", {"show": "1"}).status_code == 403
    alice.refresh_from_db()
    assert alice.on_leaderboards is False


def test_training_data_download_for_colab(alice: User, listed: TaskSpec) -> None:
    api = APIClient()
    url = f"/api/tasks/{listed.slug}/data/train.npz/"
    assert api.get(url).status_code in (401, 403)
    api.force_authenticate(alice)
    response = api.get(url)
    assert response.status_code == 200
    with np.load(io.BytesIO(b"".join(response.streaming_content)), allow_pickle=False) as data:
        assert data["x"].shape == (2000, 28, 28) and data["y"].shape == (2000,)
    for name in ("test_labels.npz", "test_inputs.npz", "..%2Flabels%2Ftest_labels.npz", "base.keras"):
        assert api.get(f"/api/tasks/{listed.slug}/data/{name}/").status_code == 404, name


def test_api_describes_claims_criteria_and_the_dataset(client: Client, listed: TaskSpec) -> None:
    data = client.get(f"/api/tasks/{listed.slug}/").json()
    assert len(data["also_claims"]) == 3 and data["criteria"] == []
    assert data["dataset"]["splits"]["train"]["count"] == 2000 and data["dataset"]["class_names"][9] == "Ankle boot"
    assert data["training_data"].endswith(f"/api/tasks/{listed.slug}/data/train.npz/")
    assert client.get(data["leaderboard"]).status_code == 200


def test_unknown_claim_for_a_task_is_refused_by_the_api(alice: User, listed: TaskSpec) -> None:
    api = APIClient()
    api.force_authenticate(alice)
    other = Claim.objects.get(competency=listed.claim.competency, order=1)
    response = api.post(
        "/api/evidence/",
        {"claim": other.pk, "kind": "training", "task": listed.slug, "file": SimpleUploadedFile("m.py", REFERENCE)},
        format="multipart",
    )
    assert response.status_code == 400 and not TrainingRun.objects.exists()
    assert submit(alice, listed, REFERENCE).task == listed


def test_admin_edits_task_specs_and_inspects_datasets_and_runs(
    client: Client, admin_user: User, alice: User, listed: TaskSpec
) -> None:
    run = submit(alice, listed, REFERENCE)
    client.force_login(admin_user)
    for url in (
        "/admin/trainer/taskspec/", f"/admin/trainer/taskspec/{listed.pk}/change/",
        "/admin/trainer/dataset/", f"/admin/trainer/dataset/{listed.dataset_id}/change/",
        "/admin/trainer/trainingrun/", f"/admin/trainer/trainingrun/{run.pk}/change/",
    ):  # fmt: skip
        assert client.get(url).status_code == 200, url
    assert client.get("/admin/trainer/dataset/add/").status_code == 403
    assert client.get("/admin/trainer/trainingrun/add/").status_code == 403


@pytest.mark.parametrize(
    ("criteria", "message"),
    [
        ('{"metric": "x"}', "List the criteria"),
        ('[{"metric": "copy_rate"}]', "Criterion 1 needs a metric and a min or a max."),
        ('[{"metric": "copy_rate", "max": "low"}]', "Criterion 1: min and max must be numbers."),
    ],
)
def test_task_spec_criteria_are_validated(listed: TaskSpec, criteria: str, message: str) -> None:
    import json

    from django.core.exceptions import ValidationError

    listed.criteria = json.loads(criteria)
    with pytest.raises(ValidationError, match=message):
        listed.full_clean()


def test_leaderboard_ranks_ties_by_who_got_there_first_and_ignores_failed_runs(
    alice: User, bob: User, listed: TaskSpec
) -> None:
    from datetime import timedelta

    from trainer.selectors import leaderboard

    design = Claim.objects.get(competency=listed.claim.competency, order=5)
    early = scored(bob, listed, 0.70)
    late = scored(alice, listed, 0.70)
    TrainingRun.objects.filter(pk=early.pk).update(finished_at=timezone.now() - timedelta(hours=1))
    failed = scored(alice, listed, 0.99, claim=design)
    TrainingRun.objects.filter(pk=failed.pk).update(status="failed", passed=None)
    User.objects.update(on_leaderboards=True)
    rows = leaderboard(listed)
    assert [(r.name, r.value, r.run_id) for r in rows] == [("bob", 0.70, early.pk), ("alice", 0.70, late.pk)]
    assert [r.rank for r in rows] == [1, 2]
