"""Starter for the spoken-digits task. Fill in build_model; optionally define train().

The server calls build_model(spec) with, for this task:
    spec["input_shape"] == [8000]        # one second of audio at 8 kHz, scaled to [-1, 1]
    spec["sample_rate"] == 8000
    spec["num_classes"] == 10            # labels are the digits 0..9
Return a model whose output has one score per class, shape (None, 10).
"""

import keras
from keras import layers


def build_model(spec):
    model = keras.Sequential(
        [
            keras.Input(shape=tuple(spec["input_shape"])),
            # (batch, 8000) audio -> (batch, 40 mel bands, frames): a picture of the sound.
            layers.MelSpectrogram(
                fft_length=256,
                sequence_stride=80,
                sequence_length=200,
                num_mel_bins=40,
                sampling_rate=spec["sample_rate"],
                max_freq=4000,
            ),
            layers.Flatten(),  # try Reshape to (40, frames, 1) and convolutions here
            layers.Dense(64, activation="relu"),
            layers.Dense(spec["num_classes"], activation="softmax"),
        ]
    )
    model.compile(optimizer="adam", loss="sparse_categorical_crossentropy", metrics=["accuracy"])
    return model
