"""Evidence approved → issue the learner's credential if they are now proficient (one service call)."""

from __future__ import annotations

from typing import Any

from django.dispatch import receiver

from credentials.services import credential_issue_if_proficient
from evidence.models import Evidence
from evidence.signals import evidence_approved


@receiver(evidence_approved, dispatch_uid="credentials-issue-on-approval")
def issue_on_approval(sender: type[Evidence], evidence: Evidence, **kwargs: Any) -> None:
    credential_issue_if_proficient(learner=evidence.learner, competency=evidence.competency)
