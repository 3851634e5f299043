"""A run is never lost and never stuck: cancel, a worker killed mid-run, a broker restarted while queued."""

from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from django.utils import timezone
from rest_framework.test import APIClient

from tests.trainer.conftest import REFERENCE, Worker, submit, wait_for_run
from tracker.models import User
from trainer.models import TaskSpec, TrainingRun
from trainer.quotas import quota_for

pytestmark = [pytest.mark.slow, pytest.mark.django_db(transaction=True)]

# The reference model, slowed down: each epoch sleeps, so there is time to act mid-run.
SLOW = (
    REFERENCE.decode()
    + """

import time
import keras


class Slow(keras.callbacks.Callback):
    def on_epoch_end(self, epoch, logs=None):
        time.sleep(1.5)


def train(model, data, spec):
    model.fit(data["x_train"][:256], data["y_train"][:256], epochs=spec["epochs"], batch_size=64,
              validation_data=(data["x_val"][:64], data["y_val"][:64]), callbacks=[Slow()], verbose=2)
    return model
"""
)


@pytest.fixture
def slow_task(tiny_task: TaskSpec) -> TaskSpec:
    return TaskSpec.objects.create(
        slug="tiny-slow", title="Tiny, slowed down", claim=tiny_task.claim, dataset=tiny_task.dataset,
        brief="slow", threshold=0.0, spec=tiny_task.spec, max_epochs=8, wall_seconds=120, memory_mb=2048,
    )  # fmt: skip


def sandbox_processes() -> list[str]:
    out = subprocess.run(["pgrep", "-a", "-u", "skillproof-sandbox"], capture_output=True, text=True).stdout
    return [line for line in out.splitlines() if line.strip()]


def test_cancel_while_training_stops_the_sandbox(worker: Worker, slow_task: TaskSpec, alice: User) -> None:
    run = submit(alice, slow_task, SLOW.encode())
    wait_for_run(run, 90, until=lambda r: r.epoch >= 1)
    api = APIClient()
    api.force_authenticate(alice)
    response = api.post(f"/api/runs/{run.pk}/cancel/")
    assert response.status_code == 200 and response.json()["cancel_requested"] is True
    run = wait_for_run(run, 30)
    assert run.status == "cancelled"
    assert run.epoch < slow_task.max_epochs
    assert not run.filings.exists()  # a cancelled attempt reaches no mentor
    assert api.post(f"/api/runs/{run.pk}/cancel/").status_code == 409
    # The worker goes on: a good submission trains normally afterwards.
    good = wait_for_run(submit(alice, slow_task.__class__.objects.get(slug="fashion-mnist-tiny"), REFERENCE))
    assert good.status == "succeeded"


def test_cancel_while_queued(alice: User, tiny_task: TaskSpec) -> None:
    run = submit(alice, tiny_task, REFERENCE)  # no worker: it stays queued
    api = APIClient()
    api.force_authenticate(alice)
    assert api.post(f"/api/runs/{run.pk}/cancel/").json()["status"] == "cancelled"
    other = APIClient()
    other.force_authenticate(User.objects.create_user("mallory", password="x"))
    assert other.post(f"/api/runs/{run.pk}/cancel/").status_code == 404


def test_worker_killed_mid_run_is_retried_not_stuck(worker: Worker, slow_task: TaskSpec, alice: User) -> None:
    run = submit(alice, slow_task, SLOW.encode())
    run = wait_for_run(run, 90, until=lambda r: r.epoch >= 1)
    pid = int(run.worker.rsplit("pid ", 1)[1])
    assert pid in worker.child_pids()
    sandboxes = subprocess.run(["pgrep", "-P", str(pid)], capture_output=True, text=True).stdout.split()
    assert sandboxes, "the job's sandbox should be a child of the worker process"
    os.kill(pid, signal.SIGKILL)  # the process running the job dies at once, like an OOM kill
    run = wait_for_run(run, 240)
    assert run.status == "succeeded", (run.status, run.error_kind, run.error_message)
    assert run.attempt == 2
    # Its sandboxes died with it (--die-with-parent): nothing of the lost attempt runs on.
    assert not [p for p in sandboxes if Path(f"/proc/{p}").exists()]


def test_run_with_a_silent_worker_is_failed_after_the_last_attempt(alice: User, tiny_task: TaskSpec, settings) -> None:
    from trainer.services import runs_reap

    run = submit(alice, tiny_task, REFERENCE)
    stale = timezone.now() - timezone.timedelta(seconds=settings.TRAINER_HEARTBEAT_STALE_SECONDS + 5)
    TrainingRun.objects.filter(pk=run.pk).update(
        status="running", attempt=settings.TRAINER_MAX_ATTEMPTS, heartbeat_at=stale
    )
    assert runs_reap()["failed"] == 1
    run.refresh_from_db()
    assert (run.status, run.error_kind) == ("failed", "worker_lost")
    # The platform's fault: the attempt is refunded, and it cannot be filed as evidence.
    assert not run.counts_for_quota and not run.can_be_filed
    assert quota_for(alice, tiny_task).used_today == 0


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


class PrivateRedis:
    """A redis-server of the test's own, without persistence, so that a restart loses its queue."""

    def __init__(self, folder: Path) -> None:
        self.port, self.folder = free_port(), folder
        self.process: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    def start(self) -> None:
        command = ["redis-server", "--port", str(self.port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no"]
        self.process = subprocess.Popen(command, cwd=self.folder, stdout=subprocess.DEVNULL)
        for _ in range(100):
            with socket.socket() as sock:
                if sock.connect_ex(("127.0.0.1", self.port)) == 0:
                    return
            time.sleep(0.05)
        raise AssertionError("redis-server did not start")

    def stop(self) -> None:
        if self.process:
            self.process.kill()
            self.process.wait()


@pytest.fixture
def private_redis(tmp_path: Path) -> Iterator[PrivateRedis]:
    if not shutil.which("redis-server"):
        pytest.fail("redis-server is needed (apt-get install redis-server)")
    redis = PrivateRedis(tmp_path)
    redis.start()
    yield redis
    redis.stop()


def test_broker_restarted_while_queued_loses_nothing(
    sandbox: None, tiny_task: TaskSpec, alice: User, private_redis: PrivateRedis, data_dir: Path, tmp_path: Path
) -> None:
    from tracker.project.celery import app
    from trainer.tasks import train_run

    run = submit(alice, tiny_task, REFERENCE)
    with app.connection_for_write(url=private_redis.url) as connection:
        train_run.apply_async(args=[run.pk], connection=connection)
    TrainingRun.objects.filter(pk=run.pk).update(enqueued_at=timezone.now())
    private_redis.stop()  # the queued message is gone with it
    private_redis.start()
    worker = Worker(
        data_dir, tmp_path / "worker.log", CELERY_BROKER_URL=private_redis.url,
        TRAINER_REQUEUE_SECONDS="3", TRAINER_REAP_INTERVAL_SECONDS="2",
    )  # fmt: skip
    try:
        run = wait_for_run(run, 120)
    finally:
        worker.stop()
    assert run.status == "succeeded", (run.error_kind, run.error_message)
