"""The sandbox side of a training run. Runs INSIDE the sandbox, next to learner code.

Nothing here is trusted by the platform: learner code runs in this same process and can change
anything, including what this file writes. The platform only trusts what it measures itself
(wall time, memory, the files it copies out) and what its scorer computes outside the sandbox.
This file's job is to make the common path pleasant: load the learner's code, train with a
progress callback, save the model, and explain mistakes in words a learner understands.

Protocol: started warm (imports Keras and its engine, TensorFlow, JAX or PyTorch, then prints READY_LINE), it
reads one JSON command line on stdin (on the R engine, harness.R does the same through reticulate and calls warm()
and run() here, so an R script trains under this file's budgets and checks): {"mode": "train"}, {"mode": "predict"},
{"mode": "predict_code"} or {"mode": "export_check"} (see export_check()). It works in /job and writes:
  /job/out/progress.jsonl   one JSON line per epoch (train)
  /job/out/model.keras      the trained model (train)
  /job/out/predictions.npy  predictions on the test inputs (predict)
  /job/out/summary.txt, /job/out/environment.json, /job/out/architecture.png
  /job/out/custom.json      the model's custom objects, when it has any (predict): see predict()
  /job/out/export.zip       the learner's SavedModel export, zipped (train, tasks with spec["export"])
  /job/out/export_predictions.npy, /job/out/export.json  the export's predictions and timings (export_check)
  /job/out/result.json      {"ok": bool, "error_kind": str, "message": str}
Standard library, numpy and the engine's Keras only: no Django, no platform code.
"""

from __future__ import annotations

import contextlib
import importlib.util
import inspect
import io
import json
import math
import os
import platform
import sys
import time
import traceback
import zipfile
from pathlib import Path
from typing import Any

READY_LINE = "skillproof-harness: ready"
# Every kind a LearnerError may carry. The platform believes only these (trainer.models.HARNESS_KINDS;
# tests/trainer/test_vocabulary.py keeps the two equal): a new kind is added in both places.
ERROR_KINDS = frozenset(
    {
        "syntax_error", "import_error", "learner_error", "missing_build_model", "missing_train", "bad_model",
        "missing_layer", "shape_mismatch", "nan_loss", "unsafe_model", "bad_model_file", "over_budget",
        "out_of_memory", "bad_export",
    }
)  # fmt: skip
JOB = Path(os.environ.get("SKILLPROOF_JOB", "/job"))
# The engine was chosen before this interpreter started (KERAS_BACKEND, TF_USE_LEGACY_KERAS: trainer.engines):
# tf.keras (Keras 2) is the tf_keras package, every other engine is Keras 3 on its backend.
LEGACY = os.environ.get("TF_USE_LEGACY_KERAS") == "1"
ENGINE_MODULES = {"tensorflow": "tensorflow", "jax": "jax", "torch": "torch"}
OUT = JOB / "out"
SUBMISSION = JOB / "submission.py"
# Batches per TensorFlow call in fit() when the learner left it at Keras's 1 (the platform's setting
# TRAINER_STEPS_PER_EXECUTION; 1 turns it off). See steps_for().
STEPS_PER_EXECUTION = max(1, int(os.environ.get("SKILLPROOF_STEPS_PER_EXECUTION") or 1))


class LearnerError(Exception):
    """A mistake in the learner's submission, with a kind (one of ERROR_KINDS) and a message for them."""

    def __init__(self, kind: str, message: str) -> None:
        super().__init__(message)
        self.kind, self.message = kind, message


def keras_module() -> Any:
    """Keras as this engine has it: tf_keras for tf.keras (Keras 2), else Keras 3."""
    if LEGACY:
        import tf_keras

        return tf_keras
    import keras

    return keras


def write_json(name: str, data: Any) -> None:
    (OUT / name).write_text(json.dumps(data, default=str))


def learner_traceback(error: BaseException) -> str:
    """Only the frames in the learner's own file: ours are noise to them."""
    frames = [f for f in traceback.extract_tb(error.__traceback__) if f.filename == str(SUBMISSION)]
    lines = [f"  line {f.lineno}, in {f.name}: {f.line}" for f in frames[-5:]]
    return "\n".join(lines)


def describe(error: BaseException) -> str:
    where = learner_traceback(error)
    text = f"{type(error).__name__}: {error}"[:2000]
    text = f"{text}\n{where}" if where else text
    hint = engine_hint(error)
    return f"{text}\n{hint}" if hint else text


# Keras 2 (tf.keras) names that Keras 3 removed, as they appear in the errors code using them raises on Keras 3.
KERAS2_ONLY = (
    "fit_generator", "evaluate_generator", "predict_generator", "get_session", "set_session", "keras.wrappers",
    "layers.experimental", "keras.engine", "'lr'", "`lr`", "decay", "keras.legacy", "_keras_shape",
)  # fmt: skip
KERAS2_STYLE = ("from tensorflow import keras", "tf.keras", "from tensorflow.keras", "import tensorflow.keras")


