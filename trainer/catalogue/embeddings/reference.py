"""Reference solution for the embeddings task: a CNN embedding trained through a softmax head."""

import keras
from keras import layers


def build_model(spec):
    return keras.Sequential(
        [
            keras.Input(shape=tuple(spec["input_shape"])),
            layers.Conv2D(32, 3, activation="relu"),
            layers.MaxPooling2D(),
            layers.Conv2D(64, 3, activation="relu"),
            layers.MaxPooling2D(),
            layers.Flatten(),
            layers.Dense(128, activation="relu"),
            layers.Dense(spec["embedding_dim"], name="embedding"),
        ]
    )


def train(model, data, spec):
    head = keras.Sequential([model, layers.Activation("relu"), layers.Dense(spec["num_classes"], activation="softmax")])
    head.compile(optimizer="adam", loss="sparse_categorical_crossentropy", metrics=["accuracy"])
    head.fit(
        data["x_train"],
        data["y_train"],
        validation_data=(data["x_val"], data["y_val"]),
        epochs=spec["epochs"],
        batch_size=spec["batch_size"],
    )
    return model
