"""The export task (claim 4), all real: a Celery worker, the learner's export(model, path) in the training sandbox,
and the SavedModel loaded in a fresh TensorFlow sandbox where keras and tf_keras cannot be imported.

The reference's export passes on Keras 3 (model.export) and on tf.keras (tf.saved_model.save); an export of another
model fails with the mismatch shown (the largest difference, the agreement, the first rows that differ); the
starter's export, a .keras file inside the folder, fails saying it needs Keras; no export() says what to write.
A failed export keeps the model's metrics: the run is scored, and does not pass.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest
from django.conf import settings
from django.test import Client

from tests.conftest import make_user
from tests.trainer.conftest import Worker, submit, wait_for_run
from trainer.catalogue import CATALOGUE_DIR
from trainer.datasets.registry import dataset_files
from trainer.filings import run_file
from trainer.models import TaskSpec, TrainingRun

pytestmark = [pytest.mark.slow, pytest.mark.django_db(transaction=True)]

REFERENCE = (CATALOGUE_DIR / "export" / "reference.py").read_bytes()
STARTER = (CATALOGUE_DIR / "export" / "starter.py").read_bytes()
# A small model, so that the failing cases train in seconds.
SMALL_MODEL = b"""
from tensorflow import keras


def build_model(spec):
    model = keras.Sequential([
        keras.Input(shape=tuple(spec["input_shape"])),
        keras.layers.Flatten(),
        keras.layers.Dense(spec["num_classes"], activation="softmax"),
    ])
    model.compile(optimizer="adam", loss="sparse_categorical_crossentropy", metrics=["accuracy"])
    return model
"""
# Exports a model of the same architecture, freshly initialised: the serving graph is right, the weights are not.
OTHER_MODEL_EXPORT = (
    SMALL_MODEL
    + b"""

def export(model, path):
    build_model({"input_shape": [28, 28, 1], "num_classes": 10}).export(path)
"""
)


@pytest.fixture(scope="module")
def module_worker(
    sandbox: None, data_dir: Path, django_db_setup: None, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Worker]:
    folder = tmp_path_factory.mktemp("export-worker")
    # A 20 MB cap on what comes out of training (the reference's export is under 1 MB): the oversized export below.
    started = Worker(
        data_dir, folder / "worker.log", TRAINER_POOL_SIZE="1", TRAINER_HEARTBEAT_STALE_SECONDS="60",
        TRAINER_MODEL_MAX_MB="20",
    )  # fmt: skip
    yield started
    started.stop()


@pytest.fixture
def export_task(module_worker: Worker, tiny_task: TaskSpec) -> TaskSpec:
    assert module_worker.process.poll() is None, module_worker.log()[-3000:]
    TaskSpec.objects.filter(slug="fashion-mnist-export-tiny").update(is_tiny=False)  # as tiny_task does
    return TaskSpec.objects.get(slug="fashion-mnist-export-tiny")


_learners = iter(range(1, 1000))


def run_on(task: TaskSpec, code: bytes, engine: str = "tensorflow") -> TrainingRun:
    learner = make_user(f"export-learner-{next(_learners)}", "learner")
    return wait_for_run(submit(learner, task, code, engine=engine), 300)


def served_report(run: TrainingRun) -> dict[str, object]:
    """What the export sandbox wrote beside the predictions (read here for the modules it had imported)."""
    return json.loads((Path(settings.MEDIA_ROOT) / run.artifacts_dir / "export-check" / "export.json").read_text())


@pytest.mark.parametrize(
    ("engine", "flavour", "output"), [("tensorflow", "keras", "output_0"), ("tf_keras", "tf_keras", "dense_1")]
)
def test_the_reference_export_serves_the_same_predictions_without_keras(
    export_task: TaskSpec, engine: str, flavour: str, output: str, client: Client
) -> None:
    run = run_on(export_task, REFERENCE, engine)

    assert run.status == "succeeded", (run.error_kind, run.error_message, run.log_tail[-3000:])
    assert run.environment["keras_flavour"] == flavour, run.environment
    check = run.export_check
    assert check["passed"] is True and run.passed is True, (check, run.metrics)
    assert check["max_abs_difference"] <= check["tolerance"] == 1e-4, check
    assert check["argmax_agreement"] == 1.0 and check["rows"] == 500 and check["rows_differing"] == 0, check
    assert check["signature"].startswith("serving_default(") and f"{output}: float32[None, 10]" in check["signature"]
    assert 0 < check["latency_p50_ms"] <= check["latency_p95_ms"] <= check["latency_budget_p95_ms"], check
    assert served_report(run)["keras_modules"] == []  # TensorFlow alone loaded and served it
    assert "export check" in run.log_tail and "export_check" in run.timings
    client.force_login(run.learner)
    page = client.get(run.get_absolute_url()).content.decode()
    assert 'id="export-check"' in page and "serving_default" in page and 'id="export-problem"' not in page


def test_an_export_of_another_model_fails_with_the_mismatch_shown(export_task: TaskSpec, client: Client) -> None:
    run = run_on(export_task, OTHER_MODEL_EXPORT)

    assert run.status == "succeeded", (run.error_kind, run.error_message, run.log_tail[-3000:])
    check = run.export_check
    assert run.passed is False and check["passed"] is False, check
    assert "accuracy" in run.metrics  # the model itself was scored
    assert check["max_abs_difference"] > 1e-2 and check["rows_differing"] > 0, check
    assert "The export predicts differently from your .keras model" in check["problem"], check
    first = check["first_differing_rows"]
    assert 1 <= len(first) <= 5 and first[0]["max_difference"] > check["tolerance"], first
    assert {"row", "model_class", "model_score", "export_class", "export_score"} <= set(first[0])
    client.force_login(run.learner)
    page = client.get(run.get_absolute_url()).content.decode()
    assert "Not passed: the export check failed" in page and 'id="export-differences"' in page
    assert api_export_check(client, run) == check
    # Filed for claim 4 (it takes training evidence), the mentor reads the verdict with the evidence.
    evidence = run_file(run=run, learner=run.learner, claim=export_task.claim, note="Why does my export differ?")
    assert export_task.claim.order == 4
    body = client.get(evidence.get_absolute_url()).content.decode()
    assert 'id="export-check-summary"' in body and "The export predicts differently" in body


def test_an_export_that_needs_keras_to_load_fails_saying_so(export_task: TaskSpec) -> None:
    run = run_on(export_task, STARTER)

    assert run.status == "succeeded", (run.error_kind, run.error_message, run.log_tail[-3000:])
    problem = run.export_check["problem"]
    assert run.passed is False and run.export_check["passed"] is False
    assert "not a TensorFlow SavedModel" in problem and "model.keras" in problem, problem
    assert "needs Keras to load" in problem and "model.export(path)" in problem, problem


def test_no_export_function_says_what_to_write(export_task: TaskSpec) -> None:
    run = run_on(export_task, SMALL_MODEL)

    assert run.status == "succeeded", (run.error_kind, run.error_message, run.log_tail[-3000:])
    assert run.passed is False and "accuracy" in run.metrics
    problem = run.export_check["problem"]
    assert problem.startswith("No export came out of training") and "export(model, path)" in problem, problem
    assert "export_check" not in run.timings  # nothing to check: no sandbox was started for it


# A SavedModel of TensorFlow ops alone whose serving function reads a file: the hidden test labels, at their path on
# the server, which the learner's code is given here as if it had guessed it.
LABEL_READER_EXPORT = (
    SMALL_MODEL
    + b"""
