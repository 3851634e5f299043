"""What comes back out of a sandbox is checked before it is stored, shown or believed.

The scorer's metrics are the scorer's (a sandbox adds only the measures its task declares); progress
lines, model descriptions and result files with values no column or page can hold end the run as the
learner's doing (bad_output), or are dropped from the display: never a database error, never retried.
These run without the sandbox; tests/trainer/test_hostile.py sends the same files through a real one.
"""

from __future__ import annotations

import ast
import json
import logging
import math
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from django.conf import settings

from trainer.models import ErrorKind, TaskSpec
from trainer.pipeline import (
    SANDBOX_METRICS,
    Job,
    LearnerFailure,
    ProgressWatch,
    _read_description,
    _read_result,
    _score,
    db_safe,
    declared_sandbox_metrics,
)
from trainer.sandbox import outputs
from trainer.sandbox.base import SandboxRunner
from trainer.sandbox.config import SandboxConfig
from trainer.sandbox.outputs import BadOutput

LABELS = np.array([0, 1, 2, 3] * 5)
DEEP = "[" * 100_000  # exhausts json's recursion limit: RecursionError, not ValueError
FINETUNE_SPEC = {"num_classes": 4, "base_model": "data/base.keras"}


def make_task(**fields: Any) -> TaskSpec:
    values: dict[str, Any] = {
        "slug": "forged", "problem": "classification", "metric": "accuracy", "threshold": 0.9, "criteria": [],
        "spec": {"num_classes": 4}, "max_epochs": 2, "max_params": 1000,
    } | fields  # fmt: skip
    return TaskSpec(**values)


def make_job(tmp_path: Path, task: TaskSpec | None = None) -> Job:
    return Job(
        task=task or make_task(), source_kind="py", source=tmp_path / "submission.py", artifacts=tmp_path,
        on_progress=lambda rows, log: False,
    )  # fmt: skip


def score(tmp_path: Path, extra: object, task: TaskSpec | None = None) -> dict[str, Any]:
    """Score predictions that get a quarter of LABELS right, beside an extra_metrics.json holding `extra`."""
    labels = tmp_path / "labels.npz"
    np.savez(labels, y=LABELS)
    predict = tmp_path / "predict"
    predict.mkdir()
    np.save(predict / "predictions.npy", np.zeros(len(LABELS), dtype=np.int64))
    (predict / "extra_metrics.json").write_text(extra if isinstance(extra, str) else json.dumps(extra))
    return _score(make_job(tmp_path, task), {"test_labels": labels}, predict / "predictions.npy")


# --- the scorer's keys ---------------------------------------------------------------------------------


