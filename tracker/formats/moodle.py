"""Moodle's competency-framework CSV, as written and read by Moodle's `tool_lpimportcsv`.

The file has one header line and then, per framework, a framework row ("Is framework" = 1) followed
by its competencies. A top-level competency has an empty "Parent id number"; a nested one names its
parent competency's "Id number".

Only the title, description, key and claim texts fit Moodle's columns: whether a claim is required,
the evidence kinds it accepts, the category, version, UUIDs and resources have no column, so they
are not written and come back as defaults. A round trip of our own export keeps everything that
is written (titles, descriptions, claim texts, keys) unchanged, as long as a framework title fits
Moodle's 100-character shortname (a claim's shortname is a cut-down copy; its full text is in the
description).
"""

from __future__ import annotations

import csv
import html.parser
import io
import json
import re
import unicodedata
from dataclasses import dataclass, field

from tracker.formats.base import ClaimData, FormatError, FrameworkData

COLUMNS = (
    "Parent id number",
    "Id number",
    "Shortname",
    "Description",
    "Description format",
    "Scale values",
    "Scale configuration",
    "Rule type (optional)",
    "Rule outcome (optional)",
    "Rule config (optional)",
    "Cross referenced competency id numbers",
    "Exported id (optional)",
    "Is framework",
    "Taxonomy",
)
(PARENT, IDNUMBER, SHORTNAME, DESCRIPTION, DESCRIPTION_FORMAT) = range(5)
IS_FRAMEWORK = COLUMNS.index("Is framework")

# Moodle's text formats (lib/weblib.php): FORMAT_HTML = 1, FORMAT_MARKDOWN = 4.
FORMAT_HTML = "1"
FORMAT_MARKDOWN = "4"
# Moodle's default competency scale (scale id 2 on a fresh site). On import Moodle looks the scale
# up by these values and rewrites the scale id in the configuration, so the id is only a hint.
SCALE_VALUES = "Not yet competent,Competent"
SCALE_CONFIGURATION = json.dumps(
    [
        {"scaleid": "2"},
        {"id": 1, "scaledefault": 1, "proficient": 0},
        {"id": 2, "scaledefault": 0, "proficient": 1},
    ],
    separators=(",", ":"),
)
# One taxonomy term per level of the tree; our claims form a single level.
TAXONOMY = "competency"
# Moodle cuts shortnames and id numbers to 100 characters on import (`shorten_text(..., 100)`).
SHORTNAME_MAX = 100
ELLIPSIS = "…"

# PHP's fputcsv, which Moodle writes with, encloses a field in quotes when it contains the
# delimiter, a quote, a backslash, a line break, a tab or a space; matching it makes our files look
# like Moodle's own (and gives exactly the header line Moodle writes).
_NEEDS_QUOTES = re.compile(r'[,"\\\n\r\t ]')


def write_moodle_csv(frameworks: list[FrameworkData]) -> str:
    """Write frameworks as one Moodle competency-framework CSV.

    Moodle itself imports one framework per file; several frameworks are written one after the
    other under a single header, which `parse_moodle_csv` reads back.

    Args:
        frameworks: the competencies to write; each becomes a framework whose claims are its
            top-level competencies.

    Returns:
        The CSV text, LF line endings, no BOM.

    Raises:
        ValueError: two frameworks, or two claims of one framework, would get the same id number.
    """
    lines = [_csv_line(list(COLUMNS))]
    seen: set[str] = set()
    for data in frameworks:
        key = data.key or _slug(data.title)
        if key in seen:
            raise ValueError(f"two frameworks have the id number {key!r}")
        seen.add(key)
        lines.append(_csv_line(_framework_row(data, key)))
        lines += [_csv_line(_claim_row(claim, idnumber)) for claim, idnumber in _claim_idnumbers(data, key)]
    return "\n".join(lines) + "\n"


def _framework_row(data: FrameworkData, key: str) -> list[str]:
    """The row describing the framework itself (Moodle's exporter writes the same columns)."""
    return [
        "",
        key,
        _shortname(data.title),
        data.description,
        FORMAT_MARKDOWN,
        SCALE_VALUES,
        SCALE_CONFIGURATION,
        "",
        "",
        "",
        "",
        "",
        "1",
        TAXONOMY,
    ]


def _claim_row(claim: ClaimData, idnumber: str) -> list[str]:
    """The row of a top-level competency; its scale is inherited from the framework."""
    # Rule outcome 0 and rule config "null" are what Moodle's own exporter writes for "no rule";
    # "0" in "Is framework" reads as false to Moodle, like the empty string it writes itself.
    return [
        "",
        idnumber,
        _shortname(claim.text),
        claim.text,
        FORMAT_MARKDOWN,
        "",
        "",
        "",
        "0",
        "null",
        "",
        "",
        "0",
        "",
    ]


