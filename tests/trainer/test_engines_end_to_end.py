"""Every engine, all real: a Celery worker, bubblewrap sandboxes on each engine's own runtime, a trusted score.

The tiny Fashion-MNIST task's reference trains and passes on TensorFlow, JAX and PyTorch, and the run records what
the sandbox measured, checked here against what each runtime has installed (its packages' metadata, read from
outside). A Keras 2 script passes on tf.keras and fails on Keras 3 with a message that says why. TensorFlow keeps
warm sandboxes; the other engines keep none here, so their runs start cold and say so. Last, the worker's own
processes are asked which modules they imported: no engine was ever imported outside a sandbox.
"""

from __future__ import annotations

import json
import os
import signal
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from django.test import Client

from tests.conftest import make_user
from tests.trainer.conftest import REFERENCE, REPO, Worker, submit, wait_for_run
from trainer.models import TaskSpec, TrainingRun
from trainer.sandbox.config import sandbox_config

pytestmark = [pytest.mark.slow, pytest.mark.django_db(transaction=True)]

# Keras 2 code as written for TensorFlow 2.15 and earlier: tf.keras, input_shape on a layer, fit_generator.
KERAS2_SCRIPT = b"""
import numpy as np
from tensorflow import keras


def build_model(spec):
    model = keras.models.Sequential([
        keras.layers.Conv2D(16, 3, activation="relu", input_shape=tuple(spec["input_shape"])),
        keras.layers.MaxPooling2D(),
        keras.layers.Flatten(),
        keras.layers.Dense(spec["num_classes"], activation="softmax"),
    ])
    model.compile(optimizer="adam", loss="sparse_categorical_crossentropy", metrics=["accuracy"])
    return model


def batches(x, y, size):
    while True:
        for start in range(0, len(x), size):
            yield x[start:start + size], y[start:start + size]


def train(model, data, spec):
    steps = int(np.ceil(len(data["x_train"]) / 32))
    model.fit_generator(batches(data["x_train"], data["y_train"], 32), steps_per_epoch=steps,
                        epochs=spec["epochs"], verbose=2)
    return model
"""
ENGINE_MODULES = ("tensorflow", "jax", "jaxlib", "torch", "keras", "tf_keras")