def engine_hint(error: BaseException) -> str:
    """What to do when code fails because it was written for another engine than the one it runs on."""
    missing = getattr(error, "name", None) if isinstance(error, ImportError) else None
    backend = os.environ.get("KERAS_BACKEND", "tensorflow")
    if missing in ENGINE_MODULES and missing != backend:
        return (
            f"This run is on the {backend} engine, whose runtime has no {missing}: write backend-independent Keras "
            f"(keras.ops, keras.random) or submit the attempt on the {missing} engine."
        )
    if LEGACY or not isinstance(error, AttributeError | ImportError | TypeError | ValueError):
        return ""
    try:
        source = SUBMISSION.read_text(encoding="utf-8", errors="replace")
    except OSError:
        source = ""
    text = str(error)
    if any(name in text for name in KERAS2_ONLY) or (
        isinstance(error, AttributeError | ImportError) and any(style in source for style in KERAS2_STYLE)
    ):
        return (
            "This looks like Keras 2 (tf.keras) code using an API that Keras 3 removed. Submit it on the "
            "tf.keras (Keras 2, legacy) engine, or port it to Keras 3 (https://keras.io/guides/migrating_to_keras_3/)."
        )
    return ""


# --- data -----------------------------------------------------------------------------------


def load_inputs(path: Path, spec: dict[str, Any]) -> Any:
    """The model's input: one array `x`, or a dict of named arrays when the task has several inputs."""
    import numpy as np

    names = spec.get("inputs") or ["x"]
    with np.load(path, allow_pickle=False) as data:
        arrays = {name: data[name] for name in names}
    if len(names) > 1:
        return {name: array.astype(spec.get("x_dtype", "float32")) for name, array in arrays.items()}
    x = arrays[names[0]].astype(spec.get("x_dtype", "float32"))
    if "x_scale" in spec:
        x = x * float(spec["x_scale"])
    shape = spec.get("input_shape")
    if shape and x.shape[1:] != tuple(shape) and math.prod(x.shape[1:]) == math.prod(shape):
        x = x.reshape((x.shape[0], *shape))
    return x


def take(x: Any, rows: Any) -> Any:
    return {name: array[rows] for name, array in x.items()} if isinstance(x, dict) else x[rows]


def load_training_data(spec: dict[str, Any]) -> dict[str, Any]:
    """Train split with a deterministic 10% held out for validation curves."""
    import numpy as np

    x = load_inputs(JOB / "data" / "train.npz", spec)
    with np.load(JOB / "data" / "train.npz", allow_pickle=False) as data:
        y = data["y"]
    order = np.random.default_rng(int(spec.get("seed", 0))).permutation(len(y))
    cut = int(len(y) * (1 - float(spec.get("validation_fraction", 0.1))))
    train, val = order[:cut], order[cut:]
    return {"x_train": take(x, train), "y_train": y[train], "x_val": take(x, val), "y_val": y[val]}


# --- learner code ---------------------------------------------------------------------------


def load_submission() -> Any:
    spec = importlib.util.spec_from_file_location("submission", SUBMISSION)
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    sys.modules["submission"] = module
    try:
        source = SUBMISSION.read_text(encoding="utf-8")
        compile(source, str(SUBMISSION), "exec")
    except SyntaxError as error:
        raise LearnerError("syntax_error", f"Syntax error on line {error.lineno}: {error.msg}.") from error
    except UnicodeDecodeError as error:
        raise LearnerError("syntax_error", "The file is not UTF-8 text.") from error
    try:
        spec.loader.exec_module(module)
    except ImportError as error:
        hint = engine_hint(error)
        message = f"Your code imports something this sandbox lacks: {error}." + (f" {hint}" if hint else "")
        raise LearnerError("import_error", message) from error
    except Exception as error:
        raise LearnerError("learner_error", f"Your code failed while loading: {describe(error)}") from error
    if not callable(getattr(module, "build_model", None)):
        raise LearnerError("missing_build_model", "Define a function build_model(spec) that returns a Keras model.")
    return module


# What the R shim measured in R (its version, reticulate's), reported with the Python side's (see environment).
R_VERSIONS: dict[str, str] = {}


def r_submission(loaded: dict[str, Any]) -> Any:
    """The learner's R script, as the R shim loaded it, in the shape train() takes from a Python module.

    `loaded` is {"build_model": fn, "train": fn or None}, the script's R functions made Python callables (their
    arguments reach R as R values: a NumPy array as an R matrix or vector), or {"kind": ..., "message": ...}
    when the script could not be loaded.
    """
    import types

    if "kind" in loaded:
        raise LearnerError(str(loaded["kind"]), str(loaded["message"]))
    functions = {name: loaded[name] for name in ("build_model", "train") if loaded.get(name) is not None}
    return types.SimpleNamespace(**functions)


def build(module: Any, spec: dict[str, Any]) -> Any:
    keras = keras_module()

    try:
        model = module.build_model(dict(spec))
    except Exception as error:
        raise LearnerError("learner_error", f"build_model(spec) raised {describe(error)}") from error
    if not isinstance(model, keras.Model):
        raise LearnerError(
            "bad_model",
            f"build_model(spec) must return a keras.Model, not {type(model).__name__}.{model_flavour_hint(model)}",
        )
    check_output_shape(model, spec)
    check_params(model, spec)
    check_layers(model, spec)
    compiled = model.compiled if hasattr(model, "compiled") else getattr(model, "_is_compiled", False)
    loss = spec.get("loss", "sparse_categorical_crossentropy")
    if not compiled and loss:
        model.compile(optimizer="adam", loss=loss, metrics=["accuracy"] if "crossentropy" in loss else [])
    return model


