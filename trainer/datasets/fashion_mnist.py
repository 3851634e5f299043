"""Fashion-MNIST from Debian's `dataset-fashion-mnist` package: the full set and a tiny stratified variant."""

from __future__ import annotations

import gzip
import math
import struct
import zlib
from pathlib import Path
from typing import Any

import numpy as np

from trainer.datasets.base import (
    BuiltDataset,
    DatasetUnavailable,
    Seeds,
    built_dataset,
    split_stats,
    write_splits,
)

# A module constant, read at build time, so tests (and unusual installs) can point it elsewhere.
SOURCE_DIR = Path("/usr/share/datasets/fashion-mnist")
SOURCE_FILES = {
    "train_x": "train-images-idx3-ubyte.gz",
    "train_y": "train-labels-idx1-ubyte.gz",
    "test_x": "t10k-images-idx3-ubyte.gz",
    "test_y": "t10k-labels-idx1-ubyte.gz",
}
INSTALL_HINT = "Fashion-MNIST needs the Debian package dataset-fashion-mnist (apt-get install dataset-fashion-mnist)"

VERSION = "3"
SLUG = "fashion-mnist"
TINY_SLUG = "fashion-mnist-tiny"
CLASS_NAMES = ["T-shirt/top", "Trouser", "Pullover", "Dress", "Coat", "Sandal", "Shirt", "Sneaker", "Bag", "Ankle boot"]
NUM_CLASSES = len(CLASS_NAMES)
IMAGE_SHAPE = (28, 28)
# The tiny variant: per-class counts (2,000 train / 500 test in all), drawn with the installation's seeds.
TINY_TRAIN_PER_CLASS = 200
TINY_TEST_PER_CLASS = 50

# IDX type codes (http://yann.lecun.com/exdb/mnist/): every multi-byte type is stored big-endian.
_IDX_DTYPES = {0x08: ">u1", 0x09: ">i1", 0x0B: ">i2", 0x0C: ">i4", 0x0D: ">f4", 0x0E: ">f8"}


def read_idx(path: Path) -> np.ndarray:
    """Read a gzipped IDX file into an array in native byte order; ValueError if the file is corrupt."""
    try:
        with gzip.open(path, "rb") as handle:
            data = handle.read()
    except (gzip.BadGzipFile, EOFError, zlib.error) as error:
        raise ValueError(f"{path.name}: not a readable gzip file ({error}).") from error
    dtype, dims, offset = _parse_idx_header(data, path.name)
    expected, found = math.prod(dims) * dtype.itemsize, len(data) - offset
    if found != expected:
        raise ValueError(f"{path.name}: shape {dims} needs {expected} bytes of data, the file holds {found}.")
    array = np.frombuffer(data, dtype=dtype, offset=offset).reshape(dims)
    # A copy in native order: frombuffer's view is read-only and big-endian arrays are slow to compute with.
    return array.astype(dtype.newbyteorder("="))


def _parse_idx_header(data: bytes, name: str) -> tuple[np.dtype[Any], tuple[int, ...], int]:
    """The element type, the dimensions and where the values start."""
    if len(data) < 4 or data[0] != 0 or data[1] != 0:
        raise ValueError(f"{name}: not an IDX file (the magic number must start with two zero bytes).")
    type_code, ndim = data[2], data[3]
    if type_code not in _IDX_DTYPES:
        raise ValueError(f"{name}: unknown IDX type code 0x{type_code:02x}.")
    if ndim == 0:
        raise ValueError(f"{name}: an IDX file needs at least one dimension.")
    offset = 4 + 4 * ndim
    if len(data) < offset:
        raise ValueError(f"{name}: header cut short ({ndim} dimensions need {offset} bytes, found {len(data)}).")
    dims = struct.unpack(f">{ndim}I", data[4:offset])
    return np.dtype(_IDX_DTYPES[type_code]), dims, offset


