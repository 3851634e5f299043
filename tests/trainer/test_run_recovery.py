"""Recovering from platform faults, without a worker: the broker down when an attempt is submitted, the learner told
when their attempt was queued again, a database blip while training, an attempt taken over by another worker.

The faults themselves, against a real worker, PostgreSQL and Redis, are injected by tests/campaigns/test_faults.py.
"""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path
from typing import Any
from unittest import mock

import pytest
from django.db import OperationalError, connection
from django.test import Client
from django.utils import timezone
from kombu.exceptions import OperationalError as BrokerUnreachable

from tests.trainer.conftest import REFERENCE, submit
from tests.trainer.test_attempts import api_for, post_attempt
from tracker.models import User
from trainer import services
from trainer.models import TaskSpec, TrainingRun
from trainer.pipeline import Job
from trainer.tasks import train_run

pytestmark = pytest.mark.django_db

BROKER_DOWN = BrokerUnreachable("Error 111 connecting to 127.0.0.1:6379. Connection refused.")


def message_lost(run: TrainingRun, settings: Any) -> None:
    """Its message was sent longer ago than the reaper waits for a worker to take it."""
    sent = timezone.now() - timedelta(seconds=settings.TRAINER_REQUEUE_SECONDS + 1)
    TrainingRun.objects.filter(pk=run.pk).update(enqueued_at=sent)


def started(worker: str) -> TrainingRun:
    run = services._dispatch(worker)
    assert run is not None
    return run


def test_an_attempt_submitted_while_the_broker_is_down_is_accepted_and_sent_by_the_reaper(
    alice: User, tiny_task: TaskSpec, settings: Any, django_capture_on_commit_callbacks: Any
) -> None:
    with (
        mock.patch.object(train_run, "apply_async", side_effect=BROKER_DOWN),
        django_capture_on_commit_callbacks(execute=True),
    ):
        response = post_attempt(api_for(alice), tiny_task)
    assert response.status_code == 201, response.content
    run = TrainingRun.objects.get(pk=response.json()["id"])
    assert run.status == "queued"
    message_lost(run, settings)
    with mock.patch.object(train_run, "apply_async") as delay:
        assert services.runs_reap()["requeued"] == 1
    delay.assert_called_once_with(args=(run.pk,), kwargs={"queue": "celery"}, queue="celery")


def test_the_reaper_sends_every_lost_message_though_the_broker_refuses_one(
    alice: User, bob: User, tiny_task: TaskSpec, settings: Any
) -> None:
    runs = [submit(alice, tiny_task, REFERENCE), submit(bob, tiny_task, REFERENCE)]
    for run in runs:
        message_lost(run, settings)
    with mock.patch.object(train_run, "apply_async", side_effect=[BROKER_DOWN, None]) as delay:
        services.runs_reap()
    assert sorted(call.kwargs["args"][0] for call in delay.call_args_list) == sorted(run.pk for run in runs)


def test_a_learner_is_told_their_attempt_was_queued_again_when_its_worker_went_silent(
    alice: User, tiny_task: TaskSpec, settings: Any
) -> None:
    submit(alice, tiny_task, REFERENCE)
    run = started("worker-a")
    silent = timezone.now() - timedelta(seconds=settings.TRAINER_HEARTBEAT_STALE_SECONDS + 5)
    TrainingRun.objects.filter(pk=run.pk).update(heartbeat_at=silent)
    with mock.patch.object(train_run, "apply_async"):
        assert services.runs_reap()["requeued"] == 1
    told = (
        "The worker training this attempt stopped responding; it was queued again and starts over (platform retry 1)."
    )
    assert told in api_for(alice).get(f"/api/runs/{run.pk}/").json()["notices"]
    page = Client()
    page.force_login(alice)
    assert told in page.get(run.get_absolute_url()).content.decode()


def test_a_platform_fault_queues_the_attempt_again_and_says_so(
    alice: User, tiny_task: TaskSpec, tmp_path: Path
) -> None:
    submit(alice, tiny_task, REFERENCE)
    run = started("worker-a")
    services._release_for_retry(run, job_for(run, tmp_path), OSError("No space left on device"))
    run.refresh_from_db()
    assert run.status == "queued"
    assert run.notices == [
        "The training platform failed during this attempt; it was queued again and starts over (platform retry 1)."
    ]


@pytest.mark.django_db(transaction=True)
def test_training_goes_on_through_a_database_blip(alice: User, tiny_task: TaskSpec) -> None:
    submit(alice, tiny_task, REFERENCE)
    run = started("worker-a")

    def unreachable(*_: Any) -> None:
        raise OperationalError("server closed the connection unexpectedly")

    with connection.execute_wrapper(unreachable):
        assert services._on_progress(run, [{"epoch": 1}], "epoch 1") is False  # not cancelled, not raised
    assert services._on_progress(run, [{"epoch": 1}, {"epoch": 2}], "epoch 2") is False
    run.refresh_from_db()
    assert (run.status, run.epoch, run.log_tail) == ("running", 2, "epoch 2")


def job_for(run: TrainingRun, folder: Path) -> Job:
    return Job(task=run.task, source_kind="py", source=folder / "s.py", artifacts=folder, on_progress=lambda *_: False)


def test_an_attempt_taken_over_by_another_worker_stops_and_cannot_overwrite_it(
    alice: User, tiny_task: TaskSpec, tmp_path: Path
) -> None:
    submit(alice, tiny_task, REFERENCE)
    first = started("worker-a")
    TrainingRun.objects.filter(pk=first.pk).update(status="queued")  # the reaper gave worker-a up
    second = started("worker-b")
    assert second.attempt == first.attempt + 1
    assert services._on_progress(first, [{"epoch": 1}], "late") is True  # worker-a stops at its next heartbeat
    services._finish_scored(first, job_for(first, tmp_path), {"metrics": {"accuracy": 0.1}, "passed": False})
    services._finish_failed(first, "crashed", "late")
    services._finish_cancelled(first)
    run = TrainingRun.objects.get(pk=first.pk)
    assert (run.status, run.worker, run.attempt, run.metrics, run.log_tail) == ("running", "worker-b", 2, {}, "")
    services._finish_scored(second, job_for(second, tmp_path), {"metrics": {"accuracy": 0.9}, "passed": True})
    run.refresh_from_db()
    assert (run.status, run.metrics) == ("succeeded", {"accuracy": 0.9})
