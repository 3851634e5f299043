"""Reference solution for the neighbour-tags task: a bidirectional LSTM tagger."""

import keras
from keras import layers


def build_model(spec):
    model = keras.Sequential(
        [
            keras.Input(shape=tuple(spec["input_shape"])),
            layers.Embedding(spec["vocabulary_size"], 16),
            layers.Bidirectional(layers.LSTM(32, return_sequences=True)),
            layers.Dense(32, activation="relu"),
            layers.Dense(spec["num_classes"], activation="softmax"),
        ]
    )
    model.compile(optimizer=keras.optimizers.Adam(3e-3), loss="sparse_categorical_crossentropy", metrics=["accuracy"])
    return model
