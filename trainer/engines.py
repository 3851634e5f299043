"""The engines a run trains on: Keras 3 on TensorFlow, JAX or PyTorch, tf.keras (Keras 2) for legacy code, and R.

An engine is what the learner chooses; a runtime is the sandbox interpreter it runs in (a virtualenv under
TRAINER_RUNTIME_DIR, pinned by its requirements file). tf.keras lives in the TensorFlow runtime: tf_keras is a
1.7 MB package on top of the same TensorFlow, so a second 1.8 GB runtime would buy nothing. What an engine
sets (KERAS_BACKEND, TF_USE_LEGACY_KERAS) is in the sandbox's environment from its first instruction, so
nothing is ever imported under another backend.
R is Keras 3 on TensorFlow driven from an R script through reticulate: the sandbox runs Rscript with the harness's
R shim (trainer/harness/harness.R), which imports the same Python harness, so every budget and check holds.
What a run actually ran on is measured inside the sandbox (trainer/harness/harness.py: environment) and recorded;
the engine asked for is only checked against it.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from django.db import models


class Engine(models.TextChoices):
    TENSORFLOW = "tensorflow", "Keras 3 on TensorFlow"
    JAX = "jax", "Keras 3 on JAX"
    TORCH = "torch", "Keras 3 on PyTorch"
    TF_KERAS = "tf_keras", "tf.keras (Keras 2, legacy)"
    R = "r", "R (Keras 3 on TensorFlow, through reticulate)"


# A task that names no engines takes these: every Keras 3 backend. Legacy tf.keras is offered where a task asks.
KERAS3_ENGINES = (Engine.TENSORFLOW, Engine.JAX, Engine.TORCH)
DEFAULT_ENGINE = Engine.TENSORFLOW


@dataclass(frozen=True)
class Runtime:
    """One sandbox interpreter: its folder under TRAINER_RUNTIME_DIR and the requirements installed into it."""

    name: str
    venv: str
    requirements: tuple[str, ...]  # files at the repository root, installed in order


# tf_keras names `tensorflow` as its dependency, while the runtime has the same release as `tensorflow-cpu`:
# installed with its dependencies it would pull a second TensorFlow. It is installed alone, and the setup
# checks it imports against the runtime's TensorFlow.
TF_KERAS_REQUIREMENTS = "requirements-sandbox-tf_keras.txt"
RUNTIMES = {
    "tensorflow": Runtime("tensorflow", "venv", ("requirements-sandbox.txt",)),
    "jax": Runtime("jax", "venv-jax", ("requirements-sandbox-jax.txt",)),
    "torch": Runtime("torch", "venv-torch", ("requirements-sandbox-torch.txt",)),
    # Debian's reticulate 1.28 refuses NumPy 2, which the TensorFlow runtime has: R gets a NumPy 1.26 runtime.
    "r": Runtime("r", "venv-r", ("requirements-sandbox-r.txt",)),
}


@dataclass(frozen=True)
class EngineFacts:
    """What running on an engine means in the sandbox."""

    runtime: str
    backend: str  # keras.backend.backend() as measured inside, and KERAS_BACKEND
    package: str  # the import package that shows the engine is installed in its runtime
    legacy: bool = False  # tf.keras (Keras 2): TF_USE_LEGACY_KERAS=1, and the harness uses tf_keras
    language: str = "python"  # "r": learner code is an R script, run by Rscript through the harness's R shim

    def sandbox_env(self) -> dict[str, str]:
        env = {"KERAS_BACKEND": self.backend}
        return env | ({"TF_USE_LEGACY_KERAS": "1"} if self.legacy else {})


FACTS = {
    Engine.TENSORFLOW: EngineFacts("tensorflow", "tensorflow", "tensorflow"),
    Engine.JAX: EngineFacts("jax", "jax", "jax"),
    Engine.TORCH: EngineFacts("torch", "torch", "torch"),
    Engine.TF_KERAS: EngineFacts("tensorflow", "tensorflow", "tf_keras", legacy=True),
    Engine.R: EngineFacts("r", "tensorflow", "tensorflow", language="r"),
}


def facts(engine: str) -> EngineFacts:
    return FACTS[Engine(engine)]


def runtime_of(engine: str) -> Runtime:
    return RUNTIMES[facts(engine).runtime]


def label(engine: str) -> str:
    """The words a person reads for an engine (the value itself when it is unknown: an old row, a typo)."""
    try:
        return str(Engine(engine).label)
    except ValueError:
        return engine


def unknown_engines(engines: object) -> list[str]:
    """The entries of an engine list that are not engines (everything, when it is not a list of text)."""
    if not isinstance(engines, list):
        return [repr(engines)]
    return [str(e) for e in engines if not isinstance(e, str) or e not in Engine.values]


def measured_engine(environment: Mapping[str, object]) -> str | None:
    """The engine a sandbox's measured environment shows: tf_keras when it ran Keras 2, R when R drove it (the R
    shim reports R's version), else the backend."""
    if environment.get("keras_flavour") == "tf_keras":
        return Engine.TF_KERAS
    if environment.get("r"):
        return Engine.R
    backend = environment.get("backend")
    return backend if isinstance(backend, str) and backend in Engine.values else None
