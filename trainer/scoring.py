"""Trusted scoring: read a sandbox's predictions, check them, compare them with labels that never left the server.

No learner code runs here, and nothing here imports TensorFlow: only numpy and the standard library. Every
refusal is a ScoreError whose message a learner can act on: what was expected, and what was found.
"""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any

import numpy as np

NPY_MAGIC = b"\x93NUMPY"
ZIP_MAGIC = b"PK\x03\x04"
PICKLE_MAGIC = b"\x80"
DEFAULT_MAX_BYTES = 200 * 1024 * 1024
# dtype kinds accepted as predictions: signed and unsigned integers, and floats.
_INTEGER_KINDS = "iu"
_NUMERIC_KINDS = "iuf"
_KIND_NAMES = {
    "b": "True/False values (bool)",
    "O": "Python objects (object)",
    "U": "text (str)",
    "S": "bytes",
    "c": "complex numbers",
    "V": "records (a structured dtype)",
    "M": "dates (datetime64)",
    "m": "durations (timedelta64)",
}


class ScoreError(Exception):
    """Predictions the platform cannot score; the learner's fault, so the run is not retried."""

    def __init__(self, message: str, kind: str = "bad_predictions") -> None:
        super().__init__(message)
        self.kind = kind
        self.message = message


def load_predictions(
    path: Path, *, expected_rows: int, num_classes: int, max_bytes: int = DEFAULT_MAX_BYTES
) -> np.ndarray:
    """Load and check predictions: (rows, classes) scores as float64, or (rows,) class ids as int64.

    The header is checked before any data is read: a file may claim any shape, and numpy allocates what
    the header claims, so a few hundred bytes could otherwise ask for terabytes.
    """
    _check_file(path, max_bytes)
    shape, dtype, data_offset = _read_header(path)
    _check_dtype(dtype)
    _check_shape(shape, dtype, expected_rows, num_classes)
    _check_length(path, shape, dtype, data_offset)
    array = _load_npy(path)
    if array.ndim == 1:
        _check_class_ids(array, num_classes)
        return array.astype(np.int64)
    _check_finite(array)
    return array.astype(np.float64)


def _check_file(path: Path, max_bytes: int) -> None:
    if not path.is_file():
        raise ScoreError(f"No predictions were written: {path.name} is missing.")
    size = path.stat().st_size
    if size > max_bytes:
        limit = _human_size(max_bytes)
        raise ScoreError(f"The predictions file {path.name} is {_human_size(size)}; the limit is {limit}.")
    with path.open("rb") as handle:
        start = handle.read(len(NPY_MAGIC))
    if start != NPY_MAGIC:
        raise ScoreError(f"Predictions must be a NumPy .npy file written with np.save; {path.name} is {_guess(start)}.")


def _guess(start: bytes) -> str:
    """A few words on what a file that is not .npy seems to be, from its first bytes."""
    if not start:
        return "empty"
    if start.startswith(ZIP_MAGIC):
        return "a zip archive (perhaps np.savez); save a single array with np.save instead"
    if start.startswith(PICKLE_MAGIC):
        return "a Python pickle, which the platform never loads"
    return f"something else (it starts with {start!r})"


def _read_header(path: Path) -> tuple[tuple[int, ...], np.dtype[Any], int]:
    """Shape, dtype and where the data starts, from the .npy header alone."""
    fmt = np.lib.format
    try:
        with path.open("rb") as handle:
            version = fmt.read_magic(handle)
            # Version 3.0 only exists for structured dtypes with non-Latin-1 field names: never numeric.
            if version not in ((1, 0), (2, 0)):
                raise ScoreError(f"The predictions use .npy format version {version}; save a plain numeric array.")
            reader = fmt.read_array_header_1_0 if version == (1, 0) else fmt.read_array_header_2_0
            shape, _fortran_order, dtype = reader(handle)
            return tuple(shape), dtype, handle.tell()
    except (ValueError, OSError, EOFError) as error:
        raise ScoreError(f"The predictions file {path.name} has a damaged .npy header ({error}).") from error


def _check_dtype(dtype: np.dtype[Any]) -> None:
    if dtype.kind not in _NUMERIC_KINDS:
        found = _KIND_NAMES.get(dtype.kind, f"dtype {dtype}")
        hint = " The platform never loads pickled objects." if dtype.hasobject else ""
        raise ScoreError(
            f"Predictions must be numbers (float scores or integer class ids); found {found}, dtype {dtype}.{hint}"
        )


