"""Every task of the library, end to end on its tiny variant: submit -> real Celery worker -> bubblewrap
sandbox -> TensorFlow -> trusted scorer. Checks the pipeline and the metric wiring, not the accuracy."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from tests.conftest import make_user
from tests.trainer.conftest import Worker, submit, wait_for_run
from tracker.models import Competency, User
from trainer.catalogue import TASKS
from trainer.models import TaskSpec
from trainer.starters import starter_notebook

pytestmark = [pytest.mark.slow, pytest.mark.django_db(transaction=True)]

# The Python tasks; the R task's tiny variant has its own end-to-end test (test_engine_r.py).
TINY = [t for t in TASKS if t.tiny and t.suffix == ".py"]
# The metrics each kind of task reports, and the range each must fall in.
EXPECTED: dict[str, dict[str, tuple[float, float]]] = {
    "classification": {"accuracy": (0, 1), "macro_f1": (0, 1)},
    "segmentation": {"mean_iou": (0, 1), "pixel_accuracy": (0, 1)},
    "tagging": {"token_accuracy": (0, 1), "sequence_accuracy": (0, 1)},
    "embedding": {"knn5_accuracy": (0, 1), "nn1_accuracy": (0, 1)},
    "generation": {"is_like": (1, 10), "fid_like": (0, 1000), "copy_rate": (0, 1)},
}


@pytest.fixture
def library(keras: Competency, data_dir: Path, settings: Any) -> dict[str, TaskSpec]:
    """Every tiny task, its dataset built into the session's data folder."""
    from trainer.datasets.registry import dataset_build
    from trainer.services import tasks_sync

    settings.TRAINER_DATA_DIR = data_dir
    for task in TINY:
        dataset_build(slug=task.dataset, data_dir=data_dir)
    assert tasks_sync() == [f"{t.slug}: dataset {t.dataset} is not built" for t in TASKS if t not in TINY]
    TaskSpec.objects.filter(slug__in=[t.slug for t in TINY]).update(is_tiny=False)  # offered to learners here
    return {t.slug: TaskSpec.objects.get(slug=t.slug) for t in TINY}


@pytest.fixture
def library_worker(sandbox: None, library: dict[str, TaskSpec], data_dir: Path, tmp_path: Path) -> Any:
    started = Worker(data_dir, tmp_path / "worker.log")
    yield started
    started.stop()


def learner(name: str) -> User:
    """One learner per submission: a learner has at most one open piece of evidence per claim."""
    return make_user(name, "learner")


def test_every_reference_solution_runs_through_the_platform(
    library_worker: Worker, library: dict[str, TaskSpec]
) -> None:
    runs = {
        d.slug: submit(learner(f"ref-{d.slug}"), library[d.slug], d.path("reference.py").read_bytes()) for d in TINY
    }
    problems = []
    for definition in TINY:
        run = wait_for_run(runs[definition.slug], 240)
        if run.status != "succeeded":
            problems.append(f"{definition.slug}: {run.error_kind}: {run.error_message}\n{run.log_tail[-1500:]}")
            continue
        for name, (low, high) in EXPECTED[definition.problem].items():
            value = run.metrics.get(name)
            if not (isinstance(value, float) and low <= value <= high):
                problems.append(f"{definition.slug}: {name} = {value!r}, expected {low}..{high}")
        if definition.spec.get("base_model") and run.metrics.get("base_weights_reused", 0) < 0.5:
            problems.append(f"{definition.slug}: the reference reuses the base, measured {run.metrics}")
        if definition.spec.get("export") and not run.export_check.get("passed"):
            problems.append(f"{definition.slug}: the reference's export did not pass: {run.export_check}")
        if not (run.history and run.environment.get("backend") == "tensorflow" and run.param_count):
            problems.append(f"{definition.slug}: missing history, environment or parameter count")
    assert not problems, "\n".join(problems)


