"""The three stages of a run: train (sandbox), predict (a fresh sandbox), score (trusted).

Called by `trainer.services.run_execute` inside the worker. The worker never imports learner
code or TensorFlow: it copies files in, watches from outside, copies regular files out, and
scores with numpy against labels that never enter a sandbox.
"""

from __future__ import annotations

import json
import logging
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from trainer.datasets.registry import dataset_files
from trainer.models import HARNESS_KINDS, ErrorKind, TaskSpec
from trainer.sandbox.runner import Outcome, PlatformError, Result, Runner, get_runner
from trainer.scoring import ScoreError, decide_all, task_metrics

logger = logging.getLogger(__name__)

MB = 1024 * 1024
PREDICT_WALL_SECONDS = 180
# Only the model and the learner-facing progress come out of the training sandbox, where learner
# code runs. The summary, the picture and the environment come from the prediction sandbox, which
# runs only the harness and the model loaded with safe_mode: they describe the model that was scored.
TRAIN_OUTPUTS = {"progress.jsonl": 1 * MB, "result.json": 64 * 1024}
PREDICT_OUTPUTS = {
    "predictions.npy": 200 * MB, "model.json": 64 * 1024, "result.json": 64 * 1024,
    "summary.txt": 1 * MB, "environment.json": 64 * 1024, "architecture.png": 5 * MB, "extra_metrics.json": 64 * 1024,
}  # fmt: skip


def db_safe(value: Any) -> Any:
    """Text from a sandbox, made storable: PostgreSQL text and jsonb refuse NUL characters."""
    if isinstance(value, str):
        return value.replace("\x00", "\ufffd")
    if isinstance(value, dict):
        return {db_safe(str(k)): db_safe(v) for k, v in value.items()}
    if isinstance(value, list):
        return [db_safe(item) for item in value]
    return value


class LearnerFailure(Exception):
    """The learner's submission failed: the run ends with this kind and message, never retried."""

    def __init__(self, kind: str, message: str) -> None:
        super().__init__(message)
        self.kind, self.message = kind, db_safe(message)


@dataclass
class Job:
    """Everything a run's stages need, prepared by the service from the database."""

    task: TaskSpec
    source_kind: str  # "py" (notebooks are converted first) or "keras"
    source: Path  # learner code, or a trained .keras model
    artifacts: Path  # trusted folder the outputs are copied into
    on_progress: Callable[[list[dict[str, Any]], str], bool]  # (epoch rows, log tail) -> cancel?
    on_stage: Callable[[str], None] = lambda stage: None  # "predict", "score": shown on the run page
    timings: dict[str, float] = field(default_factory=dict)
    log_sections: list[str] = field(default_factory=list)

    @property
    def log_tail(self) -> str:
        return "".join(self.log_sections)

    peak_memory_mb: float | None = None


def run_pipeline(job: Job) -> dict[str, Any]:
    """Run the stages; return the trusted result, or raise LearnerFailure / PlatformError."""
    files = dataset_files(job.task.dataset)
    model_path = job.source
    if job.source_kind == "py":
        model_path = _train(job, files)
    job.on_stage("predict")
    predictions = _predict(job, files, model_path)
    job.on_stage("score")
    started = time.monotonic()
    result = _score(job, files, predictions)
    job.timings["score"] = round(time.monotonic() - started, 3)
    return result


def _train(job: Job, files: dict[str, Path]) -> Path:
    started = time.monotonic()
    runner = get_runner()
    job.timings["sandbox_wait"] = round(time.monotonic() - started, 3)
    try:
        runner.start(
            mode="train",
            inputs={"submission.py": job.source, "data/train.npz": files["train"], **_shared(files)},
            spec=job.task.learner_spec(),
            memory_bytes=job.task.memory_mb * MB,
        )
        outcome = runner.wait(wall_seconds=job.task.wall_seconds, poll=_progress_poller(runner, job))
        outcome.files = runner.collect({**TRAIN_OUTPUTS, "model.keras": _model_cap()}, job.artifacts)
    finally:
        runner.destroy()
    job.timings["train"] = outcome.seconds
    _record(job, outcome, "training")
    _raise_for_outcome(outcome, stage="training", wall_seconds=job.task.wall_seconds)
    if "model.keras" not in outcome.files:
        raise LearnerFailure(
            ErrorKind.NO_MODEL, "Training finished but no model was saved (out/model.keras is missing)."
        )
    return outcome.files["model.keras"]


def _predict(job: Job, files: dict[str, Path], model_path: Path) -> Path:
    runner = get_runner()
    spec = {**job.task.learner_spec(), "describe": True}
    try:
        runner.start(
            mode="predict",
            inputs={"model.keras": model_path, "data/test_inputs.npz": files["test_inputs"], **_shared(files)},
            spec=spec,
            memory_bytes=job.task.memory_mb * MB,
        )
        outcome = runner.wait(wall_seconds=PREDICT_WALL_SECONDS, poll=_progress_poller(runner, job, rows=False))
        outcome.files = runner.collect(PREDICT_OUTPUTS, job.artifacts / "predict")
    finally:
        runner.destroy()
    job.timings["predict"] = outcome.seconds
    _record(job, outcome, "prediction")
    _raise_for_outcome(outcome, stage="prediction", wall_seconds=PREDICT_WALL_SECONDS)
    _check_params(job, outcome.files.get("model.json"))
    if "predictions.npy" not in outcome.files:
        raise LearnerFailure(ErrorKind.BAD_PREDICTIONS, "The model produced no predictions.")
    return outcome.files["predictions.npy"]


