"""The sandbox side of a training run. Runs INSIDE the sandbox, next to learner code.

Nothing here is trusted by the platform: learner code runs in this same process and can change
anything, including what this file writes. The platform only trusts what it measures itself
(wall time, memory, the files it copies out) and what its scorer computes outside the sandbox.
This file's job is to make the common path pleasant: load the learner's code, train with a
progress callback, save the model, and explain mistakes in words a learner understands.

Protocol: started warm (imports TensorFlow, then prints READY_LINE), it reads one JSON command
line on stdin: {"mode": "train"} or {"mode": "predict"}. It works in /job and writes:
  /job/out/progress.jsonl   one JSON line per epoch (train)
  /job/out/model.keras      the trained model (train)
  /job/out/predictions.npy  predictions on the test inputs (predict)
  /job/out/summary.txt, /job/out/environment.json, /job/out/architecture.png
  /job/out/result.json      {"ok": bool, "error_kind": str, "message": str}
Standard library, numpy and keras only: no Django, no platform code.
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
from pathlib import Path
from typing import Any

READY_LINE = "skillproof-harness: ready"
# Every kind a LearnerError may carry. The platform believes only these (trainer.models.HARNESS_KINDS;
# tests/trainer/test_vocabulary.py keeps the two equal): a new kind is added in both places.
ERROR_KINDS = frozenset(
    {
        "syntax_error", "import_error", "learner_error", "missing_build_model", "missing_train", "bad_model",
        "missing_layer", "shape_mismatch", "nan_loss", "unsafe_model", "bad_model_file", "over_budget",
        "out_of_memory",
    }
)  # fmt: skip
JOB = Path(os.environ.get("SKILLPROOF_JOB", "/job"))
OUT = JOB / "out"
SUBMISSION = JOB / "submission.py"


class LearnerError(Exception):
    """A mistake in the learner's submission, with a kind (one of ERROR_KINDS) and a message for them."""

    def __init__(self, kind: str, message: str) -> None:
        super().__init__(message)
        self.kind, self.message = kind, message


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
    return f"{text}\n{where}" if where else text


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
        raise LearnerError("import_error", f"Your code imports something this sandbox lacks: {error}.") from error
    except Exception as error:
        raise LearnerError("learner_error", f"Your code failed while loading: {describe(error)}") from error
    if not callable(getattr(module, "build_model", None)):
        raise LearnerError("missing_build_model", "Define a function build_model(spec) that returns a Keras model.")
    return module


def build(module: Any, spec: dict[str, Any]) -> Any:
    import keras

    try:
        model = module.build_model(dict(spec))
    except Exception as error:
        raise LearnerError("learner_error", f"build_model(spec) raised {describe(error)}") from error
    if not isinstance(model, keras.Model):
        raise LearnerError("bad_model", f"build_model(spec) must return a keras.Model, not {type(model).__name__}.")
    check_output_shape(model, spec)
    check_params(model, spec)
    check_layers(model, spec)
    if not model.compiled and spec.get("loss", "sparse_categorical_crossentropy"):
        model.compile(optimizer="adam", loss=spec.get("loss", "sparse_categorical_crossentropy"), metrics=["accuracy"])
    return model


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
    import keras

    class Progress(keras.callbacks.Callback):
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
    """Every fit() call gets the progress callback and at most the epoch budget."""
    import keras

    original = keras.Model.fit
    parameters = inspect.signature(original).parameters

    def fit(self: Any, *args: Any, **kwargs: Any) -> Any:
        names = list(parameters)[1 : len(args) + 1]  # fit(self, x, y, batch_size, epochs, ...)
        kwargs.update(dict(zip(names, args, strict=False)))
        left = budget - progress.seen
        if left <= 0:
            return None
        kwargs["epochs"] = min(int(kwargs.get("epochs") or 1), left)
        kwargs["callbacks"] = [*list(kwargs.get("callbacks") or []), progress]
        return original(self, **kwargs)

    keras.Model.fit = fit


