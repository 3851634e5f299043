"""Starter for the moving-digits task. Fill in build_model; optionally define train().

The server calls build_model(spec) with, for this task:
    spec["input_shape"] == [8, 18, 18, 1]   # 8 frames of 18x18 grey pixels in [0, 1]
    spec["num_classes"] == 8                # directions: N, NE, E, SE, S, SW, W, NW
The model must contain a ConvLSTM layer (ConvLSTM1D, ConvLSTM2D or ConvLSTM3D) and output shape (None, 8).

This starter reads each frame with its own convolution and the sequence with a plain LSTM, which loses
where things are in the picture before the recurrence sees them. The server refuses it until you replace
those layers with a ConvLSTM2D, which convolves inside the recurrence and keeps the layout.
"""

import keras
from keras import layers


def build_model(spec):
    model = keras.Sequential(
        [
            keras.Input(shape=tuple(spec["input_shape"])),
            layers.TimeDistributed(layers.Conv2D(8, 3, activation="relu")),  # replace these three layers
            layers.TimeDistributed(layers.Flatten()),
            layers.LSTM(32),  # ... with layers.ConvLSTM2D(filters, kernel_size, padding="same"), then Flatten
            layers.Dense(spec["num_classes"], activation="softmax"),
        ]
    )
    model.compile(optimizer="adam", loss="sparse_categorical_crossentropy", metrics=["accuracy"])
    return model
