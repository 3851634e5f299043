"""Reference solution for the fine-tuning task: undo the camera change in front of the base, then fine-tune."""

import keras
from keras import layers


def build_model(spec):
    base = keras.saving.load_model(spec["base_model"])
    inputs = keras.Input(shape=tuple(spec["input_shape"]))
    x = layers.Permute((2, 1, 3))(inputs)  # the target images are transposed
    x = layers.Rescaling(-1.0, offset=1.0)(x)  # ... and negatives
    x = layers.GaussianNoise(0.05)(x)  # robustness to the sensor noise; inactive at prediction
    outputs = base(x)
    model = keras.Model(inputs, outputs)
    model.compile(optimizer=keras.optimizers.Adam(3e-4), loss="sparse_categorical_crossentropy", metrics=["accuracy"])
    return model
