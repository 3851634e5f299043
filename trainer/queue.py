"""The training queue, fair across learners. The database is the queue; broker messages only wake workers.

Order: round robin over learners. The next run to start is the oldest queued run of the learner whose
last start is the oldest (a learner who never started a run goes first), so a learner with twenty
queued attempts delays another learner's single attempt by at most one run. A worker that takes a
message takes the first run in that order, whatever run the message was sent for.
"""

from __future__ import annotations

from collections.abc import Iterable

from django.db import connection
from django.db.models import Case, F, Min, OuterRef, QuerySet, Subquery, Value, When, Window
from django.db.models.functions import Coalesce, FirstValue, RowNumber

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


def queue_positions(run_ids: Iterable[int]) -> dict[int, int]:
    """Run id -> 1-based place in the order runs of its kind (accelerator or not) will start, if nobody else
    submits meanwhile; runs that are not queued are left out.

    One query, which returns a row per run asked about however long the queue is: the database plays the
    dispatcher (learners take turns in order of their last start; each turn starts a learner's oldest queued
    run, after which that learner's last start is the newest), so a run's place is its rank by (its depth among
    its learner's queued runs, its learner's turn).
    """
    asked = sorted({int(pk) for pk in run_ids})
    if not asked:
        return {}
    learner = [F("task__needs_accelerator"), F("learner_id")]
    oldest_first = [F("created_at").asc(), F("pk").asc()]
    queued = (
        TrainingRun.objects.filter(status=State.QUEUED, cancel_requested=False)
        .annotate(
            run_id=F("pk"),
            accelerator=F("task__needs_accelerator"),
            depth=Window(RowNumber(), partition_by=learner, order_by=oldest_first),
            learner_last_start=_last_start(),
            first_created=Window(Min("created_at"), partition_by=learner),
            # The learner's turn: never started first (by their oldest queued run), then the oldest last start.
            started=Case(When(learner_last_start__isnull=True, then=Value(0)), default=Value(1)),
            turn_at=Coalesce("learner_last_start", "first_created"),
            first_pk=Window(FirstValue("pk"), partition_by=learner, order_by=oldest_first),
        )
        .values("run_id", "accelerator", "depth", "started", "turn_at", "first_created", "first_pk")
    )
    inner, params = queued.query.sql_with_params()
    marks = ", ".join(["%s"] * len(asked))
    # Window functions cannot order by other window functions: the ranking wraps the ORM's query (whose
    # values travel as parameters, like the ids asked).
    sql = (
        "SELECT run_id, place FROM (SELECT run_id, ROW_NUMBER() OVER (PARTITION BY accelerator "  # noqa: S608
        "ORDER BY depth, started, turn_at, first_created, first_pk) AS place "
        f"FROM ({inner}) AS queued) AS ranked WHERE run_id IN ({marks})"
    )
    with connection.cursor() as cursor:
        cursor.execute(sql, [*params, *asked])
        return {run_id: place for run_id, place in cursor.fetchall()}