def _shared(files: dict[str, Path]) -> dict[str, Path]:
    """Files both sandboxes get besides the split (a base model to fine-tune), under data/."""
    return {f"data/{name.removeprefix('shared/')}": path for name, path in files.items() if name.startswith("shared/")}


def _score(job: Job, files: dict[str, Path], predictions: Path) -> dict[str, Any]:
    import numpy as np

    with np.load(files["test_labels"], allow_pickle=False) as data:
        truth = {name: data[name] for name in data.files}
    task = job.task
    try:
        metrics = task_metrics(task.problem, predictions, truth, task.spec)
    except ScoreError as error:
        raise LearnerFailure(error.kind, error.message) from error
    # Measured in the prediction sandbox, which runs only the harness and the safely loaded model.
    extra = _read_result(predictions.parent / "extra_metrics.json")
    metrics |= {str(k): float(v) for k, v in extra.items() if isinstance(v, int | float)}
    return {"metrics": metrics, "passed": decide_all(metrics, task.metric, task.threshold, task.criteria)}


def _raise_for_outcome(outcome: Outcome, *, stage: str, wall_seconds: float) -> None:
    result = outcome.result
    if result is Result.PLATFORM_FAULT:
        raise PlatformError(outcome.detail)
    if result is Result.CANCELLED:
        raise RunCancelled()
    if result is Result.OVER_TIME:
        raise LearnerFailure(
            ErrorKind.TIMEOUT, f"The {stage} stage ran past its {wall_seconds:.0f}-second budget and was stopped."
        )
    if result is Result.OVER_MEMORY:
        raise LearnerFailure(ErrorKind.OUT_OF_MEMORY, f"The {stage} stage went over its memory budget and was stopped.")
    if result is Result.OVER_DISK:
        raise LearnerFailure(ErrorKind.OVER_BUDGET, f"The {stage} stage wrote more files than its disk budget allows.")
    if result is Result.FINISHED:
        return
    # Only kinds the harness may report are believed. Anything else it claims is ignored: it runs
    # beside learner code, so its word is only used to explain a failure, never to declare a success.
    reported = _read_result(outcome.files.get("result.json"))
    kind = reported.get("error_kind")
    if isinstance(kind, str) and kind in HARNESS_KINDS:
        raise LearnerFailure(kind, str(reported.get("message", ""))[:4000])
    how = f"was killed by signal {outcome.signal}" if outcome.signal else f"exited with status {outcome.exit_code}"
    raise LearnerFailure(ErrorKind.CRASHED, f"The {stage} process {how} before finishing. See the log for details.")


def _read_result(path: Path | None) -> dict[str, Any]:
    try:
        data = json.loads(path.read_text()) if path else {}
    except (OSError, ValueError):
        return {}
    return data if isinstance(data, dict) else {}


def _check_params(job: Job, model_json: Path | None) -> None:
    params = _read_result(model_json).get("params")
    if isinstance(params, int) and params > job.task.max_params:
        raise LearnerFailure(
            ErrorKind.OVER_BUDGET, f"The model has {params:,} parameters; this task allows {job.task.max_params:,}."
        )


def _record(job: Job, outcome: Outcome, stage: str) -> None:
    # What the sandbox printed while warming up (TensorFlow's start-up chatter) is not the learner's.
    log = outcome.log_tail.split("skillproof-harness: ready\n", 1)[-1]
    dropped = outcome.log_bytes - len(outcome.log_tail.encode())
    note = f"[{dropped:,} earlier bytes of output not kept]\n" if dropped > 0 else ""
    # Each stage keeps its header, the note, and its last 30,000 characters: under 64 KB in all.
    job.log_sections.append(f"--- {stage} ---\n{note}{log[-30000:]}")
    if outcome.peak_memory_bytes:
        peak = round(outcome.peak_memory_bytes / MB, 1)
        job.peak_memory_mb = max(job.peak_memory_mb or 0, peak)


def _model_cap() -> int:
    from django.conf import settings

    return int(settings.TRAINER_MODEL_MAX_MB) * MB


class RunCancelled(Exception):
    """The learner (or an admin) cancelled the run while it was running."""


def _progress_poller(runner: Runner, job: Job, rows: bool = True) -> Callable[[], bool]:
    """Once a second: the epoch lines, read from outside (never following links), and the log tail."""
    last = {"at": 0.0}
    prefix = job.log_tail

    def poll() -> bool:
        now = time.monotonic()
        if now - last["at"] < 1.0:
            return False
        last["at"] = now
        epochs = [_epoch_row(row) for row in runner.progress(limit=MB)] if rows else None
        return job.on_progress(epochs or [], prefix + runner.log_text(16384))

    return poll


def _epoch_row(row: dict[str, Any]) -> dict[str, Any]:
    """An epoch line as written beside learner code: only numbers are kept, under short names."""
    return dict(db_safe({str(k)[:40]: v for k, v in row.items() if isinstance(v, int | float)}))
