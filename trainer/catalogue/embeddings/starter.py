"""Starter for the Fashion-MNIST embeddings task. Fill in build_model and train.

The server calls build_model(spec), then train(model, data, spec), and keeps the model train returns:
    spec["input_shape"] == [28, 28, 1]   # grey images scaled to [0, 1]
    spec["embedding_dim"] == 32          # the model outputs (None, 32)
    spec["num_classes"] == 10            # training labels are class ids 0..9
    data: x_train, y_train, x_val, y_val (numpy arrays)
The server scores the embeddings of the test images by 5-nearest-neighbour accuracy.
"""

import keras
from keras import layers


def build_model(spec):
    return keras.Sequential(
        [
            keras.Input(shape=tuple(spec["input_shape"])),
            layers.Flatten(),
            layers.Dense(128, activation="relu"),  # try convolutions here
            layers.Dense(spec["embedding_dim"], name="embedding"),
        ]
    )


def train(model, data, spec):
    # A classification head on top of the embedding, trained with the labels, then dropped.
    head = keras.Sequential([model, layers.Dense(spec["num_classes"], activation="softmax")])
    head.compile(optimizer="adam", loss="sparse_categorical_crossentropy", metrics=["accuracy"])
    head.fit(
        data["x_train"],
        data["y_train"],
        validation_data=(data["x_val"], data["y_val"]),
        epochs=spec["epochs"],
        batch_size=spec["batch_size"],
    )
    return model
