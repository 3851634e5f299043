"""Bare Keras: what a learner would run on this machine themselves. Same data, model, split and
epochs as the platform's harness; prints the test accuracy. Run with the sandbox runtime's Python:

    RUNTIME/venv/bin/python bench/bare_train.py DATASET_DIR SOLUTION.py EPOCHS BATCH

With TF_USE_LEGACY_KERAS=1 (the tf.keras engine) it trains with Keras 2 as a learner's legacy script would:
`from tensorflow import keras`, which is then tf_keras.
"""

import importlib.util
import json
import os
import sys
import time

started = time.monotonic()
if os.environ.get("TF_USE_LEGACY_KERAS") == "1":
    from tensorflow import keras  # Keras 2 (tf_keras), as legacy code imports it
else:
    import keras
import numpy as np  # noqa: E402

marks = {"import": time.monotonic() - started}


class EpochEnds(keras.callbacks.Callback):
    """When each epoch ended, in seconds since the script started (the first one is what a learner waits for)."""

    def __init__(self) -> None:
        super().__init__()
        self.ends: list[float] = []

    def on_epoch_end(self, epoch: int, logs: dict | None = None) -> None:
        self.ends.append(time.monotonic() - started)


dataset, solution, epochs, batch = sys.argv[1], sys.argv[2], int(sys.argv[3]), int(sys.argv[4])
spec = {"input_shape": [28, 28, 1], "num_classes": 10, "epochs": epochs, "batch_size": batch}
keras.utils.set_random_seed(0)
with np.load(f"{dataset}/train.npz") as data:
    x, y = data["x"].astype("float32")[..., None] / 255.0, data["y"]
with np.load(f"{dataset}/test_inputs.npz") as data:
    x_test = data["x"].astype("float32")[..., None] / 255.0
with np.load(f"{dataset}/labels/test_labels.npz") as data:
    y_test = data["y"]
order = np.random.default_rng(0).permutation(len(x))
cut = int(len(x) * 0.9)
marks["data"] = time.monotonic() - started - marks["import"]
module_spec = importlib.util.spec_from_file_location("solution", solution)
module = importlib.util.module_from_spec(module_spec)
module_spec.loader.exec_module(module)
model = module.build_model(spec)
epoch_ends = EpochEnds()
fit_started = time.monotonic()
model.fit(
    x[order[:cut]],
    y[order[:cut]],
    validation_data=(x[order[cut:]], y[order[cut:]]),
    epochs=epochs,
    batch_size=batch,
    verbose=2,
    callbacks=[epoch_ends],
)
marks["fit"] = time.monotonic() - fit_started
predict_started = time.monotonic()
accuracy = float((model.predict(x_test, batch_size=512, verbose=0).argmax(axis=1) == y_test).mean())
marks["predict"] = time.monotonic() - predict_started
marks["first_epoch_end"] = epoch_ends.ends[0]
print(f"bare accuracy {accuracy:.4f} in {time.monotonic() - started:.1f}s")
print("bare timings " + json.dumps({k: round(v, 3) for k, v in marks.items()}))
