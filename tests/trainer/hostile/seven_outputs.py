"""A model with 7 outputs for a 10-class task."""

import keras


def build_model(spec):
    return keras.Sequential(
        [
            keras.Input(shape=tuple(spec["input_shape"])),
            keras.layers.Flatten(),
            keras.layers.Dense(7, activation="softmax"),
        ]
    )
