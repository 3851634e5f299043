"""Starter for the Fashion-MNIST task. Fill in build_model; optionally define train().

The server calls build_model(spec) with, for this task:
    spec["input_shape"] == [28, 28, 1]   # grey images scaled to [0, 1]
    spec["num_classes"] == 10            # labels are integers 0..9
    spec["epochs"], spec["batch_size"], spec["max_params"]  # budgets the server enforces
Return a Keras model whose output has one score per class, shape (None, 10).
If it is not compiled, the server compiles it with adam + sparse_categorical_crossentropy.
"""

import keras
from keras import layers


def build_model(spec):
    model = keras.Sequential(
        [
            keras.Input(shape=tuple(spec["input_shape"])),
            layers.Flatten(),
            layers.Dense(64, activation="relu"),  # try convolutions here
            layers.Dense(spec["num_classes"], activation="softmax"),
        ]
    )
    model.compile(optimizer="adam", loss="sparse_categorical_crossentropy", metrics=["accuracy"])
    return model


# Optional: your own training loop. `data` has x_train, y_train, x_val, y_val (numpy arrays).
# The server caps the epochs at spec["epochs"] whatever you pass to fit().
# def train(model, data, spec):
#     model.fit(data["x_train"], data["y_train"], validation_data=(data["x_val"], data["y_val"]),
#               epochs=spec["epochs"], batch_size=spec["batch_size"])
#     return model
