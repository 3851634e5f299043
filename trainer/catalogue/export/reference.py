"""Reference solution for the export task: the Fashion-MNIST CNN, exported as a SavedModel on either Keras.

`from tensorflow import keras` is Keras 3 on the TensorFlow engine and tf.keras (Keras 2) on the legacy engine,
so this one file runs on both; only the export differs (see the brief).
"""

import tensorflow as tf
from tensorflow import keras
from tensorflow.keras import layers

LEGACY = keras.__name__.startswith("tf_keras")  # tf.keras (Keras 2) on the legacy engine; else Keras 3


def build_model(spec):
    model = keras.Sequential(
        [
            keras.Input(shape=tuple(spec["input_shape"])),
            layers.Conv2D(32, 3, activation="relu"),
            layers.MaxPooling2D(),
            layers.Conv2D(64, 3, activation="relu"),
            layers.MaxPooling2D(),
            layers.Flatten(),
            layers.Dropout(0.3),
            layers.Dense(128, activation="relu"),
            layers.Dense(spec["num_classes"], activation="softmax"),
        ]
    )
    model.compile(optimizer="adam", loss="sparse_categorical_crossentropy", metrics=["accuracy"])
    return model


def export(model, path):
    if LEGACY:
        tf.saved_model.save(model, path)  # tf.keras (Keras 2): TensorFlow traces the model's call
    else:
        model.export(path)  # Keras 3: an inference-only SavedModel, `serve` endpoint, serving_default signature
