"""The three stages of a run: train (sandbox), predict (a fresh sandbox), score (trusted).

Called by `trainer.services.run_execute` inside the worker. The worker never imports learner
code or TensorFlow: it copies files in, watches from outside, copies regular files out, and
scores with numpy against labels that never enter a sandbox.
"""

from __future__ import annotations

import json
import logging
import math
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from trainer.datasets.registry import dataset_files
from trainer.engines import DEFAULT_ENGINE, Engine, label, measured_engine
from trainer.exports import NO_EXPORT, ExportProblem, export_failed, export_result
from trainer.models import HARNESS_KINDS, ErrorKind, TaskSpec
from trainer.sandbox import outputs
from trainer.sandbox.outputs import BadOutput
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
    "custom.json": 64 * 1024,
}  # fmt: skip
# A model with custom objects is described by the prediction sandbox from its file alone (no learner code
# there); its predictions come from a third sandbox that imports the learner's code to rebuild it, and
# only the predictions (and an explanation of a failure) are taken from that one.
PREDICT_CODE_OUTPUTS = {"predictions.npy": 200 * MB, "result.json": 64 * 1024}
# The auxiliary measures the prediction harness adds to the scorer's metrics (out/extra_metrics.json), keyed
# by the spec entry that makes it measure them (trainer/harness/harness.py: predict): a task declares them
# through its spec. Any other key is ignored, and none overwrites a metric the scorer computed.
SANDBOX_METRICS = {"base_model": frozenset({"base_weights_reused"})}
# Learner code the training stage runs, under the name its harness loads (harness.py, or harness.R for R).
SUBMISSION_NAMES = {"py": "submission.py", "r": "submission.R"}
CODE_KINDS = frozenset(SUBMISSION_NAMES)


def declared_sandbox_metrics(spec: dict[str, Any]) -> frozenset[str]:
    """The keys of out/extra_metrics.json a task with this spec believes."""
    return frozenset().union(*(keys for entry, keys in SANDBOX_METRICS.items() if spec.get(entry)))


def db_safe(value: Any) -> Any:
    """Text from a sandbox, made storable: PostgreSQL and SQLite refuse NUL characters and lone surrogates."""
    if isinstance(value, str):
        return outputs.safe_text(value)
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
    source_kind: str  # "py" (notebooks are converted first), "r" (an R script: the R engine) or "keras"
    source: Path  # learner code, or a trained .keras model
    artifacts: Path  # trusted folder the outputs are copied into
    on_progress: Callable[[list[dict[str, Any]], str], bool]  # (epoch rows, log tail) -> cancel?
    on_stage: Callable[[str], None] = lambda stage: None  # "predict", "score": shown on the run page
    engine: str = DEFAULT_ENGINE  # asked for: every sandbox of the run starts on it (trainer.engines)
    on_cold: Callable[[list[str]], object] = lambda stages: None  # a stage started cold: the live page says so
    timings: dict[str, float] = field(default_factory=dict)
    log_sections: list[str] = field(default_factory=list)
    # What the prediction sandbox says about the model it scored, checked (trainer.sandbox.outputs).
    param_count: int | None = None
    environment: dict[str, Any] = field(default_factory=dict)
    model_summary: str = ""
    custom_objects: list[str] = field(default_factory=list)  # the model needed the learner's code to be rebuilt
    cold_stages: list[str] = field(default_factory=list)  # stages whose sandbox started cold (no warm one waiting)

    @property
    def log_tail(self) -> str:
        return "".join(self.log_sections)

    peak_memory_mb: float | None = None


def run_pipeline(job: Job) -> dict[str, Any]:
    """Run the stages; return the trusted result, or raise LearnerFailure / PlatformError."""
    files = dataset_files(job.task.dataset)
    model_path = job.source
    if job.source_kind in CODE_KINDS:
        model_path = _train(job, files)
    job.on_stage("predict")
    predictions = _predict(job, files, model_path)
    job.on_stage("score")
    started = time.monotonic()
    result = _score(job, files, predictions)
    job.timings["score"] = round(time.monotonic() - started, 3)
    if job.task.spec.get("export"):
        result = _with_export_check(job, files, predictions, result)
    return result


def _train(job: Job, files: dict[str, Path]) -> Path:
    started = time.monotonic()
    runner = _runner(job, "train")
    job.timings["sandbox_wait"] = round(time.monotonic() - started, 3)
    try:
        runner.start(
            mode="train",
            inputs={SUBMISSION_NAMES[job.source_kind]: job.source, "data/train.npz": files["train"], **_shared(files)},
            spec=job.task.learner_spec(),
            memory_bytes=job.task.memory_mb * MB,
        )
        watch = ProgressWatch(runner, job, budget=job.task.max_epochs)
        outcome = runner.wait(wall_seconds=job.task.wall_seconds, poll=watch)
        watch.update()  # the lines written since its last look
        wanted = {**TRAIN_OUTPUTS, "model.keras": _model_cap()} | _export_output(job)
        outcome.files = runner.collect(wanted, job.artifacts)
    finally:
        runner.destroy()
    job.timings["train"] = outcome.seconds
    _record(job, outcome, "training")
    if watch.forged:
        raise LearnerFailure(ErrorKind.BAD_OUTPUT, watch.forged)
    _raise_for_outcome(outcome, stage="training", wall_seconds=job.task.wall_seconds)
    if "model.keras" not in outcome.files:
        raise LearnerFailure(
            ErrorKind.NO_MODEL, "Training finished but no model was saved (out/model.keras is missing)."
        )
    return outcome.files["model.keras"]


