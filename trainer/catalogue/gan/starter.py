"""Starter for the digits GAN. build_model returns the generator; train() trains it and returns it.

The server calls build_model(spec), then train(generator, data, spec):
    spec["latent_dim"] == 32             # the generator's input: standard-normal noise
    data["x_train"]: (n, 8, 8, 1) real digits in [0, 1]; data["y_train"]: their digit labels
The generator must output (None, 8, 8, 1) with pixels in [0, 1]. The discriminator and the GAN class live
only in training: the server saves and scores the generator that train() returns.
First write the generator's training step (the TODO in train_step); then try wider layers, batch
normalisation, a conditional GAN using y_train.
"""

import keras
import tensorflow as tf
from keras import layers


def build_model(spec):
    return keras.Sequential(
        [
            keras.Input(shape=(spec["latent_dim"],)),
            layers.Dense(64),
            layers.LeakyReLU(0.2),
            layers.Dense(64, activation="sigmoid"),
            layers.Reshape((8, 8, 1)),
        ],
        name="generator",
    )


class GAN(keras.Model):
    def __init__(self, generator, discriminator, latent_dim):
        super().__init__()
        self.generator, self.discriminator, self.latent_dim = generator, discriminator, latent_dim
        self.loss_fn = keras.losses.BinaryCrossentropy(from_logits=True)

    def compile(self, g_optimizer, d_optimizer):
        super().compile()
        self.g_optimizer, self.d_optimizer = g_optimizer, d_optimizer

    def train_step(self, real):
        batch = tf.shape(real)[0]
        noise = tf.random.normal((batch, self.latent_dim))
        with tf.GradientTape() as tape:
            fake = self.generator(noise, training=True)
            real_logits = self.discriminator(real, training=True)
            fake_logits = self.discriminator(fake, training=True)
            d_loss = self.loss_fn(tf.ones_like(real_logits) * 0.9, real_logits) + self.loss_fn(
                tf.zeros_like(fake_logits), fake_logits
            )
        grads = tape.gradient(d_loss, self.discriminator.trainable_weights)
        self.d_optimizer.apply_gradients(zip(grads, self.discriminator.trainable_weights, strict=True))
        # TODO: the generator's step. Draw fresh noise, generate images, and update the generator so that the
        # discriminator calls them real: the loss of its logits against ones, with its own GradientTape and
        # self.g_optimizer. Until you write it, the generator never learns (the server will score noise).
        g_loss = tf.constant(0.0)
        return {"loss": g_loss, "d_loss": d_loss}


def train(generator, data, spec):
    discriminator = keras.Sequential(
        [
            keras.Input(shape=(8, 8, 1)),
            layers.Flatten(),
            layers.Dense(128),
            layers.LeakyReLU(0.2),
            layers.Dropout(0.3),
            layers.Dense(64),
            layers.LeakyReLU(0.2),
            layers.Dense(1),
        ]
    )
    gan = GAN(generator, discriminator, spec["latent_dim"])
    gan.compile(keras.optimizers.Adam(1e-3, beta_1=0.5), keras.optimizers.Adam(1e-3, beta_1=0.5))
    gan.fit(data["x_train"], epochs=spec["epochs"], batch_size=spec["batch_size"], shuffle=True, verbose=2)
    return generator
