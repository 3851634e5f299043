"""The task library's trusted scorers, on hand-made predictions with known answers (degenerate ones included)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from trainer.datasets import digits
from trainer.datasets.base import Seeds
from trainer.scoring import (
    ScoreError,
    copy_rate,
    decide_all,
    frechet_distance,
    generation_metrics,
    inception_score_like,
    knn_metrics,
    load_predictions,
    load_vectors,
    segmentation_metrics,
    tagging_metrics,
    task_metrics,
)


def save(tmp_path: Path, array: np.ndarray, name: str = "predictions.npy") -> Path:
    path = tmp_path / name
    np.save(path, array, allow_pickle=False)
    return path


# --- segmentation: mean IoU ----------------------------------------------------------------------------------

MASK = np.array([[[0, 0, 1, 1], [0, 0, 1, 1], [2, 2, 0, 0], [2, 2, 0, 0]]])  # one 4x4 image, 3 classes


def test_segmentation_perfect_and_by_hand() -> None:
    assert segmentation_metrics(MASK, MASK, 3) == {"mean_iou": 1.0, "pixel_accuracy": 1.0}
    predicted = MASK.copy()
    predicted[0, 0, 2] = 0  # one circle pixel called background
    # background: 8 right, union 9 -> 8/9; class 1: 3/4; class 2: 4/4
    metrics = segmentation_metrics(predicted, MASK, 3)
    assert metrics["mean_iou"] == round((8 / 9 + 3 / 4 + 1) / 3, 4)
    assert metrics["pixel_accuracy"] == round(15 / 16, 4)


def test_segmentation_all_background_is_poor_even_with_high_pixel_accuracy() -> None:
    labels = np.zeros((2, 10, 10), dtype=np.int64)
    labels[:, :2, :2] = 1  # 4% of pixels are the object
    metrics = segmentation_metrics(np.zeros_like(labels), labels, 2)
    assert metrics["pixel_accuracy"] == 0.96
    assert metrics["mean_iou"] == 0.48  # (0.96 + 0) / 2: the object class is present and missed


def test_segmentation_scores_from_per_pixel_scores(tmp_path: Path) -> None:
    scores = np.eye(3)[MASK].astype(np.float32)  # (1, 4, 4, 3)
    pred = load_predictions(save(tmp_path, scores), expected_rows=1, num_classes=3, item_shape=(4, 4))
    assert pred.shape == (1, 4, 4, 3)
    assert segmentation_metrics(pred, MASK, 3)["mean_iou"] == 1.0


@pytest.mark.parametrize(
    ("array", "message"),
    [
        (np.zeros((1, 4, 3, 3), np.float32), "Expected shape (1, 4, 4, 3) scores or (1, 4, 4) integer class ids"),
        (np.zeros((1, 4, 4, 5), np.float32), "5"),
        (np.zeros((1, 4, 4), np.float32), "not class ids"),
        (np.full((1, 4, 4), 7, np.int64), "between 0 and 2"),
        (np.zeros((2, 4, 4, 3), np.float32), "1 rows; found 2 rows"),
    ],
)
def test_segmentation_refusals(tmp_path: Path, array: np.ndarray, message: str) -> None:
    with pytest.raises(ScoreError, match=message.replace("(", r"\(").replace(")", r"\)")):
        load_predictions(save(tmp_path, array), expected_rows=1, num_classes=3, item_shape=(4, 4))


# --- tagging -----------------------------------------------------------------------------------------------


def test_tagging_token_and_sequence_accuracy() -> None:
    labels = np.array([[0, 1, 2, 0], [1, 1, 1, 1]])
    predicted = np.array([[0, 1, 2, 0], [1, 1, 0, 1]])
    assert tagging_metrics(predicted, labels, 3) == {"token_accuracy": 0.875, "sequence_accuracy": 0.5}


def test_tagging_ignores_padding() -> None:
    labels = np.array([[0, 1, -1, -1]])
    assert tagging_metrics(np.array([[0, 1, 2, 2]]), labels, 3) == {"token_accuracy": 1.0, "sequence_accuracy": 1.0}


def test_tagging_constant_prediction_scores_its_share() -> None:
    labels = np.array([[0, 1, 2], [0, 1, 2]])
    assert tagging_metrics(np.zeros_like(labels), labels, 3)["token_accuracy"] == round(1 / 3, 4)


# --- embeddings: k-nearest-neighbour accuracy --------------------------------------------------------------


def clusters(rng: np.random.Generator, per_class: int = 20, spread: float = 0.05) -> tuple[np.ndarray, np.ndarray]:
    centres = np.eye(4, 8) * 3
    labels = np.repeat(np.arange(4), per_class)
    return centres[labels] + rng.normal(0, spread, size=(len(labels), 8)), labels


def test_knn_separated_clusters_score_one_and_scale_does_not_matter() -> None:
    vectors, labels = clusters(np.random.default_rng(0))
    gallery = np.arange(len(labels)) % 2 == 0
    assert knn_metrics(vectors, labels, gallery) == {"knn5_accuracy": 1.0, "nn1_accuracy": 1.0}
    scaled = vectors * np.random.default_rng(1).uniform(0.1, 10, size=(len(vectors), 1))
    assert knn_metrics(scaled, labels, gallery)["knn5_accuracy"] == 1.0


def test_knn_constant_embeddings_score_chance() -> None:
    labels = np.repeat(np.arange(4), 20)
    gallery = np.arange(len(labels)) % 2 == 0
    metrics = knn_metrics(np.ones((len(labels), 8)), labels, gallery)
    assert metrics["knn5_accuracy"] == 0.25  # every query gets the same vote


def test_knn_zero_vectors_are_scored_not_crashed() -> None:
    labels = np.repeat(np.arange(2), 10)
    gallery = np.arange(len(labels)) % 2 == 0
    metrics = knn_metrics(np.zeros((len(labels), 4)), labels, gallery)
    assert 0 <= metrics["knn5_accuracy"] <= 1


def test_knn_random_embeddings_are_near_chance() -> None:
    rng = np.random.default_rng(3)
    labels = np.repeat(np.arange(10), 100)
    gallery = rng.permutation(len(labels)) < 500
    assert knn_metrics(rng.normal(size=(len(labels), 32)), labels, gallery)["knn5_accuracy"] < 0.2


def test_embedding_vectors_must_have_the_task_shape(tmp_path: Path) -> None:
    truth = {"y": np.zeros(4, dtype=np.int64), "gallery": np.array([True, True, False, False])}
    spec = {"embedding_dim": 3}
    with pytest.raises(ScoreError, match=r"Expected shape \(4, 3\)"):
        task_metrics("embedding", save(tmp_path, np.zeros((4, 5), np.float32)), truth, spec)
    with pytest.raises(ScoreError, match="NaN"):
        task_metrics("embedding", save(tmp_path, np.full((4, 3), np.nan, np.float32)), truth, spec)


# --- generation: IS-like, FID-like, copy rate -------------------------------------------------------------


def test_inception_score_like_bounds() -> None:
    assert inception_score_like(np.eye(10)[np.arange(100) % 10]) == pytest.approx(10)  # confident and varied
    assert inception_score_like(np.full((100, 10), 0.1)) == pytest.approx(1)  # no idea what any image is
    assert inception_score_like(np.eye(10)[np.zeros(100, dtype=int)]) == pytest.approx(1)  # one class only


def test_frechet_distance_known_values() -> None:
    rng = np.random.default_rng(0)
    a = rng.normal(size=(4000, 3))
    assert frechet_distance(a, a) == pytest.approx(0, abs=1e-6)
    # Same covariance, means 2 apart in one axis: the distance is the squared mean difference.
    assert frechet_distance(a, a + np.array([2.0, 0, 0])) == pytest.approx(4, rel=1e-6)
    # Same mean, scale 2 in every axis: trace terms give d * (1 + 4 - 2 * 2) = d.
    assert frechet_distance(a, a * 2) == pytest.approx(3, rel=0.05)


def test_copy_rate() -> None:
    train = np.random.default_rng(0).uniform(size=(50, 8, 8))
    assert copy_rate(train[:10], train, threshold=0.5) == 1.0
    assert copy_rate(train[:10] + 0.01, train, threshold=0.5) == 1.0  # a little noise does not hide a copy
    assert copy_rate(1 - train[:10], train, threshold=0.5) == 0.0


@pytest.fixture(scope="module")
def digits_truth() -> dict[str, np.ndarray]:
    train_images, train_labels, test_images, _ = digits.load_digits_split(Seeds(b"s" * 32))
    weights, _ = digits.train_classifier(train_images, train_labels)
    threshold = digits.copy_threshold(train_images, test_images)
    return {"real_images": test_images, "train_images": train_images, "copy_threshold": np.asarray(threshold)} | weights


def test_generation_separates_real_digits_noise_blank_and_copies(digits_truth: dict[str, np.ndarray]) -> None:
    truth = digits_truth
    rng = np.random.default_rng(0)
    held_out = generation_metrics(truth["real_images"], truth | {"real_images": truth["train_images"]})
    noise = generation_metrics(rng.uniform(size=(400, 8, 8)), truth)
    blank = generation_metrics(np.zeros((400, 8, 8)), truth)
    copies = generation_metrics(truth["train_images"][:400], truth)
    assert held_out["is_like"] > 8 and held_out["fid_like"] < 1 and held_out["copy_rate"] < 0.05
    assert noise["is_like"] < 3 and noise["fid_like"] > 10
    assert blank["is_like"] == pytest.approx(1, abs=0.01)  # one image, one class: mode collapse scores 1
    assert copies["copy_rate"] == 1.0 and copies["is_like"] > 8  # good-looking, and caught as copies


def test_generation_refuses_pixels_outside_0_1(digits_truth: dict[str, np.ndarray]) -> None:
    with pytest.raises(ScoreError, match="between 0 and 1"):
        generation_metrics(np.full((10, 8, 8), 255.0), digits_truth)


def test_generated_images_must_have_the_output_shape(tmp_path: Path) -> None:
    with pytest.raises(ScoreError, match=r"Expected shape \(3, 8, 8, 1\)"):
        load_vectors(save(tmp_path, np.zeros((3, 64), np.float32)), expected_rows=3, item_shape=(8, 8, 1))


# --- the pass decision with extra criteria -------------------------------------------------------------------


def test_decide_all_checks_every_criterion() -> None:
    rules = [{"metric": "fid_like", "max": 5.0}, {"metric": "copy_rate", "max": 0.1}]
    good = {"is_like": 7.0, "fid_like": 2.0, "copy_rate": 0.0}
    assert decide_all(good, "is_like", 5.0, rules)
    assert not decide_all(good | {"is_like": 4.9}, "is_like", 5.0, rules)
    assert not decide_all(good | {"fid_like": 5.1}, "is_like", 5.0, rules)
    assert not decide_all(good | {"copy_rate": 0.5}, "is_like", 5.0, rules)
    assert not decide_all({"is_like": 7.0, "fid_like": 2.0}, "is_like", 5.0, rules)  # a missing metric fails
    assert decide_all({"accuracy": 0.9, "base_weights_reused": 0.5}, "accuracy", 0.8,
                      [{"metric": "base_weights_reused", "min": 0.5}])  # fmt: skip