def _predict(job: Job, files: dict[str, Path], model_path: Path) -> Path:
    spec = {**job.task.learner_spec(), "describe": True, "has_code": job.source_kind == "py"}
    inputs = {"model.keras": model_path, "data/test_inputs.npz": files["test_inputs"], **_shared(files)}
    outcome = _prediction_sandbox(job, "predict", inputs, spec, PREDICT_OUTPUTS, label="prediction")
    _read_description(job, outcome.files)
    if job.custom_objects and job.source_kind == "py":
        return _predict_with_code(job, files, model_path)
    return _predictions(outcome)


def _predict_with_code(job: Job, files: dict[str, Path], model_path: Path) -> Path:
    """Predictions of a model with custom objects, rebuilt in a fresh sandbox with the learner's code imported."""
    inputs = {
        "model.keras": model_path, "submission.py": job.source,
        "data/test_inputs.npz": files["test_inputs"], **_shared(files),
    }  # fmt: skip
    outcome = _prediction_sandbox(
        job, "predict_code", inputs, job.task.learner_spec(), PREDICT_CODE_OUTPUTS, label="prediction with your code"
    )
    return _predictions(outcome)


def _prediction_sandbox(
    job: Job, mode: str, inputs: dict[str, Path], spec: dict[str, Any], wanted: dict[str, int], *, label: str
) -> Outcome:
    """One prediction stage in a fresh sandbox: its outputs go to artifacts/<folder named after the mode>."""
    runner = _runner(job, mode)
    try:
        runner.start(mode=mode, inputs=inputs, spec=spec, memory_bytes=job.task.memory_mb * MB)
        outcome = runner.wait(wall_seconds=PREDICT_WALL_SECONDS, poll=ProgressWatch(runner, job, budget=None))
        outcome.files = runner.collect(wanted, job.artifacts / mode.replace("_", "-"))
    finally:
        runner.destroy()
    job.timings[mode] = outcome.seconds
    _record(job, outcome, label)
    _raise_for_outcome(outcome, stage="prediction", wall_seconds=PREDICT_WALL_SECONDS)
    return outcome


def _runner(job: Job, stage: str) -> Runner:
    # The prediction stages load the model on the engine it was trained on: a .keras file is backend-agnostic,
    # but a model saved by tf.keras (Keras 2) is not a Keras 3 model, and scoring the run on the engine it
    # names keeps what the evidence says true. The scorer itself (numpy, in the worker) never depends on it.
    runner = get_runner(job.engine)
    if getattr(runner, "cold", False):
        job.cold_stages.append(stage)
        job.on_cold(list(job.cold_stages))
    return runner


def _predictions(outcome: Outcome) -> Path:
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
    unscorable = sorted(name for name, value in metrics.items() if not math.isfinite(value))
    if unscorable:
        raise LearnerFailure(
            ErrorKind.BAD_PREDICTIONS, f"The predictions could not be scored: {', '.join(unscorable)} is not a number."
        )
    metrics |= _sandbox_metrics(job, job.artifacts / "predict" / "extra_metrics.json", scorer_keys=set(metrics))
    return {"metrics": metrics, "passed": decide_all(metrics, task.metric, task.threshold, task.criteria)}


def _sandbox_metrics(job: Job, path: Path, *, scorer_keys: set[str]) -> dict[str, float]:
    # Measured in the prediction sandbox, beside the learner's (safely loaded) model: only the measures the
    # task declares are believed, and never over the scorer's own.
    try:
        extra, ignored = outputs.sandbox_metrics(
            outputs.read_json_object(path, "extra_metrics.json"),
            declared=declared_sandbox_metrics(job.task.spec),
            scorer_keys=scorer_keys,
        )
    except BadOutput as error:
        raise LearnerFailure(ErrorKind.BAD_OUTPUT, error.message) from error
    if ignored:
        logger.warning("Task %s: ignored sandbox metrics %s", job.task.slug, ", ".join(ignored))
    return extra


# --- the export check (claim 4's task): the SavedModel, served by TensorFlow alone ------------------------------
EXPORT_OUTPUTS = {"export_predictions.npy": 200 * MB, "export.json": 64 * 1024, "result.json": 64 * 1024}


def _export_output(job: Job) -> dict[str, int]:
    """The zipped SavedModel the harness made from the learner's export(model, path), on tasks that ask for one."""
    return {"export.zip": _model_cap()} if job.task.spec.get("export") else {}


