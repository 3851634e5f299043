"""Jupyter notebooks uploaded as evidence: parse them defensively, render them inertly, extract their code.

A notebook is learner content, so it is hostile until proven otherwise. Nothing in it is ever executed,
and nothing in it reaches the browser as markup except Markdown that went through the sanitising
renderer and code that Pygments escaped. Rich outputs that are markup by nature (HTML, SVG, JavaScript)
are never rendered; images are shown only when their bytes really are PNG or JPEG.
"""

from __future__ import annotations

import base64
import binascii
import json
import re
from collections.abc import Iterable, Iterator, Mapping
from typing import Any

import nbformat
from django.utils.html import format_html
from pygments import highlight
from pygments.formatters import HtmlFormatter
from pygments.lexers import PythonLexer

from evidence.notebook_schema import schema_problem
from tracker.markdown import render_markdown

MB = 1024 * 1024
MAX_NOTEBOOK_BYTES = 10 * MB
MAX_CELLS = 1_000
# Lists and objects, counted as brackets in the raw file (those inside strings too, so it errs on the safe side).
# Each costs a microsecond or more to parse and convert: 3.5 million empty objects (7 MB) took 6 s to accept.
MAX_JSON_CONTAINERS = 200_000
# Counted before the schema is checked: validation time grows with the number of outputs, not their bytes
# (the file size limit bounds those). Generous for real notebooks, which Jupyter keeps to a few per cell.
MAX_OUTPUTS_PER_CELL = 200
MAX_OUTPUTS = 5_000
MAX_OUTPUT_CHARS = 20_000  # per output: a runaway print loop should not drown the page
MAX_OUTPUTS_TOTAL_CHARS = 2 * MB  # all rendered outputs together, counted in characters of HTML
# Cell sources highlighted or rendered as Markdown, together: both are slow (Markdown dense with markup renders at
# about 100 kB a second), and 10 MB of source took close to a minute to show. Sources past it are shown as plain text.
MAX_FORMATTED_CHARS = 100_000

TRUNCATED_NOTE = '<p class="nb-note nb-truncated">[output truncated]</p>'
UNFORMATTED_NOTE = '<p class="nb-note">[too long to format: shown as plain text]</p>'
_IMAGE_OMITTED = '<p class="nb-note">[image omitted]</p>'
_MARKUP_NOT_SHOWN = '<p class="nb-note">[HTML output not shown]</p>'

# Mime types that are markup or script by nature: rendering them would hand the learner the page.
_MARKUP_MIME_TYPES = ("text/html", "image/svg+xml", "application/javascript")
_IMAGE_MAGIC = {"image/png": b"\x89PNG\r\n\x1a\n", "image/jpeg": b"\xff\xd8\xff"}

# CSI sequences (colours, cursor moves), OSC sequences (titles, hyperlinks) and two-character escapes.
_ANSI_RE = re.compile(r"\x1b(?:\[[0-?]*[ -/]*[@-~]|\][^\x07\x1b]*(?:\x07|\x1b\\)?|[@-Z\\-_])")
_CELL_ID_RE = re.compile(r"^[a-zA-Z0-9_-]{1,64}$")


