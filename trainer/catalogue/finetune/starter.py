"""Starter for the fine-tuning task. Load the base model, modify it, fine-tune it.

The server calls build_model(spec) with, for this task:
    spec["base_model"] == "data/base.keras"   # the platform's pre-trained Fashion-MNIST CNN
    spec["input_shape"] == [28, 28, 1]        # target-domain images scaled to [0, 1]
    spec["num_classes"] == 10
Return a model with output shape (None, 10) that reuses the base's weights.
"""

import keras


def build_model(spec):
    base = keras.saving.load_model(spec["base_model"])
    base.summary()
    inputs = keras.Input(shape=tuple(spec["input_shape"]))
    # The target images differ from what the base saw. Try layers that adapt them first,
    # freezing some base layers (layer.trainable = False), or a new head.
    outputs = base(inputs)
    model = keras.Model(inputs, outputs)
    model.compile(optimizer=keras.optimizers.Adam(1e-4), loss="sparse_categorical_crossentropy", metrics=["accuracy"])
    return model
