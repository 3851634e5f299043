"""What every dataset builder shares: the folder layout, the result record, writing and checksumming files.

A builder writes into `out_dir`:

- `train.npz` with `x` and `y`: copied into the train sandbox;
- `test_inputs.npz` with `x`: copied into the predict sandbox;
- `labels/test_labels.npz` with `y` (and whatever else the scorer needs): read only by the trusted scorer.
  Keeping the labels in their own folder
  lets the platform copy the sandbox files without ever filtering inside an archive.

Only numpy and the standard library are used here: the worker that scores runs must never import TensorFlow.
"""

from __future__ import annotations

import hashlib
import hmac
import os
import secrets
import tempfile
import zipfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

TRAIN_FILE = "train.npz"
TEST_INPUTS_FILE = "test_inputs.npz"
LABELS_DIR = "labels"
TEST_LABELS_FILE = f"{LABELS_DIR}/test_labels.npz"
# Files both sandboxes receive under data/ (a base model to fine-tune).
SHARED_DIR = "shared"
# Pictures and texts for the dataset card; never copied into a sandbox.
CARD_DIR = "card"

# zipfile stamps each member with the current time, which would make two builds of the same data differ.
# A fixed stamp (the earliest a zip can hold) keeps the archives, and so the checksum, reproducible.
_ZIP_DATE_TIME = (1980, 1, 1, 0, 0, 0)


# The installation's secret, beside the datasets (never inside a dataset folder, so never in a sandbox).
SECRET_FILE = "installation.secret"  # noqa: S105 - a file name, not a secret
SECRET_BYTES = 32


class DatasetUnavailable(Exception):
    """The source data is not installed; the message says what to install."""


@dataclass(frozen=True)
class Seeds:
    """Where a builder's randomness comes from: the installation's secret, never a constant in the source.

    With constants anyone could rerun a generator and read the test labels off it; with the secret, two
    builds on one installation are identical (the checksum holds), and the test split of another
    installation cannot be recomputed. Each use names its purpose, so streams never overlap.
    """

    secret: bytes

    def rng(self, purpose: str) -> np.random.Generator:
        digest = hmac.new(self.secret, purpose.encode(), hashlib.sha256).digest()
        return np.random.default_rng(int.from_bytes(digest, "big"))


def installation_seeds(data_dir: Path, configured: str = "") -> Seeds:
    """The installation's seeds: `configured` (hex, for several worker machines that must build the same
    data), else the secret file in `data_dir`, created on first use with 32 random bytes, owner-only."""
    if configured:
        try:
            secret = bytes.fromhex(configured)
        except ValueError as error:
            raise ValueError("TRAINER_DATASET_SECRET must be hexadecimal (e.g. `openssl rand -hex 32`).") from error
        if len(secret) < 16:
            raise ValueError("TRAINER_DATASET_SECRET must hold at least 16 bytes (32 hex digits).")
        return Seeds(secret)
    path = data_dir / SECRET_FILE
    if not path.exists():
        data_dir.mkdir(parents=True, exist_ok=True)
        # Written whole under a private name, then linked into place: link() never replaces, so when two
        # builds start at once one secret wins and both read it, never a half-written file.
        descriptor, name = tempfile.mkstemp(prefix=".secret-", dir=data_dir)  # mode 0600
        staging = Path(name)
        try:
            with os.fdopen(descriptor, "wb") as handle:
                handle.write(secrets.token_bytes(SECRET_BYTES))
            os.link(staging, path)
        except FileExistsError:
            pass
        finally:
            staging.unlink()
    secret = path.read_bytes()
    if len(secret) != SECRET_BYTES:
        raise ValueError(f"{path} is damaged ({len(secret)} bytes, {SECRET_BYTES} expected).")
    return Seeds(secret)


@dataclass
class BuiltDataset:
    """What a builder reports about the files it wrote; registry.dataset_build stores it on a Dataset row."""

    slug: str
    version: str
    title: str
    source: str
    licence: str
    description: str
    stats: dict[str, Any] = field(default_factory=dict)
    # The test labels can be looked up in public sources (a published test set, a public corpus): no
    # secret split can hide them, so tasks on this data train on the server only (see TaskSpec).
    test_labels_public: bool = False


def built_dataset(
    *,
    slug: str,
    tiny_slug: str,
    tiny: bool,
    version: str,
    title: str,
    source: str,
    licence: str,
    description: str,
    stats: dict[str, Any],
    test_labels_public: bool = False,
) -> BuiltDataset:
    """The record of one build. Every builder makes a full dataset and a tiny variant for tests and health
    checks; the tiny one has its own slug and says so in its title."""
    return BuiltDataset(
        slug=tiny_slug if tiny else slug,
        version=version,
        title=f"{title} (tiny)" if tiny else title,
        source=source,
        licence=licence,
        description=description,
        stats=stats,
        test_labels_public=test_labels_public,
    )


