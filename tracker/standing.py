"""A learner's standing per competency, derived from their evidence (never stored by hand)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from tracker.models import Competency

NOT_STARTED, IN_PROGRESS, AWAITING_REVIEW, PROFICIENT = (
    "not_started",
    "in_progress",
    "awaiting_review",
    "proficient",
)
LABELS = {
    NOT_STARTED: "Not started",
    IN_PROGRESS: "In progress",
    AWAITING_REVIEW: "Awaiting review",
    PROFICIENT: "Proficient",
}


@dataclass
class Standing:
    status: str
    approved_required: int
    required: int

    @property
    def label(self) -> str:
        return LABELS[self.status]

    @property
    def percent(self) -> int:
        return round(100 * self.approved_required / self.required) if self.required else 0


def standing_by_competency(*, user: Any, competencies: list[Competency]) -> dict[int, Standing]:
    """Standing of `user` on each competency; empty for anonymous visitors."""
    if not user.is_authenticated:
        return {}
    return {c.pk: Standing(NOT_STARTED, 0, getattr(c, "required_count", 0)) for c in competencies}