def model_flavour_hint(model: Any) -> str:
    """Why a Keras model may not count as one here: it is of the other Keras than this engine runs."""
    module = type(model).__module__
    if LEGACY and module.startswith("keras"):
        return (
            " It is a Keras 3 model: on the tf.keras (Keras 2) engine, build it with `from tensorflow import keras` "
            "(or `import tf_keras`), or submit it on a Keras 3 engine."
        )
    if not LEGACY and module.startswith("tf_keras"):
        return " It is a tf.keras (Keras 2) model: submit it on the tf.keras (Keras 2, legacy) engine, or use Keras 3."
    return ""


def check_output_shape(model: Any, spec: dict[str, Any]) -> None:
    try:
        shape = tuple(model.output_shape)
    except Exception:  # noqa: BLE001 - unbuilt or multi-output models
        shape = ()
    expected = spec.get("output_shape")
    if expected is not None:
        if shape[1:] != tuple(expected):
            want = ", ".join(["None", *(str(d) for d in expected)])
            raise LearnerError("shape_mismatch", f"The model's output shape is {shape}; this task needs ({want}).")
        return
    classes = spec.get("num_classes")
    if classes and (not shape or shape[-1] != classes):
        raise LearnerError(
            "shape_mismatch",
            f"The model's output shape is {shape}; this task needs (None, {classes}): one score per class.",
        )


def all_layers(model: Any) -> list[Any]:
    """Every layer, including those inside nested models and wrappers (Bidirectional, TimeDistributed)."""
    seen, stack, found = set(), list(getattr(model, "layers", [])), []
    while stack:
        layer = stack.pop()
        if id(layer) in seen:
            continue
        seen.add(id(layer))
        found.append(layer)
        stack.extend(getattr(layer, "layers", []) or [])
        for attribute in ("layer", "forward_layer", "backward_layer"):
            inner = getattr(layer, attribute, None)
            if inner is not None and hasattr(inner, "weights"):
                stack.append(inner)
    return found


def check_layers(model: Any, spec: dict[str, Any]) -> None:
    """Tasks that prove an architecture (a ConvLSTM, a bidirectional RNN) need at least one such layer."""
    required = spec.get("required_layers")
    if not required:
        return
    names = {type(layer).__name__ for layer in all_layers(model)}
    if not names & set(required):
        raise LearnerError(
            "missing_layer", f"This task proves an architecture: the model needs a {' or '.join(required)} layer."
        )


def check_params(model: Any, spec: dict[str, Any]) -> None:
    limit = spec.get("max_params")
    if limit and model.built and model.count_params() > limit:
        raise LearnerError(
            "over_budget", f"The model has {model.count_params():,} parameters; this task allows {limit:,}."
        )


# --- training -------------------------------------------------------------------------------


def progress_callback(epochs: int, metric: str) -> Any:
    keras = keras_module()

    class Progress(keras.callbacks.Callback):  # type: ignore[name-defined]  # Keras 3 or tf_keras
        """One JSON line per epoch; stops on a NaN loss."""

        def __init__(self) -> None:
            super().__init__()
            self.nan = False
            self.started = time.monotonic()
            self.seen = 0

        def on_epoch_begin(self, epoch: int, logs: dict[str, Any] | None = None) -> None:
            self.started = time.monotonic()

        def on_epoch_end(self, epoch: int, logs: dict[str, Any] | None = None) -> None:
            logs = logs or {}
            self.seen += 1
            row = {"epoch": self.seen, "epochs": epochs, "seconds": round(time.monotonic() - self.started, 3)}
            row.update({k: float(v) for k, v in logs.items() if isinstance(v, int | float)})
            with (OUT / "progress.jsonl").open("a") as handle:
                handle.write(json.dumps(row) + "\n")
            if not math.isfinite(row.get("loss", 0.0)):
                self.nan = True
                self.model.stop_training = True
            if self.seen >= epochs:  # the budget holds across several fit() calls too
                self.model.stop_training = True

    return Progress()


def guard_fit(budget: int, progress: Any) -> None:
    """Every fit() call gets the progress callback and at most the epoch budget.

    Installed before the learner's module is imported, on every class of keras.Model's hierarchy that defines
    fit (the backend's trainer among them), so code cannot keep the unguarded method aside at import. This
    keeps honest code and casual shortcuts within the budget; a custom training loop (train() with
    GradientTape, as a GAN needs) is bounded by the task's wall-clock and CPU limits, which hold for anything.
    """
    keras = keras_module()

    original = keras.Model.fit
    parameters = inspect.signature(original).parameters

    def fit(self: Any, *args: Any, **kwargs: Any) -> Any:
        names = list(parameters)[1 : len(args) + 1]  # fit(self, x, y, batch_size, epochs, ...)
        kwargs.update(dict(zip(names, args, strict=False)))
        left = budget - progress.seen
        if left <= 0:
            return None
        kwargs["epochs"] = min(int(kwargs.get("epochs") or 1), left)
        steps = steps_for(self, list(kwargs.get("callbacks") or []))
        kwargs["callbacks"] = [*list(kwargs.get("callbacks") or []), progress]
        if steps == 1:
            return original(self, **kwargs)
        self.steps_per_execution, self.train_function, self.test_function = steps, None, None
        try:
            return original(self, **kwargs)
        finally:  # the model as the learner compiled it: later calls, and what they download, see their setting
            self.steps_per_execution, self.train_function, self.test_function = 1, None, None

    for cls in keras.Model.__mro__:
        if "fit" in vars(cls):
            cls.fit = fit  # type: ignore[method-assign]


