"""The variational autoencoder (after the keras.io convolutional VAE example).

Blocks:

* encoder: 28x28x1 ink image -> Conv2D 32 (stride 2) -> Conv2D 64 (stride 2)
  -> Dense 16 -> ``z_mean``, ``z_log_var`` -> :class:`Sampling` -> ``z``;
* decoder: ``z`` -> Dense 7*7*64 -> Conv2DTranspose 64, 32 (stride 2) ->
  Conv2DTranspose 1 (sigmoid) = pixel-wise ink probability;
* :class:`VAE`: loss = reconstruction (binary cross-entropy summed over the
  pixels) + ``beta`` x KL(q(z|x) || N(0, I)), averaged over the batch.

Images go in as ink floats in [0, 1] (ink = 1), shape ``(n, 28, 28, 1)``;
the helpers here accept and return the project's uint8 paper-white images.
A trained model is saved as ``artifacts/vae.keras`` in a run folder and
loaded with ``safe_mode`` by :func:`load_vae`.
"""

from __future__ import annotations

from pathlib import Path

import keras
import numpy as np
import tensorflow as tf
from keras import layers, ops

from hwutils import images, pipelines, training
from hwutils.errors import ParamsError

MODEL_FILE = "vae.keras"


@keras.saving.register_keras_serializable(package="hwutils")
class Sampling(layers.Layer):
    """Reparameterization: ``z = z_mean + exp(z_log_var / 2) * eps``, ``eps ~ N(0, I)``.

    Uses a Keras ``SeedGenerator`` (stateless ops underneath), so it is
    reproducible with TensorFlow's op determinism on.
    """

    def __init__(self, seed: int | None = None, **kwargs):
        super().__init__(**kwargs)
        self.seed = seed
        self.seed_generator = keras.random.SeedGenerator(seed)

    def call(self, inputs):
        z_mean, z_log_var = inputs
        eps = keras.random.normal(ops.shape(z_mean), seed=self.seed_generator)
        return z_mean + ops.exp(0.5 * z_log_var) * eps

    def get_config(self):
        return {**super().get_config(), "seed": self.seed}


def build_encoder(latent_dim: int, image_size: int = 28, seed: int | None = None) -> keras.Model:
    """Image ``(image_size, image_size, 1)`` -> ``[z_mean, z_log_var, z]``."""
    inputs = keras.Input((image_size, image_size, 1), name="image")
    x = layers.Conv2D(32, 3, strides=2, padding="same", activation="relu")(inputs)
    x = layers.Conv2D(64, 3, strides=2, padding="same", activation="relu")(x)
    x = layers.Flatten()(x)
    x = layers.Dense(16, activation="relu")(x)
    z_mean = layers.Dense(latent_dim, name="z_mean")(x)
    z_log_var = layers.Dense(latent_dim, name="z_log_var")(x)
    z = Sampling(seed=seed, name="sampling")([z_mean, z_log_var])
    return keras.Model(inputs, [z_mean, z_log_var, z], name="encoder")


def build_decoder(latent_dim: int, image_size: int = 28) -> keras.Model:
    """Latent ``z`` -> ink probabilities ``(image_size, image_size, 1)``."""
    if image_size % 4:
        raise ParamsError(f"image_size: must be a multiple of 4, got {image_size}")
    side = image_size // 4
    inputs = keras.Input((latent_dim,), name="z")
    x = layers.Dense(side * side * 64, activation="relu")(inputs)
    x = layers.Reshape((side, side, 64))(x)
    x = layers.Conv2DTranspose(64, 3, strides=2, padding="same", activation="relu")(x)
    x = layers.Conv2DTranspose(32, 3, strides=2, padding="same", activation="relu")(x)
    outputs = layers.Conv2DTranspose(1, 3, padding="same", activation="sigmoid")(x)
    return keras.Model(inputs, outputs, name="decoder")


@keras.saving.register_keras_serializable(package="hwutils")
class VAE(keras.Model):
    """Encoder + decoder trained on ``reconstruction + beta * KL``.

    ``call(x)`` returns the reconstruction of ``x`` from ``z_mean``. Logged
    metrics: ``loss``, ``reconstruction_loss``, ``kl_loss``.
    """

    def __init__(
        self, latent_dim: int = 2, beta: float = 1.0, image_size: int = 28, seed: int | None = None, **kwargs
    ):
        super().__init__(**kwargs)
        if latent_dim < 1:
            raise ParamsError(f"latent_dim: must be at least 1, got {latent_dim}")
        if beta < 0:
            raise ParamsError(f"beta: must be >= 0, got {beta}")
        self.latent_dim, self.beta, self.image_size, self.seed = (
            int(latent_dim),
            float(beta),
            int(image_size),
            seed,
        )
        self.encoder = build_encoder(self.latent_dim, self.image_size, seed)
        self.decoder = build_decoder(self.latent_dim, self.image_size)
        self.total_loss_tracker = keras.metrics.Mean(name="loss")
        self.reconstruction_loss_tracker = keras.metrics.Mean(name="reconstruction_loss")
        self.kl_loss_tracker = keras.metrics.Mean(name="kl_loss")

    @property
    def metrics(self):
        return [self.total_loss_tracker, self.reconstruction_loss_tracker, self.kl_loss_tracker]

    def call(self, inputs, training=False):
        z_mean, _, _ = self.encoder(inputs, training=training)
        return self.decoder(z_mean, training=training)

    def _vae_losses(self, data, training):
        z_mean, z_log_var, z = self.encoder(data, training=training)
        reconstruction = self.decoder(z, training=training)
        reconstruction_loss = ops.mean(
            ops.sum(keras.losses.binary_crossentropy(data, reconstruction), axis=(1, 2))
        )
        kl = -0.5 * (1 + z_log_var - ops.square(z_mean) - ops.exp(z_log_var))
        kl_loss = ops.mean(ops.sum(kl, axis=1))
        return reconstruction_loss + self.beta * kl_loss, reconstruction_loss, kl_loss

    def _track(self, total, rec, kl):
        self.total_loss_tracker.update_state(total)
        self.reconstruction_loss_tracker.update_state(rec)
        self.kl_loss_tracker.update_state(kl)
        return {m.name: m.result() for m in self.metrics}

    def train_step(self, data):
        if isinstance(data, tuple):
            data = data[0]
        with tf.GradientTape() as tape:
            total, rec, kl = self._vae_losses(data, training=True)
        grads = tape.gradient(total, self.trainable_weights)
        self.optimizer.apply(grads, self.trainable_weights)
        return self._track(total, rec, kl)

    def test_step(self, data):
        if isinstance(data, tuple):
            data = data[0]
        return self._track(*self._vae_losses(data, training=False))

    def get_config(self):
        return {
            "name": self.name,
            "latent_dim": self.latent_dim,
            "beta": self.beta,
            "image_size": self.image_size,
            "seed": self.seed,
        }


