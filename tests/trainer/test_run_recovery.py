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

from tests.trainer.conftest import REFERENCE, Worker, broker_purge, submit, wait_for_run
from tests.trainer.test_attempts import api_for, post_attempt
from tracker.models import User
from trainer import services
from trainer.models import QuotaOverride, TaskSpec, TrainingRun
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
    delay.assert_called_once_with(kwargs={"queue": "celery", "wakes": 1}, queue="celery")


def test_lost_messages_refused_by_the_broker_are_sent_at_the_reapers_next_round(
    alice: User, bob: User, tiny_task: TaskSpec, settings: Any
) -> None:
    runs = [submit(alice, tiny_task, REFERENCE), submit(bob, tiny_task, REFERENCE)]
    for run in runs:
        message_lost(run, settings)
    with mock.patch.object(train_run, "apply_async", side_effect=BROKER_DOWN):
        services.runs_reap()
    with mock.patch.object(train_run, "apply_async") as delay:
        assert services.runs_reap()["requeued"] == 2
    delay.assert_called_once_with(kwargs={"queue": "celery", "wakes": 2}, queue="celery")
    with mock.patch.object(train_run, "apply_async") as delay:
        assert services.runs_reap()["requeued"] == 0  # sent: not again before TRAINER_REQUEUE_SECONDS
    delay.assert_not_called()


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


def _silent_and_lost(learners: list[User], task: TaskSpec, gpu: TaskSpec, settings: Any) -> list[TrainingRun]:
    """Per learner: a run whose worker went silent, one out of deliveries, and a queued run of each queue whose
    message was lost."""
    silent = timezone.now() - timedelta(seconds=settings.TRAINER_HEARTBEAT_STALE_SECONDS + 5)
    sent = timezone.now() - timedelta(seconds=settings.TRAINER_REQUEUE_SECONDS + 5)
    common = {"code_sha256": "0" * 64, "file_name": "a.py"}
    runs = []
    for learner in learners:
        for attempt in (1, settings.TRAINER_MAX_ATTEMPTS):
            runs.append(TrainingRun.objects.create(
                learner=learner, task=task, dataset=task.dataset, status="running", attempt=attempt,
                heartbeat_at=silent, started_at=silent, worker="gone", **common,
            ))  # fmt: skip
        for on in (task, gpu):
            runs.append(
                TrainingRun.objects.create(learner=learner, task=on, dataset=on.dataset, enqueued_at=sent, **common)
            )
    return runs


@pytest.mark.parametrize("learners", [2, 20])
def test_the_reaper_sends_one_message_per_queue_for_the_whole_batch_in_constant_queries(
    tiny_task: TaskSpec, settings: Any, learners: int, django_assert_max_num_queries: Any
) -> None:
    from tests.conftest import make_user

    gpu = TaskSpec.objects.get(pk=tiny_task.pk)
    gpu.pk, gpu.slug, gpu.needs_accelerator = None, "fashion-mnist-tiny-gpu", True
    gpu.save()
    people = [make_user(f"learner-{n}", "learner") for n in range(learners)]
    runs = _silent_and_lost(people, tiny_task, gpu, settings)
    with mock.patch.object(train_run, "apply_async") as send, django_assert_max_num_queries(8):
        assert services.runs_reap() == {"requeued": 3 * learners, "failed": learners}
    # One message per queue, for every run it wakes (the silent runs queued again, the lost ones).
    assert sorted(call.kwargs["kwargs"]["wakes"] for call in send.call_args_list) == [learners, 2 * learners]
    assert {call.kwargs["queue"] for call in send.call_args_list} == {"celery", "gpu"}
    by_status = {run.pk: run for run in TrainingRun.objects.all()}
    for run in runs:
        now = by_status[run.pk]
        if run.status == "running" and run.attempt >= settings.TRAINER_MAX_ATTEMPTS:
            assert (now.status, now.error_kind) == ("failed", "worker_lost")
        elif run.status == "running":
            assert now.status == "queued" and now.notices[-1].startswith("The worker training this attempt stopped")
        assert now.status == "failed" or now.enqueued_at > run.created_at  # sent now
    with mock.patch.object(train_run, "apply_async") as send:
        assert services.runs_reap() == {"requeued": 0, "failed": 0}
    send.assert_not_called()


@pytest.mark.slow
@pytest.mark.django_db(transaction=True)
def test_one_message_from_the_reaper_starts_every_lost_run_on_a_real_worker(
    sandbox: None, alice: User, tiny_task: TaskSpec, data_dir: Path, tmp_path: Path, settings: Any
) -> None:
    """Three attempts submitted while the broker was down; the reaper's one message wakes all three: each
    worker that takes it passes the rest on once its run has started."""
    QuotaOverride.objects.create(learner=alice, max_active=5)
    with mock.patch.object(train_run, "apply_async", side_effect=BROKER_DOWN):
        runs = [submit(alice, tiny_task, REFERENCE) for _ in range(3)]
    for run in runs:
        message_lost(run, settings)
    broker_purge()  # a wake another test left on the queue would start one run before the reaper is asked
    worker = Worker(data_dir, tmp_path / "worker.log", beat=False)  # no beat: only the reaper called here sends
    try:
        with mock.patch.object(train_run, "apply_async", wraps=train_run.apply_async) as send:
            assert services.runs_reap()["requeued"] == 3
        assert send.call_count == 1
        for run in runs:
            finished = wait_for_run(run, 300)
            assert finished.status == "succeeded", (finished.error_kind, finished.error_message)
    finally:
        worker.stop()
    assert worker.log().count("] received") == 3  # the reaper's message, then the two passed on