def train() -> None:
    spec = json.loads((JOB / "spec.json").read_text())
    import keras

    keras.utils.set_random_seed(int(spec.get("seed", 0)))
    data = load_training_data(spec)
    module = load_submission()
    model = build(module, spec)
    epochs = int(spec.get("epochs", 1))
    progress = progress_callback(epochs, spec.get("metric", "accuracy"))
    guard_fit(epochs, progress)
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
    model.save(OUT / "model.keras")


def classify_training_error(error: Exception) -> LearnerError:
    text = str(error)
    if "OOM" in text or "ResourceExhausted" in type(error).__name__:
        return LearnerError("out_of_memory", "Training ran out of memory; use a smaller model or batch.")
    if "shape" in text.lower() and isinstance(error, ValueError):
        return LearnerError("shape_mismatch", f"A shape did not match: {describe(error)}")
    return LearnerError("learner_error", f"Training raised {describe(error)}")


def describe_model(model: Any) -> None:
    import keras

    buffer = io.StringIO()
    with contextlib.redirect_stdout(buffer):
        model.summary(line_length=100)
    (OUT / "summary.txt").write_text(buffer.getvalue())
    with contextlib.suppress(Exception):  # a picture is a courtesy; graphviz may refuse odd graphs
        keras.utils.plot_model(model, to_file=str(OUT / "architecture.png"), show_shapes=True, dpi=72)
    environment()


def environment() -> None:
    import keras
    import tensorflow as tf

    devices = [d.device_type for d in tf.config.list_physical_devices()]
    write_json(
        "environment.json",
        {
            "python": platform.python_version(),
            "tensorflow": tf.__version__,
            "keras": keras.__version__,
            "backend": keras.backend.backend(),
            "device": "GPU" if "GPU" in devices else "CPU",
            "devices": devices,
        },
    )


# --- prediction -----------------------------------------------------------------------------


def predict() -> None:
    spec = json.loads((JOB / "spec.json").read_text())
    import keras
    import numpy as np

    try:
        model = keras.saving.load_model(JOB / "model.keras", safe_mode=True, compile=False)
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


def base_weights_reused(model: Any, spec: dict[str, Any]) -> float:
    """The share of the base model's kernels found in the submitted model, allowing for fine-tuning.

    A base kernel counts as reused when some kernel of the same shape in the submitted model points the same way
    (cosine similarity of the flattened, centred values at least 0.8): fine-tuning moves weights a little,
    while a model trained from scratch has unrelated kernels. Biases and 1-D weights are not counted.
    """
    import keras
    import numpy as np

    base = keras.saving.load_model(JOB / spec["base_model"], safe_mode=True, compile=False)

    def kernels(m: Any) -> list[tuple[tuple[int, ...], Any]]:
        return [(np.shape(w), np.asarray(w, dtype="float64").ravel()) for w in m.get_weights() if np.ndim(w) >= 2]

    def centred(v: Any) -> Any:
        v = v - v.mean()
        norm = np.linalg.norm(v)
        return v / norm if norm > 0 else v

    submitted: dict[tuple[int, ...], list[Any]] = {}
    for shape, kernel in kernels(model):
        submitted.setdefault(shape, []).append(centred(kernel))
    base_kernels = kernels(base)
    found = sum(
        1 for shape, k in base_kernels if any(float(centred(k) @ other) >= 0.8 for other in submitted.get(shape, []))
    )
    return round(found / len(base_kernels), 4) if base_kernels else 0.0


def main() -> int:
    import keras  # noqa: F401
    import numpy  # noqa: F401 - warm: pay the imports before the job arrives
    import tensorflow  # noqa: F401

    print(READY_LINE, flush=True)
    command = json.loads(sys.stdin.readline() or "{}")
    OUT.mkdir(exist_ok=True)
    try:
        {"train": train, "predict": predict}[command.get("mode", "")]()
    except LearnerError as error:
        write_json("result.json", {"ok": False, "error_kind": error.kind, "message": error.message})
        print(f"skillproof: {error.kind}: {error.message}", file=sys.stderr)
        return 1
    write_json("result.json", {"ok": True})
    return 0


if __name__ == "__main__":
    sys.exit(main())
