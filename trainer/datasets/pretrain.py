"""Train the base model for the fine-tuning task. Platform code, run at dataset build time with the sandbox
runtime's Python (TensorFlow lives there, never in the web or worker process), outside the sandbox.

Usage: python pretrain.py WORK_DIR EPOCHS
Reads WORK_DIR/base_data.npz (x_train, y_train: the source domain; x_target, y_target: the target test set),
writes WORK_DIR/base.keras and WORK_DIR/base.json ({"source_accuracy", "target_accuracy", "params"}).
"""

import json
import sys
from pathlib import Path

import keras
import numpy as np
from keras import layers


def main() -> None:
    work, epochs = Path(sys.argv[1]), int(sys.argv[2])
    keras.utils.set_random_seed(1234)
    with np.load(work / "base_data.npz", allow_pickle=False) as data:
        x, y = data["x_train"].astype("float32")[..., None] / 255, data["y_train"]
        xt, yt = data["x_target"].astype("float32")[..., None] / 255, data["y_target"]
    model = keras.Sequential(
        [
            keras.Input(shape=(28, 28, 1)),
            layers.Conv2D(32, 3, activation="relu", name="conv1"),
            layers.MaxPooling2D(name="pool1"),
            layers.Conv2D(64, 3, activation="relu", name="conv2"),
            layers.MaxPooling2D(name="pool2"),
            layers.Flatten(name="flatten"),
            layers.Dense(128, activation="relu", name="features"),
            layers.Dense(10, activation="softmax", name="classes"),
        ],
        name="base",
    )
    model.compile(optimizer="adam", loss="sparse_categorical_crossentropy", metrics=["accuracy"])
    model.fit(x, y, epochs=epochs, batch_size=128, verbose=0)
    model.save(work / "base.keras")
    source = float(model.evaluate(x[-2000:], y[-2000:], verbose=0)[1])
    target = float(model.evaluate(xt, yt, verbose=0)[1])
    result = {"source_accuracy": source, "target_accuracy": target, "params": int(model.count_params())}
    (work / "base.json").write_text(json.dumps(result))


if __name__ == "__main__":
    main()
