"""A notebook checked against its nbformat schema, in a time bounded whatever the file holds.

A schema error is reported as one sentence a learner understands, naming where it is ("cell 3, output 1").
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping
from typing import Any

from jsonschema.exceptions import ValidationError, best_match
from nbformat.validator import get_validator

MAX_ERROR_DETAIL_CHARS = 200  # a schema error quotes the offending value, which may be huge
# jsonschema explains a refused part only up to this size: its errors multiply with the items it meets
# (and quote them), so a larger part is named by its place alone.
MAX_EXPLAINED_ITEMS = 2_000
MAX_EXPLAINED_CHARS = 1_000_000


def schema_problem(raw: dict[str, Any], major: int, minor: int) -> str | None:
    """The notebook's first departure from its nbformat schema, as one sentence; None if it conforms.

    The time this takes is bounded whatever the file holds. fastjsonschema (fast, but vague about failures)
    checks the whole notebook; when it refuses, the first refused part is found by checking the parts one at
    a time (the notebook without its cells, then each cell without its outputs and each output alone), and
    only that part is explained by jsonschema, which is precise but slow: run over a whole hostile notebook
    it took tens of seconds of a web worker.

    Uses nbformat's schemas and validators directly: nbformat.validate would also "normalise" first and
    dresses errors with a helper that raises TypeError on hostile cell types.

    Raises:
        LookupError: nbformat has no schema for this version.
    """
    fast = get_validator(major, minor, name="fastjsonschema")
    precise = get_validator(major, minor, name="jsonschema")
    if fast is None or precise is None:
        raise LookupError(f"no schema for nbformat {major}.{minor}")
    if _accepts(fast, raw):
        return None
    for part in _refused_parts(fast, raw, major, minor):
        problem = part.explain(precise)
        if problem is not None:
            return problem
    return None


def _accepts(validator: Any, document: Mapping[str, Any]) -> bool:
    try:
        return not list(validator.iter_errors(document))
    # fastjsonschema crashing on odd input counts as a refusal: jsonschema then decides.
    except Exception:  # noqa: BLE001
        return False


class _Part:
    """One part of a notebook, checked alone: `probe` is a minimal notebook holding it at `probe_path`.

    Its errors are reported at `path`, where the part sits in the learner's notebook.
    """

    def __init__(self, probe: Mapping[str, Any], probe_path: tuple[Any, ...], path: tuple[Any, ...]) -> None:
        self.probe, self.probe_path, self.path = probe, probe_path, path

    def explain(self, validator: Any) -> str | None:
        """The part's first problem as a sentence, or None if jsonschema finds none after all."""
        if not _is_small(self.probe):
            where = _location(list(self.path))
            return (
                f"{where}: it does not match the notebook format." if where else "its top-level fields are not valid."
            )
        error = _first_schema_error(validator.iter_errors(self.probe))
        return None if error is None else _describe(error, self._real_path(list(error.absolute_path)))

    def _real_path(self, path: list[Any]) -> list[Any]:
        # The probe path and the real one have the same shape ("cells", 0) / ("cells", 7): map the common prefix.
        matched = 0
        while matched < min(len(path), len(self.probe_path)) and path[matched] == self.probe_path[matched]:
            matched += 1
        return [*self.path[:matched], *path[matched:]]


def _refused_parts(fast: Any, raw: dict[str, Any], major: int, minor: int) -> Iterator[_Part]:
    """The parts fastjsonschema refuses, in document order: the notebook without its cells, then the cells."""
    skeleton = _skeleton(raw, major)
    if not _accepts(fast, skeleton):
        yield _Part(skeleton, (), ())
    for path, cell in _cells_with_paths(raw, major):
        yield from _refused_cell_parts(fast, cell, path, major, minor)


def _refused_cell_parts(fast: Any, cell: Any, path: tuple[Any, ...], major: int, minor: int) -> Iterator[_Part]:
    """A cell's refused parts: the cell without its outputs, then each output alone.

    The schema checks outputs one by one, so a cell is refused exactly when one of these parts is; checking
    the parts rather than the cell and then its parts keeps each output to one more pass.
    """
    outputs = cell.get("outputs") if isinstance(cell, dict) else None
    if not isinstance(outputs, list) or not outputs:
        probe, probe_path = _probe(cell, major, minor)
        if not _accepts(fast, probe):
            yield _Part(probe, probe_path, path)
        return
    bare, probe_path = _probe({**cell, "outputs": []}, major, minor)
    if not _accepts(fast, bare):
        yield _Part(bare, probe_path, path)
    for index, output in enumerate(outputs):
        probe, _path = _probe({**cell, "outputs": [output]}, major, minor)
        if not _accepts(fast, probe):
            yield _Part(probe, (*probe_path, "outputs", 0), (*path, "outputs", index))