BATCH_HOOKS = ("on_train_batch_begin", "on_train_batch_end", "on_test_batch_begin", "on_test_batch_end",
               "on_batch_begin", "on_batch_end")  # fmt: skip


def steps_for(model: Any, callbacks: list[Any]) -> int:
    """Batches per TensorFlow call for this fit(): STEPS_PER_EXECUTION where that changes nothing but speed.

    Keras runs each training step as one call into TensorFlow by default, and on a CPU the call's own overhead
    is a measurable share of a small model's step. With steps_per_execution=N it runs N steps per call: the same
    batches in the same order, the same updates and the same results (bench/pipeline; the README's
    "Benchmarks"), with per-batch callbacks called once per N batches. So it applies only on Keras 3 over
    TensorFlow, to a model compiled with Keras's default of 1, when none of the learner's callbacks acts per
    batch: a learner's own choice, or a callback that counts batches, is left exactly as written.
    """
    if STEPS_PER_EXECUTION == 1 or LEGACY or getattr(model, "steps_per_execution", None) != 1:
        return 1
    keras = keras_module()
    if keras.backend.backend() != "tensorflow":
        return 1
    base = keras.callbacks.Callback
    for callback in callbacks:
        if any(getattr(type(callback), hook, None) is not getattr(base, hook, None) for hook in BATCH_HOOKS):
            return 1
    return STEPS_PER_EXECUTION


def train(load: Any = load_submission) -> None:
    """Train the learner's model within the budgets. `load` gives the learner's code as an object with build_model
    (and maybe train): their Python module, or their R script's functions (the R shim's loader, see r_submission)."""
    spec = json.loads((JOB / "spec.json").read_text())
    keras = keras_module()

    keras.utils.set_random_seed(int(spec.get("seed", 0)))
    data = load_training_data(spec)
    epochs = int(spec.get("epochs", 1))
    progress = progress_callback(epochs, spec.get("metric", "accuracy"))
    guard_fit(epochs, progress)  # before any learner code runs
    module = load()
    model = build(module, spec)
    has_train = callable(getattr(module, "train", None))
    if not has_train and not spec.get("loss", "sparse_categorical_crossentropy"):
        raise LearnerError("missing_train", "This task has no standard loss: define train(model, data, spec).")
    try:
        if has_train:
            returned = module.train(model, data, dict(spec))
            model = returned if isinstance(returned, keras.Model) else model
        else:
            model.fit(
                data["x_train"], data["y_train"], validation_data=(data["x_val"], data["y_val"]),
                epochs=epochs, batch_size=int(spec.get("batch_size", 64)), verbose=2,
            )  # fmt: skip
    except MemoryError as error:
        raise LearnerError("out_of_memory", "Training ran out of memory; use a smaller model or batch.") from error
    except Exception as error:
        raise classify_training_error(error) from error
    if progress.nan:
        raise LearnerError("nan_loss", "The loss became NaN; lower the learning rate or check your loss function.")
    check_params(model, spec)
    model.save(str(OUT / "model.keras"))
    if spec.get("export"):
        export_model(module, model)


def classify_training_error(error: Exception) -> LearnerError:
    text = str(error)
    if "OOM" in text or "ResourceExhausted" in type(error).__name__:
        return LearnerError("out_of_memory", "Training ran out of memory; use a smaller model or batch.")
    if "shape" in text.lower() and isinstance(error, ValueError):
        return LearnerError("shape_mismatch", f"A shape did not match: {describe(error)}")
    return LearnerError("learner_error", f"Training raised {describe(error)}")


def describe_model(model: Any) -> None:
    keras = keras_module()

    buffer = io.StringIO()
    with contextlib.redirect_stdout(buffer):
        model.summary(line_length=100)
    (OUT / "summary.txt").write_text(buffer.getvalue())
    with contextlib.suppress(Exception):  # a picture is a courtesy; graphviz may refuse odd graphs
        keras.utils.plot_model(model, to_file=str(OUT / "architecture.png"), show_shapes=True, dpi=72)
    environment()


