"""Reference solution for the spoken-digits task: a log-mel spectrogram and a small CNN."""

import keras
from keras import layers


def build_model(spec):
    model = keras.Sequential(
        [
            keras.Input(shape=tuple(spec["input_shape"])),
            layers.MelSpectrogram(
                fft_length=256,
                sequence_stride=80,
                sequence_length=200,
                num_mel_bins=40,
                sampling_rate=spec["sample_rate"],
                max_freq=4000,
            ),
            layers.Reshape((40, -1, 1)),
            layers.BatchNormalization(),
            layers.Conv2D(16, 3, activation="relu", padding="same"),
            layers.MaxPooling2D(),
            layers.Conv2D(32, 3, activation="relu", padding="same"),
            layers.MaxPooling2D(),
            layers.Conv2D(64, 3, activation="relu", padding="same"),
            layers.GlobalMaxPooling2D(),
            layers.Dropout(0.3),
            layers.Dense(spec["num_classes"], activation="softmax"),
        ]
    )
    model.compile(optimizer="adam", loss="sparse_categorical_crossentropy", metrics=["accuracy"])
    return model
