"""The export check's trusted side (trainer.exports): two prediction files and the export sandbox's report in, the
result stored on the run out. Pure: no database, no sandbox (tests/trainer/test_export_end_to_end.py runs those)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pytest

from trainer.exports import ExportProblem, export_result

SPEC = {"export_tolerance": 1e-4, "export_latency_p95_ms": 50}
ROWS = 250  # three batches of 100: the first is timed apart, two are reported


def scores(seed: int = 0, rows: int = ROWS) -> np.ndarray:
    logits = np.random.default_rng(seed).normal(size=(rows, 10))
    return (np.exp(logits) / np.exp(logits).sum(axis=1, keepdims=True)).astype("float32")


def saved(tmp_path: Path, name: str, array: Any) -> Path:
    path = tmp_path / name
    np.save(path, array, allow_pickle=True)
    return path


def report(latencies: list[Any] | None = None, **changes: Any) -> dict[str, Any]:
    found = {"signature": "serving_default(x: float32[None, 28, 28, 1]) -> output_0: float32[None, 10]",
             "first_call_ms": 80.0, "latencies_ms": [12.0, 14.0] if latencies is None else latencies, "batch_size": 100}  # fmt: skip
    return found | changes


def check(tmp_path: Path, model: Any, export: Any, found: dict[str, Any] | None = None, seconds: float = 5.0) -> Any:
    return export_result(
        saved(tmp_path, "model.npy", model), saved(tmp_path, "export.npy", export),
        report() if found is None else found, stage_seconds=seconds, spec=SPEC,
    )  # fmt: skip


def test_an_export_that_predicts_the_same_passes_with_its_latencies(tmp_path: Path) -> None:
    result = check(tmp_path, scores(), scores() + 1e-6)

    assert result["passed"] is True and result["problem"] == ""
    assert result["max_abs_difference"] == pytest.approx(1e-6, rel=0.1)  # float32 rounding
    assert (result["argmax_agreement"], result["rows"], result["rows_differing"]) == (1.0, ROWS, 0)
    assert (result["latency_p50_ms"], result["latency_p95_ms"]) == (13.0, pytest.approx(13.9))
    assert result["first_call_ms"] == 80.0 and result["first_differing_rows"] == []
    assert result["signature"].startswith("serving_default(") and result["latency_budget_p95_ms"] == 50


def test_an_export_of_another_model_fails_showing_what_differed(tmp_path: Path) -> None:
    model, export = scores(0), scores(0)
    export[[3, 7, 8, 20, 21, 40]] = scores(1, rows=6)  # six rows of another model

    result = check(tmp_path, model, export)

    assert result["passed"] is False and result["rows_differing"] == 6
    assert [row["row"] for row in result["first_differing_rows"]] == [3, 7, 8, 20, 21]  # the first five, in order
    first = result["first_differing_rows"][0]
    assert first["model_class"] == int(model[3].argmax()) and first["export_class"] == int(export[3].argmax())
    assert first["model_score"] == pytest.approx(float(model[3].max()))
    assert first["max_difference"] == pytest.approx(float(np.abs(model[3] - export[3]).max()))
    assert result["argmax_agreement"] == float((model.argmax(1) == export.argmax(1)).mean())
    assert "The export predicts differently from your .keras model" in result["problem"]
    assert f"on 6 of {ROWS} test rows" in result["problem"] and "tolerance 0.0001" in result["problem"]


def test_noise_just_over_the_tolerance_fails(tmp_path: Path) -> None:
    result = check(tmp_path, scores(), scores() + 2e-4)

    assert result["passed"] is False and result["argmax_agreement"] == 1.0 and result["rows_differing"] == ROWS


def test_an_export_over_the_latency_budget_fails(tmp_path: Path) -> None:
    result = check(tmp_path, scores(), scores(), report([40.0, 90.0]))

    assert result["passed"] is False and result["max_abs_difference"] == 0.0
    assert "too slow" in result["problem"] and "budget is 50 ms" in result["problem"]


@pytest.mark.parametrize(
    ("export", "found", "message"),
    [
        (scores(rows=ROWS - 1), None, "have shape (249, 10); the .keras model's have (250, 10)"),
        (np.full((ROWS, 10), np.nan, dtype="float32"), None, "NaN or infinite"),
        (np.array([{"a": 1}] * ROWS, dtype=object), None, "not a readable array"),
        (np.array(["x"] * ROWS), None, "array of numbers"),
        (scores(), report([12.0]), "1 batch timings for 2 batches"),
        (scores(), report([12.0, float("nan")]), "2 batch timings for 2 batches"),
        (scores(), report([12.0, -1.0]), "2 batch timings for 2 batches"),
        (scores(), report(batch_size="100"), "did not report its timings"),
        (scores(), report([4000.0, 4000.0]), "more time than its stage took"),
    ],
    ids=["shape", "nan", "pickle", "text", "count", "nan-latency", "negative", "batch-size", "over-wall"],
)
def test_outputs_that_cannot_be_compared_are_the_learners_problem(
    tmp_path: Path, export: Any, found: dict[str, Any] | None, message: str
) -> None:
    with pytest.raises(ExportProblem, match=message.replace("(", r"\(").replace(")", r"\)")):
        check(tmp_path, scores(), export, found)


def test_missing_export_predictions_are_the_learners_problem(tmp_path: Path) -> None:
    with pytest.raises(ExportProblem, match="The export produced no predictions"):
        export_result(saved(tmp_path, "m.npy", scores()), None, report(), stage_seconds=5.0, spec=SPEC)
