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
    path: Path,
    *,
    expected_rows: int,
    num_classes: int,
    item_shape: tuple[int, ...] = (),
    max_bytes: int = DEFAULT_MAX_BYTES,
) -> np.ndarray:
    """Load and check class predictions, as float64 scores or int64 class ids.

    Accepted: `(rows, *item_shape, classes)` scores, or `(rows, *item_shape)` integer class ids. `item_shape` is
    empty for one label per example, `(length,)` for one per token, `(height, width)` for one per pixel.
    The header is checked before any data is read: a file may claim any shape, and numpy allocates what
    the header claims, so a few hundred bytes could otherwise ask for terabytes.
    """
    _check_file(path, max_bytes)
    shape, dtype, data_offset = _read_header(path)
    _check_dtype(dtype)
    _check_shape(shape, dtype, (expected_rows, *item_shape), num_classes)
    _check_length(path, shape, dtype, data_offset)
    array = _load_npy(path)
    if array.ndim == 1 + len(item_shape):
        _check_class_ids(array, num_classes)
        return array.astype(np.int64)
    _check_finite(array)
    return array.astype(np.float64)


def load_vectors(
    path: Path, *, expected_rows: int, item_shape: tuple[int, ...], max_bytes: int = DEFAULT_MAX_BYTES
) -> np.ndarray:
    """Load real-valued outputs of a fixed shape (embeddings, generated images) as finite float64."""
    _check_file(path, max_bytes)
    shape, dtype, data_offset = _read_header(path)
    _check_dtype(dtype)
    expected = (expected_rows, *item_shape)
    if shape != expected:
        raise ScoreError(f"Expected shape {expected}: one row per test input; found shape {shape}.")
    _check_length(path, shape, dtype, data_offset)
    array = _load_npy(path).astype(np.float64)
    _check_finite(array)
    return array


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


