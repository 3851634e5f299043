"""Reference solution for the shapes segmentation task: a small U-Net (used by tests and the benchmark)."""

import keras
from keras import layers


def block(x, filters):
    x = layers.Conv2D(filters, 3, padding="same", activation="relu")(x)
    return layers.Conv2D(filters, 3, padding="same", activation="relu")(x)


def build_model(spec):
    inputs = keras.Input(shape=tuple(spec["input_shape"]))
    c1 = block(inputs, 16)
    c2 = block(layers.MaxPooling2D()(c1), 32)
    c3 = block(layers.MaxPooling2D()(c2), 64)
    u2 = block(layers.Concatenate()([layers.UpSampling2D()(c3), c2]), 32)
    u1 = block(layers.Concatenate()([layers.UpSampling2D()(u2), c1]), 16)
    outputs = layers.Conv2D(spec["num_classes"], 1, activation="softmax")(u1)
    model = keras.Model(inputs, outputs)
    model.compile(optimizer=keras.optimizers.Adam(2e-3), loss="sparse_categorical_crossentropy", metrics=["accuracy"])
    return model
