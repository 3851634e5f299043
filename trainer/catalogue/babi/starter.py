"""Starter for the rooms-and-objects question-answering task. Fill in build_model; optionally define train().

The server calls build_model(spec) with, for this task:
    spec["story_shape"] == [10, 6]       # sentences x words, token ids, newest sentence last
    spec["question_length"] == 4         # token ids
    spec["vocabulary_size"] == 32
    spec["num_classes"] == 6             # the room that answers the question
Inputs must be named "story" and "question"; the output shape is (None, 6).
"""

import keras
from keras import layers


def build_model(spec):
    story = keras.Input(shape=tuple(spec["story_shape"]), name="story", dtype="int32")
    question = keras.Input(shape=(spec["question_length"],), name="question", dtype="int32")
    words = layers.Embedding(spec["vocabulary_size"], 16)
    memories = layers.Reshape((spec["story_shape"][0], -1))(words(story))  # one vector per sentence
    query = layers.Flatten()(words(question))
    # Try attention: score each memory against the query (layers.Dot), softmax, read a weighted sum.
    merged = layers.Concatenate()([layers.Flatten()(memories), query])
    hidden = layers.Dense(64, activation="relu")(merged)
    answer = layers.Dense(spec["num_classes"], activation="softmax")(hidden)
    model = keras.Model([story, question], answer)
    model.compile(optimizer="adam", loss="sparse_categorical_crossentropy", metrics=["accuracy"])
    return model