def _check_shape(shape: tuple[int, ...], dtype: np.dtype[Any], ids_shape: tuple[int, ...], num_classes: int) -> None:
    scores_shape = (*ids_shape, num_classes)
    expected = f"Expected shape {scores_shape} scores or {ids_shape} integer class ids"
    rows = ids_shape[0]
    if len(shape) not in (len(ids_shape), len(scores_shape)):
        raise ScoreError(f"{expected}; found shape {shape}.")
    if shape[0] != rows:
        raise ScoreError(f"{expected}: one row per test example, {rows} rows; found {shape[0]} rows.")
    if shape[1 : len(ids_shape)] != ids_shape[1:]:
        raise ScoreError(f"{expected}; found shape {shape}.")
    if len(shape) == len(scores_shape) and shape[-1] != num_classes:
        if len(ids_shape) == 1:
            raise ScoreError(f"{expected}: {num_classes} columns, one score per class; found {shape[-1]} columns.")
        raise ScoreError(f"{expected}: {num_classes} scores, one per class, in the last axis; found {shape[-1]}.")
    if len(shape) == len(ids_shape) and dtype.kind not in _INTEGER_KINDS:
        raise ScoreError(
            f"{expected}; found {shape} values of dtype {dtype}, which are not class ids. "
            "Save np.argmax(scores, axis=-1), or the scores themselves."
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


def predicted_classes(pred: np.ndarray, labels: np.ndarray) -> np.ndarray:
    """Class ids from ids shaped like the labels, or from scores with one more (class) axis; ties go to the
    lowest class id (np.argmax)."""
    return pred.argmax(axis=-1) if pred.ndim == np.ndim(labels) + 1 else pred.astype(np.int64)


def classification_metrics(pred: np.ndarray, labels: np.ndarray, num_classes: int) -> dict[str, float]:
    """Accuracy and macro-F1, rounded to 4 decimals.

    Macro-F1 averages over the classes that occur in the labels or the predictions: a class absent from both
    says nothing about the model, and counting it as 0 (or 1) would distort the average.
    """
    predicted = predicted_classes(pred, labels).ravel()
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


# --- metrics for the other kinds of task ---------------------------------------------------------


def segmentation_metrics(pred: np.ndarray, labels: np.ndarray, num_classes: int) -> dict[str, float]:
    """Mean IoU over the classes present in the labels or the predictions, and pixel accuracy.

    IoU is computed over the whole test set (one confusion matrix), not averaged per image: a tiny object
    in one image weighs as much as its pixels, and images with no object of a class do not count as 0.
    """
    predicted = predicted_classes(pred, labels).ravel()
    truth = np.asarray(labels).astype(np.int64).ravel()
    _check_comparable(predicted, truth, num_classes)
    confusion = np.bincount(truth * num_classes + predicted, minlength=num_classes**2).reshape(num_classes, -1)
    true_positive = np.diag(confusion).astype(np.float64)
    union = confusion.sum(axis=0) + confusion.sum(axis=1) - true_positive
    present = union > 0
    iou = true_positive[present] / union[present]
    return {
        "mean_iou": round(float(iou.mean()), 4),
        "pixel_accuracy": round(float(np.mean(predicted == truth)), 4),
    }


def tagging_metrics(pred: np.ndarray, labels: np.ndarray, num_classes: int) -> dict[str, float]:
    """Token accuracy over the positions whose label is not -1 (padding), and whole-sequence accuracy."""
    predicted = predicted_classes(pred, labels)
    truth = np.asarray(labels).astype(np.int64)
    mask = truth >= 0
    if predicted.shape != truth.shape or not mask.any():
        raise ValueError(f"Cannot score {predicted.shape} tags against {truth.shape} labels.")
    correct = (predicted == truth) | ~mask
    return {
        "token_accuracy": round(float(np.mean(predicted[mask] == truth[mask])), 4),
        "sequence_accuracy": round(float(np.mean(correct.all(axis=1))), 4),
    }


def knn_metrics(embeddings: np.ndarray, labels: np.ndarray, gallery: np.ndarray, k: int = 5) -> dict[str, float]:
    """k-nearest-neighbour accuracy of the query rows, classified by the gallery rows' labels.

    Distances are cosine (rows are L2-normalised first, so the scale of an embedding does not matter). The vote
    is by majority among the k nearest; a tie goes to the class of the nearest neighbour among the tied ones.
    All-zero rows have no direction: they are left as zeros, equally far from everything.
    """
    vectors = np.asarray(embeddings, dtype=np.float64)
    norms = np.linalg.norm(vectors, axis=1, keepdims=True)
    vectors = np.divide(vectors, norms, out=np.zeros_like(vectors), where=norms > 0)
    gallery = np.asarray(gallery, dtype=bool)
    labels = np.asarray(labels).astype(np.int64)
    queries, refs = vectors[~gallery], vectors[gallery]
    query_labels, ref_labels = labels[~gallery], labels[gallery]
    if not len(queries) or len(refs) < k:
        raise ValueError("kNN scoring needs queries and at least k gallery rows.")
    similarity = queries @ refs.T
    # Stable sort on the negated similarity: equal distances keep gallery order, so results are reproducible.
    nearest = np.argsort(-similarity, axis=1, kind="stable")[:, :k]
    votes = ref_labels[nearest]
    classes = int(labels.max()) + 1
    counts = np.zeros((len(queries), classes), dtype=np.int64)
    np.add.at(counts, (np.arange(len(queries))[:, None], votes), 1)
    best = counts.max(axis=1, keepdims=True)
    # Among the classes with the most votes, the one that appears first in the neighbour list wins.
    tied = counts[np.arange(len(queries))[:, None], votes] == best
    predicted = votes[np.arange(len(queries)), tied.argmax(axis=1)]
    return {
        f"knn{k}_accuracy": round(float(np.mean(predicted == query_labels)), 4),
        "nn1_accuracy": round(float(np.mean(votes[:, 0] == query_labels)), 4),
    }


def mlp_forward(images: np.ndarray, weights: dict[str, np.ndarray]) -> tuple[np.ndarray, np.ndarray]:
    """The platform's own digit classifier (a ReLU MLP trained at dataset build time): (features, probabilities)."""
    hidden = np.asarray(images, dtype=np.float64).reshape(len(images), -1)
    layers = int(weights["mlp_layers"])
    for index in range(layers - 1):
        hidden = np.maximum(hidden @ weights[f"mlp_w{index}"] + weights[f"mlp_b{index}"], 0.0)
    logits = hidden @ weights[f"mlp_w{layers - 1}"] + weights[f"mlp_b{layers - 1}"]
    logits -= logits.max(axis=1, keepdims=True)
    probabilities = np.exp(logits)
    probabilities /= probabilities.sum(axis=1, keepdims=True)
    return hidden, probabilities


def inception_score_like(probabilities: np.ndarray) -> float:
    """exp(E_x KL(p(y|x) || p(y))) with the platform's classifier: 1 for one blurry class, up to the class count
    for confident, varied samples."""
    eps = 1e-12
    marginal = probabilities.mean(axis=0, keepdims=True)
    kl = (probabilities * (np.log(probabilities + eps) - np.log(marginal + eps))).sum(axis=1)
    return float(np.exp(kl.mean()))


def frechet_distance(features_a: np.ndarray, features_b: np.ndarray) -> float:
    """Fréchet distance between Gaussians fitted to two sets of features (the formula of FID).

    tr(sqrt(S_a S_b)) is the sum of the square roots of the eigenvalues of S_a S_b, which are real and
    non-negative for two covariance matrices; tiny negative or imaginary parts are rounding noise.
    """
    mean_a, mean_b = features_a.mean(axis=0), features_b.mean(axis=0)
    cov_a, cov_b = np.cov(features_a, rowvar=False), np.cov(features_b, rowvar=False)
    eigenvalues = np.linalg.eigvals(cov_a @ cov_b)
    trace_sqrt = float(np.sqrt(np.clip(eigenvalues.real, 0, None)).sum())
    distance = float(((mean_a - mean_b) ** 2).sum() + np.trace(cov_a) + np.trace(cov_b) - 2 * trace_sqrt)
    return max(distance, 0.0)


def copy_rate(generated: np.ndarray, training: np.ndarray, threshold: float) -> float:
    """The share of generated images closer (Euclidean, pixels in 0..1) to some training image than `threshold`."""
    gen = np.asarray(generated, dtype=np.float64).reshape(len(generated), -1)
    train = np.asarray(training, dtype=np.float64).reshape(len(training), -1)
    squared = (gen**2).sum(axis=1)[:, None] + (train**2).sum(axis=1)[None, :] - 2 * gen @ train.T
    nearest = np.sqrt(np.clip(squared.min(axis=1), 0, None))
    return float(np.mean(nearest < threshold))


def generation_metrics(images: np.ndarray, truth: dict[str, np.ndarray]) -> dict[str, float]:
    """IS-like and FID-like scores from the platform's classifier, and the share of copied training images."""
    low, high = float(images.min()), float(images.max())
    if low < -0.01 or high > 1.01:
        raise ScoreError(
            "Generated pixels must be between 0 and 1 (end the generator with a sigmoid); "
            f"found {low:.3g} to {high:.3g}."
        )
    images = np.clip(images, 0.0, 1.0)
    features, probabilities = mlp_forward(images, truth)
    real_features, _ = mlp_forward(truth["real_images"], truth)
    return {
        "is_like": round(inception_score_like(probabilities), 4),
        "fid_like": round(frechet_distance(features, real_features), 4),
        "copy_rate": round(copy_rate(images, truth["train_images"], float(truth["copy_threshold"])), 4),
    }


def regression_metrics(pred: np.ndarray, labels: np.ndarray) -> dict[str, float]:
    """R² (the share of the labels' variance the predictions explain: 1 is perfect, 0 is always answering the
    mean, so higher is better like every threshold here), and the errors in the labels' unit (RMSE, MAE)."""
    truth = np.asarray(labels, dtype=np.float64).ravel()
    errors = np.asarray(pred, dtype=np.float64).ravel() - truth
    spread = float(((truth - truth.mean()) ** 2).sum())
    r2 = 1.0 - float((errors**2).sum()) / spread if spread > 0 else math.nan
    # Rounded like every other task's metrics: the run page shows them as stored.
    rmse, mae = float(np.sqrt((errors**2).mean())), float(np.abs(errors).mean())
    return {"r2": round(r2, 4), "rmse": round(rmse, 4), "mae": round(mae, 4)}


def task_metrics(
    problem: str, predictions: Path, truth: dict[str, np.ndarray], spec: dict[str, Any]
) -> dict[str, float]:
    """Check and score one run's predictions for a task of kind `problem` (TaskSpec.Problem)."""
    labels = truth["y"]
    rows = len(labels)
    num_classes = int(spec.get("num_classes", 0))
    if problem in ("classification", "segmentation", "tagging"):
        item_shape = tuple(labels.shape[1:])
        pred = load_predictions(predictions, expected_rows=rows, num_classes=num_classes, item_shape=item_shape)
        metrics = {
            "classification": classification_metrics,
            "segmentation": segmentation_metrics,
            "tagging": tagging_metrics,
        }[problem](pred, labels, num_classes)
        return metrics
    if problem == "embedding":
        vectors = load_vectors(predictions, expected_rows=rows, item_shape=(int(spec["embedding_dim"]),))
        return knn_metrics(vectors, labels, truth["gallery"], k=int(spec.get("knn_k", 5)))
    if problem == "generation":
        images = load_vectors(predictions, expected_rows=rows, item_shape=tuple(spec["output_shape"]))
        return generation_metrics(images, truth)
    if problem == "regression":
        values = load_vectors(predictions, expected_rows=rows, item_shape=tuple(spec.get("output_shape") or [1]))
        return regression_metrics(values.reshape(rows), labels)
    raise ValueError(f"No scorer for problem {problem!r}.")


def decide_all(metrics: dict[str, float], metric: str, threshold: float, criteria: list[dict[str, Any]]) -> bool:
    """The main threshold, and every extra criterion ({"metric": name, "min" or "max": value}), must hold."""
    if not decide(metrics, metric, threshold):
        return False
    for rule in criteria:
        value = metrics.get(rule["metric"], math.nan)
        if math.isnan(value):
            return False
        if "min" in rule and value < float(rule["min"]):
            return False
        if "max" in rule and value > float(rule["max"]):
            return False
    return True
