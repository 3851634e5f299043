"""Reference solution for the question-answering task: an end-to-end memory network with two hops.

Sentences are encoded with their word order (embed, flatten, dense) and read in story order by an LSTM,
so a memory knows how recent it is; the question attends over the memories twice.
"""

import keras
from keras import layers


def build_model(spec):
    sentences, words = spec["story_shape"]
    size = 64
    story = keras.Input(shape=(sentences, words), name="story", dtype="int32")
    question = keras.Input(shape=(spec["question_length"],), name="question", dtype="int32")
    embed = layers.Embedding(spec["vocabulary_size"], 32)
    encoded = layers.Reshape((sentences, words * 32))(embed(story))
    encoded = layers.Dense(size, activation="relu")(encoded)
    keys = layers.LSTM(size, return_sequences=True)(encoded)
    values = layers.Dense(size)(keys)
    query = layers.Dense(size, activation="relu")(layers.Flatten()(embed(question)))
    for _ in range(2):
        attention = layers.Softmax()(layers.Dot(axes=(2, 1))([keys, query]))
        read = layers.Dot(axes=(1, 1))([attention, values])
        query = layers.Dense(size, activation="relu")(layers.Concatenate()([query, read]))
    answer = layers.Dense(spec["num_classes"], activation="softmax")(query)
    model = keras.Model([story, question], answer)
    model.compile(optimizer=keras.optimizers.Adam(2e-3), loss="sparse_categorical_crossentropy", metrics=["accuracy"])
    return model
