"""A learner's limits on a task: attempts per day, attempts queued or running at once, storage.

Counted in the database. `quota_enforce` runs in the transaction that creates the attempt, after the
learner's row is locked, so two parallel submissions cannot both take the last slot.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import datetime, timedelta

from django.conf import settings
from django.db.models import Q, QuerySet, Sum
from django.utils import timezone

from tracker.errors import DomainError
from tracker.models import User
from trainer.metrics import ATTEMPTS_REFUSED
from trainer.models import PLATFORM_KINDS, QuotaOverride, TaskSpec, TrainingRun

MB = 1024 * 1024
State = TrainingRun.State


class QuotaExceeded(DomainError):
    """Over a limit: answered 429, with the seconds after which trying again can succeed."""

    def __init__(self, message: str, retry_after: int) -> None:
        super().__init__(message, status=429)
        self.retry_after = max(int(retry_after), 1)


@dataclass(frozen=True)
class Quota:
    per_day: int
    used_today: int
    resets_at: datetime
    max_active: int
    active: int
    storage_bytes: int
    storage_cap_bytes: int

    @property
    def remaining_today(self) -> int:
        return max(self.per_day - self.used_today, 0)

    @property
    def storage_mb(self) -> float:
        return round(self.storage_bytes / MB, 1)

    @property
    def storage_cap_mb(self) -> int:
        return self.storage_cap_bytes // MB


def day_bounds(now: datetime | None = None) -> tuple[datetime, datetime]:
    """The current day in the site's time zone: its start and the next midnight."""
    local = timezone.localtime(now or timezone.now())
    start = local.replace(hour=0, minute=0, second=0, microsecond=0)
    return start, timezone.make_aware(datetime.combine(start.date() + timedelta(days=1), datetime.min.time()))


def counted(runs: QuerySet[TrainingRun]) -> QuerySet[TrainingRun]:
    """The attempts that count: a platform fault, or a cancel before the run started, is refunded."""
    refunded = Q(error_kind__in=PLATFORM_KINDS) | Q(status=State.CANCELLED, started_at__isnull=True)
    return runs.exclude(refunded)


def _limits(learner: User, task: TaskSpec) -> tuple[int, int, int]:
    """(attempts per day, at once, storage MB): the learner's own for this task, then for every task,
    then the task's, then the site's."""
    overrides = {o.task_id: o for o in QuotaOverride.objects.filter(Q(task=task) | Q(task=None), learner=learner)}
    chain = [overrides.get(task.pk), overrides.get(None)]

    def pick(name: str, task_value: int | None, default: int) -> int:
        values = [getattr(o, name) for o in chain if o is not None] + [task_value, default]
        return next(v for v in values if v is not None)

    return (
        pick("attempts_per_day", task.attempts_per_day, settings.TRAINER_ATTEMPTS_PER_DAY),
        pick("max_active", task.max_active, settings.TRAINER_MAX_ACTIVE),
        pick("storage_mb", None, settings.TRAINER_STORAGE_MB),
    )


def quota_for(learner: User, task: TaskSpec, now: datetime | None = None) -> Quota:
    start, resets_at = day_bounds(now)
    per_day, max_active, storage_mb = _limits(learner, task)
    mine = TrainingRun.objects.filter(learner=learner)
    storage = mine.aggregate(code=Sum("file_size"), artifacts=Sum("artifact_bytes"))
    return Quota(
        per_day=per_day,
        used_today=counted(mine.filter(task=task, created_at__gte=start)).count(),
        resets_at=resets_at,
        max_active=max_active,
        active=mine.filter(status__in=TrainingRun.ACTIVE).count(),
        storage_bytes=(storage["code"] or 0) + (storage["artifacts"] or 0),
        storage_cap_bytes=storage_mb * MB,
    )


def quota_enforce(learner: User, task: TaskSpec, upload_bytes: int) -> Quota:
    """Refuse (QuotaExceeded) an attempt over a limit; call with the learner's row locked."""
    now = timezone.now()
    quota = quota_for(learner, task, now)
    if quota.used_today >= quota.per_day:
        wait = (quota.resets_at - now).total_seconds()
        ATTEMPTS_REFUSED.labels(limit="per_day").inc()
        raise QuotaExceeded(
            f"You have used all {quota.per_day} attempts at this task today. "
            f"More at {_when(quota.resets_at)} (in {_duration(wait)}).",
            retry_after=math.ceil(wait),
        )
    if quota.active >= quota.max_active:
        ATTEMPTS_REFUSED.labels(limit="at_once").inc()
        raise QuotaExceeded(
            f"You already have {quota.active} attempts queued or running (at most {quota.max_active} at once). "
            "Submit again when one of them finishes, or cancel one.",
            retry_after=_seconds_until_a_slot(learner),
        )
    if quota.storage_bytes + upload_bytes > quota.storage_cap_bytes:
        ATTEMPTS_REFUSED.labels(limit="storage").inc()
        raise QuotaExceeded(
            f"Your attempts use {quota.storage_mb} MB of your {quota.storage_cap_mb} MB. Models of attempts you "
            f"never filed are deleted after {settings.TRAINER_ATTEMPT_RETENTION_DAYS} days; "
            "ask a mentor for more room.",
            retry_after=86400,
        )
    return quota


def _seconds_until_a_slot(learner: User) -> int:
    """A guess at when a running attempt ends: its wall-clock budget from when it started (else a minute)."""
    running = TrainingRun.objects.filter(learner=learner, status=State.RUNNING, started_at__isnull=False)
    now = timezone.now()
    ends = [
        run.started_at + timedelta(seconds=run.task.wall_seconds)
        for run in running.select_related("task")
        if run.started_at is not None
    ]
    soonest = min(ends, default=now)
    return math.ceil((soonest - now).total_seconds()) if soonest > now else 60


def _when(moment: datetime) -> str:
    local = timezone.localtime(moment)
    return f"{local:%H:%M} {local.tzname()} on {local:%d %b}"


def _duration(seconds: float) -> str:
    minutes = max(math.ceil(seconds / 60), 1)
    hours, minutes = divmod(minutes, 60)
    return f"{hours} h {minutes} min" if hours else f"{minutes} min"


def quota_lift(
    *,
    learner: User,
    task: TaskSpec,
    granted_by: User,
    attempts_per_day: int | None,
    max_active: int | None,
    reason: str,
) -> QuotaOverride:
    """A mentor of the task's competency (or an admin) sets a learner's own limits on one task.

    Raises:
        DomainError: 403 for anyone else, or for one's own limits.
    """
    if granted_by.pk == learner.pk:
        raise DomainError("You cannot change your own limits.", status=403)
    if not (granted_by.is_admin_role or granted_by.mentors(task.claim.competency)):
        raise DomainError("Only a mentor of this task's competency can change a learner's limits.", status=403)
    override, _ = QuotaOverride.objects.update_or_create(
        learner=learner,
        task=task,
        defaults={
            "attempts_per_day": attempts_per_day, "max_active": max_active, "reason": reason.strip()[:300],
            "granted_by": granted_by,
        },
    )  # fmt: skip
    return override
