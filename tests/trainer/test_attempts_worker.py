"""Attempts through the real parts: the API, a Celery worker at concurrency 1, the sandbox, the database queue."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

import pytest
from django.conf import settings
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection
from rest_framework.test import APIClient

from tests.trainer.conftest import REFERENCE, Worker, submit, wait_for_run
from tracker.models import User
from trainer.models import QuotaOverride, TaskSpec, TrainingRun

pytestmark = [pytest.mark.slow, pytest.mark.django_db(transaction=True)]

# Fails at once in the training sandbox (a learner's error): the run starts and ends in about a second,
# so the order runs start in is measured without waiting for training.
QUICK_FAILURE = b"def build_model(spec):\n    raise ValueError('quick')\n"
# The reference model fed inputs scaled twice (the task's inputs arrive already scaled to [0, 1]).
SCALED_TWICE = REFERENCE.replace(
    b'keras.Input(shape=tuple(spec["input_shape"])),',
    b'keras.Input(shape=tuple(spec["input_shape"])),\n            layers.Rescaling(1 / 255),',
)


def api_for(user: User) -> APIClient:
    api = APIClient()
    api.force_authenticate(user)
    return api


def post_attempt(api: APIClient, task: TaskSpec, code: bytes = REFERENCE) -> dict:
    response = api.post(
        f"/api/tasks/{task.slug}/runs/", {"file": SimpleUploadedFile("model.py", code)}, format="multipart"
    )
    return {**response.json(), "http": response.status_code, "retry_after": response.get("Retry-After")}


def test_three_attempts_then_the_best_filed_reaches_the_mentor(
    worker: Worker, tiny_task: TaskSpec, alice: User, charlie: User
) -> None:
    api = api_for(alice)
    assert SCALED_TWICE != REFERENCE
    first, second = post_attempt(api, tiny_task), post_attempt(api, tiny_task, SCALED_TWICE)
    assert first["http"] == second["http"] == 201
    third = post_attempt(api, tiny_task)
    assert third["http"] == 429 and third["retry_after"], third  # two are queued or running
    wait_for_run(TrainingRun.objects.get(pk=first["id"]))
    wait_for_run(TrainingRun.objects.get(pk=second["id"]))
    third = post_attempt(api, tiny_task)
    assert third["http"] == 201, third
    runs = [wait_for_run(TrainingRun.objects.get(pk=body["id"])) for body in (first, second, third)]
    assert [run.status for run in runs] == ["succeeded", "succeeded", "succeeded"]
    # Inputs scaled twice: the loss sits at ln(10) every epoch, and the run says so; the reference learns.
    print(f"\nlosses, scaled twice: {[row['loss'] for row in runs[1].history]}; reference: "
          f"{[row['loss'] for row in runs[0].history]}")  # fmt: skip
    hints = api.get(f"/api/runs/{runs[1].pk}/").json()["hints"]
    assert len(hints) == 1 and "ln(10)" in hints[0] and "scaled twice" in hints[0]
    assert api.get(f"/api/runs/{runs[0].pk}/").json()["hints"] == [] and runs[2].hints() == []
    mentor = api_for(charlie)
    assert mentor.get("/api/evidence/?scope=queue").json()["results"] == []

    best = max(runs, key=lambda run: run.metrics["accuracy"])
    assert best != runs[1]
    filed = api.post("/api/evidence/", {"kind": "training", "claim": tiny_task.claim_id, "run": best.pk}, format="json")
    assert filed.status_code == 201, filed.json()
    queue = mentor.get("/api/evidence/?scope=queue").json()["results"]
    assert [(row["id"], row["run"]) for row in queue] == [(filed.json()["id"], best.pk)]
    assert mentor.get(f"/api/runs/{best.pk}/").json()["metrics"] == best.metrics
    quota = api.get(f"/api/tasks/{tiny_task.slug}/").json()["quota"]
    assert quota["remaining_today"] == 17 and quota["active"] == 0


def test_one_learners_many_attempts_do_not_hold_up_anothers_single_attempt(
    tiny_task: TaskSpec, alice: User, bob: User, sandbox: None, data_dir: Path, tmp_path: Path
) -> None:
    """Learner A queues five attempts, then B one; with one worker slot, B's starts before A's second."""
    QuotaOverride.objects.create(learner=alice, max_active=10)
    a_runs = [submit(alice, tiny_task, QUICK_FAILURE) for _ in range(5)]
    b_run = submit(bob, tiny_task, QUICK_FAILURE)
    assert b_run.queue_position() == 2  # right after A's first: the page tells B the truth
    worker = Worker(data_dir, tmp_path / "worker.log")
    try:
        finished = [wait_for_run(run, 180) for run in [*a_runs, b_run]]
    finally:
        worker.stop()
    a_runs, b_run = finished[:5], finished[5]
    starts = sorted(
        (run.started_at, name) for run, name in zip(finished, ["A1", "A2", "A3", "A4", "A5", "B1"], strict=True)
    )
    print(f"\n{connection.vendor} start order: " + ", ".join(f"{name} {at:%H:%M:%S.%f}" for at, name in starts))
    assert b_run.started_at < a_runs[1].started_at
    assert [name for _at, name in starts] == ["A1", "B1", "A2", "A3", "A4", "A5"]


def test_the_fair_order_holds_on_the_other_database_too(tmp_path: Path) -> None:
    """The same test, run in a child pytest on the other engine (SQLite when this run is on PostgreSQL)."""
    env = dict(os.environ)
    env.pop("VAR_DIR", None)  # a fresh folder for the child's SQLite file, media and broker
    if connection.vendor == "postgresql":
        env["DATABASE_URL"] = ""
    else:
        env["DATABASE_URL"] = "postgres://postgres@127.0.0.1:5432/test"
    test = (
        "tests/trainer/test_attempts_worker.py::test_one_learners_many_attempts_do_not_hold_up_anothers_single_attempt"
    )
    started = time.monotonic()
    child = subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-s", "-p", "no:cacheprovider", test],
        cwd=settings.BASE_DIR, env=env, capture_output=True, text=True, timeout=600,
    )  # fmt: skip
    print(child.stdout[-1500:])
    assert child.returncode == 0, child.stdout[-4000:] + child.stderr[-2000:]
    assert "1 passed" in child.stdout and time.monotonic() - started < 600
