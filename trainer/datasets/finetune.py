"""Fine-tuning: a base model the platform trained on ordinary Fashion-MNIST, and a shifted target domain with
few labels: the same ten classes photographed as negatives, transposed, with sensor noise.

The base model (`shared/base.keras`, given to both sandboxes as data/base.keras) is trained at build time by
`pretrain.py` in the sandbox runtime's Python; its accuracy on the target test set is the result to beat.
"""

from __future__ import annotations

import json
import subprocess
import tempfile
from pathlib import Path

import numpy as np

from trainer.datasets import fashion_mnist
from trainer.datasets.base import (
    SHARED_DIR,
    BuiltDataset,
    DatasetUnavailable,
    Seeds,
    built_dataset,
    split_stats,
    write_npz,
    write_splits,
)
from trainer.datasets.cards import save_image, strip

VERSION = "2"
SLUG = "fashion-negatives"
TINY_SLUG = "fashion-negatives-tiny"
# (target labels per class, target test per class, base training images, base epochs)
SIZES = {False: (30, 200, 30000, 3), True: (10, 30, 3000, 1)}
PRETRAIN = Path(__file__).resolve().parent / "pretrain.py"


def to_target(images: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """The target domain: negative, transposed, with Gaussian noise (uint8 in, uint8 out)."""
    shifted = 255.0 - images.astype(np.float64).transpose(0, 2, 1)
    shifted += rng.normal(0, 20, size=shifted.shape)
    return np.clip(shifted, 0, 255).round().astype(np.uint8)


def _runtime_python() -> Path:
    from trainer.sandbox.config import SandboxUnavailable, sandbox_config

    try:
        return sandbox_config().python
    except SandboxUnavailable as error:
        raise DatasetUnavailable(
            f"The fine-tuning base model is trained with the sandbox runtime; run manage.py sandbox_setup ({error})"
        ) from error


def pretrain(
    base_x: np.ndarray, base_y: np.ndarray, target_x: np.ndarray, target_y: np.ndarray, epochs: int
) -> tuple[bytes, dict[str, float]]:
    python = _runtime_python()
    with tempfile.TemporaryDirectory(prefix="skillproof-pretrain-") as work:
        folder = Path(work)
        write_npz(folder / "base_data.npz", x_train=base_x, y_train=base_y, x_target=target_x, y_target=target_y)
        environment = {"PATH": "/usr/bin:/bin", "TF_CPP_MIN_LOG_LEVEL": "2", "HOME": work, "KERAS_HOME": work}
        result = subprocess.run(
            [str(python), "-I", str(PRETRAIN), work, str(epochs)],
            capture_output=True, text=True, timeout=1800, env=environment, cwd=work,
        )  # fmt: skip
        if result.returncode != 0:
            raise RuntimeError(f"Training the base model failed: {result.stderr[-2000:]}")
        return (folder / "base.keras").read_bytes(), json.loads((folder / "base.json").read_text())


def build(out_dir: Path, *, seeds: Seeds, tiny: bool = False) -> BuiltDataset:
    per_class, test_per_class, base_count, epochs = SIZES[tiny]
    train_x, train_y, test_x, test_y = fashion_mnist.load_source()
    rng = seeds.rng(f"{SLUG}/tiny={tiny}")
    order = rng.permutation(len(train_y))
    # The base learns from one part of the training split; the few target labels come from another part.
    base_rows, rest = order[:base_count], order[base_count:]
    target_rows = rest[fashion_mnist.stratified_indices(train_y[rest], per_class, rng)]
    test_rows = fashion_mnist.stratified_indices(test_y, test_per_class, rng)
    target_train_x, target_train_y = to_target(train_x[target_rows], rng), train_y[target_rows]
    target_test_x, target_test_y = to_target(test_x[test_rows], rng), test_y[test_rows]
    model, base = pretrain(train_x[base_rows], train_y[base_rows], target_test_x, target_test_y, epochs)
    write_splits(
        out_dir,
        train={"x": target_train_x, "y": target_train_y},
        test_inputs={"x": target_test_x},
        truth={"y": target_test_y},
    )
    (out_dir / SHARED_DIR).mkdir()
    (out_dir / SHARED_DIR / "base.keras").write_bytes(model)
    pictures = [
        save_image(out_dir, "source.png", strip([train_x[target_rows[i]] for i in range(8)]), scale=2),
        save_image(out_dir, "target.png", strip([target_train_x[i] for i in range(8)]), scale=2),
    ]
    return built_dataset(
        slug=SLUG,
        tiny_slug=TINY_SLUG,
        tiny=tiny,
        version=VERSION,
        title="Fashion-MNIST negatives (fine-tuning)",
        source="Debian package dataset-fashion-mnist; base model trained by Skillproof at build time",
        licence="MIT (Zalando Research)",
        description=(
            f"A base CNN ({base['params']:,} parameters) trained for {epochs} epoch(s) on {base_count:,} ordinary "
            f"Fashion-MNIST images ({base['source_accuracy']:.1%} accurate on them). The target domain shows the "
            "same ten classes as negatives, transposed, with noise: "
            f"{len(target_train_y):,} labelled training images ({per_class} per class) and "
            f"{len(target_test_y):,} test images. On the target test set the base model scores "
            f"{base['target_accuracy']:.1%} as it is."
        ),
        stats=split_stats(
            out_dir,
            train_y=target_train_y,
            test_y=target_test_y,
            class_names=fashion_mnist.CLASS_NAMES,
            pictures=pictures,
            base_target_accuracy=round(base["target_accuracy"], 4),
            base_source_accuracy=round(base["source_accuracy"], 4),
            base_params=base["params"],
        ),
        test_labels_public=True,
    )
