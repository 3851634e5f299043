"""Training parts that other apps' pages show: the tasks proving a catalogue's claims."""

from django import template

from tracker.models import Claim
from trainer.selectors import ClaimTasks, tasks_by_claim

register = template.Library()


@register.simple_tag
def claim_tasks(claims: list[Claim]) -> dict[int, ClaimTasks]:
    """`{% claim_tasks claims as tasks %}`: claim id -> its tasks, for a whole page of claims at once."""
    return tasks_by_claim(list(claims))