def write_npz(path: Path, **arrays: np.ndarray) -> None:
    """Write arrays to a compressed `.npz`, byte-for-byte reproducible for the same arrays.

    The result is what np.savez_compressed writes (np.load reads it), except that member timestamps are fixed
    and object arrays are refused, so the file never needs allow_pickle to be read.
    """
    if not arrays:
        raise ValueError("write_npz needs at least one array.")
    for name, value in arrays.items():
        _check_plain_array(name, value)
    path.parent.mkdir(parents=True, exist_ok=True)
    with zipfile.ZipFile(path, mode="w", compression=zipfile.ZIP_DEFLATED, allowZip64=True) as archive:
        for name, value in arrays.items():
            _write_member(archive, f"{name}.npy", value)


def write_splits(
    out_dir: Path, *, train: dict[str, np.ndarray], test_inputs: dict[str, np.ndarray], truth: dict[str, np.ndarray]
) -> None:
    """The three files of a dataset: what training sees, what prediction sees, what only the scorer sees."""
    write_npz(out_dir / TRAIN_FILE, **train)
    write_npz(out_dir / TEST_INPUTS_FILE, **test_inputs)
    write_npz(out_dir / TEST_LABELS_FILE, **truth)


def _check_plain_array(name: str, value: object) -> None:
    if not isinstance(value, np.ndarray):
        raise TypeError(f"write_npz: {name} must be a numpy array, not {type(value).__name__}.")
    if value.dtype.hasobject:
        raise TypeError(f"write_npz: {name} has an object dtype, which could only be read back with pickle.")


def _write_member(archive: zipfile.ZipFile, member: str, value: np.ndarray) -> None:
    info = zipfile.ZipInfo(member, date_time=_ZIP_DATE_TIME)
    info.compress_type = zipfile.ZIP_DEFLATED
    # Members may exceed 2 GiB; numpy forces zip64 for the same reason (numpy gh-10776).
    with archive.open(info, mode="w", force_zip64=True) as handle:
        np.lib.format.write_array(handle, value, allow_pickle=False)


def dataset_file_paths(folder: Path) -> list[Path]:
    """Every regular file under `folder`, sorted by relative path so the order never depends on the filesystem."""
    return sorted((p for p in folder.rglob("*") if p.is_file()), key=lambda p: p.relative_to(folder).as_posix())


def files_checksum(folder: Path) -> str:
    """SHA-256 over every file under `folder`: the relative path and the bytes of each, in sorted path order.

    Hashing the path makes a renamed or moved file change the checksum. Each file's bytes go in as their own
    fixed-length SHA-256, so bytes cannot shift from one file to the next without changing the result.
    """
    digest = hashlib.sha256()
    for path in dataset_file_paths(folder):
        relative = path.relative_to(folder).as_posix().encode()
        digest.update(len(relative).to_bytes(8, "big") + relative)
        with path.open("rb") as handle:
            digest.update(hashlib.file_digest(handle, "sha256").digest())
    return digest.hexdigest()


def file_sizes(folder: Path) -> dict[str, int]:
    """Bytes per file under `folder`, keyed by relative path, for a dataset's stats."""
    return {p.relative_to(folder).as_posix(): p.stat().st_size for p in dataset_file_paths(folder)}


def class_counts(labels: np.ndarray, num_classes: int) -> list[int]:
    return [int(n) for n in np.bincount(np.asarray(labels).astype(np.int64).ravel(), minlength=num_classes)]


def split_stats(
    out_dir: Path, *, train_y: np.ndarray, test_y: np.ndarray, class_names: list[str], **extra: Any
) -> dict[str, Any]:
    """The stats every dataset card shows: split sizes, class balance (per example or per token/pixel), files."""
    sizes = file_sizes(out_dir)
    n = len(class_names)
    return {
        "splits": {
            "train": {"count": len(train_y), "class_counts": class_counts(train_y, n)},
            "test": {"count": len(test_y), "class_counts": class_counts(test_y, n)},
        },
        "num_classes": n,
        "class_names": class_names,
        "file_sizes": sizes,
        "total_bytes": sum(sizes.values()),
        **extra,
    }


def stratified_split(
    labels: np.ndarray, test_fraction: float, rng: np.random.Generator
) -> tuple[np.ndarray, np.ndarray]:
    """Train and test indices with each class split in the same proportion, both shuffled."""
    train, test = [], []
    for label in np.unique(labels):
        members = rng.permutation(np.flatnonzero(labels == label))
        cut = round(len(members) * test_fraction)
        test.append(members[:cut])
        train.append(members[cut:])
    return rng.permutation(np.concatenate(train)), rng.permutation(np.concatenate(test))


def per_class(labels: np.ndarray, count: int, rng: np.random.Generator) -> np.ndarray:
    """Up to `count` indices of each class, shuffled together."""
    chosen = [rng.permutation(np.flatnonzero(labels == label))[:count] for label in np.unique(labels)]
    return rng.permutation(np.concatenate(chosen))