def _claim_idnumbers(data: FrameworkData, key: str) -> list[tuple[ClaimData, str]]:
    """Pair each claim with its id number: its key, or "<framework key>-NN" when it has none."""
    pairs = [(claim, claim.key or f"{key}-{n:02d}") for n, claim in enumerate(data.claims, start=1)]
    idnumbers = [idnumber for _, idnumber in pairs]
    duplicates = sorted({idnumber for idnumber in idnumbers if idnumbers.count(idnumber) > 1})
    if duplicates:
        raise ValueError(f"framework {key!r} has several claims with the id number {duplicates[0]!r}")
    return pairs


def _shortname(text: str) -> str:
    """A one-line form of `text` that fits Moodle's 100-character shortname, cut between words."""
    line = " ".join(text.split())
    if len(line) <= SHORTNAME_MAX:
        return line
    cut = line[: SHORTNAME_MAX - len(ELLIPSIS) + 1]
    # Keep whole words: drop the last (possibly partial) one unless the text is one huge word.
    words = cut.rsplit(" ", 1)[0] if " " in cut else cut[:-1]
    return words.rstrip(" ,;:.-") + ELLIPSIS


def _slug(text: str) -> str:
    """An id number made from a title, for frameworks that have no key yet."""
    ascii_text = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode()
    return re.sub(r"[^a-z0-9]+", "-", ascii_text.lower()).strip("-") or "framework"


def _csv_line(row: list[str]) -> str:
    """One CSV line, quoted the way PHP's fputcsv quotes it."""
    return ",".join(_csv_field(value) for value in row)


def _csv_field(value: str) -> str:
    """One field, in quotes (inner quotes doubled) only where fputcsv would quote it."""
    if not _NEEDS_QUOTES.search(value):
        return value
    return '"' + value.replace('"', '""') + '"'


@dataclass
class _Framework:
    """A framework being read, with what is needed to check its competencies' parents.

    Attributes:
        data: the framework read so far.
        lines: line number of each competency, by id number.
        parents: parent id number of each competency, by id number.
    """

    data: FrameworkData
    lines: dict[str, int] = field(default_factory=dict)
    parents: dict[str, str] = field(default_factory=dict)


def parse_moodle_csv(text: str) -> list[FrameworkData]:
    """Read a Moodle competency-framework CSV, as Moodle writes it or as we do.

    Accepts UTF-8 text with or without a BOM, CRLF or LF line endings, several frameworks in one
    file and nested competencies, which are flattened into their framework's claim list in file
    order. Moodle's header must be there, with the same columns in the same order (quoting and
    letter case may differ; Moodle writes translated headers on non-English sites, which are not
    accepted). Rule, scale, cross-reference and taxonomy columns are ignored; HTML descriptions
    (format 1) are turned into plain text.

    Args:
        text: the file's content.

    Returns:
        One FrameworkData per framework row, each with its claims and no resources.

    Raises:
        FormatError: the file is not such a CSV; the message says what is wrong and `line` where.
    """
    rows = _read_rows(text)
    if not rows:
        raise FormatError("the file is empty; expected Moodle's competency framework CSV", line=1)
    _check_header(*rows[0])
    frameworks: list[_Framework] = []
    for line, cells in rows[1:]:
        _check_width(line, cells)
        if _is_framework(line, cells[IS_FRAMEWORK]):
            frameworks.append(_read_framework(line, cells, frameworks))
        elif not frameworks:
            raise FormatError("a competency comes before any framework row (Is framework = 1)", line=line)
        else:
            _add_claim(frameworks[-1], line, cells)
    if not frameworks:
        raise FormatError("the file has no framework row (a row with Is framework = 1)")
    for framework in frameworks:
        _check_parents(framework)
    return [framework.data for framework in frameworks]


def _read_rows(text: str) -> list[tuple[int, list[str]]]:
    """The non-blank CSV records of `text`, each with the line number it starts on."""
    reader = csv.reader(io.StringIO(text.removeprefix("\ufeff"), newline=""), strict=True)
    rows: list[tuple[int, list[str]]] = []
    start = 1
    try:
        for cells in reader:
            if any(cell.strip() for cell in cells):
                rows.append((start, cells))
            start = reader.line_num + 1
    except csv.Error as error:
        if "field larger than field limit" in str(error):
            limit = csv.field_size_limit()
            raise FormatError(f"a cell on this row is longer than {limit:,} characters", line=start) from error
        raise FormatError(f"this row is not valid CSV ({error}); check its quotes", line=start) from error
    return rows


def _check_header(line: int, cells: list[str]) -> None:
    """Require Moodle's column names, in Moodle's order."""
    found = [cell.strip() for cell in cells]
    if len(found) != len(COLUMNS):
        raise FormatError(
            f"the header has {len(found)} columns but Moodle's competency framework CSV has {len(COLUMNS)}: "
            + ", ".join(COLUMNS),
            line=line,
        )
    for n, (name, expected) in enumerate(zip(found, COLUMNS, strict=True), start=1):
        if name.casefold() != expected.casefold():
            raise FormatError(
                f"the first line must be Moodle's header: column {n} should be {expected!r} but is {name!r}",
                line=line,
            )