def build(out_dir: Path, *, seeds: Seeds, tiny: bool = False) -> BuiltDataset:
    """Write the full set (60,000 / 10,000) or the tiny one (2,000 / 500) into `out_dir`.

    The test images are the public test set, in an order of this installation's own: their position says
    nothing about their label.
    """
    train_x, train_y, test_x, test_y = load_source()
    rng = seeds.rng(f"{SLUG}/tiny={tiny}")
    if tiny:
        train_pick = stratified_indices(train_y, TINY_TRAIN_PER_CLASS, rng)
        test_pick = stratified_indices(test_y, TINY_TEST_PER_CLASS, rng)
        train_x, train_y = train_x[train_pick], train_y[train_pick]
    else:
        test_pick = rng.permutation(len(test_y))
    test_x, test_y = test_x[test_pick], test_y[test_pick]
    write_splits(
        out_dir,
        train={"x": train_x, "y": train_y},
        test_inputs={"x": test_x},
        truth={"y": test_y},
    )
    from trainer.datasets import cards

    picture = cards.save_image(out_dir, "images.png", cards.strip([train_x[i] for i in range(8)]), scale=2)
    stats = _stats(out_dir, train_y, test_y) | {"pictures": [picture]}
    return built_dataset(
        slug=SLUG,
        tiny_slug=TINY_SLUG,
        tiny=tiny,
        version=VERSION,
        title="Fashion-MNIST",
        source="Debian package dataset-fashion-mnist",
        licence="MIT (Zalando Research)",
        description=_description(tiny),
        stats=stats,
        test_labels_public=True,
    )