def test_a_forged_accuracy_in_extra_metrics_does_not_overwrite_the_scorers(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    with caplog.at_level(logging.WARNING, logger="trainer.pipeline"):
        result = score(tmp_path, {"accuracy": 1.0, "macro_f1": 1.0, "passed": True, "base_weights_reused": 1.0})

    assert result["metrics"] == {"accuracy": 0.25, "macro_f1": 0.1} and result["passed"] is False
    assert "ignored sandbox metrics accuracy, macro_f1, passed, base_weights_reused" in caplog.text


def test_a_declared_measure_is_added_but_never_over_a_scorer_key(tmp_path: Path) -> None:
    task = make_task(spec=FINETUNE_SPEC, criteria=[{"metric": "base_weights_reused", "min": 0.5}], threshold=0.2)
    result = score(tmp_path, {"accuracy": 1.0, "base_weights_reused": 0.75}, task)

    assert result["metrics"] == {"accuracy": 0.25, "macro_f1": 0.1, "base_weights_reused": 0.75}
    assert result["passed"] is True


@pytest.mark.parametrize("value", ["NaN", "Infinity", '"0.9"', "true", "1e400", "null"])
def test_a_declared_measure_that_is_not_a_number_is_bad_output(tmp_path: Path, value: str) -> None:
    with pytest.raises(LearnerFailure) as failure:
        score(tmp_path, '{"base_weights_reused": ' + value + "}", make_task(spec=FINETUNE_SPEC))
    assert failure.value.kind == ErrorKind.BAD_OUTPUT and "base_weights_reused" in failure.value.message


@pytest.mark.parametrize("content", [DEEP, "[1, 2]", "not json", '"text"'])
def test_an_unreadable_extra_metrics_file_is_bad_output(tmp_path: Path, content: str) -> None:
    with pytest.raises(LearnerFailure) as failure:
        score(tmp_path, content)
    assert failure.value.kind == ErrorKind.BAD_OUTPUT and "extra_metrics.json" in failure.value.message


def test_only_tasks_that_ask_for_a_measure_declare_it() -> None:
    assert declared_sandbox_metrics({"num_classes": 10}) == frozenset()
    assert declared_sandbox_metrics(FINETUNE_SPEC) == {"base_weights_reused"}


def test_the_harness_writes_only_declared_measures() -> None:
    """Every key the harness writes to extra_metrics.json is declared, so none is silently dropped."""
    tree = ast.parse((Path(settings.BASE_DIR) / "trainer" / "harness" / "harness.py").read_text())
    written = [
        node.args[1]
        for node in ast.walk(tree)
        if isinstance(node, ast.Call) and getattr(node.func, "id", "") == "write_json"
        and isinstance(node.args[0], ast.Constant) and node.args[0].value == "extra_metrics.json"
    ]  # fmt: skip
    assert written, "the harness no longer writes extra_metrics.json with write_json(name, {...})"
    keys = {key.value for call in written if isinstance(call, ast.Dict) for key in call.keys if key is not None}
    assert keys and keys <= frozenset().union(*SANDBOX_METRICS.values()), keys


# --- progress lines -------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "line",
    [
        '{"epoch": 1e300, "loss": 0.5}', '{"epoch": NaN}', '{"epoch": Infinity}', '{"epoch": 9999999999999}',
        '{"epoch": "1"}', '{"epoch": true}', '{"epoch": 0}', '{"epoch": 3}', '{"loss": 0.5}',
        json.dumps({"epoch": "9" * 100_000, "k" * 100_000: "v" * 100_000}),
    ],
)  # fmt: skip
def test_a_progress_line_the_harness_cannot_have_written_is_bad_output(line: str) -> None:
    with pytest.raises(BadOutput) as error:
        outputs.progress_rows([json.loads(line)], budget=2)
    assert "Line 1 of out/progress.jsonl" in error.value.message and len(error.value.message) < 300


def test_more_progress_lines_than_epochs_is_bad_output() -> None:
    with pytest.raises(BadOutput, match="3 epoch lines; this task trains at most 2"):
        outputs.progress_rows([{"epoch": 1}, {"epoch": 2}, {"epoch": 2}], budget=2)


def test_values_a_progress_line_cannot_show_are_dropped_and_the_rest_stored() -> None:
    row = json.loads(
        '{"epoch": 1, "loss": NaN, "accuracy": 0.5, "val_loss": Infinity, "big": 1e300, "huge": '
        + "9" * 400
        + ', "flag": true, "text": "x", "\\ud800\\u0000": 2.0, "'
        + "k" * 1000
        + '": 3.0}'
    )
    many = {"epoch": 2} | {f"m{i}": float(i) for i in range(100)}

    rows = outputs.progress_rows([row, many], budget=2)

    first = rows[0]
    assert {"epoch": 1, "accuracy": 0.5, "big": 1e300, "k" * 40: 3.0}.items() <= first.items()
    assert not {"loss", "val_loss", "huge", "flag", "text"} & set(first), first  # 9...9 (400 digits) is no float
    assert len(rows[1]) == outputs.MAX_ROW_VALUES
    stored = json.dumps(rows, allow_nan=False)  # what a jsonb column accepts
    stored.encode("utf-8")  # no lone surrogate left
    assert "\\u0000" not in stored


class FakeRunner:
    """What a ProgressWatch reads: the parsed lines of out/progress.jsonl, and the log."""

    def __init__(self, rows: list[dict[str, Any]]) -> None:
        self.rows = rows

    def progress(self, *, limit: int) -> list[dict[str, Any]]:
        return self.rows

    def log_text(self, limit: int | None = None) -> str:
        return "log"


def test_the_progress_watch_stops_a_forged_run_without_raising(tmp_path: Path) -> None:
    shown: list[list[dict[str, Any]]] = []
    job = make_job(tmp_path)
    job.on_progress = lambda rows, log: bool(shown.append(rows))
    runner = FakeRunner([{"epoch": 1, "loss": math.nan}])
    watch = ProgressWatch(runner, job, budget=2)  # type: ignore[arg-type]

    assert watch.update() is False and shown[-1] == [{"epoch": 1}]
    runner.rows.append({"epoch": 1e300})
    assert watch.update() is True  # stop the sandbox now
    assert shown[-1] == [] and watch.forged and "1e+300" in watch.forged


