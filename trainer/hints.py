"""Cheap, honest hints for an attempt that did not learn, in plain words, from what the platform measured."""

from __future__ import annotations

import math
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from trainer.models import TrainingRun

# Within this fraction of the chance-level loss, a classifier has learnt nothing.
STALL_TOLERANCE = 0.02
# Within this fraction of the trivial baseline, the score says the same.
BASELINE_TOLERANCE = 0.02

STALL_CAUSES = (
    "inputs scaled twice (the inputs you get are already scaled as the spec says: don't divide by 255 again)",
    "a learning rate too high for the optimizer (try the default, or 1e-3 for Adam)",
    "a wrong final layer: softmax over num_classes units with sparse_categorical_crossentropy, "
    "or logits with from_logits=True",
)


def learning_stalled(losses: list[float], num_classes: int) -> bool:
    """Every epoch's training loss stayed within 2 % of ln(num_classes), the loss of a uniform guess."""
    if num_classes < 2 or not losses:
        return False
    chance = math.log(num_classes)
    return all(abs(loss - chance) <= STALL_TOLERANCE * chance for loss in losses)


def at_baseline(value: float, baseline: float) -> bool:
    """The score (higher is better, as every task's metric) is no better than the trivial baseline, within 2 %."""
    return value <= baseline + BASELINE_TOLERANCE * max(abs(baseline), 1e-9)


def run_hints(run: TrainingRun) -> list[str]:
    task = run.task
    hints = []
    losses = [float(row["loss"]) for row in run.history if isinstance(row.get("loss"), int | float)]
    num_classes = task.spec.get("num_classes") if isinstance(task.spec, dict) else None
    if (
        task.problem == task.Problem.CLASSIFICATION
        and isinstance(num_classes, int)
        and learning_stalled(losses, num_classes)
    ):
        hints.append(
            f"The training loss stayed at {math.log(num_classes):.2f} = ln({num_classes}) for every epoch: the "
            "level of guessing uniformly among the classes, so the model learnt nothing. Usual causes: "
            + "; ".join(STALL_CAUSES)
            + "."
        )
    value = run.metric_value
    trivial = value is not None and task.baseline is not None and at_baseline(value, task.baseline)
    if not hints and trivial and not run.passed:
        hints.append(
            f"The {task.metric} ({value:.4f}) is at the level a trivial model reaches on this task "
            f"({task.baseline:.2f}): the model's predictions carry almost no information. Check that "
            "training ran (the loss should fall), that the output has the shape the brief asks for, "
            "and that inputs are used as given."
        )
    return hints
