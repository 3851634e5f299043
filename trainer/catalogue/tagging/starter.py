"""Starter for the neighbour-tags task. Fill in build_model; optionally define train().

The server calls build_model(spec) with, for this task:
    spec["input_shape"] == [20]          # token ids 1..9
    spec["vocabulary_size"] == 10
    spec["num_classes"] == 3             # one tag 0..2 per token
The model must contain a Bidirectional layer and output shape (None, 20, 3).
"""

import keras
from keras import layers


def build_model(spec):
    model = keras.Sequential(
        [
            keras.Input(shape=tuple(spec["input_shape"])),
            layers.Embedding(spec["vocabulary_size"], 8),
            # Both directions, so each tag sees its right neighbour too. Try an LSTM or a GRU and more units.
            layers.Bidirectional(layers.SimpleRNN(4, return_sequences=True)),
            layers.Dense(spec["num_classes"], activation="softmax"),
        ]
    )
    model.compile(optimizer="adam", loss="sparse_categorical_crossentropy", metrics=["accuracy"])
    return model