def _skeleton(raw: dict[str, Any], major: int) -> dict[str, Any]:
    """The notebook with its cells left out (only where they are a list: anything else is for the schema)."""
    if major >= 4:
        return {**raw, "cells": []} if isinstance(raw.get("cells"), list) else raw
    sheets = raw.get("worksheets")
    if not isinstance(sheets, list):
        return raw
    empty = [{**s, "cells": []} if isinstance(s, dict) and isinstance(s.get("cells"), list) else s for s in sheets]
    return {**raw, "worksheets": empty}


def _cells_with_paths(raw: dict[str, Any], major: int) -> Iterator[tuple[tuple[Any, ...], Any]]:
    if major >= 4:
        for index, cell in enumerate(_list(raw.get("cells"))):
            yield ("cells", index), cell
        return
    for sheet_index, sheet in enumerate(_list(raw.get("worksheets"))):
        for index, cell in enumerate(_list(sheet.get("cells")) if isinstance(sheet, dict) else []):
            yield ("worksheets", sheet_index, "cells", index), cell


def _probe(cell: Any, major: int, minor: int) -> tuple[dict[str, Any], tuple[Any, ...]]:
    """A minimal valid notebook holding just `cell`, and where the cell sits in it."""
    base = {"nbformat": major, "nbformat_minor": minor, "metadata": {}}
    if major >= 4:
        return {**base, "cells": [cell]}, ("cells", 0)
    return {**base, "worksheets": [{"cells": [cell]}]}, ("worksheets", 0, "cells", 0)


def _is_small(value: Any) -> bool:
    """Whether a JSON value is within what jsonschema explains quickly; counted without recursion, stopping early."""
    stack, items, chars = [value], 0, 0
    while stack:
        item = stack.pop()
        if isinstance(item, str):
            chars += len(item)
        elif isinstance(item, dict | list):
            children = list(item.values()) if isinstance(item, dict) else item
            items += len(children)
            stack.extend(children)
        if items > MAX_EXPLAINED_ITEMS or chars > MAX_EXPLAINED_CHARS:
            return False
    return True


def _first_schema_error(errors: Iterable[ValidationError]) -> ValidationError | None:
    """The most specific schema error: descend into oneOf failures towards the branch the item meant."""
    error = best_match(errors)
    while error is not None and error.context:
        relevant = _meant_branch_errors(error.context)
        if not relevant:
            break
        error = best_match(relevant)
    return error


def _meant_branch_errors(context: list[ValidationError]) -> list[ValidationError]:
    """Errors of the oneOf branches whose type tag matched.

    A cell or output is checked against every cell/output type; a branch whose "cell_type"/"output_type"
    did not match says nothing useful about what is wrong ("'text' was unexpected" for a stream output
    checked as display_data), so such branches are dropped whole.
    """
    mismatched = {_branch(sub) for sub in context if _is_type_tag_mismatch(sub)}
    return [sub for sub in context if _branch(sub) not in mismatched]


def _branch(error: ValidationError) -> object:
    """Which alternative of the enclosing oneOf an error belongs to (its index in the schema list)."""
    return error.relative_schema_path[0] if error.relative_schema_path else None


def _is_type_tag_mismatch(error: ValidationError) -> bool:
    path = list(error.relative_path)
    return bool(path) and path[-1] in ("cell_type", "output_type") and error.validator in ("enum", "const")


def _describe(error: ValidationError, path: list[Any]) -> str:
    location = _location(path)
    # A oneOf failure's own message is a repr of the whole cell; say what it means instead.
    vague = error.validator in ("oneOf", "anyOf")
    detail = "it is not a recognised kind of cell or output" if vague else error.message
    sentence = f"{location}: {detail}" if location else detail
    if len(sentence) > MAX_ERROR_DETAIL_CHARS:
        sentence = sentence[: MAX_ERROR_DETAIL_CHARS - 1] + "…"
    return sentence.rstrip(".") + "."


def _location(path: list[Any]) -> str:
    """Turn a JSON path into words: ["cells", 2, "outputs", 0, "text"] -> "cell 3, output 1, text"."""
    words: list[str] = []
    for position, part in enumerate(path):
        previous = path[position - 1] if position else None
        if part in ("cells", "outputs") and position + 1 < len(path) and isinstance(path[position + 1], int):
            continue  # named together with its index below
        if isinstance(part, int):
            words.append(f"{previous[:-1]} {part + 1}" if previous in ("cells", "outputs") else f"item {part + 1}")
        else:
            words.append(str(part))
    return ", ".join(words)


def _list(value: Any) -> list[Any]:
    return value if isinstance(value, list) else []
