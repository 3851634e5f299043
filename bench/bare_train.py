"""Bare Keras: what a learner would run on this machine themselves. Same data, model, split and
epochs as the platform's harness; prints the test accuracy. Run with the sandbox runtime's Python:

    RUNTIME/venv/bin/python bench/bare_train.py DATASET_DIR SOLUTION.py EPOCHS BATCH
"""

import importlib.util
import sys
import time

started = time.monotonic()
import keras  # noqa: E402
import numpy as np  # noqa: E402

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
module_spec = importlib.util.spec_from_file_location("solution", solution)
module = importlib.util.module_from_spec(module_spec)
module_spec.loader.exec_module(module)
model = module.build_model(spec)
model.fit(
    x[order[:cut]],
    y[order[:cut]],
    validation_data=(x[order[cut:]], y[order[cut:]]),
    epochs=epochs,
    batch_size=batch,
    verbose=2,
)
accuracy = float((model.predict(x_test, batch_size=512, verbose=0).argmax(axis=1) == y_test).mean())
print(f"bare accuracy {accuracy:.4f} in {time.monotonic() - started:.1f}s")
