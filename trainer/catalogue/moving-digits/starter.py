"""Starter for the moving-digits task. Fill in build_model; optionally define train().

The server calls build_model(spec) with, for this task:
    spec["input_shape"] == [8, 18, 18, 1]   # 8 frames of 18x18 grey pixels in [0, 1]
    spec["num_classes"] == 8                # directions: N, NE, E, SE, S, SW, W, NW
The model must contain a ConvLSTM layer and output shape (None, 8).
"""

import keras
from keras import layers


def build_model(spec):
    model = keras.Sequential(
        [
            keras.Input(shape=tuple(spec["input_shape"])),
            layers.ConvLSTM2D(8, 3, padding="same"),  # try more filters, return_sequences, a second layer
            layers.Flatten(),
            layers.Dense(spec["num_classes"], activation="softmax"),
        ]
    )
    model.compile(optimizer="adam", loss="sparse_categorical_crossentropy", metrics=["accuracy"])
    return model
