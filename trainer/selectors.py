"""Training reads, with object-level permissions: a learner sees their own attempts; mentors those at the
tasks of the competencies they mentor; admins all."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from django.db.models import Case, F, FloatField, Prefetch, Q, QuerySet, When, Window
from django.db.models.fields.json import KeyTextTransform
from django.db.models.functions import Cast, RowNumber

from tracker.models import Claim, Competency
from trainer.models import TaskSpec, TrainingRun

# A leaderboard shows at most this many learners.
LEADERBOARD_SIZE = 500


def tasks_listed() -> QuerySet[TaskSpec]:
    return (
        TaskSpec.objects.filter(is_active=True, is_tiny=False)
        .select_related("claim__competency", "dataset")
        .prefetch_related(Prefetch("also_claims", queryset=Claim.objects.order_by("order")))
    )


def tasks_all_active() -> QuerySet[TaskSpec]:
    return TaskSpec.objects.filter(is_active=True).select_related("claim__competency", "dataset")


def tasks_visible_to(user: Any) -> QuerySet[TaskSpec]:
    """Active tasks; the tiny variants (tests and health checks) only for staff."""
    tasks = tasks_all_active()
    staff = user is not None and user.is_authenticated and user.is_staff_member
    return tasks if staff else tasks.filter(is_tiny=False)


def claim_task(claim: Claim, slug: str | None = None) -> TaskSpec | None:
    """The task a training submission for `claim` runs: the one named, else the claim's own non-tiny task
    (then a task that also proves it); None when no active task proves the claim."""
    proving = TaskSpec.objects.filter(Q(claim=claim) | Q(also_claims=claim)).values("pk")
    tasks = (
        TaskSpec.objects.filter(pk__in=proving, is_active=True)
        .select_related("dataset")
        .order_by("is_tiny", Case(When(claim=claim, then=0), default=1), "slug")
    )
    return tasks.filter(slug=slug).first() if slug else tasks.filter(is_tiny=False).first() or tasks.first()


@dataclass
class ClaimTasks:
    """The listed tasks that prove one claim: its own, and those that also prove it."""

    main: list[TaskSpec]
    also: list[TaskSpec]


def tasks_by_claim(claims: list[Claim]) -> dict[int, ClaimTasks]:
    """Claim id -> the listed (active, non-tiny) tasks proving it, in two queries for any number of claims."""
    ids = [claim.pk for claim in claims]
    found = {pk: ClaimTasks([], []) for pk in ids}
    listed = TaskSpec.objects.filter(is_active=True, is_tiny=False).order_by("slug")
    for task in listed.filter(Q(claim_id__in=ids) | Q(also_claims__in=ids)).distinct().prefetch_related("also_claims"):
        if task.claim_id in found:
            found[task.claim_id].main.append(task)
        for other in task.also_claims.all():
            if other.pk in found and other.pk != task.claim_id:
                found[other.pk].also.append(task)
    return found


@dataclass
class ClaimEntry:
    """One claim of the catalogue, with the tasks that prove it (its own first, then those that also do)."""

    claim: Claim
    tasks: list[TaskSpec]


def catalogue(tasks: list[TaskSpec]) -> list[tuple[Competency, list[ClaimEntry]]]:
    """Every active claim of each competency that has tasks, in order, with the listed tasks proving it."""
    competency_ids = {task.claim.competency_id for task in tasks}
    claims = Claim.objects.filter(competency_id__in=competency_ids, is_active=True).select_related("competency")
    result: dict[int, tuple[Competency, list[ClaimEntry]]] = {}
    for claim in claims.order_by("competency__title", "order"):
        proving = [t for t in tasks if t.claim_id == claim.pk]
        proving += [t for t in tasks if t.claim_id != claim.pk and claim in t.also_claims.all()]
        result.setdefault(claim.competency_id, (claim.competency, []))[1].append(ClaimEntry(claim, proving))
    return list(result.values())


def runs_visible_to(user: Any) -> QuerySet[TrainingRun]:
    """The learner's own attempts; a mentor's learners' attempts at their competencies' tasks; all for admins."""
    runs = TrainingRun.objects.select_related("task__claim__competency", "dataset", "learner", "claim")
    if not user.is_authenticated:
        return runs.none()
    if user.is_admin_role:
        return runs
    mentored = TaskSpec.objects.filter(claim__competency__mentors=user).values("pk")
    return runs.filter(Q(learner=user) | Q(task__in=mentored))


def runs_board(user: Any) -> QuerySet[TrainingRun]:
    """The training queue: every run for admins, the runs of their competencies for mentors."""
    runs = TrainingRun.objects.select_related("task", "learner").order_by("-created_at")
    return runs if user.is_admin_role else runs.filter(task__claim__competency__mentors=user)


def attempts_of(learner: Any, task: TaskSpec) -> QuerySet[TrainingRun]:
    """One learner's attempts at one task, newest first."""
    runs = TrainingRun.objects.filter(learner=learner, task=task).select_related("task").prefetch_related("filings")
    return runs.order_by("-created_at", "-pk")


@dataclass
class AttemptSummary:
    count: int
    best: TrainingRun | None


def attempts_summary(learner: Any, task: TaskSpec) -> AttemptSummary:
    """How many attempts, and the best scored one (highest metric, then earliest), in two queries."""
    runs = attempts_of(learner, task)
    value = Cast(KeyTextTransform(task.metric, "metrics"), FloatField())
    best = (
        runs.filter(status=TrainingRun.State.SUCCEEDED)
        .annotate(value=value)
        .filter(value__isnull=False)
        .order_by(F("value").desc(), "finished_at", "pk")
        .first()
    )
    return AttemptSummary(count=runs.count(), best=best)


