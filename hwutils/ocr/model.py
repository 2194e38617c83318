"""The 36-class character classifier and its tf.data input pipelines.

The seed's network was three plain conv layers and a dense layer. This one
uses pairs of 3x3 convolutions with batch normalisation in three stages
(the "VGG-style" blocks that reach about 99.5% on MNIST), dropout, and
training-time augmentation (shift, zoom, aspect, rotation, slant and stroke
width, all stateless and seeded per element). Input: ``32x32x1`` floats
with ink = 1 (:func:`hwutils.images.to_ink_float`); output: softmax over 36.
"""

from __future__ import annotations

import logging

import keras
import numpy as np
import tensorflow as tf

from hwutils import metrics, pipelines
from hwutils.ocr import CHAR_SIZE, CLASSES

log = logging.getLogger(__name__)


def _block(x, filters: int, dropout: float, name: str):
    for i in (1, 2):
        x = keras.layers.Conv2D(filters, 3, padding="same", use_bias=False, name=f"{name}_conv{i}")(x)
        x = keras.layers.BatchNormalization(momentum=0.9, name=f"{name}_bn{i}")(x)
        x = keras.layers.ReLU(name=f"{name}_relu{i}")(x)
    x = keras.layers.MaxPooling2D(2, name=f"{name}_pool")(x)
    return keras.layers.Dropout(dropout, name=f"{name}_drop")(x)


def build_classifier(
    n_classes: int = len(CLASSES),
    size: int = CHAR_SIZE,
    width: int = 16,
    dropout: float = 0.3,
    learning_rate: float | keras.optimizers.schedules.LearningRateSchedule = 2e-3,
    name: str = "char_classifier",
) -> keras.Model:
    """Three conv blocks (``width``, ``2*width``, ``4*width`` filters), global
    average + dense head; compiled with Adam and sparse cross-entropy
    (``learning_rate``: a rate or a schedule)."""
    inputs = keras.Input((size, size, 1), name="char")
    x = _block(inputs, width, 0.1, "block1")
    x = _block(x, width * 2, 0.1, "block2")
    x = _block(x, width * 4, 0.2, "block3")
    x = keras.layers.Flatten(name="flatten")(x)
    x = keras.layers.Dense(256, activation="relu", name="dense")(x)
    x = keras.layers.Dropout(dropout, name="head_drop")(x)
    outputs = keras.layers.Dense(n_classes, activation="softmax", name="probs")(x)
    model = keras.Model(inputs, outputs, name=name)
    model.compile(
        optimizer=keras.optimizers.Adam(learning_rate),
        loss="sparse_categorical_crossentropy",
        metrics=["accuracy"],
    )
    return model


def average_models(models: list[keras.Model], name: str = "char_ensemble") -> keras.Model:
    """One model whose output is the mean softmax of ``models`` (an ensemble
    of independently seeded classifiers); a single model is returned as is.
    Saved and loaded like any model (``.keras``, safe_mode: no Lambda)."""
    if len(models) == 1:
        return models[0]
    members = []
    for m in models:  # uncompiled copies: the ensemble carries no optimizer state
        copy = keras.models.clone_model(m)
        copy.set_weights(m.get_weights())
        members.append(copy)
    inputs = keras.Input(models[0].input_shape[1:], name="char")
    outputs = keras.layers.Average(name="mean_probs")([m(inputs) for m in members])
    return keras.Model(inputs, outputs, name=name)


def to_model_input(images: np.ndarray) -> np.ndarray:
    """uint8 paper-white characters ``(n, 32, 32)`` -> float ``(n, 32, 32, 1)`` with ink = 1."""
    return ((255.0 - np.asarray(images, np.float32)) / 255.0)[..., None]


def _affine(image, seed, max_shift=0.08, max_scale=0.12, max_aspect=0.12, max_rotate=0.15, max_shear=0.3):
    """Random shift, zoom, aspect change, rotation and shear (slant) of an
    ``HxWx1`` ink-bright image as one stateless affine warp about the centre."""
    s = tf.random.experimental.stateless_split(tf.cast(seed, tf.int64), 6)
    size = tf.cast(tf.shape(image)[0], tf.float32)
    u = [tf.random.stateless_uniform([], s[k], -1.0, 1.0) for k in range(6)]
    zoom = 1.0 + max_scale * u[0]
    sx, sy = zoom * (1.0 + max_aspect * u[1]), zoom
    a, shear = max_rotate * u[2], max_shear * u[3]
    dx, dy = max_shift * size * u[4], max_shift * size * u[5]
    # forward map: rotate(a) @ shear @ scale; the warp needs its inverse
    m00, m01 = tf.cos(a) * sx, (tf.cos(a) * shear - tf.sin(a)) * sy
    m10, m11 = tf.sin(a) * sx, (tf.sin(a) * shear + tf.cos(a)) * sy
    det = m00 * m11 - m01 * m10
    i00, i01, i10, i11 = m11 / det, -m01 / det, -m10 / det, m00 / det
    c = (size - 1) / 2
    tx = c - i00 * (c + dx) - i01 * (c + dy)
    ty = c - i10 * (c + dx) - i11 * (c + dy)
    transform = tf.stack([i00, i01, tx, i10, i11, ty, 0.0, 0.0])[None]
    out = tf.raw_ops.ImageProjectiveTransformV3(
        images=image[None],
        transforms=transform,
        output_shape=tf.shape(image)[:2],
        fill_value=0.0,
        interpolation="BILINEAR",
        fill_mode="CONSTANT",
    )
    return out[0]