# ----------------------------------------------------------------- helpers
def to_model_input(imgs) -> np.ndarray:
    """uint8 paper-white images ``(n, h, w)`` -> float ink ``(n, h, w, 1)``."""
    return images.to_ink_float(np.asarray(imgs))[..., None]


def from_model_output(probs) -> np.ndarray:
    """Ink probabilities ``(n, h, w[, 1])`` -> uint8 paper-white images ``(n, h, w)``."""
    probs = np.asarray(probs)
    if probs.ndim == 4:
        probs = probs[..., 0]
    return images.from_ink_float(probs)


def train_vae(
    train_images,
    *,
    latent_dim: int = 2,
    beta: float = 1.0,
    epochs: int = 60,
    batch_size: int = 32,
    steps_per_epoch: int | None = None,
    learning_rate: float = 1e-3,
    patience: int = 10,
    seed: int = 0,
    strategy: str = "default",
) -> tuple[VAE, dict]:
    """Train a :class:`VAE` on uint8 paper-white images ``(n, h, w)``.

    The images are cached, reshuffled and repeated by
    :func:`hwutils.pipelines.training_dataset`; ``steps_per_epoch`` defaults
    to one pass. Early stopping watches the training loss and restores the
    best weights. Returns ``(vae, history)``.
    """
    x = to_model_input(train_images).astype(np.float32)
    ds = pipelines.training_dataset(pipelines.from_arrays(x), batch_size, seed)
    with training.get_strategy(strategy).scope():
        vae = VAE(latent_dim=latent_dim, beta=beta, image_size=x.shape[1], seed=seed)
        vae.compile(optimizer=keras.optimizers.Adam(learning_rate))
    history = training.fit(
        vae,
        ds,
        epochs=epochs,
        steps_per_epoch=steps_per_epoch or pipelines.steps_for(len(x), batch_size),
        monitor="loss",
        patience=patience,
    )
    return vae, history


def encode(vae: VAE, imgs, batch_size: int = 256) -> np.ndarray:
    """Latent means ``(n, latent_dim)`` of uint8 paper-white images."""
    z_mean, _, _ = vae.encoder.predict(to_model_input(imgs), batch_size=batch_size, verbose=0)
    return np.asarray(z_mean)


def decode(vae: VAE, z, batch_size: int = 256) -> np.ndarray:
    """uint8 paper-white images decoded from latent points ``(n, latent_dim)``."""
    return from_model_output(vae.decoder.predict(np.asarray(z, np.float32), batch_size=batch_size, verbose=0))


def sample(vae: VAE, n: int = 100, seed: int = 0) -> np.ndarray:
    """``n`` new images decoded from points drawn from the prior N(0, I)."""
    z = np.random.default_rng(seed).standard_normal((n, vae.latent_dim)).astype(np.float32)
    return decode(vae, z)


def interpolate(vae: VAE, z_a, z_b, steps: int = 10) -> np.ndarray:
    """Images decoded along the straight line from ``z_a`` to ``z_b`` (both ends included)."""
    t = np.linspace(0.0, 1.0, steps)[:, None]
    return decode(vae, (1 - t) * np.asarray(z_a)[None] + t * np.asarray(z_b)[None])


def save_vae(vae: VAE, run_artifacts: str | Path) -> Path:
    """Save as ``<run_artifacts>/vae.keras``."""
    return training.save_model(vae, Path(run_artifacts) / MODEL_FILE)


def save_samples(imgs, path: str | Path) -> Path:
    """Save generated uint8 images as a compressed ``.npz`` (array ``images``), atomically."""
    from hwutils import artifacts

    return artifacts.save_npz(path, compressed=True, images=np.asarray(imgs, np.uint8))


def load_vae(run_dir: str | Path) -> VAE:
    """The VAE of a finished run: ``<run_dir>/artifacts/vae.keras`` (safe_mode)."""
    from hwutils.runfolder import artifacts_folder

    return training.load_model(artifacts_folder(run_dir, MODEL_FILE, "single_image_vae") / MODEL_FILE)