class NotebookError(ValueError):
    """A notebook that cannot be accepted; `message` is a sentence a learner understands."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


# --- parsing ---------------------------------------------------------------------------------------------


def notebook_parse(data: bytes) -> nbformat.NotebookNode:
    """Parse and validate an uploaded notebook, converting older formats to nbformat 4.

    Args:
        data: The raw bytes of the uploaded file.

    Returns:
        The notebook as nbformat 4, with multi-line fields joined into strings.

    Raises:
        NotebookError: The file is too big, not UTF-8, not JSON, not a notebook, or has too many cells.
    """
    if len(data) > MAX_NOTEBOOK_BYTES:
        raise NotebookError(
            f"This notebook is {_megabytes(len(data))} MB; the limit is {MAX_NOTEBOOK_BYTES // MB} MB. "
            "Clear its cell outputs in Jupyter and upload it again."
        )
    containers = data.count(b"{") + data.count(b"[")
    if containers > MAX_JSON_CONTAINERS:
        raise NotebookError(
            f"This notebook is too intricate to check: it has over {MAX_JSON_CONTAINERS:,} brackets. "
            "Clear its cell outputs in Jupyter and upload it again."
        )
    text = _decode(data)
    try:
        # Deeply nested JSON makes json and nbformat recurse until Python gives up; refuse it cleanly.
        return _parse_text(text)
    except RecursionError:
        raise NotebookError("This file is not a Jupyter notebook: its JSON is nested too deeply.") from None


def _decode(data: bytes) -> str:
    try:
        # utf-8-sig: some Windows editors prepend a byte-order mark, which json.loads would reject.
        return data.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise NotebookError("This file is not a Jupyter notebook: it is not UTF-8 text.") from None


def _parse_text(text: str) -> nbformat.NotebookNode:
    try:
        raw = json.loads(text)
    except json.JSONDecodeError as exc:
        raise NotebookError(f"This file is not a Jupyter notebook: it is not valid JSON (line {exc.lineno}).") from None
    if not isinstance(raw, dict):
        raise NotebookError("This file is not a Jupyter notebook: it is JSON, but not a notebook object.")
    major, minor = _version(raw)
    _check_limits(_all_cells(raw))
    if major < 4:
        raw = _upgrade(raw, major, minor)
        minor = int(raw["nbformat_minor"])
    cells = raw.get("cells")
    if not isinstance(cells, list):
        raise NotebookError('This file is not a Jupyter notebook: it has no "cells" list.')
    _check_limits(cells)
    if minor >= 5:
        _repair_cell_ids(cells)
    _validate(raw, 4, minor)
    # to_notebook joins multi-line lists into strings and drops transient fields, as nbformat.reads does.
    node: nbformat.NotebookNode = nbformat.v4.to_notebook_json(raw)
    return node


def _all_cells(raw: Mapping[str, Any]) -> list[Any]:
    """The cells of a notebook of any version: format 4 (and 1) lists them, 2 and 3 group them in worksheets."""
    cells = raw.get("cells")
    if isinstance(cells, list):
        return cells
    worksheets = raw.get("worksheets")
    if not isinstance(worksheets, list):
        return []
    return [cell for sheet in worksheets if isinstance(sheet, dict) for cell in _list(sheet.get("cells"))]


def _check_limits(cells: list[Any]) -> None:
    """Refuse notebooks whose size in cells and outputs would make checking them slow, before checking them."""
    if len(cells) > MAX_CELLS:
        raise NotebookError(f"This notebook has {len(cells):,} cells; the limit is {MAX_CELLS:,}.")
    total = 0
    for number, cell in enumerate(cells, start=1):
        count = len(_list(cell.get("outputs"))) if isinstance(cell, dict) else 0
        if count > MAX_OUTPUTS_PER_CELL:
            raise NotebookError(
                f"Cell {number} has {count:,} outputs; the limit is {MAX_OUTPUTS_PER_CELL:,} per cell. "
                "Clear its outputs in Jupyter and upload the notebook again."
            )
        total += count
    if total > MAX_OUTPUTS:
        raise NotebookError(
            f"This notebook has {total:,} outputs; the limit is {MAX_OUTPUTS:,}. "
            "Clear its cell outputs in Jupyter and upload it again."
        )


def _list(value: Any) -> list[Any]:
    return value if isinstance(value, list) else []


def _version(raw: Mapping[str, Any]) -> tuple[int, int]:
    """Read nbformat / nbformat_minor, refusing anything but plain integers.

    nbformat itself asserts on non-integer versions, so a string here would become a server error.
    """
    major = raw.get("nbformat")
    minor = raw.get("nbformat_minor", 0)
    # `type(...) is int` rather than isinstance: JSON true would otherwise pass as version 1.
    if type(major) is not int or type(minor) is not int or minor < 0:
        raise NotebookError("This file is not a Jupyter notebook: it does not say which notebook format it uses.")
    if major < 1 or major > 4:
        raise NotebookError(f"This notebook uses format version {major}, which is not supported (use version 4).")
    return major, minor


def _upgrade(raw: dict[str, Any], major: int, minor: int) -> dict[str, Any]:
    """Convert an nbformat 1-3 notebook to version 4 (what nbformat.reads(as_version=4) does).

    A version 3 notebook is checked against its schema first, so a broken one gets a precise message
    and the converter (which logs every problem it meets, learner content included) sees sane input.
    Versions 1 and 2 predate the schemas; the converter is their only check.
    """
    if major == 3:
        _validate(raw, 3, minor)
    try:
        old = nbformat.versions[major].to_notebook_json(raw, minor=minor)
        upgraded: dict[str, Any] = nbformat.convert(old, 4)
    # The converters assume a well-formed old notebook; on hostile input they fail in many ways, none of
    # which should become a server error.
    except Exception:  # noqa: BLE001
        raise NotebookError(
            f"This notebook uses the old format version {major} and could not be converted; "
            "open and save it in a current Jupyter, then upload it again."
        ) from None
    return upgraded


def _repair_cell_ids(cells: list[Any]) -> None:
    """Give cells missing or duplicate ids a fresh one, as nbformat.validate would.

    Done here because nbformat's own repair runs before schema validation and crashes on cells that are
    not objects, and it emits warnings. Malformed ids are left for the schema to report.
    """
    seen: set[str] = set()
    for index, cell in enumerate(cells):
        if not isinstance(cell, dict):
            continue
        cell_id = cell.get("id")
        if cell_id is None or (isinstance(cell_id, str) and cell_id in seen):
            cell_id = f"cell-{index + 1}"
            while cell_id in seen:
                cell_id += "-x"
            cell["id"] = cell_id
        if isinstance(cell_id, str):
            seen.add(cell_id)


def _validate(raw: dict[str, Any], major: int, minor: int) -> None:
    """Check the notebook against its nbformat schema (in bounded time) and report the first problem."""
    try:
        problem = schema_problem(raw, major, minor)
    except LookupError:
        raise NotebookError(f"This notebook uses format version {major}.{minor}, which is not supported.") from None
    if problem is not None:
        raise NotebookError(f"This file is not a valid Jupyter notebook: {problem}")


def _megabytes(size: int) -> str:
    # Round up so a file just over the limit never reads as exactly the limit.
    return f"{-(-size * 10 // MB) / 10:.1f}"


# --- rendering ---------------------------------------------------------------------------------------------


class _OutputBudget:
    """What is left of MAX_OUTPUTS_TOTAL_CHARS for this notebook's rendered outputs."""

    def __init__(self) -> None:
        self.remaining = MAX_OUTPUTS_TOTAL_CHARS
        self.exhausted = False

    def take(self, html: str) -> bool:
        if self.exhausted or len(html) > self.remaining:
            self.exhausted = True
            return False
        self.remaining -= len(html)
        return True


