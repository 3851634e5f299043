"""The export check of the claim 4 task, trusted side: does the SavedModel predict what the .keras model predicts?

Pure in, pure out, like `trainer.scoring`: two prediction files and the export sandbox's report in, a result out.
The .keras model's predictions come from the prediction stage (Keras, safe_mode); the export's from a fresh sandbox
where TensorFlow alone loaded the SavedModel (trainer/harness/harness.py: export_check). Both are untrusted arrays,
read with allow_pickle=False and checked before any arithmetic. The latencies are measured in that sandbox beside the
learner's graph (which TensorFlow ops could, in principle, use to overwrite the report): they are checked for shape
and range and bounded by the stage's own wall time, measured outside, so a report can never claim more time than
the stage took nor be believed when it is not a list of one number per batch.
"""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any

from trainer.sandbox import outputs

# Tolerances: the same TensorFlow kernels run the same graph, and on this platform the reference's export
# differed from its .keras model by exactly 0.0 on every test row, on Keras 3 and on tf.keras (README "The export
# task"). 1e-4 on softmax scores in [0, 1] leaves room for another op fusion (oneDNN, XLA) and nothing more: an
# export of another model, of the untrained model, or with noise added differs by 1e-2 to 1.
DEFAULT_TOLERANCE = 1e-4
SHOWN_ROWS = 5
MAX_SIGNATURE_CHARS = 500


class ExportProblem(Exception):
    """The export cannot be compared (no export, unreadable predictions...): the learner's, said in plain words."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


def load_predictions(path: Path | None, what: str) -> Any:
    """A finite, numeric array from a sandbox's .npy file.

    Raises:
        ExportProblem: missing, not an array of numbers, or not finite.
    """
    import numpy as np

    if path is None or not path.is_file():
        raise ExportProblem(f"The {what} produced no predictions.")
    try:
        array = np.load(path, allow_pickle=False)
    except (OSError, ValueError) as error:
        raise ExportProblem(f"The {what}'s predictions are not a readable array: {str(error)[:200]}") from error
    if not isinstance(array, np.ndarray) or array.dtype.kind not in "fiu" or array.ndim < 1:
        raise ExportProblem(f"The {what}'s predictions must be an array of numbers.")
    if not np.isfinite(array).all():
        raise ExportProblem(f"The {what}'s predictions hold NaN or infinite values.")
    return array.astype("float64")


def latencies(report: dict[str, Any] | None, *, rows: int, stage_seconds: float) -> dict[str, float]:
    """p50 and p95 of the per-batch latencies the export sandbox reports, in milliseconds.

    Raises:
        ExportProblem: the report is not one positive number per batch (after the first, timed apart), or the
            batches took longer in all than the stage did.
    """
    import numpy as np

    report = report or {}
    size = report.get("batch_size")
    values = report.get("latencies_ms")
    first = outputs.finite(report.get("first_call_ms"))
    if isinstance(size, bool) or not isinstance(size, int) or size < 1 or not isinstance(values, list):
        raise ExportProblem("The export check did not report its timings (out/export.json).")
    numbers = [outputs.finite(value) for value in values]
    expected = max(math.ceil(rows / size) - 1, 0)
    if len(numbers) != expected or first is None or any(n is None or n < 0 for n in [*numbers, first]):
        raise ExportProblem(f"The export check reported {len(numbers)} batch timings for {expected} batches.")
    total = sum(n for n in numbers if n is not None) + first
    if total > stage_seconds * 1000:
        raise ExportProblem("The export check reported more time than its stage took.")
    timed = [n for n in numbers if n is not None] or [first]
    return {
        "latency_p50_ms": round(float(np.percentile(timed, 50)), 3),
        "latency_p95_ms": round(float(np.percentile(timed, 95)), 3),
        "first_call_ms": round(first, 3),
        "batch_size": size,
    }


def compare(model: Any, export: Any, *, tolerance: float) -> dict[str, Any]:
    """How far the export's predictions are from the model's: max |difference|, argmax agreement, and the first
    rows that differ by more than `tolerance` (index, each side's class and top score, their largest difference)."""
    import numpy as np

    if model.shape != export.shape:
        raise ExportProblem(
            f"The export's predictions have shape {tuple(export.shape)}; the .keras model's have {tuple(model.shape)}."
        )
    difference = np.abs(model - export).reshape(len(model), -1).max(axis=1)
    flat_model, flat_export = model.reshape(len(model), -1), export.reshape(len(export), -1)
    model_class, export_class = flat_model.argmax(axis=1), flat_export.argmax(axis=1)
    differing = np.flatnonzero(difference > tolerance)
    shown = [
        {
            "row": int(row), "max_difference": float(difference[row]),
            "model_class": int(model_class[row]), "model_score": float(flat_model[row, model_class[row]]),
            "export_class": int(export_class[row]), "export_score": float(flat_export[row, export_class[row]]),
        }
        for row in differing[:SHOWN_ROWS]
    ]  # fmt: skip
    return {
        "max_abs_difference": float(difference.max()) if len(difference) else 0.0,
        "argmax_agreement": round(float((model_class == export_class).mean()), 6) if len(model) else 1.0,
        "rows": len(model),
        "rows_differing": len(differing),
        "first_differing_rows": shown,
    }


def export_result(
    model_predictions: Path,
    export_predictions: Path | None,
    report: dict[str, Any] | None,
    *,
    stage_seconds: float,
    spec: dict[str, Any],
) -> dict[str, Any]:
    """The export check as stored on the run: measures, the decision, and on failure what differed.

    Raises:
        ExportProblem: the export's outputs cannot be compared.
    """
    tolerance = float(spec.get("export_tolerance", DEFAULT_TOLERANCE))
    budget = float(spec.get("export_latency_p95_ms", math.inf))
    model = load_predictions(model_predictions, ".keras model")
    export = load_predictions(export_predictions, "export")
    result = compare(model, export, tolerance=tolerance)
    result |= latencies(report, rows=len(model), stage_seconds=stage_seconds)
    signature = (report or {}).get("signature")
    result["signature"] = outputs.safe_text(signature)[:MAX_SIGNATURE_CHARS] if isinstance(signature, str) else ""
    result |= {"tolerance": tolerance, "latency_budget_p95_ms": budget if math.isfinite(budget) else None}
    problems = []
    if result["max_abs_difference"] > tolerance:
        problems.append(
            f"The export predicts differently from your .keras model: the largest difference is "
            f"{result['max_abs_difference']:.4g} (tolerance {tolerance:g}), on {result['rows_differing']:,} of "
            f"{result['rows']:,} test rows; the predicted class agrees on {result['argmax_agreement']:.1%} of them."
        )
    if result["latency_p95_ms"] > budget:
        problems.append(
            f"The export is too slow: {result['latency_p95_ms']:.1f} ms per batch of {result['batch_size']} at the "
            f"95th percentile; the budget is {budget:.0f} ms."
        )
    return result | {"passed": not problems, "problem": " ".join(problems)}


def export_failed(message: str) -> dict[str, Any]:
    """The export check of a run whose export could not be checked at all: why, for the run page and the API."""
    return {"passed": False, "problem": outputs.safe_text(message)[:4000]}


NO_EXPORT = (
    "No export came out of training: this task checks your model as production serves it. Define "
    "export(model, path) that saves a TensorFlow SavedModel at path: model.export(path) with Keras 3, "
    "tf.saved_model.save(model, path) with tf.keras (Keras 2)."
)