def test_a_deeply_nested_progress_line_is_skipped(tmp_path: Path) -> None:
    config = SandboxConfig(
        isolated=False, runtime_dir=tmp_path, jobs_dir=tmp_path, sandbox_uid=None, sandbox_gid=0, cgroup_version=0,
        warm_memory_bytes=0, pids_max=0, cpus=1.0, fsize_bytes=0, job_disk_bytes=0, nofile=0, log_tail_bytes=1024,
        threads=1,
    )  # fmt: skip
    runner = SandboxRunner(config)
    (runner.job_dir / "out").mkdir(parents=True)
    (runner.job_dir / "out" / "progress.jsonl").write_text(f'{DEEP}\n{{"epoch": 1, "loss": 0.5}}\n')

    assert runner.progress(limit=1024 * 1024) == [{"epoch": 1, "loss": 0.5}]


# --- the model's description, result files, text ---------------------------------------------------------


def describe(tmp_path: Path, **files: str) -> Job:
    job = make_job(tmp_path)
    paths = {}
    for name, content in files.items():
        paths[f"{name}.{'txt' if name == 'summary' else 'json'}"] = path = tmp_path / f"{name}.out"
        path.write_text(content)
    _read_description(job, paths)
    return job


def test_a_description_is_kept_once_checked(tmp_path: Path) -> None:
    environment = {
        "python": "3.11", "devices": ["CPU", 7, "\ud800"], "nan": math.nan, "nested": {"a": 1}, "long": "v" * 1000,
        "backend": "tensorflow",
    }  # fmt: skip
    job = describe(tmp_path, model='{"params": 500}', environment=json.dumps(environment), summary="Model\x00 summary")

    assert job.param_count == 500 and job.model_summary == "Model\ufffd summary"
    assert job.environment == {
        "python": "3.11", "devices": ["CPU", "\ufffd\ufffd\ufffd"], "long": "v" * 200, "backend": "tensorflow",
    }  # fmt: skip
    json.dumps(job.environment, allow_nan=False).encode("utf-8")


@pytest.mark.parametrize(
    "environment", [{"backend": "jax"}, {"python": "3.11"}, {"backend": "tensorflow", "keras_flavour": "tf_keras"}]
)
def test_a_sandbox_that_ran_another_engine_than_asked_is_a_platform_fault(tmp_path: Path, environment: dict) -> None:
    from trainer.sandbox.runner import PlatformError

    with pytest.raises(PlatformError, match="where Keras 3 on TensorFlow was asked"):
        describe(tmp_path, model='{"params": 5}', environment=json.dumps(environment))


@pytest.mark.parametrize(
    "model", ['{"params": 1e300}', '{"params": -1}', f'{{"params": {2**63}}}', '{"params": true}', "{}", DEEP, "[]"]
)
def test_a_parameter_count_no_column_can_hold_is_bad_output(tmp_path: Path, model: str) -> None:
    with pytest.raises(LearnerFailure) as failure:
        describe(tmp_path, model=model)
    assert failure.value.kind == ErrorKind.BAD_OUTPUT and "model.json" in failure.value.message


def test_a_missing_parameter_count_is_bad_output_so_the_budget_is_always_checked(tmp_path: Path) -> None:
    with pytest.raises(LearnerFailure) as failure:
        describe(tmp_path)
    assert failure.value.kind == ErrorKind.BAD_OUTPUT


def test_a_model_over_the_parameter_budget_is_over_budget(tmp_path: Path) -> None:
    with pytest.raises(LearnerFailure) as failure:
        describe(tmp_path, model='{"params": 1001}')
    assert failure.value.kind == ErrorKind.OVER_BUDGET and "1,001 parameters" in failure.value.message


def test_an_unreadable_environment_is_bad_output(tmp_path: Path) -> None:
    with pytest.raises(LearnerFailure) as failure:
        describe(tmp_path, model='{"params": 5}', environment=DEEP)
    assert failure.value.kind == ErrorKind.BAD_OUTPUT and "environment.json" in failure.value.message


def test_an_unreadable_result_file_explains_nothing(tmp_path: Path) -> None:
    path = tmp_path / "result.json"
    path.write_text(DEEP)
    assert _read_result(path) == {}


def test_a_message_with_a_lone_surrogate_or_nul_is_storable() -> None:
    message = json.loads('"bad \\ud800 and \\u0000 text"')
    assert LearnerFailure(ErrorKind.LEARNER_ERROR, message).message.encode("utf-8")
    assert db_safe({message: [message]}) == {
        "bad \ufffd\ufffd\ufffd and \ufffd text": ["bad \ufffd\ufffd\ufffd and \ufffd text"]
    }
