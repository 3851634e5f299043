"""Catalogue reads."""

from __future__ import annotations

from django.db.models import Count, Prefetch, Q, QuerySet

from tracker.models import Claim, Competency, Resource


def _with_claim_counts(queryset: QuerySet[Competency]) -> QuerySet[Competency]:
    return queryset.annotate(
        claim_count=Count("claims", filter=Q(claims__is_active=True)),
        required_count=Count("claims", filter=Q(claims__is_active=True, claims__required=True)),
    )


def competency_list_published() -> QuerySet[Competency]:
    return _with_claim_counts(Competency.objects.filter(status=Competency.Status.PUBLISHED).order_by("title"))


def competency_detail_queryset() -> QuerySet[Competency]:
    visible = Competency.objects.exclude(status=Competency.Status.DRAFT)
    claims = Claim.objects.filter(is_active=True)
    return _with_claim_counts(visible).prefetch_related(
        Prefetch("claims", queryset=claims, to_attr="active_claim_list"),
        Prefetch("resources", queryset=Resource.objects.all(), to_attr="resource_list"),
    )