def environment() -> None:
    """The engine as measured here, never as asked: the Keras that loaded the model, its backend, the versions of
    the libraries under it, and the devices that backend sees."""
    keras = keras_module()
    backend = keras.backend.backend()
    found = {
        "python": platform.python_version(),
        "keras": keras.__version__,
        "keras_flavour": keras.__name__,  # "keras" (Keras 3) or "tf_keras" (Keras 2)
        "backend": backend,
        **R_VERSIONS,  # {"r": ..., "reticulate": ...} when R drives this interpreter
    }
    devices = ["CPU"]
    if backend == "tensorflow":
        import tensorflow as tf

        found["tensorflow"] = tf.__version__
        devices = [d.device_type for d in tf.config.list_physical_devices()]
    elif backend == "jax":
        import jax
        import jaxlib

        found |= {"jax": jax.__version__, "jaxlib": jaxlib.__version__}
        devices = [d.platform.upper() for d in jax.devices()]
    elif backend == "torch":
        import torch

        found["torch"] = torch.__version__
        devices = ["CPU"] + ["GPU"] * torch.cuda.device_count()
    write_json("environment.json", found | {"device": "GPU" if "GPU" in devices else "CPU", "devices": devices})


# --- prediction -----------------------------------------------------------------------------


def predict() -> None:
    """The trusted prediction: no learner code runs here. A model of built-in Keras objects is loaded with
    safe_mode and described, measured and run. A model with custom objects (registered layers, activations...)
    cannot be rebuilt without the learner's code, so it is described from the file alone (configuration and
    weights: nothing it says can be changed by code) and custom.json asks the platform for predict_code."""
    spec = json.loads((JOB / "spec.json").read_text())
    keras = keras_module()
    import numpy as np

    config = saved_config(JOB / "model.keras")
    custom = custom_objects(config)
    if custom:
        describe_saved_model(config, custom, spec)
        return
    try:
        model = keras.saving.load_model(str(JOB / "model.keras"), safe_mode=True, compile=False)
    except ValueError as error:
        if "unsafe" in str(error).lower() or "lambda" in str(error).lower():
            raise LearnerError(
                "unsafe_model", "The model contains a Lambda layer or other Python code, which cannot be loaded safely."
            ) from error
        raise LearnerError("bad_model_file", f"The model file could not be loaded: {str(error)[:500]}") from error
    except Exception as error:
        raise LearnerError("bad_model_file", f"The model file could not be loaded: {str(error)[:500]}") from error
    check_output_shape(model, spec)
    check_layers(model, spec)
    write_json("model.json", {"params": int(model.count_params())})
    if spec.get("base_model"):
        write_json("extra_metrics.json", {"base_weights_reused": base_weights_reused(model, spec)})
    x = load_inputs(JOB / "data" / "test_inputs.npz", spec)
    predictions = model.predict(x, batch_size=512, verbose=0)
    np.save(OUT / "predictions.npy", np.asarray(predictions), allow_pickle=False)
    if spec.get("describe"):
        describe_model(model)


def predict_code() -> None:
    """Predictions of a model with custom objects: the learner's module is imported first, so that its
    @keras.saving.register_keras_serializable objects are known, then the model is loaded with safe_mode.
    Learner code runs here (with the test inputs, never the labels): the platform takes only the predictions
    from this sandbox, as it would from any model; what it says about the model came from predict()."""
    spec = json.loads((JOB / "spec.json").read_text())
    keras = keras_module()
    import numpy as np

    load_submission()
    try:
        model = keras.saving.load_model(str(JOB / "model.keras"), safe_mode=True, compile=False)
    except Exception as error:  # every failure is the model's, explained to the learner
        raise LearnerError(
            "bad_model_file",
            f"Your code was imported, yet Keras could not rebuild the model: {str(error)[:600]} {REGISTER_HINT}",
        ) from error
    x = load_inputs(JOB / "data" / "test_inputs.npz", spec)
    np.save(OUT / "predictions.npy", np.asarray(model.predict(x, batch_size=512, verbose=0)), allow_pickle=False)


REGISTER_HINT = (
    'Decorate each custom class and function with @keras.saving.register_keras_serializable(package="mine") '
    "at the top level of your file, and give custom layers a get_config() that returns their constructor "
    "arguments; the platform imports your file before loading the model."
)
# Where built-in objects live in a saved configuration: Keras 3 names keras modules; tf.keras (tf_keras) may too.
KERAS_MODULES = ("keras", "tf_keras")
# Parts of a saved configuration that prediction never deserializes (the model is loaded with compile=False).
_NOT_LOADED = frozenset({"compile_config", "build_config"})


def saved_config(path: Path) -> Any:
    """The configuration inside a .keras file, read without building anything."""
    try:
        with zipfile.ZipFile(path) as archive:
            return json.loads(archive.read("config.json"))
    except (OSError, KeyError, ValueError, RecursionError, zipfile.BadZipFile) as error:
        raise LearnerError("bad_model_file", f"The model file could not be read: {str(error)[:300]}") from error


def _objects(config: Any) -> Any:
    """Every serialized object (a dict with a class_name) in a configuration, iteratively (depth is the file's)."""
    stack = [config]
    while stack:
        node = stack.pop()
        if isinstance(node, dict):
            if "class_name" in node:
                yield node
            stack.extend(v for k, v in node.items() if k not in _NOT_LOADED)
        elif isinstance(node, list):
            stack.extend(node)


