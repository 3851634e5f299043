"""Starter for the shapes segmentation task. Fill in build_model; optionally define train().

The server calls build_model(spec) with, for this task:
    spec["input_shape"] == [32, 32, 1]   # grey images scaled to [0, 1]
    spec["num_classes"] == 4             # 0 background, 1 circle, 2 rectangle, 3 triangle
    spec["epochs"], spec["batch_size"], spec["max_params"]  # budgets the server enforces
Labels are (32, 32) masks of class ids. Return a model with output shape (None, 32, 32, 4).
"""

import keras
from keras import layers


def build_model(spec):
    inputs = keras.Input(shape=tuple(spec["input_shape"]))
    x = layers.Conv2D(16, 3, padding="same", activation="relu")(inputs)
    x = layers.Conv2D(16, 3, padding="same", activation="relu")(x)  # try pooling, upsampling, skip connections
    outputs = layers.Conv2D(spec["num_classes"], 1, activation="softmax")(x)
    model = keras.Model(inputs, outputs)
    model.compile(optimizer="adam", loss="sparse_categorical_crossentropy", metrics=["accuracy"])
    return model
