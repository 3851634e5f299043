"""Run only by tests/trainer/test_soak.py, in a child pytest on the embedded stack (SQLite + the filesystem
broker): several learners submit attempts from threads for a few minutes while beat ticks every two seconds.
The worker must stay up and every run must finish."""

from __future__ import annotations

import os
import random
import threading
import time
from pathlib import Path

import pytest
from django.db import connection

from tests.conftest import make_user
from tests.trainer.conftest import (  # noqa: F401 - fixtures used by name
    REFERENCE,
    Worker,
    data_dir,
    sandbox,
    submit,
    tiny_task,
)
from trainer.models import QuotaOverride, TaskSpec, TrainingRun
from trainer.quotas import QuotaExceeded

pytestmark = [pytest.mark.slow, pytest.mark.django_db(transaction=True)]
QUICK_FAILURE = b"def build_model(spec):\n    raise ValueError('quick')\n"
SECONDS = float(os.environ.get("SOAK_SECONDS", "120"))


def test_embedded_stack_soak(
    tiny_task: TaskSpec,  # noqa: F811 - the imported fixture
    sandbox: None,  # noqa: F811
    data_dir: Path,  # noqa: F811
    tmp_path: Path,
) -> None:
    assert connection.vendor == "sqlite"
    learners = [make_user(f"soak{n}", "learner") for n in range(4)]
    for learner in learners:
        QuotaOverride.objects.create(learner=learner, attempts_per_day=1000, max_active=3)
    worker = Worker(
        data_dir, tmp_path / "worker.log", TRAINER_REAP_INTERVAL_SECONDS="2", TRAINER_REQUEUE_SECONDS="20",
        TRAINER_HEARTBEAT_STALE_SECONDS="30",
    )  # fmt: skip
    stop = time.monotonic() + SECONDS
    submitted: list[int] = []
    refused = errors = 0
    lock = threading.Lock()

    def learner_loop(learner: object) -> None:
        nonlocal refused, errors
        rng = random.Random(str(learner))
        try:
            while time.monotonic() < stop:
                code = REFERENCE if rng.random() < 0.25 else QUICK_FAILURE
                try:
                    run = submit(learner, tiny_task, code)  # type: ignore[arg-type]
                    with lock:
                        submitted.append(run.pk)
                except QuotaExceeded:
                    with lock:
                        refused += 1
                time.sleep(rng.uniform(0.2, 1.5))
        except Exception:
            with lock:
                errors += 1
            raise
        finally:
            connection.close()

    threads = [threading.Thread(target=learner_loop, args=(learner,)) for learner in learners]
    try:
        for thread in threads:
            thread.start()
        while any(thread.is_alive() for thread in threads):
            assert worker.process.poll() is None, worker.log()[-4000:]
            time.sleep(1)
        deadline = time.monotonic() + 300
        while TrainingRun.objects.filter(status__in=TrainingRun.ACTIVE).exists():
            assert worker.process.poll() is None, worker.log()[-4000:]
            assert time.monotonic() < deadline, "runs still active 5 minutes after the last submission"
            time.sleep(1)
    finally:
        worker.stop()
    statuses = sorted(TrainingRun.objects.values_list("status", flat=True))
    ticks = worker.log().count("trainer.tasks.reap_runs")
    print(f"\nsoak: {len(submitted)} attempts in {SECONDS:.0f} s by 4 learners, {refused} refused by quota, "
          f"statuses {dict((s, statuses.count(s)) for s in set(statuses))}, beat ticks {ticks}")  # fmt: skip
    # The learners kept at it (an attempt every few seconds, accepted or refused at the quota: how many are
    # accepted depends on how fast the machine trains them); enough of them were accepted to load the stack.
    assert errors == 0 and len(submitted) + refused >= SECONDS / 5 and len(submitted) >= SECONDS / 15
    assert set(statuses) <= {"succeeded", "failed"} and len(statuses) == len(submitted)
    assert TrainingRun.objects.filter(error_kind__in=["platform_error", "worker_lost"]).count() == 0
    assert "JSONDecodeError" not in worker.log() and "Unrecoverable error" not in worker.log()
    assert ticks >= SECONDS / 4