def custom_objects(config: Any) -> dict[str, bool]:
    """The custom objects a saved model needs to be rebuilt: name -> registered (with a package, `pkg>Name`).

    Built-in Keras objects name a keras module; custom classes have none (or their own), and custom functions
    are stored as {"class_name": "function", "config": name}.
    """
    found: dict[str, bool] = {}
    for node in _objects(config):
        module, kind = node.get("module"), node.get("class_name")
        name = node.get("registered_name") or kind
        if kind == "__lambda__":  # Python bytecode: never loaded, with or without the learner's code
            raise LearnerError(
                "unsafe_model", "The model contains a Lambda layer or other Python code, which cannot be loaded safely."
            )
        if kind == "function" and module == "builtins":
            name = node.get("config")
        elif (isinstance(kind, str) and kind.startswith("__")) or (
            isinstance(module, str) and module.startswith(KERAS_MODULES)
        ):
            continue  # Keras's own values (tensors, arrays, bytes, slices) and built-in objects
        if isinstance(name, str):
            found[name[:200]] = ">" in name
    return found


def builtin_class_names(config: Any) -> set[str]:
    """The built-in Keras classes in a configuration (a custom class named like one does not count)."""
    return {
        node["class_name"]
        for node in _objects(config)
        if isinstance(node.get("module"), str)
        and node["module"].startswith(KERAS_MODULES)
        and isinstance(node["class_name"], str)
    }


def saved_weights(path: Path) -> dict[str, Any]:
    """The model's weights as stored (path -> array), without the optimizer's: what the predictions use."""
    import h5py
    import numpy as np

    found: dict[str, Any] = {}
    try:
        with (
            zipfile.ZipFile(path) as archive,
            archive.open("model.weights.h5") as raw,
            h5py.File(io.BytesIO(raw.read()), "r") as weights,
        ):

            def visit(name: str, item: Any) -> None:
                if isinstance(item, h5py.Dataset) and not name.startswith("optimizer/"):
                    found[name] = np.asarray(item[()])

            weights.visititems(visit)
    except (OSError, KeyError, ValueError, zipfile.BadZipFile) as error:
        raise LearnerError("bad_model_file", f"The model's weights could not be read: {str(error)[:300]}") from error
    return found


def describe_saved_model(config: Any, custom: dict[str, bool], spec: dict[str, Any]) -> None:
    """A model with custom objects, described from its file: the facts the platform shows and checks."""
    unregistered = sorted(name for name, registered in custom.items() if not registered)
    if unregistered:
        raise LearnerError(
            "bad_model_file",
            f"The model uses custom objects Keras cannot find by name: {', '.join(unregistered[:10])}. {REGISTER_HINT}",
        )
    if not spec.get("has_code"):
        raise LearnerError(
            "bad_model_file",
            f"The model uses custom objects ({', '.join(sorted(custom)[:10])}), which only your code defines: "
            "submit the code (.py or .ipynb) that builds and trains it instead of the .keras file.",
        )
    required = spec.get("required_layers")
    if required and not builtin_class_names(config) & set(required):
        raise LearnerError(
            "missing_layer", f"This task proves an architecture: the model needs a {' or '.join(required)} layer."
        )
    weights = saved_weights(JOB / "model.keras")
    params = sum(int(array.size) for array in weights.values())
    write_json("model.json", {"params": params})
    if spec.get("base_model"):
        write_json(
            "extra_metrics.json", {"base_weights_reused": base_weights_reused_from(list(weights.values()), spec)}
        )
    (OUT / "summary.txt").write_text(saved_summary(config, weights, custom))
    environment()
    write_json("custom.json", {"custom_objects": sorted(custom)})


def saved_summary(config: Any, weights: dict[str, Any], custom: dict[str, bool]) -> str:
    """A summary table from the file: each top-level layer, its class, its stored weights and their size."""
    body = config.get("config", {}) if isinstance(config, dict) else {}
    layers = body.get("layers") if isinstance(body, dict) else None
    rows = []
    for layer in layers if isinstance(layers, list) else []:
        if not isinstance(layer, dict):
            continue
        inner = layer.get("config")
        name = str(layer.get("name") or (inner.get("name") if isinstance(inner, dict) else None) or "?")
        kind = str(layer.get("registered_name") or layer.get("class_name") or "?")
        mine = [array for path, array in weights.items() if path.startswith(f"layers/{name}/")]
        shapes = ", ".join(str(tuple(array.shape)) for array in mine[:4]) + (" ..." if len(mine) > 4 else "")
        rows.append((f"{name} ({kind})", shapes or "-", sum(int(a.size) for a in mine)))
    total = sum(int(array.size) for array in weights.values())
    title = (config.get("registered_name") or config.get("class_name")) if isinstance(config, dict) else "?"
    lines = [
        f'Model: "{body.get("name", "model") if isinstance(body, dict) else "model"}" ({title})',
        "Described from the saved file (configuration and stored weights): the model uses custom objects, "
        f"{', '.join(sorted(custom)[:10])}, so it was rebuilt for prediction with your code imported.",
        "",
        f"{'Layer (type)':<60}{'Weights':<28}{'Param #':>12}",
        "-" * 100,
        *(f"{label[:59]:<60}{shapes[:27]:<28}{count:>12,}" for label, shapes, count in rows),
        "-" * 100,
        f"Total params: {total:,}",
    ]
    return "\n".join(lines) + "\n"


