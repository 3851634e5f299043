"""The task specs that ship with Skillproof, kept in sync by `manage.py build_datasets`.

Each task has a folder here: brief.md (Markdown; {name} fields are filled with its figures), starter.py,
and reference.py (a solution that passes, used by tests and benchmarks).
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

CATALOGUE_DIR = Path(__file__).resolve().parent


@dataclass(frozen=True)
class TaskDef:
    slug: str
    title: str
    folder: str
    dataset: str
    competency: str
    claim_order: int
    threshold: float
    baseline: float
    reference: float
    spec: dict[str, Any] = field(default_factory=dict)
    max_epochs: int = 5
    wall_seconds: int = 600
    memory_mb: int = 3072
    max_params: int = 1_000_000
    allow_evaluate_only: bool = False
    tiny: bool = False
    metric: str = "accuracy"

    def path(self, name: str) -> Path:
        return CATALOGUE_DIR / self.folder / name

    def brief(self, stats: dict[str, Any] | None = None) -> str:
        splits = (stats or {}).get("splits", {})
        train = int(splits.get("train", {}).get("count", 0))
        figures = {
            "train_count": f"{round(train * 0.9):,}",
            "val_count": f"{train - round(train * 0.9):,}",
            "test_count": f"{int(splits.get('test', {}).get('count', 0)):,}",
            "threshold": f"{self.threshold:.2f}",
            "baseline": f"{self.baseline:.2f}",
            "reference": f"{self.reference:.2f}",
            "max_epochs": self.max_epochs,
            "wall_seconds": f"{self.wall_seconds:,}",
            "memory_mb": f"{self.memory_mb:,}",
            "max_params": f"{self.max_params:,}",
        }
        text = self.path("brief.md").read_text()
        if self.tiny:
            text = "*Tiny variant for tests and health checks: a small subset, seconds to train.*\n\n" + text
        return text.format(**figures)


FASHION_SPEC = {"input_shape": [28, 28, 1], "num_classes": 10, "x_scale": 1 / 255, "batch_size": 64}

# Thresholds come from measurements on this platform (2-core CPU): see README "Task library".
FASHION_MNIST_CNN = TaskDef(
    slug="fashion-mnist-cnn",
    title="Classify Fashion-MNIST clothing images",
    folder="fashion-mnist",
    dataset="fashion-mnist",
    competency="keras",
    claim_order=7,
    threshold=0.85,
    baseline=0.10,
    reference=0.90,
    spec=FASHION_SPEC,
    max_epochs=5,
    wall_seconds=900,
    memory_mb=3072,
    max_params=500_000,
    allow_evaluate_only=True,
)
TASKS = [
    FASHION_MNIST_CNN,
    # The same task on 2,000/500 images: seconds to train, for tests and health checks.
    replace(
        FASHION_MNIST_CNN,
        slug="fashion-mnist-tiny",
        title="Classify Fashion-MNIST clothing images (tiny)",
        dataset="fashion-mnist-tiny",
        threshold=0.50,
        reference=0.75,
        max_epochs=2,
        wall_seconds=180,
        memory_mb=2048,
        tiny=True,
    ),
]
