"""What the benchmarks share: a throwaway platform (database, broker, worker) and submitting through its API."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))


def platform_setup(datasets: list[str] | None = None) -> Path:
    """A private SQLite database and filesystem broker (unless DATABASE_URL / CELERY_BROKER_URL are set),
    migrated, with demo users, the sandbox runtime and the datasets built; returns the folder."""
    var = Path(tempfile.mkdtemp(prefix="skillproof-bench-"))
    os.environ.setdefault("VAR_DIR", str(var))
    os.environ.setdefault("SECRET_KEY", "bench-only")
    os.environ.setdefault("STATIC_MANIFEST", "0")
    os.environ.setdefault("ALLOWED_HOSTS", "testserver")  # the API is called in-process
    os.environ.setdefault("SECURE_SSL_REDIRECT", "0")
    manage = [sys.executable, "manage.py"]
    for command in (["migrate", "-v0"], ["setup_demo"], ["sandbox_setup"], ["build_datasets", *(datasets or [])]):
        subprocess.run(manage + command, cwd=REPO, check=True, stdout=subprocess.DEVNULL)
    import django

    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "tracker.project.settings")
    django.setup()
    return var


def start_worker(var: Path, name: str = "worker") -> subprocess.Popen[bytes]:
    """A Celery worker logging to var/<name>.log, named <name>@host (several may run side by side)."""
    path = var / f"{name}.log"
    log = path.open("wb")
    worker = subprocess.Popen(
        [sys.executable, "-m", "celery", "-A", "tracker.project", "worker", "--concurrency", "1", "--loglevel", "INFO",
         "--hostname", f"{name}@%h"],
        cwd=REPO, stdout=log, stderr=subprocess.STDOUT, start_new_session=True,
    )  # fmt: skip
    while "ready." not in path.read_text(errors="replace"):
        time.sleep(0.2)
    time.sleep(8)  # let the warm pool import TensorFlow, as it has on a worker that has been up a while
    return worker


def stop_worker(worker: subprocess.Popen[bytes]) -> None:
    os.killpg(worker.pid, signal.SIGTERM)
    try:
        worker.wait(timeout=60)
    except subprocess.TimeoutExpired:
        os.killpg(worker.pid, signal.SIGKILL)
        worker.wait()


def submit_and_wait(
    task: Any,
    code: bytes,
    username: str = "learner",
    marks: dict[str, float] | None = None,
    engine: str = "",
    name: str = "ref.py",
) -> tuple[float, Any]:
    """POST the code as an attempt through the API (on `engine`, else the task's default), wait until it has
    finished; (seconds, run). `marks` gets
    "first_epoch": seconds from the submit until the first epoch's point is stored (what the run page shows at
    its next poll)."""
    from django.core.files.uploadedfile import SimpleUploadedFile
    from rest_framework.test import APIClient

    from tracker.models import User
    from trainer.models import QuotaOverride, TrainingRun

    # Tiny variants are for staff (tests and health checks): the demo admin runs them.
    learner = User.objects.get(username="admin" if task.is_tiny else username)
    # A benchmark submits far more than a learner's daily quota.
    QuotaOverride.objects.update_or_create(learner=learner, task=None, defaults={"attempts_per_day": 100_000})
    api = APIClient()
    api.force_authenticate(learner)
    started = time.monotonic()
    data = {"file": SimpleUploadedFile(name, code)} | ({"engine": engine} if engine else {})
    response = api.post(f"/api/tasks/{task.slug}/runs/", data, format="multipart")
    assert response.status_code == 201, response.content
    run = TrainingRun.objects.get(pk=response.json()["id"])
    while not run.is_finished:
        time.sleep(0.1)
        run.refresh_from_db()
        if marks is not None and run.history and "first_epoch" not in marks:
            marks["first_epoch"] = time.monotonic() - started
    return time.monotonic() - started, run
