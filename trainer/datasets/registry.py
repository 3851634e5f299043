"""The datasets the platform can build, and the service that builds them into Dataset rows.

A dataset lives in `<TRAINER_DATA_DIR>/<slug>/<version>/`. Building is idempotent: an intact folder whose
checksum matches its row is left alone; a missing or tampered one is rebuilt from the source.
"""

from __future__ import annotations

import functools
import logging
import os
import shutil
import tempfile
from collections.abc import Callable
from pathlib import Path

from django.conf import settings

from trainer.datasets import babi, diamonds, digits, fashion_mnist, finetune, shapes, speech, tagging, wordnet
from trainer.datasets.base import (
    SHARED_DIR,
    TEST_INPUTS_FILE,
    TEST_LABELS_FILE,
    TRAIN_FILE,
    BuiltDataset,
    files_checksum,
    installation_seeds,
)
from trainer.models import Dataset

logger = logging.getLogger(__name__)

# slug -> (builder, version). The version is known before building, so an up-to-date folder is found without
# building. Each full dataset has a tiny variant for tests and health checks.
_DATASETS: dict[str, tuple[Callable[..., BuiltDataset], str]] = {}


def _register(slug: str, tiny_slug: str, build: Callable[..., BuiltDataset], version: str) -> None:
    _DATASETS[slug] = (build, version)
    _DATASETS[tiny_slug] = (functools.partial(build, tiny=True), version)


_register(fashion_mnist.SLUG, fashion_mnist.TINY_SLUG, fashion_mnist.build, fashion_mnist.VERSION)
_register(
    fashion_mnist.EMBED_SLUG, fashion_mnist.EMBED_TINY_SLUG, fashion_mnist.build_embeddings, fashion_mnist.VERSION
)
_register(shapes.SLUG, shapes.TINY_SLUG, shapes.build, shapes.VERSION)
_register(wordnet.SLUG, wordnet.TINY_SLUG, wordnet.build, wordnet.VERSION)
_register(speech.SLUG, speech.TINY_SLUG, speech.build, speech.VERSION)
_register(tagging.SLUG, tagging.TINY_SLUG, tagging.build, tagging.VERSION)
_register(digits.MOVING_SLUG, digits.MOVING_TINY_SLUG, digits.build_moving, digits.VERSION)
_register(babi.SLUG, babi.TINY_SLUG, babi.build, babi.VERSION)
_register(digits.GAN_SLUG, digits.GAN_TINY_SLUG, digits.build_gan, digits.VERSION)
_register(finetune.SLUG, finetune.TINY_SLUG, finetune.build, finetune.VERSION)
_register(diamonds.SLUG, diamonds.TINY_SLUG, diamonds.build, diamonds.VERSION)
BUILDERS: dict[str, Callable[..., BuiltDataset]] = {slug: pair[0] for slug, pair in _DATASETS.items()}
VERSIONS: dict[str, str] = {slug: pair[1] for slug, pair in _DATASETS.items()}


def dataset_folder(*, slug: str, data_dir: Path | None = None) -> Path:
    """Where the current version of `slug` lives."""
    if slug not in BUILDERS:
        raise ValueError(f"Unknown dataset {slug!r}; known: {', '.join(sorted(BUILDERS))}.")
    return Path(data_dir if data_dir is not None else settings.TRAINER_DATA_DIR) / slug / VERSIONS[slug]


def dataset_is_current(*, slug: str, data_dir: Path | None = None) -> bool:
    """True when the folder exists and matches its row, so dataset_build would do nothing."""
    folder = dataset_folder(slug=slug, data_dir=data_dir)
    row = Dataset.objects.filter(slug=slug, version=VERSIONS[slug]).first()
    return row is not None and row.path == str(folder) and dataset_verify(row)


def dataset_build(*, slug: str, data_dir: Path | None = None, force: bool = False) -> Dataset:
    """Build `slug` unless its folder is intact, and create or update its Dataset row.

    Raises DatasetUnavailable (from the builder) when the source is not installed.
    """
    folder = dataset_folder(slug=slug, data_dir=data_dir)
    if not force and dataset_is_current(slug=slug, data_dir=data_dir):
        logger.info("Dataset %s is up to date in %s", slug, folder)
        return Dataset.objects.get(slug=slug, version=VERSIONS[slug])
    data_root = Path(data_dir if data_dir is not None else settings.TRAINER_DATA_DIR)
    seeds = installation_seeds(data_root, settings.TRAINER_DATASET_SECRET)
    built = _build_atomically(functools.partial(BUILDERS[slug], seeds=seeds), folder)
    if (built.slug, built.version) != (slug, VERSIONS[slug]):
        raise RuntimeError(f"Builder for {slug} {VERSIONS[slug]} reported {built.slug} {built.version}.")
    dataset, _ = Dataset.objects.update_or_create(
        slug=slug,
        version=built.version,
        defaults={
            "title": built.title,
            "source": built.source,
            "licence": built.licence,
            "description": built.description,
            "path": str(folder),
            "checksum": files_checksum(folder),
            "stats": built.stats,
            "test_labels_public": built.test_labels_public,
        },
    )
    logger.info("Built dataset %s into %s", slug, folder)
    return dataset


def _build_atomically(builder: Callable[[Path], BuiltDataset], folder: Path) -> BuiltDataset:
    """Build into a temporary sibling, then rename it into place.

    A crash mid-build leaves only a hidden temporary folder, never a half-written dataset at `folder`.
    """
    folder.parent.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=f".{folder.name}.building-", dir=folder.parent))
    # mkdtemp makes the folder private (0700); the dataset must stay readable by the runner's other uids.
    staging.chmod(0o755)
    try:
        built = builder(staging)
        _replace_folder(staging, folder)
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise
    return built


def _replace_folder(new: Path, folder: Path) -> None:
    # rename() cannot replace a non-empty folder, so the old one steps aside first; both renames are atomic.
    old = None
    if folder.exists():
        old = Path(tempfile.mkdtemp(prefix=f".{folder.name}.old-", dir=folder.parent))
        os.replace(folder, old / folder.name)
    os.replace(new, folder)
    if old is not None:
        shutil.rmtree(old, ignore_errors=True)


def dataset_files(dataset: Dataset) -> dict[str, Path]:
    """The files of a built dataset. `test_labels` is for the trusted scorer only, never for a sandbox;
    `shared/<name>` files (a base model to fine-tune) go into both sandboxes."""
    folder = Path(dataset.path)
    files = {
        "train": folder / TRAIN_FILE,
        "test_inputs": folder / TEST_INPUTS_FILE,
        "test_labels": folder / TEST_LABELS_FILE,
    }
    shared = folder / SHARED_DIR
    if shared.is_dir():
        files |= {f"{SHARED_DIR}/{p.name}": p for p in sorted(shared.iterdir()) if p.is_file()}
    return files


def dataset_verify(dataset: Dataset) -> bool:
    """True when the files on disk still have the checksum recorded when they were built."""
    folder = Path(dataset.path)
    return folder.is_dir() and files_checksum(folder) == dataset.checksum
