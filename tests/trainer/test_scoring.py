"""Trusted scoring: metrics against hand-made answers, and every refusal of load_predictions."""

from __future__ import annotations

import pickle
from pathlib import Path

import numpy as np
import pytest

from trainer.scoring import ScoreError, classification_metrics, decide, load_predictions, majority_baseline

ROWS, CLASSES = 20, 4
# 8 of class 0, 6 of class 1, 4 of class 2, 2 of class 3.
LABELS = np.array([0] * 8 + [1] * 6 + [2] * 4 + [3] * 2)


def one_hot(ids: np.ndarray, num_classes: int = CLASSES) -> np.ndarray:
    return np.eye(num_classes, dtype=np.float32)[ids]


# Metrics


def test_perfect_predictions_score_one() -> None:
    assert classification_metrics(one_hot(LABELS), LABELS, CLASSES) == {"accuracy": 1.0, "macro_f1": 1.0}


def test_all_one_class_scores_that_class_share() -> None:
    pred = np.full(ROWS, 1)
    metrics = classification_metrics(pred, LABELS, CLASSES)
    assert metrics["accuracy"] == 0.3  # 6 of 20
    # Class 1: precision 6/20, recall 1 -> F1 = 2*6/(20+6); the other three classes score 0.
    assert metrics["macro_f1"] == round((12 / 26) / 4, 4)
    assert metrics["macro_f1"] < 0.2


def test_constant_scores_pick_the_first_class() -> None:
    # Every row ties: argmax picks class 0, the majority, so accuracy equals the baseline.
    pred = np.full((ROWS, CLASSES), 0.25)
    metrics = classification_metrics(pred, LABELS, CLASSES)
    assert metrics["accuracy"] == majority_baseline(LABELS) == 0.4
    assert metrics["macro_f1"] == round((16 / 28) / 4, 4)


def test_random_predictions_match_a_reference_computation() -> None:
    rng = np.random.default_rng(7)
    labels = rng.integers(0, 10, size=1000)
    scores = rng.random((1000, 10))
    pred = scores.argmax(axis=1)
    f1s = []
    for c in range(10):
        tp = np.sum((pred == c) & (labels == c))
        precision = tp / max(np.sum(pred == c), 1)
        recall = tp / max(np.sum(labels == c), 1)
        f1s.append(0.0 if precision + recall == 0 else 2 * precision * recall / (precision + recall))
    metrics = classification_metrics(scores, labels, 10)
    assert metrics["accuracy"] == round(float(np.mean(pred == labels)), 4)
    assert metrics["macro_f1"] == pytest.approx(np.mean(f1s), abs=1e-4)
    assert 0.05 < metrics["accuracy"] < 0.15  # chance level


def test_integer_class_ids_are_scored_like_scores() -> None:
    pred = LABELS.copy()
    pred[:4] = 1  # four class-0 examples called class 1
    assert classification_metrics(pred, LABELS, CLASSES) == classification_metrics(one_hot(pred), LABELS, CLASSES)
    assert classification_metrics(pred, LABELS, CLASSES)["accuracy"] == 0.8


def test_classes_absent_from_both_are_skipped() -> None:
    labels = np.array([0, 0, 1, 1])
    # Classes 2..9 appear nowhere: the mean is over classes 0 and 1 only.
    assert classification_metrics(labels, labels, 10) == {"accuracy": 1.0, "macro_f1": 1.0}


def test_mismatched_lengths_are_a_platform_error() -> None:
    with pytest.raises(ValueError):
        classification_metrics(np.array([0, 1]), np.array([0, 1, 2]), 3)


def test_majority_baseline() -> None:
    assert majority_baseline(LABELS) == 0.4
    assert majority_baseline(np.array([2, 2, 2])) == 1.0


def test_decide_is_inclusive_at_the_threshold() -> None:
    metrics = {"accuracy": 0.85, "macro_f1": 0.8}
    assert decide(metrics, "accuracy", 0.85)
    assert not decide(metrics, "macro_f1", 0.85)
    assert not decide({"accuracy": float("nan")}, "accuracy", 0.0)
    with pytest.raises(KeyError):
        decide(metrics, "mean_iou", 0.5)


# load_predictions: what it accepts


def save(tmp_path: Path, array: np.ndarray, name: str = "predictions.npy") -> Path:
    path = tmp_path / name
    np.save(path, array)
    return path


def test_loads_scores_as_float64(tmp_path: Path) -> None:
    loaded = load_predictions(save(tmp_path, one_hot(LABELS)), expected_rows=ROWS, num_classes=CLASSES)
    assert loaded.dtype == np.float64 and loaded.shape == (ROWS, CLASSES)


def test_loads_class_ids_as_int64(tmp_path: Path) -> None:
    path = save(tmp_path, LABELS.astype(np.uint8))
    loaded = load_predictions(path, expected_rows=ROWS, num_classes=CLASSES)
    assert loaded.dtype == np.int64 and loaded.tolist() == LABELS.tolist()


def test_loads_integer_scores(tmp_path: Path) -> None:
    loaded = load_predictions(save(tmp_path, one_hot(LABELS).astype(np.int32)), expected_rows=ROWS, num_classes=4)
    assert loaded.argmax(axis=1).tolist() == LABELS.tolist()