def _stroke(image, seed, p_thick: float = 0.25, p_thin: float = 0.15):
    """Thicker (3x3 max filter) or thinner (3x3 min filter) strokes, at random."""
    r = tf.random.stateless_uniform([], seed, 0.0, 1.0)
    thick = tf.nn.max_pool2d(image[None], 3, 1, "SAME")[0]
    thin = -tf.nn.max_pool2d(-image[None], 3, 1, "SAME")[0]
    thin = tf.where(tf.reduce_sum(thin) >= 0.35 * tf.reduce_sum(image), thin, image)  # never erase a stroke
    return tf.where(r < p_thick, thick, tf.where(r < p_thick + p_thin, thin, image))


def augmenter(elastic: float = 0.0):
    """The per-element augmentation ``(seed, image, label) -> (image, label)``:
    the affine warp, then (``elastic`` > 0) an elastic distortion of s.d.
    ``elastic`` pixels (:func:`pipelines.stateless_elastic`), then stroke width."""

    def augment(seed, image, label):
        seeds = tf.random.experimental.stateless_split(tf.cast(seed, tf.int64), 2)
        image = _affine(image, seeds[0])
        if elastic > 0:  # its own seed, so the other draws stay as they were without it
            image = pipelines.stateless_elastic(
                image, tf.random.experimental.stateless_fold_in(seeds[0], 1), alpha=elastic
            )
        image = _stroke(image, seeds[1])
        return image, label

    return augment


def train_dataset(
    images, labels, batch_size: int, seed: int, augment: bool = True, elastic: float = 0.0
) -> tf.data.Dataset:
    """Cached, shuffled, repeated and (optionally) augmented batches (see :func:`augmenter`)."""
    ds = pipelines.from_arrays(to_model_input(images), np.asarray(labels, np.int64))
    return pipelines.training_dataset(
        ds,
        batch_size,
        seed,
        augment=augmenter(elastic) if augment else None,
        shuffle_buffer=max(1000, len(labels)),
    )


def eval_dataset(images, labels, batch_size: int = 256) -> tf.data.Dataset:
    """Batches in order, no augmentation."""
    ds = pipelines.from_arrays(to_model_input(images), np.asarray(labels, np.int64))
    return pipelines.eval_dataset(ds, batch_size)


def shift_paper(images: np.ndarray, dy: int, dx: int) -> np.ndarray:
    """uint8 paper-white characters ``(n, h, w)`` moved by ``dy`` rows and
    ``dx`` columns; the uncovered border is paper (255)."""
    out = np.full_like(images, 255)
    h, w = images.shape[1:3]
    out[:, max(dy, 0) : h + min(dy, 0), max(dx, 0) : w + min(dx, 0)] = images[
        :, max(-dy, 0) : h + min(-dy, 0), max(-dx, 0) : w + min(-dx, 0)
    ]
    return out


TTA_SHIFTS = ((0, 0), (1, 0), (-1, 0), (0, 1), (0, -1))


def predict_probs(
    model: keras.Model, images: np.ndarray, batch_size: int = 512, tta: bool = False
) -> np.ndarray:
    """Softmax scores ``(n, 36)`` of uint8 characters ``(n, 32, 32)``. With
    ``tta`` (test-time augmentation), the mean of the scores of each character
    and its four 1-pixel shifts (5x the cost)."""
    if len(images) == 0:
        return np.zeros((0, model.output_shape[-1]), np.float32)
    if tta:
        return np.mean(
            [predict_probs(model, shift_paper(images, dy, dx), batch_size) for dy, dx in TTA_SHIFTS], axis=0
        )
    x = to_model_input(images)
    out = [np.asarray(model(x[i : i + batch_size], training=False)) for i in range(0, len(x), batch_size)]
    return np.concatenate(out)


