"""A learner's standing per competency, derived from their evidence (never stored by hand).

not started → in progress → awaiting review → proficient (every required claim has approved
evidence), in the spirit of Moodle's proficiency rating.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from tracker.models import Competency

NOT_STARTED, IN_PROGRESS, AWAITING_REVIEW, PROFICIENT = "not_started", "in_progress", "awaiting_review", "proficient"
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
    # claim id -> the status of the learner's latest evidence for it
    claim_status: dict[int, str] = field(default_factory=dict)

    @property
    def label(self) -> str:
        return LABELS[self.status]

    @property
    def percent(self) -> int:
        return round(100 * self.approved_required / self.required) if self.required else 0


def _derive(required_ids: set[int], rows: list[dict[str, Any]]) -> Standing:
    approved = {r["claim_id"] for r in rows if r["status"] == "approved"}
    latest: dict[int, str] = {}
    for row in rows:  # rows come newest first
        latest.setdefault(row["claim_id"], row["status"])
    claim_status = {claim: "approved" if claim in approved else status for claim, status in latest.items()}
    approved_required = len(required_ids & approved)
    if required_ids and approved_required == len(required_ids):
        status = PROFICIENT
    elif any(s in ("submitted", "training") for s in claim_status.values()):
        status = AWAITING_REVIEW
    elif any(s != "withdrawn" for s in claim_status.values()):
        status = IN_PROGRESS
    else:
        status = NOT_STARTED
    return Standing(status, approved_required, len(required_ids), claim_status)


def standings_for_learners(
    *, learner_ids: Iterable[int], competencies: list[Competency]
) -> dict[tuple[int, int], Standing]:
    """(learner id, competency id) -> Standing, in two queries whatever the number of rows."""
    from evidence.models import Evidence
    from tracker.models import Claim

    learner_ids = list(learner_ids)
    competency_ids = [c.pk for c in competencies]
    required: dict[int, set[int]] = defaultdict(set)
    for claim_id, competency_id in Claim.objects.filter(
        competency_id__in=competency_ids, required=True, is_active=True
    ).values_list("pk", "competency_id"):
        required[competency_id].add(claim_id)
    rows: dict[tuple[int, int], list[Any]] = defaultdict(list)
    evidence = Evidence.objects.filter(learner_id__in=learner_ids, competency_id__in=competency_ids)
    for row in evidence.order_by("-created_at", "-pk").values("learner_id", "competency_id", "claim_id", "status"):
        rows[(row["learner_id"], row["competency_id"])].append(row)
    return {
        (learner_id, c.pk): _derive(required[c.pk], rows[(learner_id, c.pk)])
        for learner_id in learner_ids
        for c in competencies
    }


def standing_by_competency(*, user: Any, competencies: list[Competency]) -> dict[int, Standing]:
    """Standing of `user` on each competency; empty for anonymous visitors."""
    if not user.is_authenticated:
        return {}
    standings = standings_for_learners(learner_ids=[user.pk], competencies=competencies)
    return {competency_id: standing for (_learner, competency_id), standing in standings.items()}
