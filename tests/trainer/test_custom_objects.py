"""Custom Keras objects, end to end (real worker, real sandbox): registered layers, activations and losses
train and score; what the platform presents as fact about the model (summary, parameter count, environment)
comes from a sandbox that never ran learner code, so code imported to rebuild the model cannot forge it;
unregistered objects get a message that says how to register them. Also: the epoch budget holds for code
that keeps keras.Model.fit aside at import."""

from __future__ import annotations

import pytest

from tests.trainer.conftest import Worker, submit, wait_for_run
from tracker.models import User
from trainer.models import TaskSpec

pytestmark = [pytest.mark.slow, pytest.mark.django_db(transaction=True)]

CUSTOM = """
import json
import pathlib

import keras
from keras import layers


@keras.saving.register_keras_serializable(package="mine")
class Scale(layers.Layer):
    def __init__(self, factor=1.0, **kwargs):
        super().__init__(**kwargs)
        self.factor = factor

    def build(self, shape):
        self.w = self.add_weight(shape=(shape[-1],), initializer="ones", name="w")

    def call(self, x):
        return x * self.w * self.factor

    def get_config(self):
        return {**super().get_config(), "factor": self.factor}


@keras.saving.register_keras_serializable(package="mine")
def swishy(x):
    return x * keras.ops.sigmoid(x)


@keras.saving.register_keras_serializable(package="mine")
class PlainLoss(keras.losses.Loss):
    def call(self, y_true, y_pred):
        return keras.losses.sparse_categorical_crossentropy(y_true, y_pred)


# Imported again to rebuild the model for prediction: what such code may try. None of it may reach the page.
if pathlib.Path("/job/model.keras").exists():
    out = pathlib.Path("/job/out")
    out.mkdir(exist_ok=True)
    (out / "summary.txt").write_text("FORGED SUMMARY")
    (out / "model.json").write_text(json.dumps({"params": 1}))
    (out / "environment.json").write_text(json.dumps({"keras": "99.0", "device": "GPU"}))
    (out / "extra_metrics.json").write_text(json.dumps({"accuracy": 1.0}))
    keras.Model.count_params = lambda self: 1


def build_model(spec):
    model = keras.Sequential([
        keras.Input(shape=tuple(spec["input_shape"])),
        layers.Flatten(),
        Scale(0.5),
        layers.Dense(64, activation=swishy),
        layers.Dense(spec["num_classes"], activation="softmax"),
    ])
    model.compile(optimizer="adam", loss=PlainLoss(), metrics=["accuracy"])
    return model
"""
# Flatten 784 -> Scale 784 weights -> Dense 784*64+64 -> Dense 64*10+10.
CUSTOM_PARAMS = 784 + 784 * 64 + 64 + 64 * 10 + 10
UNREGISTERED = CUSTOM.replace('@keras.saving.register_keras_serializable(package="mine")\nclass Scale', "class Scale")
FIT_KEPT_ASIDE = """
import keras
from keras import layers

FIT = keras.Model.fit  # kept aside before the platform could wrap it, or so the code hopes


def build_model(spec):
    model = keras.Sequential([keras.Input(shape=tuple(spec["input_shape"])), layers.Flatten(),
                              layers.Dense(spec["num_classes"], activation="softmax")])
    model.compile(optimizer="adam", loss="sparse_categorical_crossentropy", metrics=["accuracy"])
    return model


def train(model, data, spec):
    history = FIT(model, data["x_train"], data["y_train"], epochs=40, batch_size=512, verbose=0)
    print("skillproof-test: epochs run", len(history.history["loss"]))
    return model
"""


def test_custom_objects_train_and_score_and_the_facts_stay_the_platforms(
    worker: Worker, tiny_task: TaskSpec, alice: User, bob: User
) -> None:
    custom = submit(alice, tiny_task, CUSTOM.encode(), "custom.py")
    unregistered = submit(alice, tiny_task, UNREGISTERED.encode(), "unregistered.py")
    fit_aside = submit(bob, tiny_task, FIT_KEPT_ASIDE.encode(), "fit.py")

    run = wait_for_run(custom, 300)
    assert run.status == "succeeded", (run.error_kind, run.error_message, run.log_tail[-3000:])
    assert 0.3 < run.metrics["accuracy"] < 0.99, run.metrics  # the scorer's, not the forged 1.0
    assert run.param_count == CUSTOM_PARAMS
    assert "FORGED" not in run.model_summary and "mine>Scale" in run.model_summary, run.model_summary
    assert f"Total params: {CUSTOM_PARAMS:,}" in run.model_summary
    assert run.environment["keras"] == "3.15.1" and run.environment["device"] == "CPU"
    assert run.environment["custom_objects"] == ["mine>Scale", "mine>swishy"]
    assert "predict_code" in run.timings

    run = wait_for_run(unregistered, 300)
    assert (run.status, run.error_kind) == ("failed", "bad_model_file"), (run.error_kind, run.error_message)
    assert "Scale" in run.error_message and "register_keras_serializable" in run.error_message
    assert "could not be deserialized" not in run.error_message  # Keras's own words explain nothing here

    run = wait_for_run(fit_aside, 300)
    assert run.status == "succeeded", (run.error_kind, run.error_message, run.log_tail[-3000:])
    assert f"skillproof-test: epochs run {tiny_task.max_epochs}\n" in run.log_tail, run.log_tail[-2000:]
    assert len(run.history) == tiny_task.max_epochs