class _FormatBudget:
    """What is left of MAX_FORMATTED_CHARS; once a source does not fit, the rest are shown as plain text."""

    def __init__(self) -> None:
        self.remaining = MAX_FORMATTED_CHARS

    def take(self, source: str) -> bool:
        if len(source) > self.remaining:
            self.remaining = 0
            return False
        self.remaining -= len(source)
        return True


def notebook_render(nb: nbformat.NotebookNode) -> str:
    """Render a notebook as inert HTML for read-only display.

    Markdown goes through the sanitising renderer, code through Pygments, and outputs are shown as
    escaped text or verified PNG/JPEG images; markup outputs (HTML, SVG, JavaScript) never are.

    Returns:
        HTML safe to mark safe in a template.
    """
    formatter = HtmlFormatter(nowrap=False)
    budget, formatting = _OutputBudget(), _FormatBudget()
    parts = [_render_cell(cell, formatter, budget, formatting) for cell in nb.get("cells", [])]
    return '<div class="nb">' + "".join(parts) + "</div>"


def _render_cell(
    cell: Mapping[str, Any], formatter: HtmlFormatter[str], budget: _OutputBudget, formatting: _FormatBudget
) -> str:
    cell_type = cell.get("cell_type")
    source = _text(cell.get("source"))
    formatted = cell_type in ("markdown", "code") and formatting.take(source)
    if cell_type == "markdown":
        # render_markdown's output is nh3-sanitised, so it may be concatenated as markup.
        html = render_markdown(source) if formatted else _plain(source)
        return '<div class="nb-cell nb-markdown">' + html + "</div>"
    if cell_type == "code":
        return (
            '<div class="nb-cell nb-code-cell">'
            + (_render_code(source, cell.get("execution_count"), formatter) if formatted else _plain(source))
            + _render_outputs(cell.get("outputs") or [], budget)
            + "</div>"
        )
    if cell_type == "raw":
        return format_html('<div class="nb-cell nb-raw"><pre>{}</pre></div>', source)
    return '<div class="nb-cell"><p class="nb-note">[cell of an unknown type not shown]</p></div>'


