"""Catalogue reads."""

from __future__ import annotations

import uuid
from dataclasses import dataclass, replace
from typing import Any

from django.conf import settings
from django.db.models import Count, Prefetch, Q, QuerySet

from tracker.formats.base import ClaimData
from tracker.formats.case import export_case
from tracker.models import Claim, Competency, Resource
from tracker.services import competency_data


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


@dataclass(frozen=True)
class CaseNode:
    """A record of a competency's CASE package, found by the identifier its `/case/<uuid>` URI ends with."""

    kind: str  # "CFDocument" or "CFItem"
    record: dict[str, Any]
    competency: Competency
    retired: bool = False  # a claim no longer active: its credentials still point here


def _package(competency: Competency, extra: Claim | None = None) -> dict[str, Any]:
    data = competency_data(competency=competency)
    if extra is not None:  # a retired claim is not in the export, but what aligned to it must still resolve
        claim = ClaimData(
            text=extra.text, required=extra.required, evidence_kinds=tuple(extra.evidence_kinds),
            key=f"{competency.slug}-{extra.order:02d}", uuid=str(extra.uuid),
        )  # fmt: skip
        data = replace(data, claims=[*data.claims, claim])
    return export_case(data, uri_base=settings.SITE_URL, last_change=competency.updated_at)


def case_node(*, identifier: uuid.UUID) -> CaseNode | None:
    """The CFDocument (a competency) or CFItem (a claim) the URI names, as the CASE export publishes it.

    Drafts are not published, so their records do not resolve.
    """
    visible = Competency.objects.exclude(status=Competency.Status.DRAFT)
    if competency := visible.filter(uuid=identifier).first():
        return CaseNode("CFDocument", _package(competency)["CFDocument"], competency)
    claim = Claim.objects.filter(uuid=identifier, competency__in=visible).select_related("competency").first()
    if claim is None:
        return None
    package = _package(claim.competency, extra=None if claim.is_active else claim)
    [item] = [item for item in package["CFItems"] if item["identifier"] == str(identifier)]
    return CaseNode("CFItem", item, claim.competency, retired=not claim.is_active)