# load_predictions: every refusal has its own message


def refused(path: Path, *, rows: int = ROWS, max_bytes: int = 200 * 1024 * 1024) -> str:
    with pytest.raises(ScoreError) as caught:
        load_predictions(path, expected_rows=rows, num_classes=CLASSES, max_bytes=max_bytes)
    assert caught.value.kind == "bad_predictions"
    assert caught.value.message == str(caught.value)
    return caught.value.message


def test_refuses_a_pickled_object_array(tmp_path: Path) -> None:
    path = tmp_path / "predictions.npy"
    np.save(path, np.array([{"class": 1}] * ROWS, dtype=object), allow_pickle=True)
    message = refused(path)
    assert "Python objects" in message and "object" in message


def test_refuses_a_plain_pickle(tmp_path: Path) -> None:
    path = tmp_path / "predictions.npy"
    path.write_bytes(pickle.dumps(LABELS.tolist()))
    assert "pickle" in refused(path)


def test_refuses_nan_and_inf(tmp_path: Path) -> None:
    scores = one_hot(LABELS)
    scores[3, 1] = np.nan
    scores[5, 0] = np.inf
    message = refused(save(tmp_path, scores))
    assert "1 NaN and 1 infinite" in message


def test_refuses_wrong_rows(tmp_path: Path) -> None:
    message = refused(save(tmp_path, one_hot(LABELS[:-1])))
    assert f"{ROWS} rows" in message and f"found {ROWS - 1} rows" in message


def test_refuses_wrong_columns(tmp_path: Path) -> None:
    message = refused(save(tmp_path, np.zeros((ROWS, CLASSES + 1), dtype=np.float32)))
    assert f"{CLASSES} columns" in message and f"found {CLASSES + 1} columns" in message


def test_refuses_a_single_score_column(tmp_path: Path) -> None:
    assert "found 1 columns" in refused(save(tmp_path, np.zeros((ROWS, 1), dtype=np.float32)))


def test_refuses_three_dimensions(tmp_path: Path) -> None:
    assert f"found shape ({ROWS}, {CLASSES}, 1)" in refused(save(tmp_path, np.zeros((ROWS, CLASSES, 1))))


def test_refuses_text_named_npy(tmp_path: Path) -> None:
    path = tmp_path / "predictions.npy"
    path.write_text("0,1,2,3\n" * ROWS)
    message = refused(path)
    assert ".npy" in message and "np.save" in message and "b'0,1,2,'" in message


def test_refuses_an_npz_archive(tmp_path: Path) -> None:
    path = tmp_path / "predictions.npy"
    with path.open("wb") as handle:
        np.savez(handle, predictions=one_hot(LABELS))
    assert "zip archive" in refused(path)


def test_refuses_an_empty_file(tmp_path: Path) -> None:
    path = tmp_path / "predictions.npy"
    path.write_bytes(b"")
    assert "is empty" in refused(path)


def test_refuses_a_missing_file(tmp_path: Path) -> None:
    assert "missing" in refused(tmp_path / "predictions.npy")


def test_refuses_bool(tmp_path: Path) -> None:
    message = refused(save(tmp_path, one_hot(LABELS).astype(bool)))
    assert "True/False" in message and "bool" in message


@pytest.mark.parametrize(
    ("array", "found"),
    [
        (np.array(["a"] * ROWS), "text"),
        (np.zeros((ROWS, CLASSES), dtype=np.complex64), "complex"),
        (np.zeros(ROWS, dtype=[("a", "f4")]), "structured"),
    ],
)
def test_refuses_other_non_numeric_dtypes(tmp_path: Path, array: np.ndarray, found: str) -> None:
    assert found in refused(save(tmp_path, array))


def test_refuses_float_class_ids(tmp_path: Path) -> None:
    message = refused(save(tmp_path, LABELS.astype(np.float32)))
    assert "class ids" in message and "np.argmax" in message


def test_refuses_out_of_range_class_ids(tmp_path: Path) -> None:
    pred = LABELS.copy()
    pred[0] = CLASSES
    assert f"between 0 and {CLASSES - 1}" in refused(save(tmp_path, pred))
    assert "from -1" in refused(save(tmp_path, pred - 1))


def test_refuses_an_oversize_file(tmp_path: Path) -> None:
    path = save(tmp_path, one_hot(LABELS))
    message = refused(path, max_bytes=100)
    assert f"is {path.stat().st_size} bytes; the limit is 100 bytes" in message


def test_refuses_a_truncated_file(tmp_path: Path) -> None:
    path = save(tmp_path, one_hot(LABELS))
    path.write_bytes(path.read_bytes()[:-8])
    assert "cut short" in refused(path)


def test_refuses_a_header_claiming_a_huge_array_without_allocating_it(tmp_path: Path) -> None:
    # A tiny file whose header promises 10**12 rows must be refused from the header, never loaded.
    path = tmp_path / "predictions.npy"
    with path.open("wb") as handle:
        header = {"descr": "<f8", "fortran_order": False, "shape": (10**12, CLASSES)}
        np.lib.format.write_array_header_1_0(handle, header)
    assert "cut short" in refused(path, rows=10**12)