def _with_export_check(job: Job, files: dict[str, Path], predictions: Path, result: dict[str, Any]) -> dict[str, Any]:
    """The run passes only if the metric passes and the export predicts what the .keras model predicted.

    After scoring, so that a failed export still shows the model's metrics. Whatever goes wrong with the export
    (missing, unloadable, needing Keras, out of time or memory) is the learner's, shown as the check's problem.
    """
    job.on_stage("export")
    try:
        check = _export_check(job, files, predictions)
    except (ExportProblem, BadOutput) as problem:
        check = export_failed(problem.message)
    except LearnerFailure as failure:
        check = export_failed(failure.message)
    return result | {"passed": bool(result["passed"] and check["passed"]), "export_check": check}


def _export_check(job: Job, files: dict[str, Path], predictions: Path) -> dict[str, Any]:
    export = job.artifacts / "export.zip"
    if not export.is_file():
        raise ExportProblem(f"{NO_EXPORT} (An export over {_model_cap() // MB} MB is not kept.)")
    # A fresh sandbox of the TensorFlow runtime whatever the run's engine: a SavedModel is TensorFlow's format, and
    # the harness there becomes an interpreter that cannot import keras or tf_keras before loading it.
    runner = get_runner(Engine.TENSORFLOW)
    try:
        inputs = {"export.zip": export, "data/test_inputs.npz": files["test_inputs"]}
        runner.start(
            mode="export_check", inputs=inputs, spec=job.task.learner_spec(), memory_bytes=job.task.memory_mb * MB
        )
        outcome = runner.wait(wall_seconds=PREDICT_WALL_SECONDS, poll=ProgressWatch(runner, job, budget=None))
        outcome.files = runner.collect(EXPORT_OUTPUTS, job.artifacts / "export-check")
    finally:
        runner.destroy()
    job.timings["export_check"] = outcome.seconds
    _record(job, outcome, "export check")
    _raise_for_outcome(outcome, stage="export check", wall_seconds=PREDICT_WALL_SECONDS)
    report = outputs.read_json_object(outcome.files.get("export.json"), "export.json")
    return export_result(
        predictions, outcome.files.get("export_predictions.npy"), report, stage_seconds=outcome.seconds,
        spec=job.task.spec,
    )  # fmt: skip


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
    # Only read to explain a failure: what cannot be read explains nothing (the run is then "crashed").
    try:
        data = json.loads(path.read_text()) if path else {}
    except (OSError, ValueError, RecursionError):
        return {}
    return data if isinstance(data, dict) else {}


def _read_description(job: Job, files: dict[str, Path]) -> None:
    """The prediction sandbox's account of the model (size, summary, environment), checked; the size budget."""
    try:
        job.param_count = outputs.model_params(outputs.read_json_object(files.get("model.json"), "model.json"))
        job.environment = outputs.environment(
            outputs.read_json_object(files.get("environment.json"), "environment.json")
        )
        job.custom_objects = outputs.custom_objects(outputs.read_json_object(files.get("custom.json"), "custom.json"))
        if job.custom_objects:  # shown with the versions: the mentor sees the model needed the learner's code
            job.environment["custom_objects"] = job.custom_objects
    except BadOutput as error:
        raise LearnerFailure(ErrorKind.BAD_OUTPUT, error.message) from error
    job.model_summary = outputs.summary_text(files.get("summary.txt"))
    if job.param_count > job.task.max_params:
        raise LearnerFailure(
            ErrorKind.OVER_BUDGET,
            f"The model has {job.param_count:,} parameters; this task allows {job.task.max_params:,}.",
        )
    measured = measured_engine(job.environment)
    if measured != job.engine:
        # The sandbox ran something else than was asked (a runtime installed wrong): recording it as asked would
        # make the evidence lie, and it is not the learner's doing.
        raise PlatformError(
            f"The sandbox measured {label(measured or 'no known engine')} where {label(job.engine)} was asked; "
            "the engine runtimes need `manage.py sandbox_setup`."
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


class ProgressWatch:
    """Once a second: the epoch lines, read from outside (never following links), and the log tail.

    The lines feed the live page only; nothing is decided from them, since learner code can write the
    file as well as the harness. So the live progress never fails the worker: values that cannot be shown
    are dropped, and lines that cannot be the harness's (an epoch outside 1..budget, more lines than
    epochs) stop the sandbox at once and end the run as the learner's (BAD_OUTPUT, raised by the stage
    once the log is kept), never as a database error retried as a platform fault.
    """

    def __init__(self, runner: Runner, job: Job, *, budget: int | None) -> None:
        self.runner, self.job, self.budget = runner, job, budget  # budget None: no epoch lines (prediction)
        self.prefix = job.log_tail
        self.last = 0.0
        self.forged: str | None = None

    def __call__(self) -> bool:
        now = time.monotonic()
        if now - self.last < 1.0:
            return False
        self.last = now
        return self.update()

    def update(self) -> bool:
        """Show the lines and the log; True when the run must stop (cancelled, or the lines were forged)."""
        rows: list[dict[str, Any]] = []
        if self.budget is not None and not self.forged:
            try:
                rows = list(outputs.progress_rows(self.runner.progress(limit=MB), budget=self.budget))
            except BadOutput as error:
                self.forged = error.message
        cancel = self.job.on_progress(rows, self.prefix + self.runner.log_text(16384))
        return cancel or self.forged is not None
