"""Which workers are alive and which queues they serve: each worker process's main thread starts a beat that
records it every TRAINER_WORKER_BEAT_SECONDS (a row per worker), so the web side can tell a learner that
nobody serves their queue and /healthz can show a stuck platform, without asking the broker."""

from __future__ import annotations

import logging
import threading
from datetime import timedelta
from typing import Any

from django.conf import settings
from django.db import DatabaseError, close_old_connections, connection
from django.db.models import Count, Min
from django.utils import timezone

from trainer.models import TrainingRun, WorkerSeen

logger = logging.getLogger(__name__)


def queue_name(*, needs_accelerator: bool) -> str:
    return settings.TRAINER_GPU_QUEUE if needs_accelerator else settings.TRAINER_CPU_QUEUE


def worker_beat(*, name: str, queues: list[str], started: bool = False) -> None:
    now = timezone.now()
    defaults = {"queues": sorted(queues), "seen_at": now}
    if started:
        defaults["started_at"] = now
    WorkerSeen.objects.update_or_create(name=name, defaults=defaults, create_defaults=defaults | {"started_at": now})


def worker_gone(*, name: str) -> None:
    WorkerSeen.objects.filter(name=name).delete()


def workers_seen(*, within_seconds: float | None = None) -> list[WorkerSeen]:
    """The workers seen lately (by default: within TRAINER_NO_WORKER_MINUTES)."""
    seconds = within_seconds if within_seconds is not None else settings.TRAINER_NO_WORKER_MINUTES * 60
    return list(WorkerSeen.objects.filter(seen_at__gte=timezone.now() - timedelta(seconds=seconds)))


def queue_unserved(*, needs_accelerator: bool) -> bool:
    """True when no worker serving this kind of run has been seen for TRAINER_NO_WORKER_MINUTES."""
    wanted = queue_name(needs_accelerator=needs_accelerator)
    return not any(wanted in worker.queues for worker in workers_seen())


def queue_report() -> dict[str, Any]:
    """For /healthz: per queue, the runs waiting and the oldest one's age; the workers seen in the last minute;
    `stuck` when runs wait on a queue no worker has served for TRAINER_NO_WORKER_MINUTES."""
    now = timezone.now()
    waiting = (
        TrainingRun.objects.filter(status=TrainingRun.State.QUEUED)
        .values("task__needs_accelerator")
        .annotate(depth=Count("pk"), oldest=Min("created_at"))
    )
    recent = workers_seen()
    queues: dict[str, dict[str, Any]] = {}
    for row in waiting:
        name = queue_name(needs_accelerator=row["task__needs_accelerator"])
        served = any(name in worker.queues for worker in recent)
        age = (now - row["oldest"]).total_seconds()
        queues[name] = {"depth": row["depth"], "oldest_age_seconds": round(age, 1), "served": served}
    return {
        "queues": queues,
        "workers": [
            {"name": w.name, "queues": w.queues, "seen_seconds_ago": round((now - w.seen_at).total_seconds(), 1)}
            for w in recent
            if (now - w.seen_at).total_seconds() <= 60
        ],
        "stuck": any(not queue["served"] for queue in queues.values()),
    }


class Beat:
    """The beat of one worker: a daemon thread that records it, until stopped (then its row is removed)."""

    def __init__(self, name: str, queues: list[str]) -> None:
        self.name, self.queues = name, queues
        self.stopped = threading.Event()
        self.thread = threading.Thread(target=self._loop, name="skillproof-worker-beat", daemon=True)

    def start(self) -> None:
        self.thread.start()

    def stop(self) -> None:
        self.stopped.set()
        self.thread.join(timeout=5)
        try:
            worker_gone(name=self.name)
        except DatabaseError as error:  # the worker stops anyway; the row just ages out
            logger.warning("Worker %s: could not remove its beat: %s", self.name, error)
        finally:
            connection.close()

    def _loop(self) -> None:
        first = True
        while not self.stopped.is_set():
            try:
                close_old_connections()
                worker_beat(name=self.name, queues=self.queues, started=first)
                first = False
            except DatabaseError as error:  # a database blip: the next beat tries again
                logger.warning("Worker %s: beat not recorded: %s", self.name, error)
                connection.close()
            self.stopped.wait(settings.TRAINER_WORKER_BEAT_SECONDS)
        connection.close()
