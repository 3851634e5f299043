"""Export one competency as a 1EdTech CASE 1.1 CFPackage (JSON).

Mapping:

- the competency is the `CFDocument`;
- each claim is a `CFItem` of type "Claim" (defined once in `CFDefinitions.CFItemTypes`), with an
  `isChildOf` association to the document whose `sequenceNumber` keeps the claim order;
- each resource is an `exemplar` association from the document to the resource's URL (see
  `_resource_association` for why that type).

Whether a claim is required and which evidence kinds it accepts have no CASE field: they travel in
the item's `notes` (for people) and in its `extensions` (for programs), both of which the schema
allows on a `CFItem`.

Every identifier is a lower-case UUID in the RFC 4122 variant, which is what the schema's identifier
pattern checks. Stored UUIDs are used as they are; missing ones and association identifiers are
derived with `uuid.uuid5`, so two exports of unchanged data are identical.
"""

from __future__ import annotations

import datetime
import uuid
from dataclasses import dataclass
from typing import Any

from tracker.formats.base import ClaimData, FrameworkData, ResourceData

CREATOR = "Skillproof"
CLAIM_ITEM_TYPE = "Claim"
CLAIM_ITEM_TYPE_DESCRIPTION = "A statement a person proves with evidence to show they have the competency."
# CASE 1.1 "targetType": "CASE" (the default) would tell a consumer the destination is another CASE
# node it can fetch; a resource is an ordinary web page, so it gets an extension type instead.
RESOURCE_TARGET_TYPE = "ext:LearningResource"

Json = dict[str, Any]


@dataclass(frozen=True)
class _Context:
    """What every record of one package shares.

    Attributes:
        uri_base: site URL without a trailing slash.
        stamp: `lastChangeDateTime` of every record.
        document_id: identifier of the CFDocument.
        title: title of the CFDocument.
    """

    uri_base: str
    stamp: str
    document_id: str
    title: str

    @property
    def document(self) -> Json:
        """The link (`LinkGenURIDType`) to the CFDocument, origin or destination of associations."""
        return self.link(self.document_id, self.title)

    def uri(self, identifier: str) -> str:
        """The resolvable URI of a record of this package."""
        return f"{self.uri_base}/case/{identifier}"

    def link(self, identifier: str, title: str) -> Json:
        """A `LinkGenURIDType`/`LinkURIDType` pointing at a record of this package."""
        return {"title": title, "identifier": identifier, "uri": self.uri(identifier)}


def export_case(data: FrameworkData, *, uri_base: str, last_change: datetime.datetime) -> dict[str, Any]:
    """Build the CASE 1.1 CFPackage of one competency.

    Args:
        data: the competency, its claims and its resources.
        uri_base: the site URL (e.g. "https://skillproof.example.org"); record URIs are
            f"{uri_base}/case/{identifier}".
        last_change: when the competency last changed; a naive value is taken as UTC.

    Returns:
        The package as a JSON-ready dict (`CFDocument`, `CFItems`, `CFAssociations`, `CFDefinitions`).

    Raises:
        ValueError: a stored uuid of the competency, a claim or a resource is not an RFC 4122 UUID.
    """
    base = uri_base.rstrip("/")
    document_id = _identifier(data.uuid, f"{base}/competency/{data.key or data.title}")
    ctx = _Context(uri_base=base, stamp=_timestamp(last_change), document_id=document_id, title=data.title)
    item_type = _claim_item_type(ctx)
    items = _claim_items(data.claims, ctx, item_type)
    associations = [_child_association(item, n, ctx) for n, item in enumerate(items, start=1)]
    associations += _resource_associations(data.resources, ctx)
    return {
        "CFDocument": _document(data, ctx),
        "CFItems": items,
        "CFAssociations": associations,
        "CFDefinitions": {"CFItemTypes": [item_type]},
    }


def _document(data: FrameworkData, ctx: _Context) -> Json:
    """The CFDocument record of the competency."""
    document: Json = {
        "identifier": ctx.document_id,
        "uri": ctx.uri(ctx.document_id),
        "creator": CREATOR,
        "title": data.title,
        "lastChangeDateTime": ctx.stamp,
        "caseVersion": "1.1",
        "version": str(data.version),
    }
    if data.description:
        document["description"] = data.description
    if data.category:
        document["subject"] = [data.category]
    return document


def _claim_item_type(ctx: _Context) -> Json:
    """The `CFItemType` definition every claim item refers to."""
    identifier = _derived_identifier(f"{ctx.uri_base}/item-type/{CLAIM_ITEM_TYPE}")
    return {
        "identifier": identifier,
        "uri": ctx.uri(identifier),
        "title": CLAIM_ITEM_TYPE,
        "description": CLAIM_ITEM_TYPE_DESCRIPTION,
        "hierarchyCode": CLAIM_ITEM_TYPE,
        "typeCode": CLAIM_ITEM_TYPE,
        "lastChangeDateTime": ctx.stamp,
    }


def _claim_items(claims: list[ClaimData], ctx: _Context, item_type: Json) -> list[Json]:
    """One CFItem per claim, in claim order."""
    names = _unique_names([f"{ctx.uri(ctx.document_id)}/claim/{claim.key or claim.text}" for claim in claims])
    type_link = {key: item_type[key] for key in ("title", "identifier", "uri")}
    return [
        _claim_item(claim, n, _identifier(claim.uuid, name), ctx, type_link)
        for n, (claim, name) in enumerate(zip(claims, names, strict=True), start=1)
    ]


