"""What the prediction harness reads from a saved model's configuration, without building it: the custom
objects that need the learner's code, and the built-in layers a task may require (no TensorFlow here)."""

from __future__ import annotations

import json
import zipfile
from pathlib import Path
from typing import Any

import pytest

from trainer.harness import harness

KERAS_DENSE = {"module": "keras.layers", "class_name": "Dense", "config": {"name": "dense"}, "registered_name": None}


def saved(*layers: dict[str, Any], **top: Any) -> dict[str, Any]:
    config = {"module": "keras", "class_name": "Sequential", "config": {"name": "m", "layers": list(layers)}}
    return config | top


def test_built_in_models_have_no_custom_objects() -> None:
    tensor = {"class_name": "__keras_tensor__", "config": {"shape": [None, 4]}}
    array = {"class_name": "__numpy__", "config": {"value": [1, 2]}}
    assert (
        harness.custom_objects(saved(KERAS_DENSE, {"class_name": "X", "module": "keras.src.x", "a": [tensor, array]}))
        == {}
    )


def test_registered_and_unregistered_layers_and_functions() -> None:
    registered = {"module": None, "class_name": "Scale", "registered_name": "mine>Scale", "config": {}}
    unregistered = {"module": None, "class_name": "Twice", "registered_name": "Twice", "config": {}}
    activation = {
        "module": "builtins",
        "class_name": "function",
        "config": "mine>swishy",
        "registered_name": "function",
    }
    dense = KERAS_DENSE | {"config": {"activation": activation}}
    assert harness.custom_objects(saved(registered, unregistered, dense)) == {
        "mine>Scale": True, "Twice": False, "mine>swishy": True,
    }  # fmt: skip


def test_a_custom_loss_in_the_compile_config_is_not_needed_for_prediction() -> None:
    loss = {"module": None, "class_name": "PlainLoss", "registered_name": "mine>PlainLoss", "config": {}}
    assert harness.custom_objects(saved(KERAS_DENSE, compile_config={"loss": loss})) == {}


def test_lambda_code_is_unsafe_whoever_brings_it() -> None:
    code = {"class_name": "__lambda__", "config": {"code": "4wEAAAA=", "defaults": None, "closure": None}}
    layer = {"module": "keras.layers", "class_name": "Lambda", "config": {"function": code}}
    with pytest.raises(harness.LearnerError) as error:
        harness.custom_objects(saved(layer))
    assert error.value.kind == "unsafe_model"


def test_a_deep_configuration_is_walked_without_recursion() -> None:
    node: dict[str, Any] = {"module": None, "class_name": "Deep", "registered_name": "mine>Deep"}
    for _ in range(50_000):
        node = {"wrapped": [node]}
    assert harness.custom_objects(node) == {"mine>Deep": True}


def test_required_layers_count_only_keras_own_classes() -> None:
    impostor = {"module": None, "class_name": "ConvLSTM2D", "registered_name": "mine>ConvLSTM2D", "config": {}}
    real = {"module": "keras.layers", "class_name": "Bidirectional", "config": {"layer": {
        "module": "keras.layers", "class_name": "LSTM", "config": {}}}}  # fmt: skip
    assert "ConvLSTM2D" not in harness.builtin_class_names(saved(impostor))
    assert {"Bidirectional", "LSTM"} <= harness.builtin_class_names(saved(real))


def test_an_unreadable_model_file_is_the_learners(tmp_path: Path) -> None:
    (tmp_path / "junk.keras").write_bytes(b"not a zip")
    with zipfile.ZipFile(tmp_path / "empty.keras", "w") as archive:
        archive.writestr("metadata.json", json.dumps({}))
    (tmp_path / "deep.keras").write_bytes(b"")
    with zipfile.ZipFile(tmp_path / "deep.keras", "w") as archive:
        archive.writestr("config.json", "[" * 100_000)
    for name in ("junk.keras", "empty.keras", "deep.keras"):
        with pytest.raises(harness.LearnerError) as error:
            harness.saved_config(tmp_path / name)
        assert error.value.kind == "bad_model_file", name


def test_code_written_for_another_engine_is_told_which_engine_it_needs(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    submission = tmp_path / "submission.py"
    monkeypatch.setattr(harness, "SUBMISSION", submission)
    monkeypatch.setattr(harness, "LEGACY", False)
    monkeypatch.setenv("KERAS_BACKEND", "jax")
    hint = harness.engine_hint(ModuleNotFoundError("No module named 'tensorflow'", name="tensorflow"))
    assert "on the jax engine, whose runtime has no tensorflow" in hint and "tensorflow engine" in hint

    monkeypatch.setenv("KERAS_BACKEND", "tensorflow")
    submission.write_text("from tensorflow import keras\n")
    removed = AttributeError("'Sequential' object has no attribute 'fit_generator'")
    assert "an API that Keras 3 removed" in harness.engine_hint(removed)
    assert "an API that Keras 3 removed" in harness.engine_hint(ValueError("Argument(s) not recognized: {'lr': 0.1}"))
    assert harness.engine_hint(ValueError("shapes (3,) and (4,) do not match")) == ""  # an ordinary mistake
    submission.write_text("import keras\n")
    assert harness.engine_hint(AttributeError("'NoneType' object has no attribute 'shape'")) == ""
    monkeypatch.setattr(harness, "LEGACY", True)  # on tf.keras itself, Keras 2 code is at home
    assert harness.engine_hint(removed) == ""
