"""The Fashion-MNIST reference CNN as legacy code writes it (Keras 2, TensorFlow 2.15 and earlier): the tf.keras
engine's side of bench/pipeline. Same layers, optimizer and loss as trainer/catalogue/fashion-mnist/reference.py."""

from tensorflow import keras
from tensorflow.keras import layers


def build_model(spec):
    model = keras.models.Sequential(
        [
            layers.Conv2D(32, 3, activation="relu", input_shape=tuple(spec["input_shape"])),
            layers.MaxPooling2D(),
            layers.Conv2D(64, 3, activation="relu"),
            layers.MaxPooling2D(),
            layers.Flatten(),
            layers.Dropout(0.3),
            layers.Dense(128, activation="relu"),
            layers.Dense(spec["num_classes"], activation="softmax"),
        ]
    )
    model.compile(optimizer="adam", loss="sparse_categorical_crossentropy", metrics=["accuracy"])
    return model