def load_source() -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Train images, train labels, test images, test labels, checked against each other."""
    paths = {key: SOURCE_DIR / name for key, name in SOURCE_FILES.items()}
    missing = [path.name for path in paths.values() if not path.is_file()]
    if missing:
        raise DatasetUnavailable(f"{INSTALL_HINT}; missing in {SOURCE_DIR}: {', '.join(missing)}.")
    arrays = {key: read_idx(path) for key, path in paths.items()}
    for split in ("train", "test"):
        _check_split(split, arrays[f"{split}_x"], arrays[f"{split}_y"])
    return arrays["train_x"], arrays["train_y"], arrays["test_x"], arrays["test_y"]


def _check_split(split: str, x: np.ndarray, y: np.ndarray) -> None:
    # The scorer and the sandbox harness rely on these; a wrong source file must fail here, not in a run.
    if x.dtype != np.uint8 or x.ndim != 3 or x.shape[1:] != IMAGE_SHAPE:
        raise ValueError(f"Fashion-MNIST {split} images: expected uint8 (n, 28, 28), found {x.dtype} {x.shape}.")
    if y.dtype != np.uint8 or y.shape != (len(x),):
        raise ValueError(f"Fashion-MNIST {split} labels: expected {len(x)} uint8 labels, found {y.dtype} {y.shape}.")
    if len(y) and int(y.max()) >= NUM_CLASSES:
        raise ValueError(f"Fashion-MNIST {split} labels: found class {int(y.max())}, expected 0..{NUM_CLASSES - 1}.")


def stratified_indices(labels: np.ndarray, per_class: int, rng: np.random.Generator) -> np.ndarray:
    """`per_class` indices of each class, drawn without replacement, then shuffled so classes interleave."""
    chosen = []
    for label in range(NUM_CLASSES):
        members = np.flatnonzero(labels == label)
        if len(members) < per_class:
            raise ValueError(f"Class {label} has {len(members)} examples, fewer than the {per_class} needed.")
        chosen.append(rng.choice(members, size=per_class, replace=False))
    picked = np.concatenate(chosen)
    rng.shuffle(picked)
    return picked


def _stats(out_dir: Path, train_y: np.ndarray, test_y: np.ndarray) -> dict[str, Any]:
    return split_stats(
        out_dir, train_y=train_y, test_y=test_y, class_names=CLASS_NAMES, shape=list(IMAGE_SHAPE), dtype="uint8"
    )


def _description(tiny: bool) -> str:
    size = (
        f"a stratified subset: {TINY_TRAIN_PER_CLASS * NUM_CLASSES:,} training and "
        f"{TINY_TEST_PER_CLASS * NUM_CLASSES:,} test images, {TINY_TRAIN_PER_CLASS} and {TINY_TEST_PER_CLASS} "
        "per class, for tests and health checks"
        if tiny
        else "60,000 training and 10,000 test images"
    )
    return (
        f"Zalando's Fashion-MNIST, {size}: 28x28 greyscale photos of clothing in 10 classes "
        f"({', '.join(CLASS_NAMES)}). Images are stored as uint8 (n, 28, 28) to keep the files small; "
        "the sandbox harness scales them to float32 in [0, 1] and adds the channel axis, so build_model sees "
        "(28, 28, 1). Labels are class ids 0-9."
    )


# --- embeddings: the same images, scored by k-nearest neighbours on the embeddings a model returns ----------

EMBED_SLUG = "fashion-mnist-embed"
EMBED_TINY_SLUG = "fashion-mnist-embed-tiny"


def build_embeddings(out_dir: Path, *, seeds: Seeds, tiny: bool = False) -> BuiltDataset:
    """Train images with labels; test images split into a labelled gallery and queries, both only for the scorer.

    The sandbox gets all test images in one array (gallery and queries shuffled together), so it cannot tell
    which rows are which; the scorer classifies each query by the labels of its nearest gallery embeddings.
    """
    from trainer.datasets import cards

    train_x, train_y, test_x, test_y = load_source()
    rng = seeds.rng(f"{EMBED_SLUG}/tiny={tiny}")
    if tiny:
        train_pick = stratified_indices(train_y, TINY_TRAIN_PER_CLASS, rng)
        test_pick = stratified_indices(test_y, TINY_TEST_PER_CLASS, rng)
    else:
        train_pick = rng.permutation(len(train_y))
        test_pick = stratified_indices(test_y, 400, rng)
    train_x, train_y = train_x[train_pick], train_y[train_pick]
    test_x, test_y = test_x[test_pick], test_y[test_pick]
    gallery = np.zeros(len(test_y), dtype=bool)
    for label in range(NUM_CLASSES):
        members = np.flatnonzero(test_y == label)
        gallery[members[: len(members) // 2]] = True
    write_splits(
        out_dir,
        train={"x": train_x, "y": train_y},
        test_inputs={"x": test_x},
        truth={"y": test_y, "gallery": gallery},
    )
    picture = cards.save_image(out_dir, "images.png", cards.strip([train_x[i] for i in range(8)]), scale=2)
    stats = _stats(out_dir, train_y, test_y)
    from trainer.scoring import knn_metrics

    # What a model that learnt nothing scores: the raw pixels as embeddings.
    raw = knn_metrics(test_x.reshape(len(test_x), -1).astype(np.float64), test_y, gallery)
    stats |= {
        "pictures": [picture], "gallery": int(gallery.sum()), "queries": int((~gallery).sum()),
        "raw_pixels_knn5": raw["knn5_accuracy"],
    }  # fmt: skip
    return built_dataset(
        slug=EMBED_SLUG,
        tiny_slug=EMBED_TINY_SLUG,
        tiny=tiny,
        version=VERSION,
        title="Fashion-MNIST for embeddings",
        source="Debian package dataset-fashion-mnist",
        licence="MIT (Zalando Research)",
        description=(
            f"Zalando's Fashion-MNIST: {len(train_y):,} labelled training images; {len(test_y):,} test images "
            f"({len(test_y) // NUM_CLASSES} per class) that the scorer splits into a labelled gallery "
            f"({int(gallery.sum()):,}) and queries ({int((~gallery).sum()):,}). The sandbox sees all test images "
            "shuffled together, without labels and without knowing which are queries."
        ),
        stats=stats,
        test_labels_public=True,
    )
