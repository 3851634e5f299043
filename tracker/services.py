"""Catalogue writes: importing frameworks in place, exporting them, assigning mentors."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

from django.conf import settings
from django.core.exceptions import NON_FIELD_ERRORS, ValidationError
from django.db import transaction
from django.db.models import ProtectedError, RestrictedError
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
    """Create or update each competency in place, all in one transaction.

    Raises:
        FrameworkImportError: a value does not fit its field (checked here: SQLite would store a 5,000-character
            title in a 200-character column), or the file would take from a claim what a Keras task needs.
    """
    from tracker.frameworks import framework_sync_competency  # frameworks builds on this module

    competencies = [_import_one(data) for data in frameworks]
    for competency in competencies:
        framework_sync_competency(competency=competency)
    return competencies


def _import_one(data: FrameworkData) -> Competency:
    where = _clip(data.title)
    slug = slugify(data.key or data.title)[:200]
    competency = Competency.objects.filter(slug=slug).first() or Competency(slug=slug)
    fields = {"title": data.title, "category": data.category, "description": data.description}
    _save_if_changed(competency, fields, where=where)
    _sync_claims(competency, data.claims, where=where)
    _sync_resources(competency, data.resources, where=where)
    competency.refresh_from_db(fields=["version"])  # claims saved above count as versions of the competency
    return competency


def _save_if_changed(obj: Competency | Claim | Resource, fields: Mapping[str, object], *, where: str) -> None:
    # Saving only on change keeps versions and history meaningful on a re-import.
    if obj.pk and all(getattr(obj, name) == value for name, value in fields.items()):
        return
    for name, value in fields.items():
        setattr(obj, name, value)
    _validate(obj, where)
    obj.save()


def _validate(obj: Competency | Claim | Resource, where: str) -> None:
    """The model's own field and row checks (lengths, URLs, evidence kinds), which no database makes for us."""
    try:
        # The slug is derived and cut to its length; the competency is the one being imported.
        obj.clean_fields(exclude=["slug", "competency"])
        obj.clean()
    except ValidationError as error:
        what = {Claim: f"claim {getattr(obj, 'order', '')}: ", Resource: f"resource {getattr(obj, 'order', '')}: "}
        details = "; ".join(
            " ".join(messages) if field == NON_FIELD_ERRORS else f"{field}: {' '.join(messages)}"
            for field, messages in error.message_dict.items()
        )
        raise FrameworkImportError(where, FormatError(what.get(type(obj), "") + details)) from error


def _clip(text: str, limit: int = 60) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"


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


def _sync_claims(competency: Competency, claims: list[ClaimData], *, where: str) -> None:
    existing = list(competency.claims.all())
    for order, (row, item) in enumerate(_pair_by(existing, claims, "text", "text"), start=1):
        if item is None:
            _retire_claim(row, where=where)
            continue
        fields: dict[str, object] = {"text": item.text, "order": order, "required": item.required, "is_active": True}
        # What the file does not say, the claim keeps (a new claim gets the model's defaults).
        if item.kinds_stated or row is None:
            if row is not None:
                _check_keeps_training(row, item.evidence_kinds, order=order, where=where)
            fields["evidence_kinds"] = list(item.evidence_kinds)
        if item.rubric_stated or row is None:
            fields["rubric"] = list(item.rubric)
        _save_if_changed(row or Claim(competency=competency), fields, where=where)


# The Keras tasks that prove a claim (trainer.TaskSpec.claim and .also_claims), reached through their reverse
# accessors by name: tracker sits below trainer and never imports it (tests/test_architecture.py).
_TASK_ACCESSORS = ("task_specs", "secondary_task_specs")


def _claim_tasks(claim: Claim) -> list[str]:
    names: set[str] = set()
    for accessor in _TASK_ACCESSORS:
        related = getattr(claim, accessor, None)
        if related is not None:
            names.update(str(task) for task in related.all())
    return sorted(names)


def _check_keeps_training(claim: Claim, kinds: tuple[str, ...], *, order: int, where: str) -> None:
    """A claim a task proves takes training evidence: a passing run is filed as such."""
    tasks = _claim_tasks(claim) if "training" not in kinds else []
    if tasks:
        message = (
            f"claim {order} ({_clip(claim.text)!r}) is proven by the Keras task {_names(tasks)}, "
            "so its evidence must include training."
        )
        raise FrameworkImportError(where, FormatError(message))


def _retire_claim(claim: Claim, *, where: str) -> None:
    tasks = _claim_tasks(claim)
    if tasks:
        message = (
            f"claim {claim.order} ({_clip(claim.text)!r}) is missing from the file, but the Keras task "
            f"{_names(tasks)} proves it. Give the task another claim first (admin: task specs), or keep the claim."
        )
        raise FrameworkImportError(where, FormatError(message))
    # A claim that has evidence is kept (retired) so that the evidence still points at it.
    if _claim_has_evidence(claim):
        _save_if_changed(claim, {"is_active": False}, where=where)
        return
    try:
        claim.delete()
    except (ProtectedError, RestrictedError) as error:
        found = getattr(error, "protected_objects", None) or getattr(error, "restricted_objects", None) or []
        users = ", ".join(sorted(f"{obj._meta.verbose_name} {obj}" for obj in found)[:3])
        message = f"claim {claim.order} ({_clip(claim.text)!r}) is missing from the file, but {users} uses it."
        raise FrameworkImportError(where, FormatError(message)) from error


def _retire_claim_keeping(claim: Claim, *, where: str) -> None:
    """Retire a claim without ever deleting it (a framework node removed upstream): refused while a task proves it."""
    tasks = _claim_tasks(claim)
    if tasks:
        message = (
            f"the claim {_clip(claim.text)!r} is missing from the file, but the Keras task {_names(tasks)} proves it. "
            "Give the task another claim first (admin: task specs), or keep the claim."
        )
        raise FrameworkImportError(where, FormatError(message))
    _save_if_changed(claim, {"is_active": False}, where=where)


def _names(tasks: list[str]) -> str:
    return ", ".join(repr(_clip(name)) for name in tasks)


def _claim_has_evidence(claim: Claim) -> bool:
    related = getattr(claim, "evidence", None)
    return bool(related is not None and related.exists())


def _sync_resources(competency: Competency, resources: list[ResourceData], *, where: str) -> None:
    existing = list(competency.resources.all())
    for order, (row, item) in enumerate(_pair_by(existing, resources, "url", "url"), start=1):
        if item is None:
            row.delete()
            continue
        fields = {"title": item.title, "url": item.url, "order": order}
        _save_if_changed(row or Resource(competency=competency), fields, where=where)


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