def _check_width(line: int, cells: list[str]) -> None:
    """Require as many cells as the header has columns (Moodle's exporter always writes them all)."""
    if len(cells) != len(COLUMNS):
        raise FormatError(f"this row has {len(cells)} columns; every row needs {len(COLUMNS)}", line=line)


def _is_framework(line: int, value: str) -> bool:
    """Read the "Is framework" cell: 1 for a framework, 0 or empty for a competency."""
    flag = value.strip()
    if flag not in ("", "0", "1"):
        raise FormatError(f"'Is framework' must be 1, 0 or empty, not {flag!r}", line=line)
    return flag == "1"


def _read_framework(line: int, cells: list[str], frameworks: list[_Framework]) -> _Framework:
    """Start a framework from its row, refusing an id number another framework already has."""
    idnumber, title = _required_cells(line, cells, "framework")
    if any(framework.data.key == idnumber for framework in frameworks):
        raise FormatError(f"a framework with the id number {idnumber!r} appears earlier in the file", line=line)
    description = _plain_text(cells[DESCRIPTION], cells[DESCRIPTION_FORMAT])
    return _Framework(data=FrameworkData(title=title, description=description, key=idnumber))


def _add_claim(framework: _Framework, line: int, cells: list[str]) -> None:
    """Append a competency row to its framework's claims."""
    idnumber, shortname = _required_cells(line, cells, "competency")
    if idnumber in framework.lines:
        raise FormatError(
            f"the id number {idnumber!r} is already used on line {framework.lines[idnumber]} "
            f"in framework {framework.data.key!r}",
            line=line,
        )
    framework.lines[idnumber] = line
    framework.parents[idnumber] = cells[PARENT].strip()
    # The description holds the full claim; the shortname may be a cut-down copy of it.
    text = _plain_text(cells[DESCRIPTION], cells[DESCRIPTION_FORMAT]) or shortname
    # Moodle has no column for evidence kinds or rubrics: an import keeps what the claims have.
    framework.data.claims.append(ClaimData(text=text, key=idnumber, kinds_stated=False, rubric_stated=False))


def _required_cells(line: int, cells: list[str], what: str) -> tuple[str, str]:
    """The id number and shortname of a row, both of which Moodle needs to create anything."""
    idnumber, shortname = cells[IDNUMBER].strip(), cells[SHORTNAME].strip()
    if not idnumber:
        raise FormatError(f"the {what} on this row has an empty 'Id number'", line=line)
    if not shortname:
        raise FormatError(f"the {what} {idnumber!r} has an empty 'Shortname'", line=line)
    return idnumber, shortname


def _check_parents(framework: _Framework) -> None:
    """Every parent must be a competency of the same framework, and parents must not loop.

    An empty parent means top level. The framework's own id number is accepted as a parent too,
    since hand-made files often use it for top-level rows. Checked once the framework is complete
    because Moodle's exporter may list a child before its parent.
    """
    roots = {"", framework.data.key}
    for idnumber, parent in framework.parents.items():
        if parent not in roots and parent not in framework.parents:
            raise FormatError(
                f"'Parent id number' {parent!r} is not the id number of a competency in framework "
                f"{framework.data.key!r}",
                line=framework.lines[idnumber],
            )
    for idnumber in framework.parents:
        _check_no_cycle(framework, idnumber, roots)


def _check_no_cycle(framework: _Framework, idnumber: str, roots: set[str]) -> None:
    """Walk up from a competency; reaching it again (or never reaching the top) is a loop."""
    current = framework.parents[idnumber]
    for _ in range(len(framework.parents)):
        if current in roots:
            return
        current = framework.parents[current]
    raise FormatError(
        f"the parents of competency {idnumber!r} form a loop that never reaches the framework",
        line=framework.lines[idnumber],
    )


def _plain_text(value: str, text_format: str) -> str:
    """A description as text: HTML (Moodle's usual format) is flattened, anything else kept as is."""
    if text_format.strip() != FORMAT_HTML:
        return value
    parser = _TextExtractor()
    parser.feed(value)
    parser.close()
    return parser.text()


class _TextExtractor(html.parser.HTMLParser):
    """Collects the text of an HTML fragment, one line per paragraph or line break."""

    BREAKS = frozenset({"br", "p", "div", "li", "ul", "ol", "tr", "h1", "h2", "h3", "h4", "h5", "h6"})

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.parts: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in self.BREAKS:
            self.parts.append("\n")

    def handle_endtag(self, tag: str) -> None:
        if tag in self.BREAKS:
            self.parts.append("\n")

    def handle_data(self, data: str) -> None:
        # Line breaks inside HTML source are just spaces; only tags break lines.
        self.parts.append(re.sub(r"\s+", " ", data))

    def text(self) -> str:
        """The collected text, each line's spaces collapsed, blank lines dropped."""
        lines = (" ".join(line.split()) for line in "".join(self.parts).split("\n"))
        return "\n".join(line for line in lines if line)