def base_weights_reused(model: Any, spec: dict[str, Any]) -> float:
    """The share of the base model's kernels found in the submitted model, allowing for fine-tuning.

    A base kernel counts as reused when some kernel of the same shape in the submitted model points the same way
    (cosine similarity of the flattened, centred values at least 0.8): fine-tuning moves weights a little,
    while a model trained from scratch has unrelated kernels. Biases and 1-D weights are not counted.
    """
    return base_weights_reused_from(model.get_weights(), spec)


def base_weights_reused_from(arrays: list[Any], spec: dict[str, Any]) -> float:
    """base_weights_reused over the submitted model's weight arrays (however they were read)."""
    keras = keras_module()
    import numpy as np

    base = keras.saving.load_model(str(JOB / spec["base_model"]), safe_mode=True, compile=False)

    def kernels(weights: list[Any]) -> list[tuple[tuple[int, ...], Any]]:
        return [(np.shape(w), np.asarray(w, dtype="float64").ravel()) for w in weights if np.ndim(w) >= 2]

    def centred(v: Any) -> Any:
        v = v - v.mean()
        norm = np.linalg.norm(v)
        return v / norm if norm > 0 else v

    submitted: dict[tuple[int, ...], list[Any]] = {}
    for shape, kernel in kernels(arrays):
        submitted.setdefault(shape, []).append(centred(kernel))
    base_kernels = kernels(base.get_weights())
    found = sum(
        1 for shape, k in base_kernels if any(float(centred(k) @ other) >= 0.8 for other in submitted.get(shape, []))
    )
    return round(found / len(base_kernels), 4) if base_kernels else 0.0


# --- export (the claim 4 task: Keras vs tf.keras in production) ---------------------------------

EXPORT_DIR = JOB / "export"  # in the job folder, so its size counts against the disk budget
EXPORT_CHECK_ARG = "--export-check"
EXPORT_HOW = (
    "Define export(model, path) that saves a TensorFlow SavedModel at path: model.export(path) with Keras 3, "
    "tf.saved_model.save(model, path) with tf.keras (Keras 2)."
)


def export_model(module: Any, model: Any) -> None:
    """The learner's export(model, path), after training, zipped to out/export.zip (regular files only).

    No export function writes nothing: the platform then says what is missing (trainer.exports).
    """
    if not callable(getattr(module, "export", None)):
        return
    try:
        module.export(model, str(EXPORT_DIR))
    except Exception as error:
        raise LearnerError("bad_export", f"export(model, path) raised {describe(error)}\n{EXPORT_HOW}") from error
    if EXPORT_DIR.exists() and not EXPORT_DIR.is_dir():
        raise LearnerError(
            "bad_export", f"export(model, path) wrote a file at path; a SavedModel is a folder. {EXPORT_HOW}"
        )
    if not EXPORT_DIR.is_dir():
        return
    with zipfile.ZipFile(OUT / "export.zip", "w", zipfile.ZIP_STORED) as archive:
        for path in sorted(EXPORT_DIR.rglob("*")):
            if path.is_file() and not path.is_symlink():
                archive.write(path, path.relative_to(EXPORT_DIR).as_posix())


def export_check_exec() -> None:
    """The export is loaded by TensorFlow alone: this warm process imported Keras, so it becomes a new interpreter
    (exec, never fork) that never does. Same process, same sandbox, limits and job."""
    sys.stdout.flush()
    os.execv(sys.executable, [sys.executable, "-I", "-B", "-u", str(Path(__file__).resolve()), EXPORT_CHECK_ARG])  # noqa: S606


def run_export_check() -> int:
    try:
        export_check()
    except LearnerError as error:
        write_json("result.json", {"ok": False, "error_kind": error.kind, "message": error.message})
        print(f"skillproof: {error.kind}: {error.message}", file=sys.stderr)
        return 1
    write_json("result.json", {"ok": True})
    return 0


def export_check() -> None:
    """Load the SavedModel with TensorFlow only (keras and tf_keras cannot be imported), run its serving signature
    on the test inputs in batches, and write the predictions and each batch's latency. No learner code runs here;
    the graph is the learner's, and contained by the sandbox like any model."""
    # A None entry makes `import keras` fail and importlib.util.find_spec say it is absent (TensorFlow asks).
    sys.modules.update({"keras": None, "tf_keras": None})  # type: ignore[dict-item]
    spec = json.loads((JOB / "spec.json").read_text())
    import numpy as np
    import tensorflow as tf

    unpack_export()
    signature, name, text = serving_signature(tf)
    x = load_inputs(JOB / "data" / "test_inputs.npz", spec)
    dtype = signature.structured_input_signature[1][name].dtype
    try:
        x = x.astype(dtype.as_numpy_dtype)
    except (TypeError, ValueError) as error:
        raise LearnerError("bad_export", f"serving_default takes {dtype.name}, not images: {error}") from error
    size = int(spec.get("export_batch_size", 100))
    started = time.monotonic()
    first = signature_output(signature, name, x[:size], tf)  # traced and warmed: timed apart
    first_ms = (time.monotonic() - started) * 1000
    outputs, latencies = [first], []
    for start in range(size, len(x), size):
        began = time.monotonic()
        outputs.append(signature_output(signature, name, x[start : start + size], tf))
        latencies.append(round((time.monotonic() - began) * 1000, 3))
    np.save(OUT / "export_predictions.npy", np.concatenate(outputs), allow_pickle=False)
    # For the record (and tests/trainer/test_export_end_to_end.py): no Keras was imported to serve it.
    keras_modules = sorted(n for n, m in sys.modules.items() if m and n.split(".")[0] in ("keras", "tf_keras"))
    report = {"signature": text, "first_call_ms": round(first_ms, 3), "latencies_ms": latencies, "batch_size": size}
    write_json("export.json", report | {"keras_modules": keras_modules})


