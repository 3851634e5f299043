from django import template

from evidence.models import IN_HAND, Status

register = template.Library()


@register.filter
def status_label(status: str | None) -> str:
    return Status(status).label if status in Status.values else ""


@register.filter
def evidence_in_hand(status: str | None) -> bool:
    """Whether the learner's latest evidence for a claim, in this status, leaves nothing new to add."""
    return status in IN_HAND
