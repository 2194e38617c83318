"""Writer-classification CNN features for the writer-dependent decision (SigNet).

Hafemann et al. (2017) learn signature features by training a CNN to tell the
*training* writers apart (softmax over writers, genuine signatures only:
SigNet) and, with weight ``forgery_weight`` > 0, also to tell their genuine
signatures from their skilled forgeries (one logit: SigNet-F). The pooled conv features of that CNN (the layer
before its heads) are then a writer-independent feature set (``signet``) for
the per-person SVMs of :mod:`hwutils.signatures.writer_dependent`: persons
measured later are never among the classes.

The network is the Siamese tower's architecture (:func:`siamese.build_tower`);
training uses the same stateless shift/scale/rotation augmentation (never
flips). Only the feature extractor (input -> pooled features) is kept and saved.
:func:`warm_start_tower` copies that trunk into a Siamese tower, so the Siamese
training can fine-tune the writer features instead of starting from random weights.
"""

from __future__ import annotations

import keras
import numpy as np
import tensorflow as tf
from keras import layers

from hwutils import pipelines, repro, training
from hwutils.datasets.sign_data import GENUINE, SignatureRecord
from hwutils.errors import ParamsError, check_choice, check_unit_interval
from hwutils.signatures import siamese


def build_writer_net(
    height: int, width: int, n_writers: int, base_filters: int = 32, dropout: float = 0.3
) -> tuple[keras.Model, keras.Model]:
    """``(trainable, features)``: ``trainable`` maps a signature to ``[writer logits
    (n_writers), forgery logit (1)]``; ``features`` is its trunk up to the pooled
    conv features ``(2 * 4 * base_filters)``, sharing the weights."""
    if n_writers < 2:
        raise ParamsError(f"the writer network needs at least 2 training persons, got {n_writers}")
    features = siamese.pooled_model(siamese.build_tower(height, width, base_filters=base_filters))
    inp = keras.Input((height, width, 1), name="signature")
    h = layers.Dropout(dropout)(features(inp))
    writer = layers.Dense(n_writers, name="writer")(h)
    forgery = layers.Dense(1, name="forgery")(h)
    return keras.Model(inp, [writer, forgery], name="writer_net"), features


def writer_dataset(
    images_u8: np.ndarray,
    index: np.ndarray,
    writers: np.ndarray,
    forged: np.ndarray,
    batch_size: int,
    seed: int,
    augment_strength: float = 1.0,
) -> tf.data.Dataset:
    """Training batches ``(image, (writer, forged), (writer weight, 1))``: the
    writer loss counts genuine signatures only (weight 0 for forgeries)."""
    table = tf.constant(images_u8[..., None])

    def element(seed_pair, i, w, f):
        img = tf.cast(tf.gather(table, i), tf.float32) / 255.0
        if augment_strength > 0:
            img = siamese.augment_image(img, seed_pair, augment_strength)
        return img, (w, f[None]), (1.0 - f, tf.constant(1.0))

    ds = pipelines.from_arrays(
        np.asarray(index, np.int64), np.asarray(writers, np.int64), np.asarray(forged, np.float32)
    )
    return pipelines.training_dataset(ds, batch_size, seed, augment=element, shuffle_buffer=len(index))


def train_writer_net(
    images_u8: np.ndarray,
    records: list[SignatureRecord],
    train_persons,
    *,
    forgery_weight: float = 0.0,
    epochs: int = 30,
    batch_size: int = 32,
    learning_rate: float = 1e-3,
    augment_strength: float = 1.0,
    base_filters: int = 32,
    seed: int = 0,
) -> dict:
    """Train the writer network on the genuine signatures (and, for the forgery
    head, the skilled forgeries) of ``train_persons`` (indices into ``images_u8`` follow ``records``) for a fixed
    number of ``epochs`` (the classes are the training persons, so there is no
    validation loss to stop on). Returns ``{"features": model, "history",
    "n_train", "n_writers"}``; ``features`` maps images to pooled features.
    The network's random start depends only on ``seed`` (:func:`repro.seed_model`)."""
    forgery_weight = check_unit_interval("signet_forgery_weight", forgery_weight)
    keep = sorted(set(train_persons))
    ids = {p: k for k, p in enumerate(keep)}
    index = np.array([i for i, r in enumerate(records) if r.person in ids], np.int64)
    if len(index) == 0:
        raise ParamsError("the writer network has no training signatures")
    writers = np.array([ids[records[i].person] for i in index])
    forged = np.array([records[i].kind != GENUINE for i in index], np.float32)
    _, h, w = images_u8.shape
    repro.seed_model(seed, "writer_net")
    model, features = build_writer_net(h, w, len(keep), base_filters)
    model.compile(
        optimizer=keras.optimizers.Adam(learning_rate),
        loss=[
            keras.losses.SparseCategoricalCrossentropy(from_logits=True),
            keras.losses.BinaryCrossentropy(from_logits=True),
        ],
        loss_weights=[1.0 - forgery_weight, forgery_weight],
    )
    ds = writer_dataset(images_u8, index, writers, forged, batch_size, seed, augment_strength)
    history = training.fit(
        model,
        ds,
        epochs=epochs,
        steps_per_epoch=pipelines.steps_for(len(index), batch_size),
        patience=epochs,
        monitor="loss",
        log_every=max(1, epochs // 6),
    )
    return {"features": features, "history": history, "n_train": int(len(index)), "n_writers": len(keep)}


SIAMESE_INITS = ("scratch", "signet")


def check_siamese_init(value) -> str:
    """``value`` when it names a known start for the Siamese tower, else :class:`ParamsError`."""
    check_choice("siamese_init", value, SIAMESE_INITS)
    return value


def warm_start_tower(tower: keras.Model, features: keras.Model) -> int:
    """Copy the writer network's trunk (``features`` of :func:`build_writer_net`)
    into a Siamese ``tower`` of :func:`siamese.build_tower` with the same
    ``height``, ``width`` and ``base_filters``, layer by layer in order; the
    tower's embedding layer keeps its random start. Returns the number of layers
    copied; towers of another shape raise :class:`ParamsError`."""
    src = [layer for layer in features.layers if layer.weights]
    dst = [layer for layer in tower.layers if layer.weights][: len(src)]
    shapes = [[tuple(w.shape) for w in layer.weights] for layer in src]
    if len(dst) < len(src) or shapes != [[tuple(w.shape) for w in layer.weights] for layer in dst]:
        raise ParamsError(
            "siamese_init: the writer network and the Siamese tower differ in shape "
            "(height, width and base_filters must match)"
        )
    for a, b in zip(src, dst):
        b.set_weights(a.get_weights())
    return len(src)
