"""Adversarial notebooks, each as large and as costly to check as the limits allow.

They are what the budget tests throw at the real upload paths: many cells, many invalid outputs, deep
nesting, huge single strings and huge mappings, in formats 4 and 3. Each is built just under the size,
cell and output limits, so that a notebook the limits let in is as slow to refuse (or accept) as it can be.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

from evidence.notebook_schema import MAX_EXPLAINED_ITEMS
from evidence.notebooks import (
    MAX_CELLS,
    MAX_JSON_CONTAINERS,
    MAX_NOTEBOOK_BYTES,
    MAX_OUTPUTS,
    MAX_OUTPUTS_PER_CELL,
)

Json = dict[str, Any]
OUTPUTS_PER_CELL = MAX_OUTPUTS // MAX_CELLS  # every cell as full as the total allows


def _notebook(cells: list[Any], **extra: Any) -> Json:
    return {"nbformat": 4, "nbformat_minor": 5, "metadata": {}, "cells": cells, **extra}


def _code(index: int, outputs: list[Any], **extra: Any) -> Json:
    cell = {"cell_type": "code", "id": f"c{index}", "metadata": {}, "source": "x = 1", "execution_count": 1}
    return {**cell, "outputs": outputs, **extra}


def _stream(text: str) -> Json:
    return {"output_type": "stream", "name": "stdout", "text": text}


def _fill(make: Callable[[int], bytes]) -> bytes:
    """The largest notebook `make(n)` builds under the size limit (sizes grow linearly with n)."""
    small, large = len(make(100)), len(make(200))
    n = 100 + (MAX_NOTEBOOK_BYTES - small) * 100 // (large - small)
    data = make(n)
    while len(data) > MAX_NOTEBOOK_BYTES:  # not quite linear (numbers in keys grow longer): scale down
        n = n * MAX_NOTEBOOK_BYTES // len(data) - 1
        data = make(n)
    return data


def _dumps(notebook: Json) -> bytes:
    return json.dumps(notebook, separators=(",", ":")).encode()


def every_output_invalid() -> bytes:
    """The reported attack: every cell full of outputs that all fail the schema (no stream name)."""

    def make(size: int) -> bytes:
        output = {"output_type": "stream", "text": "y" * size}
        return _dumps(_notebook([_code(i, [output] * OUTPUTS_PER_CELL) for i in range(MAX_CELLS)]))

    return _fill(make)


def valid_until_the_last_output() -> bytes:
    """Everything valid and large, except the very last output: the whole notebook must be walked."""

    def make(size: int) -> bytes:
        cells = [_code(i, [_stream("z" * size)] * OUTPUTS_PER_CELL) for i in range(MAX_CELLS)]
        cells[-1]["outputs"][-1] = {"output_type": "stream", "name": 7, "text": "z"}
        return _dumps(_notebook(cells))

    return _fill(make)


def many_invalid_mime_keys() -> bytes:
    """One cell with the most outputs, each a rich output whose every representation has the wrong type."""

    def make(keys: int) -> bytes:
        output = b'{"output_type":"display_data","metadata":{},"data":{%s}}' % _entries(keys, b"1")
        notebook = _dumps(_notebook([_code(0, [])]))
        return notebook.replace(b'"outputs":[]', b'"outputs":[%s]' % b",".join([output] * MAX_OUTPUTS_PER_CELL))

    return _fill(make)


def one_giant_invalid_output() -> bytes:
    """A single output whose mapping holds as many invalid entries as fit in the file."""

    def make(keys: int) -> bytes:
        output = {"output_type": "execute_result", "execution_count": 1, "metadata": {}, "data": {}}
        return _dumps(_notebook([_code(0, [output])])).replace(b'"data":{}', b'"data":{' + _entries(keys, b"1") + b"}")

    return _fill(make)


def _entries(count: int, value: bytes) -> bytes:
    """`count` JSON object members `"k<n>": value`, written directly: building them as a dict is slow."""
    return b",".join(b'"k%d":%s' % (n, value) for n in range(count))


def deep_nesting_everywhere() -> bytes:
    """Metadata nested 400 deep in as many cells as the bracket limit allows, and the last cell's source too."""
    depth = 400

    def nested() -> Any:
        value: Any = "leaf"
        for _ in range(depth):
            value = {"a": [value]}
        return value

    count = min(MAX_CELLS, MAX_JSON_CONTAINERS // (2 * depth + 10) - 2)
    cells = [{**_code(i, []), "metadata": {"deep": nested()}} for i in range(count)]
    cells[-1]["source"] = [nested()]
    return _dumps(_notebook(cells, metadata={"deep": nested()}))


def explained_mime_keys() -> bytes:
    """The most outputs in one cell, each as large as jsonschema is still asked to explain, all invalid."""
    keys = MAX_EXPLAINED_ITEMS - 20
    output = b'{"output_type":"display_data","metadata":{},"data":{%s}}' % _entries(keys, b"1")
    outputs = b",".join([output] * MAX_OUTPUTS_PER_CELL)
    return _dumps(_notebook([_code(0, [])])).replace(b'"outputs":[]', b'"outputs":[%s]' % outputs)


def most_brackets() -> bytes:
    """Just over the bracket limit: empty objects in the metadata (each is costly to parse and convert)."""
    objects = b",".join([b"{}"] * (MAX_JSON_CONTAINERS + 1))
    return _dumps(_notebook([], metadata={"m": []})).replace(b'"m":[]', b'"m":[%s]' % objects)


def huge_single_string() -> bytes:
    """One string filling the file, in a cell that is invalid for another reason (an unknown field)."""

    def make(size: int) -> bytes:
        return _dumps(_notebook([_code(0, [], source="s" * size, unknown=True)]))

    return _fill(make)


def huge_source_list() -> bytes:
    """A source given as a list of a million tiny lines, the last of which is not a string."""

    def make(lines: int) -> bytes:
        return _dumps(_notebook([_code(0, [], source=["a"] * lines + [1])]))

    return _fill(make)


def huge_invalid_metadata() -> bytes:
    """Top-level metadata with a huge mapping and a kernelspec of the wrong type."""

    def make(keys: int) -> bytes:
        notebook = _dumps(_notebook([_code(0, [])], metadata={"kernelspec": 5}))
        return notebook.replace(b'"kernelspec":5', b'"kernelspec":5,' + _entries(keys, b"1"))

    return _fill(make)


def format3_every_output_invalid() -> bytes:
    """The reported attack in the older format, which is checked before it is converted."""

    def make(size: int) -> bytes:
        output = {"output_type": "stream", "text": "y" * size}  # format 3 streams need a "stream" field
        cells = [
            {"cell_type": "code", "input": "x", "language": "python", "outputs": [output] * OUTPUTS_PER_CELL}
            for _ in range(MAX_CELLS)
        ]
        notebook = {"nbformat": 3, "nbformat_minor": 0, "metadata": {}, "worksheets": [{"cells": cells}]}
        return _dumps(notebook)

    return _fill(make)


def reported_attack() -> bytes:
    """The notebook from the incident: 2,000 cells, each with an invalid output (2.3 MB, 24 s to refuse)."""
    output = {"output_type": "stream", "text": "y" * 1000}
    return _dumps(_notebook([_code(i, [output]) for i in range(2 * MAX_CELLS)]))


def largest_valid() -> bytes:
    """The biggest notebook that is accepted: every cell and output used, all valid."""

    def make(size: int) -> bytes:
        return _dumps(_notebook([_code(i, [_stream("v" * size)] * OUTPUTS_PER_CELL) for i in range(MAX_CELLS)]))

    return _fill(make)


def most_markdown() -> bytes:
    """Accepted, and slow to show if all of it were rendered: every cell dense Markdown."""
    markdown = (
        "# Title\n\n*a* **b** [link](https://example.com) `code` www.example.org\n\n- item\n\n|a|b|\n|-|-|\n|x|y|\n"
    )

    def make(repeats: int) -> bytes:
        cell = {"cell_type": "markdown", "metadata": {}, "source": markdown * repeats}
        return _dumps(_notebook([{**cell, "id": f"m{i}"} for i in range(MAX_CELLS)]))

    return _fill(make)


def most_code() -> bytes:
    """Accepted, and slow to show if all of it were highlighted: one cell of Python filling the file."""
    line = "model.add(keras.layers.Dense(units=128, activation='relu', name=\"dense\"))  # a comment\n"
    return _fill(lambda repeats: _dumps(_notebook([{**_code(0, []), "source": line * repeats}])))


HOSTILE: dict[str, Callable[[], bytes]] = {
    fn.__name__: fn
    for fn in (
        every_output_invalid,
        valid_until_the_last_output,
        many_invalid_mime_keys,
        one_giant_invalid_output,
        deep_nesting_everywhere,
        explained_mime_keys,
        most_brackets,
        huge_single_string,
        huge_source_list,
        huge_invalid_metadata,
        format3_every_output_invalid,
        reported_attack,
    )
}


def brackets_just_allowed() -> bytes:
    """Just under the bracket limit: the costliest structure the limits let in."""
    objects = b",".join([b"{}"] * (MAX_JSON_CONTAINERS - 10))
    return _dumps(_notebook([], metadata={"m": []})).replace(b'"m":[]', b'"m":[%s]' % objects)


# Notebooks the limits let in, which the evidence page must still show quickly.
ACCEPTED: dict[str, Callable[[], bytes]] = {
    fn.__name__: fn for fn in (largest_valid, most_markdown, most_code, brackets_just_allowed)
}
