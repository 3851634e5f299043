"""Reference solution for the WordNet text task: word embeddings, average pooling, a dense layer."""

import keras
from keras import layers


def build_model(spec):
    model = keras.Sequential(
        [
            keras.Input(shape=tuple(spec["input_shape"])),
            layers.Embedding(spec["vocabulary_size"], 64, mask_zero=True),
            layers.GlobalAveragePooling1D(),
            layers.Dropout(0.3),
            layers.Dense(64, activation="relu"),
            layers.Dense(spec["num_classes"], activation="softmax"),
        ]
    )
    model.compile(optimizer="adam", loss="sparse_categorical_crossentropy", metrics=["accuracy"])
    return model
