"""Queues and workers: runs of tasks that need an accelerator go to their own Celery queue and are only taken
by workers started for it; workers say they are alive, so a learner waiting on a queue nobody serves is
told, and /healthz shows queue depth, the oldest run's age and the workers seen."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path
from typing import Any
from unittest import mock

import pytest
from django.test import Client
from django.utils import timezone

from tests.trainer.conftest import REFERENCE, Worker, submit, wait_for_run
from tracker.models import User
from trainer import services
from trainer.models import TaskSpec, TrainingRun, WorkerSeen
from trainer.queue import fair_order, queue_positions
from trainer.tasks import train_run
from trainer.workers import Beat, queue_report, queue_unserved, worker_beat

pytestmark = pytest.mark.django_db


@pytest.fixture
def gpu_task(tiny_task: TaskSpec) -> TaskSpec:
    """The tiny task, as a task that needs an accelerator (a copy: the tiny task itself stays a CPU task)."""
    task = TaskSpec.objects.get(pk=tiny_task.pk)
    task.pk, task.slug, task.needs_accelerator = None, "fashion-mnist-tiny-gpu", True
    task.save()
    return task


def test_runs_are_sent_to_their_queue(
    alice: User, tiny_task: TaskSpec, gpu_task: TaskSpec, django_capture_on_commit_callbacks: Any
) -> None:
    with mock.patch.object(train_run, "apply_async") as send, django_capture_on_commit_callbacks(execute=True):
        cpu = submit(alice, tiny_task, REFERENCE)
        gpu = submit(alice, gpu_task, REFERENCE)
    assert [call.kwargs for call in send.call_args_list] == [
        {"args": (cpu.pk,), "kwargs": {"queue": "celery"}, "queue": "celery"},
        {"args": (gpu.pk,), "kwargs": {"queue": "gpu"}, "queue": "gpu"},
    ]


def test_each_queue_has_its_own_fair_order_and_positions(
    alice: User, bob: User, tiny_task: TaskSpec, gpu_task: TaskSpec
) -> None:
    cpu = submit(alice, tiny_task, REFERENCE)
    gpu = submit(bob, gpu_task, REFERENCE)
    assert [r.pk for r in fair_order(accelerator=False)] == [cpu.pk]
    assert [r.pk for r in fair_order(accelerator=True)] == [gpu.pk]
    assert queue_positions([cpu.pk, gpu.pk]) == {cpu.pk: 1, gpu.pk: 1}
    # A CPU worker's dispatch never takes the accelerator's run, and the other way round.
    assert services._dispatch("cpu-worker", accelerator=False).pk == cpu.pk  # type: ignore[union-attr]
    assert services._dispatch("cpu-worker", accelerator=False) is None
    assert services._dispatch("gpu-worker", accelerator=True).pk == gpu.pk  # type: ignore[union-attr]


def test_a_learner_waiting_on_a_queue_nobody_serves_is_told(
    alice: User, gpu_task: TaskSpec, client: Client, settings: Any
) -> None:
    run = submit(alice, gpu_task, REFERENCE)
    worker_beat(name="cpu@host", queues=["celery"], started=True)
    client.force_login(alice)
    page = client.get(run.get_absolute_url()).content.decode()
    assert 'id="no-worker"' in page and "No worker with an accelerator has been seen" in page
    assert queue_unserved(needs_accelerator=True) and not queue_unserved(needs_accelerator=False)
    worker_beat(name="gpu@host", queues=["gpu"], started=True)
    assert 'id="no-worker"' not in client.get(run.get_absolute_url()).content.decode()
    # A worker not seen for TRAINER_NO_WORKER_MINUTES no longer counts.
    old = timezone.now() - timedelta(minutes=settings.TRAINER_NO_WORKER_MINUTES, seconds=1)
    WorkerSeen.objects.filter(name="gpu@host").update(seen_at=old)
    assert queue_unserved(needs_accelerator=True)


def test_healthz_shows_queues_workers_and_a_stuck_platform(alice: User, gpu_task: TaskSpec, client: Client) -> None:
    submit(alice, gpu_task, REFERENCE)
    TrainingRun.objects.update(created_at=timezone.now() - timedelta(seconds=90))
    worker_beat(name="cpu@host", queues=["celery"], started=True)
    training = client.get("/healthz").json()["training"]
    assert training["queues"]["gpu"]["depth"] == 1 and training["queues"]["gpu"]["oldest_age_seconds"] >= 90
    assert training["stuck"] is True and [w["name"] for w in training["workers"]] == ["cpu@host"]
    worker_beat(name="gpu@host", queues=["gpu"], started=True)
    assert queue_report()["stuck"] is False


@pytest.mark.django_db(transaction=True)  # the beat writes from its own thread, on its own connection
def test_a_beat_records_its_worker_until_it_stops(settings: Any) -> None:
    settings.TRAINER_WORKER_BEAT_SECONDS = 0.05
    beat = Beat(name="beat@host", queues=["celery", "gpu"])
    beat.start()
    try:
        for _ in range(100):
            if WorkerSeen.objects.filter(name="beat@host").exists():
                break
            beat.stopped.wait(0.05)
        seen = WorkerSeen.objects.get(name="beat@host")
        assert seen.queues == ["celery", "gpu"]
    finally:
        beat.stop()
    assert not WorkerSeen.objects.filter(name="beat@host").exists()


@pytest.mark.slow
@pytest.mark.django_db(transaction=True)
def test_only_a_worker_started_for_the_accelerator_queue_trains_its_runs(
    sandbox: None, gpu_task: TaskSpec, alice: User, data_dir: Path, tmp_path: Path
) -> None:
    """A CPU worker stands in for a GPU machine by consuming the `gpu` queue; the default worker ignores it."""
    default = Worker(data_dir, tmp_path / "default.log", TRAINER_WORKER_BEAT_SECONDS="1")
    try:
        run = submit(alice, gpu_task, REFERENCE)
        for _ in range(40):  # the default worker is up and beating: still nobody serves the gpu queue
            if any("celery" in w.queues for w in WorkerSeen.objects.all()):
                break
            wait_for_run(run, 0.25, until=lambda r: False)
        run.refresh_from_db()
        assert run.status == "queued" and run.waiting_without_worker
        accelerated = Worker(data_dir, tmp_path / "gpu.log", queues="gpu", beat=False, TRAINER_WORKER_BEAT_SECONDS="1")
        try:
            run = wait_for_run(run, 240)
            assert run.status == "succeeded", (run.error_kind, run.error_message)
            assert "gpu" in run.worker and any("gpu" in w.queues for w in WorkerSeen.objects.all())
        finally:
            accelerated.stop()
    finally:
        default.stop()
    assert f"succeeded: {run.pk}" not in default.log() and f"{run.pk}" in accelerated.log()