def _claim_item(claim: ClaimData, n: int, identifier: str, ctx: _Context, type_link: Json) -> Json:
    """The CFItem of the n-th (1-based) claim."""
    item: Json = {
        "identifier": identifier,
        "uri": ctx.uri(identifier),
        "fullStatement": claim.text,
        "CFItemType": CLAIM_ITEM_TYPE,
        "CFItemTypeURI": type_link,
        "listEnumeration": str(n),
        "notes": _claim_notes(claim),
        "extensions": {"skillproof": {"required": claim.required, "evidenceKinds": list(claim.evidence_kinds)}},
        "lastChangeDateTime": ctx.stamp,
    }
    if claim.key:
        item["humanCodingScheme"] = claim.key
    return item


def _claim_notes(claim: ClaimData) -> str:
    """The human-readable line saying whether a claim is required and what evidence it takes."""
    status = "Required" if claim.required else "Optional"
    return f"{status} claim. Accepted evidence: {', '.join(claim.evidence_kinds) or 'none'}."


def _child_association(item: Json, n: int, ctx: _Context) -> Json:
    """The `isChildOf` association placing a claim item at position n under the document."""
    origin = {"title": item["fullStatement"], "identifier": item["identifier"], "uri": item["uri"]}
    return _association("isChildOf", origin, ctx.document, n, ctx)


def _resource_associations(resources: list[ResourceData], ctx: _Context) -> list[Json]:
    """One association per resource, in resource order."""
    names = _unique_names([f"{ctx.uri(ctx.document_id)}/resource/{resource.url}" for resource in resources])
    return [
        _resource_association(resource, _identifier(resource.uuid, name), n, ctx)
        for n, (resource, name) in enumerate(zip(resources, names, strict=True), start=1)
    ]


def _resource_association(resource: ResourceData, identifier: str, n: int, ctx: _Context) -> Json:
    """The association linking the competency to one of its learning resources.

    CASE has no "learning resource" association type. `exemplar` is the one type whose destination
    is, by convention, something outside the framework: OpenSALT's "add exemplar" stores exactly an
    item -> exemplar -> URL association, so CASE tools show it as a link. `isRelatedTo` would make
    consumers look for a CASE node at the destination, and an `ext:` type would mean nothing to
    them. The origin is the document, not a claim, because a resource belongs to the competency.
    """
    destination = {
        "title": resource.title,
        "identifier": identifier,
        "uri": resource.url,
        "targetType": RESOURCE_TARGET_TYPE,
    }
    return _association("exemplar", ctx.document, destination, n, ctx)


def _association(kind: str, origin: Json, destination: Json, n: int, ctx: _Context) -> Json:
    """A CFAssociation whose identifier depends only on its type and its two ends."""
    identifier = _derived_identifier(f"{origin['identifier']}/{kind}/{destination['identifier']}")
    return {
        "identifier": identifier,
        "associationType": kind,
        "sequenceNumber": n,
        "uri": ctx.uri(identifier),
        "originNodeURI": origin,
        "destinationNodeURI": destination,
        "lastChangeDateTime": ctx.stamp,
    }


def _unique_names(names: list[str]) -> list[str]:
    """Make repeated names distinct ("x", "x#2", ...) so they never derive the same identifier."""
    seen: dict[str, int] = {}
    unique = []
    for name in names:
        seen[name] = seen.get(name, 0) + 1
        unique.append(name if seen[name] == 1 else f"{name}#{seen[name]}")
    return unique


def _identifier(stored: str, name: str) -> str:
    """The stored UUID in canonical form, or one derived from `name` when none is stored."""
    if not stored:
        return _derived_identifier(name)
    try:
        value = uuid.UUID(stored)
    except ValueError as error:
        raise ValueError(f"{stored!r} is not a UUID") from error
    if value.variant != uuid.RFC_4122:
        # The schema's pattern requires the RFC 4122 variant nibble (8, 9, a or b).
        raise ValueError(f"{stored!r} is not an RFC 4122 UUID")
    return str(value)


def _derived_identifier(name: str) -> str:
    """A deterministic identifier for `name`, shaped like a version-4 UUID.

    uuid5 gives stability (same name, same identifier), but its version nibble is 5. The schema's
    pattern itself only checks the variant nibble, yet the project's rule is that CASE identifiers
    are version-4 UUIDs and some consumers check the version, so the uuid5 bytes are re-stamped:
    `uuid.UUID(..., version=4)` sets the version nibble to 4 and the variant bits to RFC 4122. The
    result is still deterministic; it only gives up the (unused) ability to tell it was name-based.
    """
    return str(uuid.UUID(bytes=uuid.uuid5(uuid.NAMESPACE_URL, name).bytes, version=4))


def _timestamp(moment: datetime.datetime) -> str:
    """An RFC 3339 date-time in UTC, to the second, as CASE's `lastChangeDateTime` expects."""
    if moment.tzinfo is None:
        # Django stores aware datetimes in UTC; a naive one here can only mean UTC as well.
        moment = moment.replace(tzinfo=datetime.UTC)
    return moment.astimezone(datetime.UTC).isoformat(timespec="seconds")