def _plain(source: str) -> str:
    return format_html('<pre class="nb-plain">{}</pre>', source) + UNFORMATTED_NOTE


def _render_code(source: str, execution_count: Any, formatter: HtmlFormatter[str]) -> str:
    count = execution_count if type(execution_count) is int else " "
    prompt = format_html('<div class="nb-prompt">In [{}]:</div>', count)
    # Pygments escapes every token it emits; with default options it adds no attributes of its own.
    code: str = highlight(source, PythonLexer(), formatter)
    return '<div class="nb-code">' + prompt + code + "</div>"


def _render_outputs(outputs: Iterable[Any], budget: _OutputBudget) -> str:
    parts: list[str] = []
    for output in outputs:
        if not isinstance(output, Mapping):
            continue
        html = _render_output(output)
        if not budget.take(html):
            parts.append(TRUNCATED_NOTE)
            break
        parts.append(html)
    if not parts:
        return ""
    return '<div class="nb-outputs">' + "".join(parts) + "</div>"


def _render_output(output: Mapping[str, Any]) -> str:
    output_type = output.get("output_type")
    if output_type == "stream":
        name = "nb-stderr" if output.get("name") == "stderr" else "nb-stdout"
        return _pre(_strip_ansi(_text(output.get("text"))), css_class=name)
    if output_type == "error":
        return _pre(_error_text(output), css_class="nb-error")
    if output_type in ("execute_result", "display_data"):
        data = output.get("data")
        return _render_mime_bundle(data if isinstance(data, Mapping) else {})
    return '<p class="nb-note">[output of an unknown type not shown]</p>'


def _error_text(output: Mapping[str, Any]) -> str:
    header = f"{_text(output.get('ename'))}: {_text(output.get('evalue'))}"
    traceback = output.get("traceback")
    lines = [_text(line) for line in traceback] if isinstance(traceback, list) else []
    return _strip_ansi("\n".join([header, *lines]))


def _render_mime_bundle(data: Mapping[str, Any]) -> str:
    """Pick the one representation of a rich output that is safe to show."""
    for mime_type, magic in _IMAGE_MAGIC.items():
        if mime_type in data:
            return _render_image(mime_type, magic, data[mime_type])
    if "text/plain" in data:
        return _pre(_strip_ansi(_text(data["text/plain"])), css_class="nb-result")
    if any(mime_type in data for mime_type in _MARKUP_MIME_TYPES):
        return _MARKUP_NOT_SHOWN
    return '<p class="nb-note">[output not shown]</p>'


def _render_image(mime_type: str, magic: bytes, value: Any) -> str:
    """Show an image only if its payload decodes and really starts with the format's magic bytes."""
    try:
        payload = base64.b64decode("".join(_text(value).split()), validate=True)
    except (binascii.Error, ValueError):
        return _IMAGE_OMITTED
    if not payload.startswith(magic):
        return _IMAGE_OMITTED
    # Re-encode rather than reuse the learner's string: the src then holds only base64 characters.
    src = f"data:{mime_type};base64,{base64.b64encode(payload).decode('ascii')}"
    return format_html('<div class="nb-image"><img src="{}" alt=""></div>', src)


def _pre(text: str, *, css_class: str) -> str:
    note = ""
    if len(text) > MAX_OUTPUT_CHARS:
        text = text[:MAX_OUTPUT_CHARS]
        note = TRUNCATED_NOTE
    return format_html('<pre class="nb-output {}">{}</pre>', css_class, text) + note


