"""Run only by tests/campaigns/test_faults.py, in a child pytest whose database is a private PostgreSQL cluster
and whose broker is a private redis-server, so that both can be restarted without touching anyone else's.

Against a real Celery worker doing real training it injects, one after the other, waiting for recovery each time:
the worker and its pool child SIGKILLed mid-training (a new worker is started), Redis killed and restarted while
runs of two learners are queued and one is training (one more is submitted while it is down), and PostgreSQL
restarted while a run trains. Afterwards every run must have succeeded (none lost, none stuck), each run must
have been trained to the end once, and a learner whose attempt was run again must be told so.
"""

from __future__ import annotations

import os
import re
import signal
import time
from collections import Counter
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

import pytest
from django.db import InterfaceError, OperationalError, connection
from django.db.models import Q
from django.utils import timezone
from rest_framework.test import APIClient

from tests.campaigns.servers import PrivatePostgres, PrivateRedis
from tests.trainer.conftest import (  # noqa: F401 - fixtures used by name
    REFERENCE,
    Worker,
    data_dir,
    sandbox,
    submit,
    tiny_task,
)
from tests.trainer.test_reliability import SLOW
from tracker.models import User
from trainer.models import TaskSpec, TrainingRun

pytestmark = [pytest.mark.slow, pytest.mark.django_db(transaction=True)]

# Reaper timings that bound the campaign: a worker silent for 10 s has lost its run, a queued run whose message
# is 5 s old is sent again, and the reaper looks every 2 s (the defaults are 120, 300 and 30 s).
TIMINGS = {
    "TRAINER_HEARTBEAT_STALE_SECONDS": "10",
    "TRAINER_REQUEUE_SECONDS": "5",
    "TRAINER_REAP_INTERVAL_SECONDS": "2",
}
RECOVERY_SECONDS = 150  # for every run of one fault to finish
EXECUTED = re.compile(r"Task trainer\.tasks\.train_run\[[^\]]+\] succeeded in [\d.]+s: (\d+)$", re.MULTILINE)
FINISHED_BADLY = (TrainingRun.State.FAILED, TrainingRun.State.CANCELLED)
TOLD = "queued again"  # what the run's notices say when an attempt was run again
REQUEUED = re.compile(r"\{'requeued': (\d+), 'failed': \d+\}")


@dataclass
class Fault:
    name: str
    runs: list[int] = field(default_factory=list)
    injected_at: float = 0.0
    injected_wall: datetime | None = None
    back_s: float | None = None  # until a run of the fault trained again (a heartbeat, or a finish)
    done_s: float | None = None  # until every run of the fault finished

    def inject(self) -> None:
        self.injected_at, self.injected_wall = time.monotonic(), timezone.now()

    def seconds(self) -> float:
        return round(time.monotonic() - self.injected_at, 1)


@pytest.fixture
def slow_task(tiny_task: TaskSpec) -> TaskSpec:  # noqa: F811 - the imported fixture
    return TaskSpec.objects.create(
        slug="tiny-slow", title="Tiny, slowed down", claim=tiny_task.claim, dataset=tiny_task.dataset,
        brief="slow", threshold=0.0, spec=tiny_task.spec, max_epochs=5, wall_seconds=120, memory_mb=2048,
    )  # fmt: skip


def _query(read: Any) -> Any:
    """`read()`, or None while the database is unreachable (it is restarted on purpose)."""
    try:
        return read()
    except (OperationalError, InterfaceError):
        connection.close()  # the next query opens a fresh connection
        return None


def _wait(fault: Fault, run_id: int, until: Any, seconds: float = 90) -> None:
    deadline = time.monotonic() + seconds
    while not _query(lambda: until(TrainingRun.objects.get(pk=run_id))):
        assert time.monotonic() < deadline, f"{fault.name}: run {run_id} never got there"
        time.sleep(0.2)


def _settle(fault: Fault, worker: Worker) -> None:
    """Wait for every run of the fault to finish, timing how long until work resumed and until all was done."""
    runs = TrainingRun.objects.filter(pk__in=fault.runs)
    since = Q(heartbeat_at__gt=fault.injected_wall) | Q(finished_at__gt=fault.injected_wall)
    deadline = fault.injected_at + RECOVERY_SECONDS
    while time.monotonic() < deadline:
        assert worker.process.poll() is None, f"the worker exited:\n{worker.log()[-3000:]}"
        if fault.back_s is None and _query(runs.filter(since).exists):
            fault.back_s = fault.seconds()
        if _query(runs.filter(status__in=TrainingRun.ACTIVE).count) == 0:
            fault.done_s = fault.seconds()
            return
        time.sleep(0.5)


def _training(run: TrainingRun) -> bool:
    return run.status == TrainingRun.State.RUNNING and run.epoch >= 1


def worker_killed(workers: list[Worker], task: TaskSpec, learner: User, data_dir: Path) -> Fault:  # noqa: F811
    fault = Fault("worker + pool child SIGKILLed mid-training")
    fault.runs.append(submit(learner, task, SLOW.encode()).pk)
    _wait(fault, fault.runs[0], _training)
    old = workers[-1]
    assert old.child_pids(), "the worker should have its pool child"
    fault.inject()
    os.killpg(old.process.pid, signal.SIGKILL)  # the worker, its pool child and the sandboxes, at once
    old.process.wait()
    workers.append(Worker(data_dir, old.log_path.with_name(f"worker-{len(workers) + 1}.log"), **TIMINGS))
    _settle(fault, workers[-1])
    return fault