@dataclass
class LeaderboardRow:
    rank: int
    learner_id: int
    name: str
    value: float
    metrics: dict[str, Any]
    finished_at: datetime | None
    run_id: int
    is_viewer: bool


def leaderboard(task: TaskSpec, viewer: Any = None) -> list[LeaderboardRow]:
    """Each learner's best passing run of `task`, best first; ties go to whoever got there first.

    Only learners who opted in are listed, except that a signed-in viewer always sees their own row
    (marked, so the page can say that only they see it). One query: the database ranks each learner's runs
    by the task's metric (a window function) and keeps the first.
    """
    viewer_id = viewer.pk if viewer is not None and viewer.is_authenticated else None
    who = Q(learner__on_leaderboards=True)
    if viewer_id is not None:
        who |= Q(learner_id=viewer_id)
    best_first = [F("value").desc(), F("finished_at").asc(), F("pk").asc()]
    runs = (
        TrainingRun.objects.filter(who, task=task, status=TrainingRun.State.SUCCEEDED, passed=True)
        .annotate(value=Cast(KeyTextTransform(task.metric, "metrics"), FloatField()))
        .filter(value__isnull=False)
        .annotate(place=Window(RowNumber(), partition_by=[F("learner_id")], order_by=best_first))
        .filter(place=1)
        .order_by(*best_first)
        .values("pk", "value", "metrics", "finished_at", "learner_id", "learner__username",
                "learner__first_name", "learner__last_name")[:LEADERBOARD_SIZE]
    )  # fmt: skip
    rows = []
    for rank, run in enumerate(runs, start=1):
        full = f"{run['learner__first_name']} {run['learner__last_name']}".strip()
        rows.append(
            LeaderboardRow(
                rank=rank, learner_id=run["learner_id"], name=full or run["learner__username"],
                value=run["value"], metrics=run["metrics"], finished_at=run["finished_at"], run_id=run["pk"],
                is_viewer=run["learner_id"] == viewer_id,
            )
        )  # fmt: skip
    return rows


@dataclass(frozen=True)
class EngineStats:
    engine: str
    label: str
    runs: int
    failed: int  # the learner's failures and the platform's alike
    platform_failures: int
    median_seconds: float | None  # start to finish, over the runs that finished


def engine_stats() -> list[EngineStats]:
    """Per engine: how many runs, how many failed, and the median time from start to finish (admin)."""
    from statistics import median

    from trainer.engines import Engine
    from trainer.models import PLATFORM_KINDS

    rows = TrainingRun.objects.values_list("engine", "status", "error_kind", "started_at", "finished_at")
    grouped: dict[str, list[tuple[str, str, datetime | None, datetime | None]]] = {}
    for engine, *rest in rows.iterator():
        grouped.setdefault(engine, []).append(tuple(rest))  # type: ignore[arg-type]
    stats = []
    for engine in [*Engine.values, *sorted(set(grouped) - set(Engine.values))]:
        runs = grouped.get(engine, [])
        seconds = [(end - start).total_seconds() for _, _, start, end in runs if start and end]
        stats.append(
            EngineStats(
                engine=engine, label=str(dict(Engine.choices).get(engine, engine)), runs=len(runs),
                failed=sum(1 for status, *_ in runs if status == TrainingRun.State.FAILED),
                platform_failures=sum(1 for _, kind, *_ in runs if kind in PLATFORM_KINDS),
                median_seconds=round(median(seconds), 1) if seconds else None,
            )
        )  # fmt: skip
    return stats


def runs_side_by_side(first: TrainingRun, second: TrainingRun) -> list[tuple[str, str, str]]:
    """Two runs of one task on different backends, row by row for a mentor: (what, first, second). The per-epoch
    figures are the training process's own; the result is the platform's, on the hidden test labels."""
    from statistics import median

    from trainer.models import ENGINE_VERSIONS

    def result(run: TrainingRun) -> str:
        value = run.metric_value
        if value is None:
            return "not scored"
        return f"{value:.4f} ({'pass' if run.passed else 'below'} at {run.task.threshold:g})"

    def seconds(values: list[float], how: Any) -> str:
        return f"{how(values):.2f} s" if values else "—"

    def per_epoch(run: TrainingRun) -> str:
        return ", ".join(f"{value:.2f}" for value in run.epoch_seconds()) or "—"

    def timing(run: TrainingRun, key: str) -> str:
        value = (run.timings or {}).get(key)
        return f"{value:.1f} s" if isinstance(value, int | float) else "—"

    def env(key: str) -> Callable[[TrainingRun], str]:
        return lambda run: str((run.environment or {}).get(key) or "—")

    versions = [
        (name, env(key))
        for key, name in ENGINE_VERSIONS
        if any((r.environment or {}).get(key) for r in (first, second))
    ]
    columns: list[tuple[str, Callable[[TrainingRun], str]]] = [
        ("Engine asked", lambda run: str(run.get_engine_display())),
        ("Keras backend (measured)", env("backend")),
        ("Keras", env("keras")),
        *versions,
        ("Device", env("device")),
        (f"{first.task.metric} (trusted, hidden test labels)", result),
        ("Epochs trained", lambda run: str(len(run.epoch_seconds()))),
        ("Seconds per epoch (median)", lambda run: seconds(run.epoch_seconds(), median)),
        ("First epoch", lambda run: seconds(run.epoch_seconds()[:1], min)),
        ("Seconds of each epoch", per_epoch),
        ("Training stage", lambda run: timing(run, "train")),
        ("Parameters", lambda run: f"{run.param_count:,}" if run.param_count else "—"),
        ("Code SHA-256", lambda run: run.code_sha256[:16] + "…"),
    ]
    return [(what, show(first), show(second)) for what, show in columns]