def unpack_export() -> None:
    try:
        with zipfile.ZipFile(JOB / "export.zip") as archive:
            archive.extractall(EXPORT_DIR)  # names are sanitised by zipfile; the sandbox holds the rest
    except (OSError, ValueError, zipfile.BadZipFile) as error:
        raise LearnerError("bad_export", f"The export could not be unpacked: {str(error)[:300]}") from error
    if not (EXPORT_DIR / "saved_model.pb").is_file():
        found = sorted(p.relative_to(EXPORT_DIR).as_posix() for p in EXPORT_DIR.rglob("*") if p.is_file())
        keras_file = any(name.endswith((".keras", ".h5")) for name in found)
        raise LearnerError(
            "bad_export",
            "The export is not a TensorFlow SavedModel (no saved_model.pb at the top of the folder; it holds "
            f"{', '.join(found[:8]) or 'nothing'})."
            + (
                " A .keras or .h5 file needs Keras to load, and production serving has TensorFlow alone."
                if keras_file
                else ""
            )
            + f" {EXPORT_HOW}",
        )


def serving_signature(tf: Any) -> tuple[Any, str, str]:
    """The export's serving_default signature, its one input's name, and a description of it."""
    try:
        loaded = tf.saved_model.load(str(EXPORT_DIR))
    except ImportError as error:
        raise LearnerError(
            "bad_export", f"Loading the export needed a module TensorFlow alone does not have: {error}. {EXPORT_HOW}"
        ) from error
    except Exception as error:
        raise LearnerError("bad_export", f"TensorFlow could not load the export: {str(error)[:600]}") from error
    signatures = dict(getattr(loaded, "signatures", {}) or {})
    signature = signatures.get("serving_default")
    if signature is None:
        raise LearnerError(
            "bad_export",
            f"The SavedModel has no serving_default signature (it has {', '.join(signatures) or 'none'}). {EXPORT_HOW}",
        )
    inputs = signature.structured_input_signature[1]
    outputs = signature.structured_outputs
    if len(inputs) != 1 or len(outputs) != 1:
        raise LearnerError(
            "bad_export", f"serving_default must take one input and give one output; it takes {len(inputs)} "
            f"and gives {len(outputs)}."
        )  # fmt: skip
    (name,) = inputs

    def shown(specs: dict[str, Any]) -> str:
        return ", ".join(f"{k}: {v.dtype.name}{list(v.shape)}" for k, v in specs.items())

    return signature, name, f"serving_default({shown(inputs)}) -> {shown(outputs)}"


def signature_output(signature: Any, name: str, batch: Any, tf: Any) -> Any:
    try:
        (value,) = signature(**{name: tf.constant(batch)}).values()
        return value.numpy()
    except Exception as error:
        raise LearnerError(
            "bad_export", f"The export's serving_default failed on the test inputs: {str(error)[:600]}"
        ) from error


def warm() -> None:
    """Pay the imports before the job arrives: numpy, Keras and its engine."""
    import numpy  # noqa: F401

    keras = keras_module()  # imports its backend (KERAS_BACKEND was set before this process started)
    importlib.import_module(ENGINE_MODULES[keras.backend.backend()])


def run(line: str, r_loader: Any = None) -> int:
    """Do the job one command line asks for. `r_loader` (the R shim's) loads an R script instead of submission.py;
    what it returns is checked here, so that a LearnerError never has to cross from R back to Python."""
    command = json.loads(line or "{}")
    OUT.mkdir(exist_ok=True)
    load = load_submission if r_loader is None else lambda: r_submission(r_loader())
    modes = {
        "train": lambda: train(load), "predict": predict, "predict_code": predict_code,
        "export_check": export_check_exec,
    }  # fmt: skip
    try:
        modes[command.get("mode", "")]()
    except LearnerError as error:
        write_json("result.json", {"ok": False, "error_kind": error.kind, "message": error.message})
        print(f"skillproof: {error.kind}: {error.message}", file=sys.stderr)
        return 1
    write_json("result.json", {"ok": True})
    return 0


def main() -> int:
    if sys.argv[1:] == [EXPORT_CHECK_ARG]:
        return run_export_check()
    warm()
    print(READY_LINE, flush=True)
    return run(sys.stdin.readline())


if __name__ == "__main__":
    sys.exit(main())
