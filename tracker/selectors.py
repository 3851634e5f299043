"""Catalogue reads."""

from __future__ import annotations

import uuid
from dataclasses import dataclass, replace
from typing import Any

from django.conf import settings
from django.db.models import Count, Prefetch, Q, QuerySet

from tracker.formats.base import ClaimData
from tracker.formats.case import export_case
from tracker.models import Claim, Competency, Framework, FrameworkNode, NodeAssociation, Resource
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


@dataclass(frozen=True)
class RelatedLink:
    """A link of a framework node, ready for a page: `url` is a page of the site or an http(s) URI, or empty."""

    kind: str
    title: str
    url: str


@dataclass(frozen=True)
class CompetencySource:
    """Where a competency comes from: its framework, its source ids and links, and its claims' ids and links."""

    framework: Framework
    ids: list[tuple[str, str]]
    links: list[RelatedLink]
    claim_ids: dict[int, list[tuple[str, str]]]
    claim_links: dict[int, list[RelatedLink]]


def competency_source(*, competency: Competency) -> CompetencySource | None:
    """The framework node of a competency and of its claims, with their related links, in four queries."""
    node = FrameworkNode.objects.filter(competency=competency).select_related("framework").first()
    if node is None:
        return None
    claim_nodes = list(FrameworkNode.objects.filter(claim__competency=competency, retired_at__isnull=True))
    nodes = [node, *claim_nodes]
    links = NodeAssociation.objects.filter(Q(origin__in=nodes) | Q(destination__in=nodes)).select_related(
        "origin__competency", "origin__claim__competency", "destination__competency", "destination__claim__competency"
    )
    by_node: dict[int, list[RelatedLink]] = {}
    for link in links:
        if link.origin_id in {n.pk for n in nodes}:
            by_node.setdefault(link.origin_id, []).append(_related(link.get_kind_display(), link.destination, link))
        if link.destination_id in {n.pk for n in nodes}:
            by_node.setdefault(link.destination_id, []).append(_related(link.get_kind_display(), link.origin, None))
    return CompetencySource(
        framework=node.framework,
        ids=node.source_ids(),
        links=by_node.get(node.pk, []),
        claim_ids={n.claim_id: n.source_ids() for n in claim_nodes if n.claim_id},
        claim_links={n.claim_id: by_node.get(n.pk, []) for n in claim_nodes if n.claim_id},
    )


def _related(kind: str, other: FrameworkNode | None, link: NodeAssociation | None) -> RelatedLink:
    """A link to the other end: its page on the site, or the external URI (only http and https are linked)."""
    if other is None:
        assert link is not None
        uri = link.destination_uri if link.destination_uri.startswith(("https://", "http://")) else ""
        return RelatedLink(kind=kind, title=link.destination_title or link.destination_uri, url=uri)
    title = other.claim.text if other.claim else other.short_name
    if other.competency is not None and other.competency.status != Competency.Status.DRAFT:
        return RelatedLink(kind=kind, title=title, url=other.competency.get_absolute_url())
    if other.claim is not None and other.claim.is_active:
        return RelatedLink(
            kind=kind, title=title, url=f"{other.claim.competency.get_absolute_url()}#claim-{other.claim.pk}"
        )
    return RelatedLink(kind=kind, title=title, url="")


def framework_list_visible() -> QuerySet[Framework]:
    """Frameworks a visitor may see: not those whose top competency is a draft (a competency not yet published)."""
    drafts = FrameworkNode.objects.filter(parent__isnull=True, competency__status=Competency.Status.DRAFT)
    return Framework.objects.exclude(nodes__in=drafts).order_by("title", "pk")
