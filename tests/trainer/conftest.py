"""Real training in tests: the tiny datasets, the sandbox runtime, and a real Celery worker process."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from django.conf import settings
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection

from tracker.models import Competency, User
from trainer.catalogue import CATALOGUE_DIR
from trainer.models import TaskSpec, TrainingRun
from trainer.sandbox.config import SandboxUnavailable, sandbox_config

REPO = Path(settings.BASE_DIR)
REFERENCE = (CATALOGUE_DIR / "fashion-mnist" / "reference.py").read_bytes()
FINISHED = {"succeeded", "failed", "cancelled"}


@pytest.fixture(scope="session")
def data_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("datasets")


@pytest.fixture
def tiny_task(keras: Competency, data_dir: Path, settings: Any) -> TaskSpec:
    """The tiny Fashion-MNIST task with its dataset built (once per session) into `data_dir`."""
    from trainer.datasets.registry import dataset_build
    from trainer.services import tasks_sync

    settings.TRAINER_DATA_DIR = data_dir
    dataset_build(slug="fashion-mnist-tiny", data_dir=data_dir)
    tasks_sync()
    # Offered to learners here, as an admin could: learner journeys then train in seconds. Tests of
    # what learners may not do with tiny tasks set it back.
    TaskSpec.objects.filter(slug="fashion-mnist-tiny").update(is_tiny=False)
    return TaskSpec.objects.get(slug="fashion-mnist-tiny")


@pytest.fixture
def r_task(keras: Competency, data_dir: Path, settings: Any) -> TaskSpec:
    """The R task's tiny variant, its dataset exported by Rscript into `data_dir`, offered to learners here."""
    from trainer.datasets.registry import dataset_build
    from trainer.services import tasks_sync

    settings.TRAINER_DATA_DIR = data_dir
    dataset_build(slug="diamonds-tiny", data_dir=data_dir)
    tasks_sync()
    TaskSpec.objects.filter(slug="diamond-prices-r-tiny").update(is_tiny=False)
    return TaskSpec.objects.get(slug="diamond-prices-r-tiny")


@pytest.fixture(scope="session")
def sandbox() -> None:
    """The real sandbox must be usable; `make test` runs `manage.py sandbox_setup` first."""
    try:
        sandbox_config()
    except SandboxUnavailable as error:
        pytest.fail(f"The training sandbox is not set up: {error}")


def _worker_env(data_dir: Path, extra: dict[str, str]) -> dict[str, str]:
    db = connection.settings_dict
    env = dict(os.environ)
    if db["ENGINE"].endswith("sqlite3"):
        env["DATABASE_URL"] = f"sqlite:///{db['NAME']}"
    else:
        env["DATABASE_URL"] = f"postgres://{db['USER']}@{db['HOST'] or '127.0.0.1'}:{db['PORT'] or 5432}/{db['NAME']}"
    env |= {"TRAINER_DATA_DIR": str(data_dir), "TRAINER_POOL_SIZE": "2", "PYTHONUNBUFFERED": "1"} | extra
    return env


def broker_purge() -> int:
    """Drops the messages other tests left on the test broker's queues (sent with no worker to take them), for a
    test that counts the messages its worker receives. Returns how many were dropped."""
    from tracker.project.celery import app

    return app.control.purge() or 0


class Worker:
    """A real `celery worker` process (with beat) on the test database and broker."""

    def __init__(
        self, data_dir: Path, log: Path, queues: str = "", beat: bool = True, launcher: str = "", **extra: str
    ) -> None:
        self.log_path = log
        # `launcher`: a script that starts Celery itself (tests/trainer/modules_worker.py), instead of -m celery.
        start = [launcher] if launcher else ["-m", "celery"]
        command = [
            sys.executable, *start, "-A", "tracker.project", "worker", "--loglevel", "INFO", "--concurrency", "1",
            "--hostname", f"test-{os.getpid()}-{log.stem}@%h",
            *(["--beat", "--schedule", str(log.parent / "beat-schedule")] if beat else []),
            *(["--queues", queues] if queues else []),
        ]  # fmt: skip
        with log.open("ab") as out:
            self.process = subprocess.Popen(
                command, cwd=REPO, env=_worker_env(data_dir, extra), stdout=out, stderr=subprocess.STDOUT,
                start_new_session=True,
            )  # fmt: skip
        self.wait_for_log("ready.", 60)

    def wait_for_log(self, text: str, seconds: float) -> None:
        deadline = time.monotonic() + seconds
        while text not in self.log():
            assert self.process.poll() is None, f"worker exited:\n{self.log()[-3000:]}"
            assert time.monotonic() < deadline, f"worker never logged {text!r}:\n{self.log()[-3000:]}"
            time.sleep(0.2)

    def log(self) -> str:
        return self.log_path.read_text(errors="replace")

    def child_pids(self) -> list[int]:
        out = subprocess.run(["pgrep", "-P", str(self.process.pid)], capture_output=True, text=True).stdout
        return [int(pid) for pid in out.split()]

    def stop(self) -> None:
        if self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGTERM)
            try:
                self.process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                os.killpg(self.process.pid, signal.SIGKILL)
                self.process.wait()


@pytest.fixture
def worker(sandbox: None, tiny_task: TaskSpec, data_dir: Path, tmp_path: Path) -> Iterator[Worker]:
    started = Worker(
        data_dir, tmp_path / "worker.log", TRAINER_HEARTBEAT_STALE_SECONDS="20", TRAINER_REAP_INTERVAL_SECONDS="5"
    )
    yield started
    started.stop()


def submit(learner: User, task: TaskSpec, code: bytes, name: str = "submission.py", **options: Any) -> TrainingRun:
    """Submit an attempt through the service (the API tests go through HTTP); it is queued on commit."""
    from trainer.services import attempt_submit

    return attempt_submit(learner=learner, task=task, upload=SimpleUploadedFile(name, code), **options)


def wait_for_run(
    run: TrainingRun,
    seconds: float = 180,
    until: Callable[[TrainingRun], bool] | None = None,
    stages: set[str] | None = None,
) -> TrainingRun:
    """Poll until the run is finished (or `until`); `stages` collects the stages seen on the way."""
    done = until or (lambda r: r.status in FINISHED)
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        run.refresh_from_db()
        if stages is not None:
            stages.add(run.stage)
        if done(run):
            return run
        time.sleep(0.1 if stages is not None else 0.5)
    raise AssertionError(f"run {run.pk} still {run.status}/{run.stage} after {seconds}s: {run.log_tail[-2000:]}")
