"""Hostile: print 300 MB as fast as possible, then build a sensible model."""

import sys

import keras


def build_model(spec):
    line = f"flood {MARKER} ".ljust(1023, "x") + "\n"  # noqa: F821
    block = line * 1024  # 1 MB
    for _ in range(300):
        sys.stdout.write(block)
    sys.stdout.flush()
    model = keras.Sequential(
        [
            keras.Input(shape=tuple(spec["input_shape"])),
            keras.layers.Flatten(),
            keras.layers.Dense(spec["num_classes"], activation="softmax"),
        ]
    )
    model.compile(optimizer="adam", loss="sparse_categorical_crossentropy", metrics=["accuracy"])
    return model