def evaluate_chars(model: keras.Model, test, digit_test=None, tta: bool = False) -> dict:
    """Character accuracy of ``model`` on a :class:`~hwutils.ocr.data.CharSet`
    test split (and on a digits-only test set, e.g. held-out MNIST digits).

    Returns ``probs``, ``pred``, ``cm`` (36x36 confusion matrix), ``per_class``
    accuracy and ``metrics``: accuracy, top-3, digit and letter accuracy, the
    accuracy per source, and with ``digit_test`` its accuracy as a 36-way
    choice and among the 10 digit classes only (a 36-class model may read a 0
    as O or a 1 as I)."""
    probs = predict_probs(model, test.images, tta=tta)
    pred = probs.argmax(1)
    cm = metrics.confusion_matrix(test.labels, pred, len(CLASSES))
    out = {
        "char_accuracy": metrics.accuracy(test.labels, pred),
        "char_top3_accuracy": metrics.top_k_accuracy(test.labels, probs, 3),
    }
    is_digit = test.labels < 10
    out["digit_accuracy_test_split"] = metrics.accuracy(test.labels[is_digit], pred[is_digit])
    out["letter_accuracy_test_split"] = metrics.accuracy(test.labels[~is_digit], pred[~is_digit])
    for s in np.unique(test.sources):
        m = test.sources == s
        out[f"accuracy_{s}"] = metrics.accuracy(test.labels[m], pred[m])
    if digit_test is not None:
        dprobs = predict_probs(model, digit_test.images, tta=tta)
        out["mnist_accuracy"] = metrics.accuracy(digit_test.labels, dprobs.argmax(1))
        out["mnist_test_digits"] = len(digit_test)
        out["mnist_accuracy_digit_classes"] = metrics.accuracy(digit_test.labels, dprobs[:, :10].argmax(1))
    return {
        "probs": probs,
        "pred": pred,
        "cm": cm,
        "per_class": metrics.per_class_accuracy(cm),
        "metrics": out,
    }


SCHEDULES = ("plateau", "cosine")


def cosine_schedule(learning_rate: float, epochs: int, steps_per_epoch: int):
    """A one-epoch linear warm-up to ``learning_rate``, then one cosine decay
    to zero at the end of ``epochs`` (Keras' ``CosineDecay``, saved with the model)."""
    warm = steps_per_epoch if epochs > 1 else 0
    return keras.optimizers.schedules.CosineDecay(
        initial_learning_rate=learning_rate * 0.1 if warm else learning_rate,
        decay_steps=max(1, epochs * steps_per_epoch - warm),
        alpha=0.0,
        warmup_target=learning_rate if warm else None,
        warmup_steps=warm,
    )


def fit_classifiers(
    train_images,
    train_labels,
    val_images=None,
    val_labels=None,
    *,
    members: int = 1,
    width: int = 16,
    epochs: int = 15,
    batch_size: int = 128,
    seed: int = 0,
    patience: int = 4,
    lr_patience: int = 2,
    strategy: str = "default",
    elastic: float = 0.0,
    schedule: str = "plateau",
    learning_rate: float = 2e-3,
):
    """Train ``members`` independently seeded classifiers on the same data
    (seeds ``seed``, ``seed + 1``, ...: other initial weights, batch order and
    augmentations) and return ``(model, histories)``: one model, or with
    ``members > 1`` their softmax average (:func:`average_models`).

    Each halves its learning rate after ``lr_patience`` epochs without
    validation gain and stops after ``patience``, keeping the weights of its
    best validation epoch (``schedule="plateau"``), or, with
    ``schedule="cosine"``, follows one cosine decay from ``learning_rate``
    to zero over all ``epochs`` (after a one-epoch linear warm-up), still
    keeping the best validation epoch's weights (``patience`` as above).
    ``elastic``: s.d. in pixels of the elastic distortion added to the
    training augmentation (0 = none).
    """
    from hwutils import training
    from hwutils.errors import ParamsError

    if members < 1:
        raise ParamsError(f"ensemble: must be at least 1, got {members}")
    if not elastic >= 0:
        raise ParamsError(f"elastic: must be 0 (none) or a positive number of pixels, got {elastic}")
    if schedule not in SCHEDULES:
        raise ParamsError(f"lr_schedule: must be one of {', '.join(SCHEDULES)}, got {schedule!r}")
    has_val = val_labels is not None and len(val_labels) > 0
    val_ds = eval_dataset(val_images, val_labels) if has_val else None
    models, histories = [], []
    steps = max(1, len(train_labels) // batch_size)
    for k in range(members):
        keras.utils.set_random_seed(seed + k)
        rate = cosine_schedule(learning_rate, epochs, steps) if schedule == "cosine" else learning_rate
        with training.get_strategy(strategy).scope():
            model = build_classifier(
                width=width,
                learning_rate=rate,
                name="char_classifier" if members == 1 else f"char_classifier_{k}",
            )
        train_ds = train_dataset(train_images, train_labels, batch_size, seed + k, elastic=elastic)
        callbacks = []
        if schedule == "plateau":  # a schedule sets the rate itself
            callbacks.append(
                keras.callbacks.ReduceLROnPlateau(
                    monitor="val_accuracy" if has_val else "accuracy",
                    mode="max",
                    factor=0.5,
                    patience=lr_patience,
                    min_lr=1e-5,
                )
            )
        if members > 1:
            log.info("ensemble member %d/%d", k + 1, members)  # the run's log, not the report
        histories.append(
            training.fit(
                model,
                train_ds,
                val_ds,
                epochs=epochs,
                steps_per_epoch=steps,
                patience=patience,
                monitor="val_accuracy",
                callbacks=callbacks,
            )
        )
        models.append(model)
    return average_models(models), histories
