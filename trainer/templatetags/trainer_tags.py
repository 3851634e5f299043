"""Training parts that other apps' pages show: the tasks proving a catalogue's claims, the run behind evidence."""

from typing import Any

from django import template

from evidence.models import Evidence
from tracker.models import Claim
from trainer.models import Filing
from trainer.selectors import ClaimTasks, attempts_summary, runs_side_by_side, tasks_by_claim

register = template.Library()


@register.simple_tag
def claim_tasks(claims: list[Claim]) -> dict[int, ClaimTasks]:
    """`{% claim_tasks claims as tasks %}`: claim id -> its tasks, for a whole page of claims at once."""
    return tasks_by_claim(list(claims))


@register.inclusion_tag("trainer/_training_summary.html")
def training_summary(evidence: Evidence) -> dict[str, Any]:
    """The run a piece of training evidence cites: trusted result, curves, and the learner's other attempts."""
    filing = Filing.objects.filter(evidence=evidence).select_related("run__task", "run__learner", "companion").first()
    if filing is None:
        return {"run": None}
    run = filing.run
    side_by_side = runs_side_by_side(run, filing.companion) if filing.companion else None
    return {"run": run, "summary": attempts_summary(run.learner, run.task), "companion": filing.companion,
            "side_by_side": side_by_side}  # fmt: skip