def _strip_ansi(text: str) -> str:
    # A lone ESC left by a malformed sequence is dropped as well; it has no meaning in HTML.
    return _ANSI_RE.sub("", text).replace("\x1b", "")


def _text(value: Any) -> str:
    """A notebook text field as a string: nbformat allows a string or a list of lines."""
    if isinstance(value, str):
        return value
    if isinstance(value, list):
        return "".join(item for item in value if isinstance(item, str))
    return ""


def pygments_css() -> str:
    """The stylesheet for highlighted code, scoped to the `.nb-code` wrapper."""
    css: str = HtmlFormatter(style="default").get_style_defs(".nb-code")
    return css


# --- code extraction ---------------------------------------------------------------------------------------


def notebook_code(nb: nbformat.NotebookNode, *, drop_magics: bool = True) -> tuple[str, list[str]]:
    """Concatenate the source of the code cells into one Python script.

    Cells are numbered by their position in the notebook (markdown cells count), so notices match what
    the learner sees. Each block starts with a `# --- cell N ---` comment; blocks are separated by blank
    lines and cells left empty are skipped.

    Args:
        nb: A parsed notebook.
        drop_magics: Drop lines starting with `!` or `%` (shell escapes, IPython magics), and whole cells
            starting with a `%%` cell magic. They are not Python. The check is per line, so such a line
            inside a multi-line string is dropped too; `x = !ls` and `get_ipython()` calls are kept.

    Returns:
        The script, and one notice per dropped line or cell.
    """
    blocks: list[str] = []
    notices: list[str] = []
    for number, cell in enumerate(nb.get("cells", []), start=1):
        if cell.get("cell_type") != "code":
            continue
        source = _text(cell.get("source"))
        if drop_magics:
            source = _drop_magics(number, source, notices)
        if source.strip():
            blocks.append(f"# --- cell {number} ---\n{source.rstrip()}\n")
    return "\n\n".join(blocks), notices


# `%%writefile [-a] name.py`: the cell is a Python module the notebook writes and then imports (the pattern the
# starter notebooks use to keep one file for trying and submitting). Its code is kept in place of the import.
_WRITEFILE_PY = re.compile(r"^%%writefile(?:\s+-a|\s+--append)?\s+\S+\.py\s*$")


def _drop_magics(number: int, source: str, notices: list[str]) -> str:
    lines = source.splitlines()
    first = next((line.strip() for line in lines if line.strip()), "")
    if _WRITEFILE_PY.match(first):
        body = lines[next(i for i, line in enumerate(lines) if line.strip()) + 1 :]
        notices.append(f"Cell {number}: kept the Python that `{_clip(first)}` writes, as the module it imports")
        return "\n".join(_kept_lines(number, body, notices))
    if first.startswith("%%"):
        notices.append(f"Cell {number}: dropped the whole cell, which starts with the cell magic `{_clip(first)}`")
        return ""
    kept = list(_kept_lines(number, lines, notices))
    return "\n".join(kept)


def _kept_lines(number: int, lines: list[str], notices: list[str]) -> Iterator[str]:
    for line_number, line in enumerate(lines, start=1):
        if line.lstrip().startswith(("!", "%")):
            notices.append(f"Cell {number}, line {line_number}: dropped shell/magic line `{_clip(line.strip())}`")
            continue
        yield line


def _clip(text: str, limit: int = 80) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"


__all__ = [
    "MAX_CELLS",
    "MAX_JSON_CONTAINERS",
    "MAX_NOTEBOOK_BYTES",
    "MAX_OUTPUTS",
    "MAX_OUTPUTS_PER_CELL",
    "MAX_OUTPUTS_TOTAL_CHARS",
    "MAX_OUTPUT_CHARS",
    "NotebookError",
    "notebook_code",
    "notebook_parse",
    "notebook_render",
    "pygments_css",
]


def highlight_python(source: str) -> str:
    """A learner's .py file as highlighted, escaped HTML (same styles as notebook code cells)."""
    code: str = highlight(source, PythonLexer(), HtmlFormatter(linenos="table"))
    # A long line scrolls this box sideways (not the page); keyboard users reach it with Tab to scroll it too.
    return '<div class="nb-code source" tabindex="0" role="region" aria-label="Source code">' + code + "</div>"
