"""Training reads, with the evidence's object-level permissions applied."""

from __future__ import annotations

from typing import Any

from django.db.models import QuerySet

from evidence.selectors import evidence_visible_to
from trainer.models import TaskSpec, TrainingRun


def tasks_listed() -> QuerySet[TaskSpec]:
    return TaskSpec.objects.filter(is_active=True, is_tiny=False).select_related("claim__competency", "dataset")


def tasks_all_active() -> QuerySet[TaskSpec]:
    return TaskSpec.objects.filter(is_active=True).select_related("claim__competency", "dataset")


def runs_visible_to(user: Any) -> QuerySet[TrainingRun]:
    """A run is visible exactly when its evidence is."""
    return TrainingRun.objects.filter(evidence__in=evidence_visible_to(user)).select_related(
        "task", "dataset", "evidence__learner", "evidence__claim"
    )


def runs_board(user: Any) -> QuerySet[TrainingRun]:
    """The training queue: every run for admins, the runs of their competencies for mentors."""
    runs = TrainingRun.objects.select_related("task", "evidence__learner").order_by("-created_at")
    return runs if user.is_admin_role else runs.filter(evidence__competency__mentors=user)