@pytest.fixture(scope="module")
def module_worker(
    sandbox: None, data_dir: Path, django_db_setup: None, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[tuple[Worker, Path]]:
    folder = tmp_path_factory.mktemp("engines-worker")
    started = Worker(
        data_dir, folder / "worker.log", launcher=str(REPO / "tests" / "trainer" / "modules_worker.py"),
        TRAINER_POOL_SIZE="2", TRAINER_POOL_SIZES="", SKILLPROOF_MODULES_DIR=str(folder),
        TRAINER_HEARTBEAT_STALE_SECONDS="60",
    )  # fmt: skip
    yield started, folder
    started.stop()


@pytest.fixture
def worker(module_worker: tuple[Worker, Path], tiny_task: TaskSpec) -> Worker:
    started, _ = module_worker
    assert started.process.poll() is None, started.log()[-3000:]
    return started


_learners = iter(range(1, 1000))


def run_on(task: TaskSpec, engine: str, code: bytes = REFERENCE) -> TrainingRun:
    learner = make_user(f"engine-learner-{next(_learners)}", "learner")
    return wait_for_run(submit(learner, task, code, engine=engine), 300)


def installed(engine: str, distribution: str) -> str:
    """The version of a distribution in an engine's runtime, from its metadata on disk (never imported here)."""
    venv = sandbox_config().python_for(engine).parent.parent
    (found,) = venv.glob(f"lib/python3*/site-packages/{distribution}-*.dist-info")
    return found.name.removeprefix(f"{distribution}-").removesuffix(".dist-info")


@pytest.mark.parametrize(
    ("engine", "libraries"),
    [
        ("tensorflow", {"tensorflow": "tensorflow_cpu"}),
        ("jax", {"jax": "jax", "jaxlib": "jaxlib"}),
        ("torch", {"torch": "torch"}),
    ],
)
def test_the_reference_passes_on_every_keras_3_engine_and_records_what_it_ran_on(
    worker: Worker, tiny_task: TaskSpec, engine: str, libraries: dict[str, str], client: Client
) -> None:
    run = run_on(tiny_task, engine)

    assert run.status == "succeeded", (run.error_kind, run.error_message, run.log_tail[-3000:])
    assert run.passed is True and run.metrics["accuracy"] >= tiny_task.threshold, run.metrics
    assert run.engine == engine and len(run.history) == tiny_task.max_epochs
    env = run.environment
    assert env["backend"] == engine and env["keras_flavour"] == "keras", env
    assert env["keras"] == installed(engine, "keras"), env
    assert {key: env.get(key) for key in libraries} == {k: installed(engine, d) for k, d in libraries.items()}, env
    assert not {"tensorflow", "jax", "torch"} - {engine} - set(libraries) & set(env), env  # only its own engine
    assert env["device"] == "CPU"
    assert run.param_count and run.param_count < tiny_task.max_params
    # TensorFlow keeps warm sandboxes here; JAX and PyTorch keep none, so both of their stages started cold.
    cold = run.timings.get("cold_start")
    assert cold == (None if engine == "tensorflow" else ["train", "predict"]), run.timings
    client.force_login(run.learner)
    page = client.get(run.get_absolute_url()).content.decode()
    assert run.get_engine_display() in page and env["keras"] in page
    assert ('id="cold-start"' in page) is (engine != "tensorflow"), page


def test_keras_2_code_passes_on_tf_keras(worker: Worker, tiny_task: TaskSpec) -> None:
    run = run_on(tiny_task, "tf_keras", KERAS2_SCRIPT)

    assert run.status == "succeeded", (run.error_kind, run.error_message, run.log_tail[-3000:])
    assert run.passed is True, run.metrics
    env = run.environment
    assert env["keras_flavour"] == "tf_keras" and env["backend"] == "tensorflow", env
    assert env["keras"] == installed("tf_keras", "tf_keras") and env["tensorflow"] == installed(
        "tf_keras", "tensorflow_cpu"
    )
    assert run.timings.get("cold_start") == ["train", "predict"]


def test_keras_2_code_fails_on_keras_3_saying_which_api_was_removed(worker: Worker, tiny_task: TaskSpec) -> None:
    run = run_on(tiny_task, "tensorflow", KERAS2_SCRIPT)

    assert (run.status, run.error_kind) == ("failed", "learner_error"), (run.status, run.error_message)
    assert "fit_generator" in run.error_message, run.error_message
    assert "Keras 2 (tf.keras) code using an API that Keras 3 removed" in run.error_message, run.error_message
    assert "tf.keras (Keras 2, legacy) engine" in run.error_message


def test_the_worker_never_imports_an_engine(module_worker: tuple[Worker, Path]) -> None:
    """Its own processes (the main one and the pool's) say what they imported, after the runs above."""
    worker, folder = module_worker
    runs = [line for line in worker.log().splitlines() if "train_run[" in line and "succeeded in" in line]
    assert len(runs) >= 5, worker.log()[-3000:]  # the runs above, on every engine, went through it
    # Asked once a second until the process that ran the jobs (trainer.pipeline imported) has answered, then
    # a few seconds more for the others (billiard resets signals in the processes it forks: each one that answers
    # set its handler again).
    deadline, answered = time.monotonic() + 30, None
    while answered is None or time.monotonic() < answered + 3:
        assert time.monotonic() < deadline, list(folder.iterdir())
        for pid in [worker.process.pid, *worker.child_pids()]:
            os.kill(pid, signal.SIGUSR2)
        time.sleep(1)
        if answered is None and any("trainer.pipeline" in d.read_text() for d in folder.glob("modules-*.json")):
            answered = time.monotonic()
    dumps = {dump.name: set(json.loads(dump.read_text())) for dump in folder.glob("modules-*.json")}
    assert f"modules-{worker.process.pid}.json" in dumps, f"the main process did not answer: {sorted(dumps)}"
    for name, modules in dumps.items():
        imported = sorted(m for m in modules if m.split(".")[0] in ENGINE_MODULES)
        assert "celery" in modules and imported == [], (name, imported[:20])
    assert worker.process.poll() is None
