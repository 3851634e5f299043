"""The catalogue's own Markdown format, the shape of the product's seed (`tests/fixtures/seeds/*.txt`).

    # Competency - <category> - <title>

    <description: any Markdown, kept verbatim>

    ## How do you prove it?

    - <claim>
    - <claim> <!-- optional; evidence: written, link; rubric: Correctness, Clarity -->

    ## How do you improve it?

    - <resource title>: <url>

The trailing HTML comment on a claim is this project's extension: it carries what the seed format
has no words for (optional claims, which kinds of evidence prove it). Markdown renderers hide it,
and it is written only when a claim differs from the defaults, so seed files round-trip unchanged.
A claim without `evidence:` (or `rubric:`) does not say: importing it keeps what an existing claim
has, and gives a new one the defaults.
"""

from __future__ import annotations

import re

from tracker.formats.base import (
    DEFAULT_EVIDENCE_KINDS,
    EVIDENCE_KINDS,
    ClaimData,
    FormatError,
    FrameworkData,
    ResourceData,
)

PROVE_HEADING = "## How do you prove it?"
IMPROVE_HEADING = "## How do you improve it?"
TITLE_PREFIX = "# Competency - "

_ITEM = re.compile(r"^[-*]\s+(?P<body>.+?)\s*$")
_META = re.compile(r"\s*<!--\s*(?P<meta>.*?)\s*-->$")
_RESOURCE = re.compile(r"^(?P<title>.+?):\s+(?P<url>https?://\S+)$")


def parse_seed_markdown(text: str) -> FrameworkData:
    """Parse one competency file.

    Raises:
        FormatError: naming the line that is not in the format.
    """
    lines = text.lstrip("\ufeff").replace("\r\n", "\n").split("\n")
    data = _parse_title(lines)
    prove, improve = _section_starts(lines)
    data.description = "\n".join(lines[1:prove]).strip("\n")
    data.claims = [_parse_claim(body, n) for n, body in _list_items(lines, prove + 1, improve)]
    data.resources = [_parse_resource(body, n) for n, body in _list_items(lines, improve + 1, None)]
    if not data.claims:
        raise FormatError(f"'{PROVE_HEADING}' lists no claims.", prove + 1)
    return data


def _parse_title(lines: list[str]) -> FrameworkData:
    first = lines[0].strip() if lines else ""
    if not first.startswith(TITLE_PREFIX):
        raise FormatError(f"The first line must be a title like '{TITLE_PREFIX}<category> - <title>'.", 1)
    # Titles may contain " - " (a subtitle); categories may not.
    category, sep, title = first[len(TITLE_PREFIX) :].partition(" - ")
    if not sep:
        category, title = "", category
    if not title.strip():
        raise FormatError("The title line has no competency name.", 1)
    return FrameworkData(title=title.strip(), category=category.strip())


def _section_starts(lines: list[str]) -> tuple[int, int]:
    stripped = [line.strip() for line in lines]
    for heading in (PROVE_HEADING, IMPROVE_HEADING):
        if stripped.count(heading) != 1:
            found = "is missing" if heading not in stripped else "appears more than once"
            raise FormatError(f"The heading '{heading}' {found}.")
    prove, improve = stripped.index(PROVE_HEADING), stripped.index(IMPROVE_HEADING)
    if improve < prove:
        raise FormatError(f"'{IMPROVE_HEADING}' must come after '{PROVE_HEADING}'.", improve + 1)
    return prove, improve


def _list_items(lines: list[str], start: int, stop: int | None) -> list[tuple[int, str]]:
    """The bullet items between two line indexes, with their 1-based line numbers."""
    items = []
    for index in range(start, len(lines) if stop is None else stop):
        line = lines[index].strip()
        if not line:
            continue
        match = _ITEM.match(line)
        if not match:
            raise FormatError(f"Expected a list item starting with '- ', found: {line[:60]!r}", index + 1)
        items.append((index + 1, match["body"]))
    return items


def _parse_claim(body: str, line: int) -> ClaimData:
    claim = ClaimData(text=body, kinds_stated=False, rubric_stated=False)
    meta = _META.search(body)
    if not meta:
        return claim
    claim.text = body[: meta.start()].strip()
    for part in filter(None, (p.strip() for p in meta["meta"].split(";"))):
        if part == "optional":
            claim.required = False
        elif part.startswith("evidence:"):
            claim.evidence_kinds = _parse_kinds(part.removeprefix("evidence:"), line)
            claim.kinds_stated = True
        elif part.startswith("rubric:"):
            claim.rubric = tuple(c.strip() for c in part.removeprefix("rubric:").split(",") if c.strip())
            claim.rubric_stated = True
        else:
            raise FormatError(f"Unknown claim note {part!r} (use 'optional', 'evidence: ...' or 'rubric: ...').", line)
    if not claim.text:
        raise FormatError("A claim has no text.", line)
    return claim


def _parse_kinds(value: str, line: int) -> tuple[str, ...]:
    kinds = tuple(k.strip() for k in value.split(",") if k.strip())
    unknown = [k for k in kinds if k not in EVIDENCE_KINDS]
    if unknown or not kinds:
        raise FormatError(f"Unknown evidence kinds {unknown or [value]}; use {', '.join(EVIDENCE_KINDS)}.", line)
    return kinds


def _parse_resource(body: str, line: int) -> ResourceData:
    match = _RESOURCE.match(body)
    if not match:
        raise FormatError("A resource must read '<title>: <http(s) URL>'.", line)
    return ResourceData(title=match["title"].strip(), url=match["url"])


def write_seed_markdown(data: FrameworkData) -> str:
    """Write one competency in the format `parse_seed_markdown` reads."""
    parts = [TITLE_PREFIX + (f"{data.category} - " if data.category else "") + data.title]
    if data.description.strip():
        parts.append(data.description.strip("\n"))
    parts.append(PROVE_HEADING)
    parts.extend(f"- {_claim_line(claim)}" for claim in data.claims)
    parts.append(IMPROVE_HEADING)
    parts.extend(f"- {r.title}: {r.url}" for r in data.resources)
    return "\n\n".join(parts) + "\n"


def _claim_line(claim: ClaimData) -> str:
    notes = [] if claim.required else ["optional"]
    if tuple(claim.evidence_kinds) != DEFAULT_EVIDENCE_KINDS:
        notes.append("evidence: " + ", ".join(claim.evidence_kinds))
    if claim.rubric:
        notes.append("rubric: " + ", ".join(claim.rubric))
    return f"{claim.text} <!-- {'; '.join(notes)} -->" if notes else claim.text
