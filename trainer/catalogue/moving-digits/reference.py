"""Reference solution for the moving-digits task: a ConvLSTM2D and a dense head."""

import keras
from keras import layers


def build_model(spec):
    model = keras.Sequential(
        [
            keras.Input(shape=tuple(spec["input_shape"])),
            layers.ConvLSTM2D(16, 3, padding="same"),
            layers.MaxPooling2D(),
            layers.Flatten(),
            layers.Dense(64, activation="relu"),
            layers.Dense(spec["num_classes"], activation="softmax"),
        ]
    )
    model.compile(optimizer="adam", loss="sparse_categorical_crossentropy", metrics=["accuracy"])
    return model
