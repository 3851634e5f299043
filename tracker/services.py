"""Catalogue writes: importing frameworks in place, exporting them, assigning mentors."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

from django.conf import settings
from django.db import transaction
from django.utils.text import slugify

from tracker.formats.base import ClaimData, FormatError, FrameworkData, ResourceData
from tracker.formats.moodle import parse_moodle_csv
from tracker.formats.seed_markdown import parse_seed_markdown
from tracker.models import Claim, Competency, Resource, User


class FrameworkImportError(Exception):
    """An import file could not be read; nothing was changed.

    Args:
        source: the file name the problem is in.
        error: the format error, with its line number.
    """

    def __init__(self, source: str, error: FormatError) -> None:
        self.source, self.error = source, error
        where = f"{source}, line {error.line}" if error.line else source
        super().__init__(f"{where}: {error.message}")


def framework_parse(*, name: str, text: str) -> list[FrameworkData]:
    """Parse a file by its extension: `.csv` is Moodle's format, anything else the seed's Markdown."""
    try:
        if name.lower().endswith(".csv"):
            return parse_moodle_csv(text)
        return [parse_seed_markdown(text)]
    except FormatError as error:
        raise FrameworkImportError(name, error) from error


def competency_import_files(*, paths: Iterable[Path]) -> list[Competency]:
    """Import every file in one transaction: one bad file changes nothing at all."""
    frameworks: list[FrameworkData] = []
    for path in paths:
        try:
            text = path.read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError) as error:
            raise FrameworkImportError(
                str(path), FormatError(f"cannot be read as UTF-8 text ({error.__class__.__name__}: {error})")
            ) from error
        frameworks += framework_parse(name=str(path), text=text)
    return competency_import(frameworks=frameworks)


@transaction.atomic
def competency_import(*, frameworks: list[FrameworkData]) -> list[Competency]:
    return [_import_one(data) for data in frameworks]


def _import_one(data: FrameworkData) -> Competency:
    slug = slugify(data.key or data.title)[:200]
    competency = Competency.objects.filter(slug=slug).first() or Competency(slug=slug)
    fields = {"title": data.title, "category": data.category, "description": data.description}
    _save_if_changed(competency, fields)
    _sync_claims(competency, data.claims)
    _sync_resources(competency, data.resources)
    return competency


def _save_if_changed(obj: Competency | Claim | Resource, fields: Mapping[str, object]) -> None:
    # Saving only on change keeps versions and history meaningful on a re-import.
    if obj.pk and all(getattr(obj, name) == value for name, value in fields.items()):
        return
    for name, value in fields.items():
        setattr(obj, name, value)
    obj.save()


def _pair_by(existing: list, incoming: list, key: str, incoming_key: str) -> list[tuple]:
    """Match incoming items to existing rows: same key first, then the leftovers by position."""
    by_key = {getattr(row, key): row for row in existing}
    pairs: list[tuple] = [(by_key.pop(getattr(item, incoming_key), None), item) for item in incoming]
    leftovers = [row for row in existing if row in by_key.values()]
    matched = []
    for row, item in pairs:
        if row is None and leftovers:
            row = leftovers.pop(0)
        matched.append((row, item))
    return matched + [(row, None) for row in leftovers]


def _sync_claims(competency: Competency, claims: list[ClaimData]) -> None:
    existing = list(competency.claims.all())
    for order, (row, item) in enumerate(_pair_by(existing, claims, "text", "text"), start=1):
        if item is None:
            _retire_claim(row)
            continue
        fields = {
            "text": item.text,
            "order": order,
            "required": item.required,
            "evidence_kinds": list(item.evidence_kinds),
            "rubric": list(item.rubric),
            "is_active": True,
        }
        _save_if_changed(row or Claim(competency=competency), fields)


def _retire_claim(claim: Claim) -> None:
    # A claim that has evidence is kept (retired) so that the evidence still points at it.
    if _claim_has_evidence(claim):
        _save_if_changed(claim, {"is_active": False})
    else:
        claim.delete()


def _claim_has_evidence(claim: Claim) -> bool:
    related = getattr(claim, "evidence", None)
    return bool(related is not None and related.exists())


def _sync_resources(competency: Competency, resources: list[ResourceData]) -> None:
    existing = list(competency.resources.all())
    for order, (row, item) in enumerate(_pair_by(existing, resources, "url", "url"), start=1):
        if item is None:
            row.delete()
            continue
        fields = {"title": item.title, "url": item.url, "order": order}
        _save_if_changed(row or Resource(competency=competency), fields)


def competency_data(*, competency: Competency) -> FrameworkData:
    """The exchange form of a competency: what every exporter writes."""
    claims = [
        ClaimData(
            text=c.text,
            required=c.required,
            evidence_kinds=tuple(c.evidence_kinds),
            rubric=tuple(c.rubric),
            key=f"{competency.slug}-{c.order:02d}",
            uuid=str(c.uuid),
        )
        for c in competency.active_claims()
    ]
    resources = [ResourceData(title=r.title, url=r.url, uuid=str(r.uuid)) for r in competency.resources.all()]
    return FrameworkData(
        title=competency.title,
        category=competency.category,
        description=competency.description,
        claims=claims,
        resources=resources,
        key=competency.slug,
        uuid=str(competency.uuid),
        version=competency.version,
    )


def mentor_assign(*, mentor: User, competencies: Iterable[Competency]) -> None:
    """Make `mentor` a reviewer of each competency, adding them to the mentor group."""
    from tracker.roles import role_grant

    role_grant(user=mentor, role="mentor")
    for competency in competencies:
        competency.mentors.add(mentor)


def competency_import_upload(*, upload: Any) -> list[Competency]:
    """Import an uploaded file (admin page); size-capped, UTF-8, one transaction."""
    if upload.size > settings.IMPORT_MAX_BYTES:
        limit = settings.IMPORT_MAX_BYTES // 1024
        raise FrameworkImportError(upload.name, FormatError(f"the file is larger than {limit} KB"))
    try:
        text = upload.read().decode("utf-8")
    except UnicodeDecodeError as error:
        raise FrameworkImportError(upload.name, FormatError("the file is not UTF-8 text")) from error
    return competency_import(frameworks=framework_parse(name=upload.name, text=text))
