"""Evidence reads, with object-level permissions applied in the query itself."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from django.db.models import Count, Q, QuerySet
from django.utils import timezone

from evidence.models import Evidence, Notification, Status
from tracker.models import Competency, User


def mentored_ids(user: Any) -> QuerySet[Any]:
    """The ids of the competencies `user` mentors, as a subquery: filters on it need no join and no DISTINCT
    (a join through the mentors table made every count over a cohort's evidence a sort of all of it)."""
    return Competency.mentors.through.objects.filter(user_id=user.pk).values("competency_id")


def evidence_visible_to(user: Any) -> QuerySet[Evidence]:
    """Everything `user` may read: their own, non-drafts of the competencies they mentor, or all (admins)."""
    base = Evidence.objects.select_related("learner", "claim", "competency")
    if not user.is_authenticated:
        return base.none()
    if user.is_admin_role:
        return base
    mentored = Q(competency_id__in=mentored_ids(user)) & ~Q(status=Status.DRAFT)
    return base.filter(Q(learner=user) | mentored)


@dataclass
class QueueFilters:
    competency: int | None = None
    claim: int | None = None
    kind: str = ""
    learner: int | None = None
    min_age_days: int | None = None
    status: str = Status.SUBMITTED


def review_queue(*, mentor: User, filters: QueueFilters) -> QuerySet[Evidence]:
    """Evidence awaiting a mentor's decision, oldest first; never the mentor's own."""
    queue = (
        Evidence.objects.filter(competency_id__in=mentored_ids(mentor))
        .exclude(learner=mentor)
        .select_related("learner", "claim", "competency")
    )
    queue = queue.filter(status=filters.status or Status.SUBMITTED)
    for name in ("competency", "claim", "learner"):
        value = getattr(filters, name)
        if value:
            queue = queue.filter(**{f"{name}_id": value})
    if filters.kind:
        queue = queue.filter(kind=filters.kind)
    if filters.min_age_days:
        queue = queue.filter(submitted_at__lte=timezone.now() - timedelta(days=filters.min_age_days))
    return queue.order_by("submitted_at", "pk")


def review_queue_counts(*, mentor: User) -> dict[str, Any]:
    """Counts of awaiting evidence per competency, and in all, in one query."""
    rows = (
        Evidence.objects.filter(competency_id__in=mentored_ids(mentor), status=Status.SUBMITTED)
        .exclude(learner=mentor)
        .values("competency_id", "competency__title")
        .annotate(n=Count("pk"))
        .order_by("competency__title")
    )
    per_competency = [(r["competency_id"], r["competency__title"], r["n"]) for r in rows]
    return {"total": sum(n for *_rest, n in per_competency), "per_competency": per_competency}


def mentored_competencies(mentor: User) -> QuerySet[Competency]:
    return Competency.objects.filter(mentors=mentor).order_by("title")


def learners_of(mentor: User) -> QuerySet[User]:
    """Learners with any non-draft evidence in the competencies `mentor` reviews."""
    reviewed = Evidence.objects.filter(competency_id__in=mentored_ids(mentor)).exclude(status=Status.DRAFT)
    return User.objects.filter(pk__in=reviewed.values("learner_id")).exclude(pk=mentor.pk).order_by("username")


def unread_notification_count(user: Any) -> int:
    if not user.is_authenticated:
        return 0
    return Notification.objects.filter(recipient=user, read_at__isnull=True).count()


def evidence_history(evidence: Evidence) -> list[Evidence]:
    """Every version of this piece of evidence, oldest first (at most 50), in two queries however long the chain.

    Versions share their learner and claim (a resubmission keeps both), so the chain is followed over the
    links of that learner's evidence for that claim, then its versions are read at once.
    """
    links = Evidence.objects.filter(learner_id=evidence.learner_id, claim_id=evidence.claim_id)
    previous_of = dict(links.values_list("pk", "previous_id"))
    next_of = {prev: pk for pk, prev in previous_of.items() if prev is not None}
    chain: list[int] = []
    current: int | None = evidence.pk
    while current is not None and len(chain) < 50:
        chain.insert(0, current)
        current = previous_of.get(current)
    later = next_of.get(evidence.pk)
    while later is not None and len(chain) < 50:
        chain.append(later)
        later = next_of.get(later)
    versions = Evidence.objects.in_bulk(chain)
    return [evidence if pk == evidence.pk else versions[pk] for pk in chain]