def redis_restarted(worker: Worker, redis: PrivateRedis, slow: TaskSpec, tiny: TaskSpec, learners: list[User]) -> Fault:
    fault = Fault("Redis restarted: 4 queued, 1 training, +1 while down")
    fault.runs.append(submit(learners[1], slow, SLOW.encode()).pk)
    _wait(fault, fault.runs[0], _training)
    fault.runs += [submit(learners[n % 2], tiny, REFERENCE).pk for n in range(4)]
    fault.inject()
    redis.kill()  # the queued messages are gone with it, and every connection drops
    fault.runs.append(submit(learners[1], tiny, REFERENCE).pk)  # accepted while the broker is down
    time.sleep(1)
    redis.start()
    _settle(fault, worker)
    return fault


def postgres_restarted(worker: Worker, postgres: PrivatePostgres, task: TaskSpec, learner: User) -> Fault:
    fault = Fault("PostgreSQL restarted mid-training")
    fault.runs.append(submit(learner, task, SLOW.encode()).pk)
    _wait(fault, fault.runs[0], _training)
    fault.inject()
    postgres.stop("fast")  # every connection is closed: the worker's next heartbeat fails
    time.sleep(2)
    postgres.start()
    _settle(fault, worker)
    return fault


def _executions(workers: list[Worker]) -> Counter[int]:
    """Runs trained to the end, per run id, from the workers' logs (an attempt killed midway logs nothing)."""
    return Counter(int(pk) for w in workers for pk in EXECUTED.findall(w.log()))


def _told(run: TrainingRun) -> bool:
    """The learner can read, in the API and on the run page, that their attempt was run again."""
    api = APIClient()
    api.force_authenticate(run.learner)
    notices = " ".join(api.get(f"/api/runs/{run.pk}/").json()["notices"])
    page = APIClient()
    page.force_login(run.learner)
    return TOLD in notices and TOLD in page.get(run.get_absolute_url()).content.decode()


COLUMNS = ("runs", "lost", "stuck", "failed", "twice", "re-run", "untold")


def _outcomes(fault: Fault, executions: Counter[int]) -> dict[str, list[Any]]:
    """The runs of one fault, sorted by what became of them; every list but `runs` and `re-run` must be empty."""
    runs = list(TrainingRun.objects.filter(pk__in=fault.runs).select_related("learner"))
    rerun = [r for r in runs if r.attempt > 1]
    return {
        "runs": runs,
        "lost": [r.pk for r in runs if r.status == TrainingRun.State.QUEUED],
        "stuck": [r.pk for r in runs if r.status == TrainingRun.State.RUNNING],
        "failed": [f"{r.pk} {r.status} {r.error_kind} {r.error_message}" for r in runs if r.status in FINISHED_BADLY],
        "twice": [pk for pk in fault.runs if executions[pk] > 1],  # trained to the end more than once
        "re-run": [r.pk for r in rerun],
        "untold": [r.pk for r in rerun if not _told(r)],  # re-run without the learner being told
    }


def _report(faults: list[Fault], workers: list[Worker], wall: float) -> list[str]:
    """Print the figures; return the problems found."""
    executions = _executions(workers)
    totals: Counter[str] = Counter()
    problems: list[str] = []
    print(f"\n{'fault':<54}" + "".join(f"{c:>7}" for c in COLUMNS) + f"{'back at work':>14}{'all done':>10}")
    for fault in faults:
        outcomes = _outcomes(fault, executions)
        totals.update({column: len(items) for column, items in outcomes.items()})
        back, done = (f"{s} s" if s is not None else "never" for s in (fault.back_s, fault.done_s))
        print(f"{fault.name:<54}" + "".join(f"{len(outcomes[c]):>7}" for c in COLUMNS) + f"{back:>14}{done:>10}")
        problems += [f"{fault.name}: {c} {outcomes[c]}" for c in COLUMNS if c not in ("runs", "re-run") and outcomes[c]]
    resent = sum(int(n) for w in workers for n in REQUEUED.findall(w.log()))
    print(
        f"campaign: {len(faults)} faults injected, {totals['runs']} runs submitted, {totals['lost']} lost, "
        f"{totals['stuck']} stuck, {totals['failed']} failed, {totals['twice']} trained twice, "
        f"{totals['re-run']} re-run after a fault, {resent} messages re-sent by the reaper, {len(workers)} workers, "
        f"wall {wall:.0f} s"
    )
    return problems


def _print_logs(workers: list[Worker]) -> None:
    """The end of each worker's log, without the reaper's ticks (one every two seconds)."""
    for worker in workers:
        lines = [line for line in worker.log().splitlines() if "reap_runs" not in line and "reap-training" not in line]
        print(f"--- {worker.log_path.name} (end) ---", *lines[-80:], sep="\n")


def test_fault_campaign(
    tiny_task: TaskSpec,  # noqa: F811 - the imported fixture
    slow_task: TaskSpec,
    sandbox: None,  # noqa: F811
    data_dir: Path,  # noqa: F811
    alice: User,
    bob: User,
    tmp_path: Path,
    settings: Any,
) -> None:
    settings.TRAINER_MAX_ACTIVE = 10
    started = time.monotonic()
    postgres = PrivatePostgres.from_env()
    redis = PrivateRedis(tmp_path, int(os.environ["FAULTS_REDIS_PORT"]))
    redis.start()
    workers = [Worker(data_dir, tmp_path / "worker-1.log", **TIMINGS)]
    faults: list[Fault] = []
    try:
        faults.append(worker_killed(workers, slow_task, alice, data_dir))
        faults.append(redis_restarted(workers[-1], redis, slow_task, tiny_task, [alice, bob]))
        faults.append(postgres_restarted(workers[-1], postgres, slow_task, bob))
    finally:
        for worker in workers:
            worker.stop()
        redis.kill()
        if len(faults) < 3:
            _print_logs(workers)
    problems = _report(faults, workers, time.monotonic() - started)
    if problems:
        _print_logs(workers)
    assert not problems, "\n".join(problems)
