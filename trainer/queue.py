"""The training queue, fair across learners. The database is the queue; broker messages only wake workers.

Order: round robin over learners. The next run to start is the oldest queued run of the learner whose
last start is the oldest (a learner who never started a run goes first), so a learner with twenty
queued attempts delays another learner's single attempt by at most one run. A worker that takes a
message takes the first run in that order, whatever run the message was sent for.
"""

from __future__ import annotations

from collections import defaultdict
from datetime import datetime

from django.db import connection
from django.db.models import F, OuterRef, QuerySet, Subquery

from trainer.models import TrainingRun

State = TrainingRun.State


def _last_start() -> Subquery:
    started = TrainingRun.objects.filter(learner=OuterRef("learner"), started_at__isnull=False)
    return Subquery(started.order_by("-started_at").values("started_at")[:1])


def fair_order(*, accelerator: bool | None = None) -> QuerySet[TrainingRun]:
    """Queued runs, the next to start first; only those of tasks that need (or do not need) an accelerator."""
    runs = TrainingRun.objects.filter(status=State.QUEUED, cancel_requested=False)
    if accelerator is not None:
        runs = runs.filter(task__needs_accelerator=accelerator)
    return runs.annotate(learner_last_start=_last_start()).order_by(
        F("learner_last_start").asc(nulls_first=True), "created_at", "pk"
    )


def next_run_locked(*, accelerator: bool = False) -> TrainingRun | None:
    """The next run to start, locked for this transaction; runs other workers hold are skipped.

    PostgreSQL: `FOR UPDATE SKIP LOCKED`, so workers never wait on each other. SQLite takes the
    database's write lock at the start of the transaction (IMMEDIATE), which serialises dispatchers.
    """
    runs = fair_order(accelerator=accelerator)
    if connection.features.has_select_for_update_skip_locked:
        runs = runs.select_for_update(skip_locked=True, of=("self",))
    return runs.select_related("task__dataset").first()


def queue_positions() -> dict[int, int]:
    """Run id -> 1-based place in the order runs of its kind (accelerator or not) will start, if nobody else
    submits meanwhile."""
    return _positions(accelerator=False) | _positions(accelerator=True)


def _positions(*, accelerator: bool) -> dict[int, int]:
    """Simulates the dispatcher of one queue: learners take turns in order of their last start; each turn
    starts a learner's oldest queued run, after which that learner's last start is the newest."""
    queued: dict[int, list[int]] = defaultdict(list)
    first_created: dict[int, datetime] = {}
    last_start: dict[int, datetime | None] = {}
    rows = fair_order(accelerator=accelerator).values_list("pk", "learner_id", "created_at", "learner_last_start")  # type: ignore[misc]
    for run_id, learner_id, created_at, started in rows:
        queued[learner_id].append(run_id)
        first_created.setdefault(learner_id, created_at)
        last_start[learner_id] = started

    def turn(learner: int) -> tuple[bool, datetime, datetime]:
        # Never started first (by their oldest queued run), then the oldest last start.
        return last_start[learner] is not None, last_start[learner] or first_created[learner], first_created[learner]

    turns = sorted(queued, key=turn)
    positions: dict[int, int] = {}
    place = 0
    for depth in range(max((len(runs) for runs in queued.values()), default=0)):
        for learner in turns:
            if depth < len(queued[learner]):
                place += 1
                positions[queued[learner][depth]] = place
    return positions
