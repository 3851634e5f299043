"""The harness runs fit() with several batches per TensorFlow call only where that changes nothing but speed: the
weights after training equal those of Keras's default of one batch per call; a learner's own setting, and every
per-batch callback of theirs, are left exactly as written; the model comes back with the learner's setting.

Runs the real harness in the TensorFlow runtime's interpreter (no sandbox around it: nothing here is hostile)."""

from __future__ import annotations

import json
import subprocess
import textwrap
from pathlib import Path

from trainer.sandbox.config import sandbox_config

SCRIPT = textwrap.dedent(
    """
    import json, sys
    sys.path.insert(0, sys.argv[1])
    import harness, keras, numpy as np

    x = np.random.default_rng(0).random((120, 4)).astype("float32")
    y = (x.sum(axis=1) > 2).astype("int32")

    def model(**compile_args):
        keras.utils.set_random_seed(0)
        built = keras.Sequential([keras.Input((4,)), keras.layers.Dense(8, activation="relu"),
                                  keras.layers.Dense(2, activation="softmax")])
        built.compile(optimizer="adam", loss="sparse_categorical_crossentropy", **compile_args)
        return built

    def fit(m, *callbacks):
        m.fit(x, y, validation_data=(x[:20], y[:20]), epochs=2, batch_size=10, shuffle=False, verbose=0,
              callbacks=list(callbacks))
        return m

    class During(keras.callbacks.Callback):
        def __init__(self):
            super().__init__()
            self.seen = []
        def on_epoch_end(self, epoch, logs=None):
            self.seen.append(self.model.steps_per_execution)

    class PerBatch(During):
        batches = 0
        def on_train_batch_end(self, batch, logs=None):
            PerBatch.batches += 1

    baseline = fit(model())  # Keras's own fit: one batch per call
    (harness.OUT).mkdir(parents=True, exist_ok=True)
    harness.guard_fit(100, harness.progress_callback(100, "accuracy"))
    found = {}
    for name, m, callback in [("default", model(), During()), ("per_batch", model(), PerBatch()),
                              ("learners_own", model(steps_per_execution=3), During())]:
        fit(m, callback)
        found[name] = {"during": callback.seen, "after": m.steps_per_execution,
                       "same_weights": all(np.allclose(a, b, atol=1e-6) for a, b in
                                           zip(m.get_weights(), baseline.get_weights()))}
    found["per_batch"]["batches"] = PerBatch.batches
    print("found " + json.dumps(found))
    """
)


def test_several_batches_per_call_only_where_nothing_but_speed_changes(sandbox: None, tmp_path: Path) -> None:
    config = sandbox_config()
    script = tmp_path / "check.py"
    script.write_text(SCRIPT)
    env = {
        "KERAS_BACKEND": "tensorflow", "TF_CPP_MIN_LOG_LEVEL": "2", "PATH": "/usr/bin:/bin",
        "SKILLPROOF_JOB": str(tmp_path / "job"), "SKILLPROOF_STEPS_PER_EXECUTION": "4", "HOME": str(tmp_path),
    }  # fmt: skip
    done = subprocess.run(
        [str(config.python_for("tensorflow")), str(script), str(Path(__file__).parents[2] / "trainer" / "harness")],
        capture_output=True, text=True, env=env, timeout=300,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr[-3000:]
    found = json.loads(done.stdout.split("found ")[1])
    assert found["default"] == {"during": [4, 4], "after": 1, "same_weights": True}, found
    # A callback acting per batch sees every batch: 12 per epoch, 2 epochs.
    assert found["per_batch"] == {"during": [1, 1], "after": 1, "same_weights": True, "batches": 24}, found
    assert found["learners_own"]["during"] == [3, 3] and found["learners_own"]["after"] == 3, found
