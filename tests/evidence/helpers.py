"""Small builders for evidence tests."""

from __future__ import annotations

from evidence.models import Evidence
from evidence.services import EvidenceInput, evidence_create
from tracker.models import Claim, Competency, User

ANSWER = "Keras lets me build models from clear layers instead of raw tensor operations."


def written_claim(competency: Competency) -> Claim:
    """The first claim that takes written answers."""
    return competency.claims.filter(is_active=True).order_by("order").first()  # claim 1: written, link


def make_evidence(learner: User, claim: Claim, *, submit: bool = True, body: str = ANSWER) -> Evidence:
    return evidence_create(learner=learner, claim=claim, data=EvidenceInput(kind="written", body=body), submit=submit)