PROBE_HIDDEN = b"""
import glob, os
import keras

LEAKS = ["/usr/share/datasets", "/usr/share/wordnet", "/usr/share/espeak-ng-data"]
LEAKS += glob.glob("/usr/lib/*/espeak-ng-data/*")
LEAKS += glob.glob(os.path.dirname(keras.__file__) + "/../sklearn/datasets/data/*.csv*")

def build_model(spec):
    seen = [p for p in LEAKS if os.path.exists(p) and (os.path.isfile(p) or os.listdir(p))]
    if seen:
        raise RuntimeError(f"the sandbox can read the sources: {seen}")
    return keras.Sequential([keras.Input(shape=(28, 28, 1)), keras.layers.Flatten(), keras.layers.Dense(10)])
"""

UNIDIRECTIONAL = b"""
import keras
from keras import layers

def build_model(spec):
    return keras.Sequential([keras.Input(shape=(20,)), layers.Embedding(10, 8),
                             layers.LSTM(16, return_sequences=True), layers.Dense(3, activation="softmax")])
"""

GAN_WITHOUT_TRAIN = b"""
import keras
from keras import layers

def build_model(spec):
    return keras.Sequential([keras.Input(shape=(32,)), layers.Dense(64, activation="sigmoid"), layers.Reshape((8, 8, 1))])
"""

FROM_SCRATCH = b"""
import keras
from keras import layers

def build_model(spec):
    return keras.Sequential([keras.Input(shape=(28, 28, 1)), layers.Conv2D(32, 3, activation="relu"),
                             layers.MaxPooling2D(), layers.Conv2D(64, 3, activation="relu"), layers.MaxPooling2D(),
                             layers.Flatten(), layers.Dense(128, activation="relu"), layers.Dense(10, activation="softmax")])
"""


def test_library_rules_are_enforced(library_worker: Worker, library: dict[str, TaskSpec]) -> None:
    from trainer.sandbox.config import hidden_paths, sandbox_config

    # The probe below must find nothing in the sandbox; outside it, the sources are really there.
    hidden = {str(p) for p in hidden_paths(sandbox_config().runtime_dir)}
    assert {"/usr/share/datasets", "/usr/share/wordnet"} <= hidden
    assert any(p.endswith("espeak-ng-data") for p in hidden) and any("sklearn" in p for p in hidden)
    probe = submit(learner("probe"), library["fashion-mnist-tiny"], PROBE_HIDDEN)
    one_way = submit(learner("one-way"), library["bilstm-tagging-tiny"], UNIDIRECTIONAL)
    no_train = submit(learner("no-train"), library["digits-gan-tiny"], GAN_WITHOUT_TRAIN)
    scratch = submit(learner("scratch"), library["finetune-pretrained-tiny"], FROM_SCRATCH)
    # The starter notebook, uploaded as it is downloaded: its %%writefile cell is the code that trains.
    text = library["memory-network-qa-tiny"]
    notebook = starter_notebook(text, site_url="https://skillproof.example").encode()
    as_notebook = submit(learner("notebook"), text, notebook, "starter.ipynb")

    run = wait_for_run(probe, 240)
    assert run.status == "succeeded", (run.error_message, run.log_tail[-1500:])  # no dataset source was visible

    run = wait_for_run(one_way, 240)
    assert (run.status, run.error_kind) == ("failed", "missing_layer")
    assert "Bidirectional" in run.error_message

    run = wait_for_run(no_train, 240)
    assert (run.status, run.error_kind) == ("failed", "missing_train")
    assert "define train(model, data, spec)" in run.error_message

    run = wait_for_run(scratch, 240)
    assert run.status == "succeeded", (run.error_message, run.log_tail[-1500:])
    assert run.metrics["base_weights_reused"] < 0.5 and run.passed is False  # trained from scratch: not a fine-tune

    run = wait_for_run(as_notebook, 240)
    assert run.status == "succeeded", (run.error_kind, run.error_message, run.notices)
    assert run.source_kind == "ipynb" and "accuracy" in run.metrics
    assert any("%%writefile submission.py" in notice for notice in run.notices)
