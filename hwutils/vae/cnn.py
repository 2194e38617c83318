"""The small CNN used twice by the stage: the 10-digit judge of generated
images (:mod:`hwutils.vae.quality`) and the 3-class "yours / real / other"
classifier (:mod:`hwutils.vae.threeway`).

Conv 32 -> max-pool -> Conv 64 -> max-pool -> Dense 128 (the ``features``
layer, used for Fréchet distances) -> dropout -> softmax. Trained on
uint8 paper-white images with class-balanced resampling and small random
shifts, zooms, rotations, stroke-width, brightness and contrast changes
(stateless, per element).
"""

from __future__ import annotations

import keras
import numpy as np
import tensorflow as tf
from keras import layers

from hwutils import pipelines, training
from hwutils.vae.model import to_model_input

FEATURES = "features"


def build_cnn(n_classes: int, image_size: int = 28, name: str = "cnn") -> keras.Model:
    """Image ``(image_size, image_size, 1)`` ink float -> class probabilities."""
    inputs = keras.Input((image_size, image_size, 1), name="image")
    x = layers.Conv2D(32, 3, padding="same", activation="relu")(inputs)
    x = layers.MaxPooling2D()(x)
    x = layers.Conv2D(64, 3, padding="same", activation="relu")(x)
    x = layers.MaxPooling2D()(x)
    x = layers.Flatten()(x)
    x = layers.Dense(128, activation="relu", name=FEATURES)(x)
    x = layers.Dropout(0.3)(x)
    outputs = layers.Dense(n_classes, activation="softmax", name="probs")(x)
    return keras.Model(inputs, outputs, name=name)


def balanced_indices(labels, seed: int) -> np.ndarray:
    """Indices that resample every class to the size of the largest one (shuffled)."""
    labels = np.asarray(labels)
    rng = np.random.default_rng(seed)
    classes, counts = np.unique(labels, return_counts=True)
    idx = [
        rng.choice(np.flatnonzero(labels == c), counts.max(), replace=counts.max() > (labels == c).sum())
        for c in classes
    ]
    return rng.permutation(np.concatenate(idx))


def stateless_stroke_width(image, seed):
    """Thicker (2x2 max filter), thinner (2x2 min filter) or unchanged
    strokes, one of the three at random, for an ``HxWxC`` ink float image."""
    choice = tf.random.stateless_uniform([], seed, 0.0, 3.0)
    thick = tf.nn.max_pool2d(image[None], 2, 1, "SAME")[0]
    thin = -tf.nn.max_pool2d(-image[None], 2, 1, "SAME")[0]
    return tf.where(choice < 1.0, thick, tf.where(choice < 2.0, thin, image))


def _jitter(seed, image, label):
    """Writer-independent variation for the real digits: shift/zoom/rotate,
    stroke width, brightness and contrast (stateless, seeded per element)."""
    s = tf.random.experimental.stateless_split(tf.cast(seed, tf.int64), 3)
    image = pipelines.stateless_shift_scale(image, s[0], max_shift=0.08, max_scale=0.1, max_rotate=0.25)
    image = stateless_stroke_width(image, s[1])
    image = pipelines.stateless_brightness_contrast(image, s[2], brightness=0.15, contrast=0.3)
    return image, label


def train_cnn(
    train_images,
    train_labels,
    n_classes: int,
    *,
    epochs: int = 8,
    batch_size: int = 64,
    balance: bool = True,
    augment: bool = True,
    learning_rate: float = 1e-3,
    seed: int = 0,
    strategy: str = "default",
    name: str = "cnn",
    validation=None,
    patience: int = 3,
):
    """Train :func:`build_cnn` on uint8 paper-white images; returns ``(model, history)``.

    ``validation`` is an optional ``(images, labels)`` pair used for early
    stopping (take it from the training side, never the held-out test set).
    """
    x = to_model_input(train_images).astype(np.float32)
    y = np.asarray(train_labels, np.int64)
    idx = balanced_indices(y, seed) if balance else np.random.default_rng(seed).permutation(len(y))
    ds = pipelines.training_dataset(
        pipelines.from_arrays(x[idx], y[idx]), batch_size, seed, augment=_jitter if augment else None
    )
    val = None
    if validation is not None:
        val = pipelines.eval_dataset(
            pipelines.from_arrays(
                to_model_input(validation[0]).astype(np.float32), np.asarray(validation[1], np.int64)
            ),
            256,
        )
    with training.get_strategy(strategy).scope():
        model = build_cnn(n_classes, x.shape[1], name)
        model.compile(
            optimizer=keras.optimizers.Adam(learning_rate),
            loss="sparse_categorical_crossentropy",
            metrics=["accuracy"],
        )
    history = training.fit(
        model,
        ds,
        val,
        epochs=epochs,
        steps_per_epoch=pipelines.steps_for(len(idx), batch_size),
        monitor="val_loss" if val is not None else "loss",
        patience=patience,
    )
    return model, history


def predict_proba(model: keras.Model, imgs, batch_size: int = 256) -> np.ndarray:
    """Class probabilities ``(n, n_classes)`` for uint8 paper-white images."""
    return np.asarray(model.predict(to_model_input(imgs), batch_size=batch_size, verbose=0))


def features(model: keras.Model, imgs, batch_size: int = 256) -> np.ndarray:
    """Activations of the ``features`` layer ``(n, 128)`` for uint8 paper-white images."""
    extractor = keras.Model(model.inputs, model.get_layer(FEATURES).output)
    return np.asarray(extractor.predict(to_model_input(imgs), batch_size=batch_size, verbose=0))
