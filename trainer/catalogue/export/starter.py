"""Starter for the export task. The model trains and scores; its export does not pass yet.

The server calls build_model(spec), trains the model, then calls export(model, path) in the same sandbox.
Production serving loads what export() wrote at `path` with TensorFlow alone (no keras, no tf_keras), calls its
serving_default signature on the hidden test inputs, and compares the predictions with your .keras model's.

Runs on the TensorFlow engine (Keras 3) and on the tf.keras (Keras 2, legacy) engine: `from tensorflow import keras`
is whichever Keras the engine has.
"""

import os

from tensorflow import keras
from tensorflow.keras import layers


def build_model(spec):
    model = keras.Sequential(
        [
            keras.Input(shape=tuple(spec["input_shape"])),
            layers.Flatten(),
            layers.Dense(128, activation="relu"),  # try convolutions here
            layers.Dense(spec["num_classes"], activation="softmax"),
        ]
    )
    model.compile(optimizer="adam", loss="sparse_categorical_crossentropy", metrics=["accuracy"])
    return model


def export(model, path):
    # TODO: this writes a Keras file, which only Keras can load: serving has TensorFlow alone. Write a SavedModel
    # at `path` instead (the brief says how on Keras 3 and on tf.keras).
    os.makedirs(path, exist_ok=True)
    model.save(os.path.join(path, "model.keras"))
