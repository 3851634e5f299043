"""Hostile: train, then set every weight to NaN, so that every prediction is NaN."""

import keras
import numpy as np


def build_model(spec):
    model = keras.Sequential(
        [
            keras.Input(shape=tuple(spec["input_shape"])),
            keras.layers.Flatten(),
            keras.layers.Dense(spec["num_classes"], activation="softmax"),
        ]
    )
    model.compile(optimizer="adam", loss="sparse_categorical_crossentropy", metrics=["accuracy"])
    return model


def train(model, data, spec):
    model.fit(data["x_train"], data["y_train"], epochs=1, batch_size=64, verbose=2)
    model.set_weights([w * np.nan for w in model.get_weights()])
    return model