import tensorflow as tf

LABELS = %r


class Reader(tf.Module):
    @tf.function(input_signature=[tf.TensorSpec([None, 28, 28, 1], tf.float32)])
    def serve(self, x):
        stolen = tf.cast(tf.strings.length(tf.io.read_file(LABELS)), tf.float32)
        return {"output_0": tf.zeros([tf.shape(x)[0], 10]) + stolen}


def export(model, path):
    reader = Reader()
    tf.saved_model.save(reader, path, signatures={"serving_default": reader.serve})
"""
)
# An export padded with 30 MB of noise: over the size that is kept (TRAINER_MODEL_MAX_MB=20 here).
OVERSIZED_EXPORT = (
    SMALL_MODEL
    + b"""
import os


def export(model, path):
    model.export(path)
    with open(os.path.join(path, "variables", "padding.bin"), "wb") as handle:
        handle.write(os.urandom(30 * 1024 * 1024))
"""
)


def test_a_savedmodel_that_reads_files_is_contained_and_fails_as_the_learners(export_task: TaskSpec) -> None:
    labels = dataset_files(export_task.dataset)["test_labels"]
    assert labels.is_file()  # the path is right: outside the sandbox it exists

    run = run_on(export_task, LABEL_READER_EXPORT % str(labels).encode())

    assert run.status == "succeeded", (run.error_kind, run.error_message, run.log_tail[-3000:])
    problem = run.export_check["problem"]
    assert run.passed is False and "serving_default failed on the test inputs" in problem, problem
    assert "NotFound" in problem or "No such file" in problem, problem


def test_an_oversized_export_is_not_kept_and_says_so(export_task: TaskSpec) -> None:
    run = run_on(export_task, OVERSIZED_EXPORT)

    assert run.status == "succeeded", (run.error_kind, run.error_message, run.log_tail[-3000:])
    assert run.passed is False and "An export over 20 MB is not kept" in run.export_check["problem"]
    assert not (Path(settings.MEDIA_ROOT) / run.artifacts_dir / "export.zip").exists()


def api_export_check(client: Client, run: TrainingRun) -> object:
    response = client.get(f"/api/runs/{run.pk}/")
    assert response.status_code == 200, response.content[:500]
    return response.json()["export_check"]
