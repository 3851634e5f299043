"""What comes back out of a sandbox, checked before the platform stores, shows or believes any of it.

Learner code wrote the training sandbox's files (the harness only asks it not to), and the learner's model
ran beside the harness in the prediction sandbox: every value is untrusted. The readers here are pure in,
pure out, like `trainer.scoring`: text is cut to size and made storable (no NUL, no lone surrogates, which
PostgreSQL and SQLite refuse), numbers must be finite and fit their column, and content that the platform
cannot use at all is a `BadOutput`, which the pipeline ends the run with (ErrorKind.BAD_OUTPUT): the
learner's doing, never retried, said in plain words, never a database error.
"""

from __future__ import annotations

import json
import math
from pathlib import Path
from typing import Any

MAX_BIGINT = 2**63 - 1  # PositiveBigIntegerField (param_count)
MAX_KEY_CHARS = 40  # a metric name in a progress row
MAX_ROW_VALUES = 32  # numbers kept per progress row
MAX_SUMMARY_CHARS = 200_000
MAX_ENVIRONMENT_ENTRIES = 20
MAX_ENVIRONMENT_CHARS = 200


class BadOutput(Exception):
    """A sandbox wrote something the platform cannot use: the learner's doing (their code or model)."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


def safe_text(text: str) -> str:
    """Text made storable: NUL and lone surrogates (JSON's "\\ud800") become replacement characters."""
    return text.encode("utf-8", "surrogatepass").decode("utf-8", "replace").replace("\x00", "\ufffd")


def finite(value: Any) -> float | None:
    """A JSON number as a finite float; None for anything else (text, true/false, NaN, infinity, 1e400)."""
    if isinstance(value, bool) or not isinstance(value, int | float):
        return None
    try:
        number = float(value)
    except OverflowError:  # an integer beyond any float
        return None
    return number if math.isfinite(number) else None


def read_json_object(path: Path | None, name: str) -> dict[str, Any] | None:
    """The JSON object in `path`; None when there is no file.

    Raises:
        BadOutput: the file is not one JSON object (nesting deep enough to exhaust the parser included).
    """
    if path is None or not path.is_file():
        return None
    try:
        data = json.loads(path.read_text("utf-8"))
    except (ValueError, RecursionError) as error:  # UnicodeDecodeError is a ValueError
        raise BadOutput(f"out/{name} is not readable JSON.") from error
    if not isinstance(data, dict):
        raise BadOutput(f"out/{name} must hold one JSON object; it holds a {type(data).__name__}.")
    return data


def progress_rows(rows: list[dict[str, Any]], *, budget: int) -> list[dict[str, float | int]]:
    """The epoch rows of out/progress.jsonl, fit to store and to draw.

    The harness writes one row per epoch: `epoch`, an integer from 1 to the task's epoch budget, then
    numbers. A row whose epoch is anything else, or more rows than the budget, cannot be the harness's:
    learner code wrote the file, and the run ends (the epoch goes into a database column and the progress
    bar). Any other value that is not a finite number is dropped from the display only: a NaN loss is the
    harness's own report, which ends the run as nan_loss with its own words.

    Raises:
        BadOutput: a row or the row count is not the harness's.
    """
    if len(rows) > budget:
        raise BadOutput(
            f"out/progress.jsonl has {len(rows)} epoch lines; this task trains at most {budget} epochs. "
            "The platform writes that file: leave it alone."
        )
    return [_progress_row(number, row, budget) for number, row in enumerate(rows, start=1)]


def _progress_row(number: int, row: dict[str, Any], budget: int) -> dict[str, float | int]:
    epoch = row.get("epoch")
    if isinstance(epoch, bool) or not isinstance(epoch, int) or not 1 <= epoch <= budget:
        shown = safe_text(repr(epoch))[:40]
        raise BadOutput(
            f"Line {number} of out/progress.jsonl gives the epoch as {shown}; the platform writes that file, "
            f"one line per epoch numbered 1 to {budget}. Leave out/progress.jsonl to the platform."
        )
    kept: dict[str, float | int] = {"epoch": epoch}
    for key, value in row.items():
        number_value = finite(value)
        name = safe_text(str(key))[:MAX_KEY_CHARS]
        if number_value is not None and name not in kept and len(kept) < MAX_ROW_VALUES:
            kept[name] = number_value
    return kept


def model_params(data: dict[str, Any] | None) -> int:
    """The parameter count out/model.json reports.

    Raises:
        BadOutput: missing, or not a whole number that fits the column.
    """
    params = (data or {}).get("params")
    if isinstance(params, bool) or not isinstance(params, int) or not 0 <= params <= MAX_BIGINT:
        raise BadOutput("The prediction stage did not report the model's parameter count (out/model.json).")
    return params


def environment(data: dict[str, Any] | None) -> dict[str, str | list[str]]:
    """The versions and devices out/environment.json reports, as short texts; anything else is dropped."""
    kept: dict[str, str | list[str]] = {}
    for key, value in list((data or {}).items())[:MAX_ENVIRONMENT_ENTRIES]:
        if isinstance(value, list):
            texts = [safe_text(item)[:MAX_ENVIRONMENT_CHARS] for item in value if isinstance(item, str)]
            kept[safe_text(key)[:MAX_KEY_CHARS]] = texts[:MAX_ENVIRONMENT_ENTRIES]
        elif isinstance(value, str):
            kept[safe_text(key)[:MAX_KEY_CHARS]] = safe_text(value)[:MAX_ENVIRONMENT_CHARS]
    return kept


MAX_CUSTOM_OBJECTS = 50


def custom_objects(data: dict[str, Any] | None) -> list[str]:
    """The custom objects out/custom.json names (the model needs the learner's code to be rebuilt); [] if none.

    Raises:
        BadOutput: present but not a list of names.
    """
    if data is None:
        return []
    names = data.get("custom_objects")
    if not isinstance(names, list) or not names or not all(isinstance(n, str) and n for n in names):
        raise BadOutput("The prediction stage reported custom objects it could not name (out/custom.json).")
    return [safe_text(name)[:MAX_ENVIRONMENT_CHARS] for name in names[:MAX_CUSTOM_OBJECTS]]


def summary_text(path: Path | None) -> str:
    """The model summary, cut to size; empty when there is none."""
    if path is None or not path.is_file():
        return ""
    with path.open("rb") as handle:
        data = handle.read(MAX_SUMMARY_CHARS * 4)
    return safe_text(data.decode("utf-8", "replace"))[:MAX_SUMMARY_CHARS]


def sandbox_metrics(
    data: dict[str, Any] | None, *, declared: frozenset[str], scorer_keys: set[str]
) -> tuple[dict[str, float], list[str]]:
    """The auxiliary measures a task declares, from out/extra_metrics.json, and the keys ignored.

    The scorer's keys are the scorer's: a key it computed, or one the task does not declare, is ignored
    (returned, for the log), whatever its value.

    Raises:
        BadOutput: a declared measure is not a finite number.
    """
    kept: dict[str, float] = {}
    ignored: list[str] = []
    for key, value in (data or {}).items():
        if key not in declared or key in scorer_keys:
            ignored.append(safe_text(str(key))[:MAX_KEY_CHARS])
            continue
        number = finite(value)
        if number is None:
            raise BadOutput(f"The prediction stage measured {key} as {safe_text(repr(value))[:40]}, not a number.")
        kept[key] = number
    return kept, ignored
