"""A learner's standing per competency, derived from their evidence (never stored by hand).

not started → in progress → awaiting review → proficient (every required claim has approved
evidence), in the spirit of Moodle's proficiency rating.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

from django.db import models

from evidence.models import PENDING, Evidence, Status
from tracker.models import Claim, Competency


class Level(models.TextChoices):
    NOT_STARTED = "not_started", "Not started"
    IN_PROGRESS = "in_progress", "In progress"
    AWAITING_REVIEW = "awaiting_review", "Awaiting review"
    PROFICIENT = "proficient", "Proficient"


# A required claim whose latest evidence is one of these still needs proving.
UNPROVEN = {None, Status.WITHDRAWN, Status.REJECTED, Status.FAILED}


@dataclass
class Standing:
    status: Level
    approved_required: int
    required: int
    # claim id -> the status of the learner's latest evidence for it
    claim_status: dict[int, str] = field(default_factory=dict)

    @property
    def label(self) -> str:
        return self.status.label

    @property
    def is_proficient(self) -> bool:
        return self.status == Level.PROFICIENT

    @property
    def percent(self) -> int:
        return round(100 * self.approved_required / self.required) if self.required else 0

    def next_step(self, claims: Sequence[Claim]) -> tuple[str, Claim | None]:
        """The one thing to do next on the competency whose active `claims` are given, in order."""
        for wanted, text in ((Status.CHANGES_REQUESTED, "Resubmit"), (Status.DRAFT, "Finish your draft")):
            for claim in claims:
                if self.claim_status.get(claim.pk) == wanted:
                    return text, claim
        for claim in claims:
            if claim.required and self.claim_status.get(claim.pk) in UNPROVEN:
                return "Prove", claim
        if self.status == Level.AWAITING_REVIEW:
            return "Wait for your mentor's review", None
        return ("Done: proficient", None) if self.is_proficient else ("Add optional evidence", None)


def _derive(required_ids: set[int], rows: list[dict[str, Any]]) -> Standing:
    approved = {r["claim_id"] for r in rows if r["status"] == Status.APPROVED}
    latest: dict[int, str] = {}
    for row in rows:  # rows come newest first
        latest.setdefault(row["claim_id"], row["status"])
    claim_status = {claim: Status.APPROVED if claim in approved else status for claim, status in latest.items()}
    approved_required = len(required_ids & approved)
    if required_ids and approved_required == len(required_ids):
        status = Level.PROFICIENT
    elif any(s in PENDING for s in claim_status.values()):
        status = Level.AWAITING_REVIEW
    elif any(s != Status.WITHDRAWN for s in claim_status.values()):
        status = Level.IN_PROGRESS
    else:
        status = Level.NOT_STARTED
    return Standing(status, approved_required, len(required_ids), claim_status)


def standings_for_learners(
    *, learner_ids: Iterable[int], competencies: list[Competency]
) -> dict[tuple[int, int], Standing]:
    """(learner id, competency id) -> Standing, in two queries whatever the number of rows."""
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
