"""Celery tasks: thin wrappers that take an id, call one service, and own the retry policy."""

from __future__ import annotations

import os
from typing import Any

from celery import Task, shared_task
from celery.signals import worker_process_init, worker_process_shutdown, worker_ready, worker_shutdown
from django.conf import settings

from trainer import services


@shared_task(bind=True, acks_late=True, reject_on_worker_lost=True, max_retries=5)
def train_run(self: Task, run_id: int | None = None, queue: str | None = None, wakes: int = 1) -> int | None:
    """Train, predict and score the run that is fairly next among the runs of `queue`'s kind (`run_id`
    says which submission sent the message; the database's fair order, not the message, decides; `wakes`:
    how many runs the reaper's message is for). Only platform faults are retried; learner errors end the run."""
    accelerator = queue == settings.TRAINER_GPU_QUEUE
    worker = f"{self.request.hostname} pid {os.getpid()}"
    try:
        return services.run_next(worker=worker, accelerator=accelerator, wakes=wakes)
    except services.PlatformFault as fault:
        # The rest of a reaper's wakes were passed on when the run started: the retry wakes this one only.
        raise self.retry(exc=fault, countdown=5, kwargs={"run_id": run_id, "queue": queue}) from fault


@shared_task
def reap_runs() -> dict[str, int]:
    """Periodic: runs whose worker went silent are retried or failed; lost queue messages are resent."""
    return services.runs_reap()


@shared_task
def prune_attempts() -> int:
    """Periodic: the model and pictures of old attempts never filed as evidence are deleted."""
    return services.attempts_prune()


_beat: Any = None


@worker_ready.connect
def start_beat(sender: Any = None, **_: Any) -> None:
    """The worker says it is alive, and which queues it serves, until it stops (trainer.workers)."""
    from trainer.workers import Beat

    global _beat
    queues = sorted(sender.app.amqp.queues.consume_from) if sender is not None else []
    _beat = Beat(name=getattr(sender, "hostname", None) or f"worker pid {os.getpid()}", queues=queues)
    _beat.start()


@worker_shutdown.connect
def stop_beat(**_: Any) -> None:
    if _beat is not None:
        _beat.stop()


@worker_process_init.connect
def warm_sandboxes(**_: Any) -> None:
    """Start the warm pool as soon as a worker process starts, so the first run does not wait."""
    services.pool_warm()


@worker_process_shutdown.connect
def stop_sandboxes(**_: Any) -> None:
    services.pool_close()