def _check_shape(shape: tuple[int, ...], dtype: np.dtype[Any], rows: int, num_classes: int) -> None:
    expected = f"Expected shape ({rows}, {num_classes}) scores or ({rows},) integer class ids"
    if len(shape) not in (1, 2):
        raise ScoreError(f"{expected}; found shape {shape}.")
    if shape[0] != rows:
        raise ScoreError(f"{expected}: one row per test example, {rows} rows; found {shape[0]} rows.")
    if len(shape) == 2 and shape[1] != num_classes:
        raise ScoreError(f"{expected}: {num_classes} columns, one score per class; found {shape[1]} columns.")
    if len(shape) == 1 and dtype.kind not in _INTEGER_KINDS:
        raise ScoreError(
            f"{expected}; found ({rows},) values of dtype {dtype}, which are not class ids. "
            "Save np.argmax(scores, axis=1), or the scores themselves."
        )


def _check_length(path: Path, shape: tuple[int, ...], dtype: np.dtype[Any], data_offset: int) -> None:
    expected = math.prod(shape) * dtype.itemsize
    found = path.stat().st_size - data_offset
    if found != expected:
        raise ScoreError(
            f"The predictions file {path.name} is damaged or cut short: shape {shape} needs {expected} bytes "
            f"of data, the file holds {found}."
        )


def _load_npy(path: Path) -> np.ndarray:
    try:
        return np.load(path, allow_pickle=False)
    except (ValueError, OSError, EOFError) as error:
        # The header was already checked, so this is a damaged file rather than a wrong kind of array.
        raise ScoreError(f"The predictions file {path.name} could not be read ({error}).") from error


def _check_class_ids(array: np.ndarray, num_classes: int) -> None:
    if array.size and (int(array.min()) < 0 or int(array.max()) >= num_classes):
        raise ScoreError(
            f"Class ids must be between 0 and {num_classes - 1}; found values from {int(array.min())} "
            f"to {int(array.max())}."
        )


def _check_finite(array: np.ndarray) -> None:
    if array.dtype.kind != "f":
        return
    nan = int(np.isnan(array).sum())
    inf = int(np.isinf(array).sum())
    if nan or inf:
        raise ScoreError(
            f"Predictions must be finite numbers; found {nan} NaN and {inf} infinite values "
            "(a NaN loss during training often causes this)."
        )


def _human_size(size: int) -> str:
    if size < 1024:
        return f"{size} bytes"
    if size < 1024 * 1024:
        return f"{size / 1024:.1f} KB"
    return f"{size / (1024 * 1024):.1f} MB"


def predicted_classes(pred: np.ndarray) -> np.ndarray:
    """Class ids from (rows,) ids or (rows, classes) scores; ties go to the lowest class id (np.argmax)."""
    return pred.argmax(axis=1) if pred.ndim == 2 else pred.astype(np.int64)


def classification_metrics(pred: np.ndarray, labels: np.ndarray, num_classes: int) -> dict[str, float]:
    """Accuracy and macro-F1, rounded to 4 decimals.

    Macro-F1 averages over the classes that occur in the labels or the predictions: a class absent from both
    says nothing about the model, and counting it as 0 (or 1) would distort the average.
    """
    predicted = predicted_classes(pred)
    truth = np.asarray(labels).astype(np.int64).ravel()
    _check_comparable(predicted, truth, num_classes)
    confusion = np.bincount(truth * num_classes + predicted, minlength=num_classes**2).reshape(num_classes, -1)
    true_positive = np.diag(confusion).astype(np.float64)
    # F1 = 2TP / (2TP + FP + FN) = 2TP / (predicted count + true count); no separate precision/recall needed.
    support = confusion.sum(axis=0) + confusion.sum(axis=1)
    present = support > 0
    f1 = 2 * true_positive[present] / support[present]
    return {
        "accuracy": round(float(np.mean(predicted == truth)), 4),
        "macro_f1": round(float(f1.mean()), 4),
    }


def _check_comparable(predicted: np.ndarray, truth: np.ndarray, num_classes: int) -> None:
    # The platform's own data reaches here: a mismatch is a platform bug, so ValueError rather than ScoreError.
    if len(truth) == 0 or predicted.shape != truth.shape:
        raise ValueError(f"Cannot score {predicted.shape} predictions against {truth.shape} labels.")
    for name, values in (("predictions", predicted), ("labels", truth)):
        if values.min() < 0 or values.max() >= num_classes:
            raise ValueError(f"The {name} hold class ids outside 0..{num_classes - 1}.")


def majority_baseline(labels: np.ndarray) -> float:
    """The accuracy of always answering the most common class: what a model must beat to have learnt anything."""
    counts = np.bincount(np.asarray(labels).astype(np.int64).ravel())
    if counts.sum() == 0:
        raise ValueError("No labels to compute a baseline from.")
    return round(float(counts.max() / counts.sum()), 4)


def decide(metrics: dict[str, float], metric: str, threshold: float) -> bool:
    """Pass when the metric is at least the threshold (TaskSpec.threshold); a missing or NaN metric fails."""
    if metric not in metrics:
        raise KeyError(f"Metric {metric!r} was not computed; have {', '.join(sorted(metrics))}.")
    value = metrics[metric]
    return not math.isnan(value) and value >= threshold
