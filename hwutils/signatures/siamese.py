"""Siamese CNN for writer-independent signature verification.

One CNN *tower* maps a preprocessed signature (ink = 1) to a unit-length
embedding; the Siamese model outputs the Euclidean distance between two
embeddings. Training minimises a contrastive loss on that distance (or a
triplet loss on anchor/positive/negative distances) -- there is no sigmoid
on top of the distance, and no horizontal flips in the augmentation.

Pairs (:func:`make_pairs`) are built per person: genuine-genuine pairs
(label 1) balanced against negatives (label 0), half genuine-skilled-forgery
and half genuine-other-person (random forgery). Persons are split before
pairs are made, so no test person is ever seen in training.
"""

from __future__ import annotations

import itertools
import time

import keras
import numpy as np
import tensorflow as tf
from keras import layers

from hwutils import pipelines, training
from hwutils.datasets.sign_data import GENUINE, SignatureRecord
from hwutils.errors import ParamsError, check_choice

LOSSES = ("contrastive", "triplet")


@keras.saving.register_keras_serializable(package="hwutils")
class EuclideanDistance(layers.Layer):
    """``[a, b] -> ||a - b||`` per row, shape ``(n, 1)`` (a small epsilon keeps the gradient finite)."""

    def call(self, inputs):
        a, b = inputs
        sq = keras.ops.sum(keras.ops.square(a - b), axis=-1, keepdims=True)
        return keras.ops.sqrt(keras.ops.maximum(sq, 1e-12))


def build_tower(
    height: int, width: int, embedding_dim: int = 128, base_filters: int = 32, dropout: float = 0.3
) -> keras.Model:
    """CNN: strided 5x5 stem, three conv-BN-ReLU-pool blocks (f, 2f, 4f), global
    average+max pooling, dense embedding, L2-normalised (distances lie in [0, 2])."""
    inp = keras.Input((height, width, 1), name="signature")
    x = layers.Conv2D(base_filters // 2, 5, strides=2, padding="same", use_bias=False)(inp)
    x = layers.BatchNormalization()(x)
    x = layers.ReLU()(x)
    for f in (base_filters, base_filters * 2, base_filters * 4):
        x = layers.Conv2D(f, 3, padding="same", use_bias=False)(x)
        x = layers.BatchNormalization()(x)
        x = layers.ReLU()(x)
        x = layers.MaxPooling2D()(x)
    x = layers.Concatenate(name="pooled")(
        [layers.GlobalAveragePooling2D()(x), layers.GlobalMaxPooling2D()(x)]
    )
    x = layers.Dropout(dropout)(x)
    x = layers.Dense(embedding_dim)(x)
    out = layers.UnitNormalization(name="embedding")(x)
    return keras.Model(inp, out, name="tower")


def build_siamese(tower: keras.Model) -> keras.Model:
    """Two inputs through the shared tower -> distance ``(n, 1)``."""
    shape = tower.input_shape[1:]
    a, b = keras.Input(shape, name="a"), keras.Input(shape, name="b")
    return keras.Model([a, b], EuclideanDistance(name="distance")([tower(a), tower(b)]), name="siamese")


def build_triplet(tower: keras.Model) -> keras.Model:
    """Anchor, positive, negative -> ``(n, 2)``: [d(anchor, positive), d(anchor, negative)]."""
    shape = tower.input_shape[1:]
    a, p, n = (keras.Input(shape, name=k) for k in ("anchor", "positive", "negative"))
    ea, ep, en = tower(a), tower(p), tower(n)
    dist = EuclideanDistance()
    return keras.Model(
        [a, p, n], layers.Concatenate(name="distances")([dist([ea, ep]), dist([ea, en])]), name="triplet"
    )


def contrastive_loss(margin: float = 1.0):
    """Contrastive loss on a distance: label 1 (same person, genuine) pulls the
    distance to 0; label 0 (forgery) pushes it beyond ``margin``."""

    def loss(y_true, distance):
        y = tf.cast(tf.reshape(y_true, [-1]), distance.dtype)
        d = tf.reshape(distance, [-1])
        return tf.reduce_mean(y * tf.square(d) + (1.0 - y) * tf.square(tf.maximum(margin - d, 0.0))) / 2.0

    return loss


def triplet_loss(margin: float = 0.5):
    """``max(d(a, p) - d(a, n) + margin, 0)`` averaged over the batch."""

    def loss(y_true, distances):
        return tf.reduce_mean(tf.maximum(distances[:, 0] - distances[:, 1] + margin, 0.0))

    return loss


# ------------------------------------------------------------------------ pairs
def _by_person(records: list[SignatureRecord], idx=None):
    idx = range(len(records)) if idx is None else idx
    genuine, skilled = {}, {}
    for i in idx:
        r = records[i]
        (genuine if r.kind == GENUINE else skilled).setdefault(r.person, []).append(i)
    return genuine, skilled


def make_pairs(
    records: list[SignatureRecord], persons, pairs_per_person: int, seed: int = 0, skilled_share: float = 0.5
) -> np.ndarray:
    """Balanced training pairs among ``persons``: ``(n, 3)`` int rows ``(i, j, label)``.

    For each person up to ``pairs_per_person`` genuine-genuine pairs (label 1),
    and as many negatives (label 0): ``skilled_share`` of them genuine vs a
    skilled forgery of the same person (when there are any), the rest genuine
    vs a genuine signature of another person from ``persons``.
    """
    rng = np.random.default_rng(seed)
    keep = set(persons)
    genuine, skilled = _by_person(records, [i for i, r in enumerate(records) if r.person in keep])
    people = sorted(genuine)
    rows = []
    for p in people:
        g = genuine[p]
        combos = list(itertools.combinations(g, 2))
        take = rng.permutation(len(combos))[:pairs_per_person]
        pos = [combos[t] for t in take]
        rows += [(i, j, 1) for i, j in pos]
        n_neg = len(pos)
        forg = skilled.get(p, [])
        n_sk = int(round(n_neg * skilled_share)) if forg else 0
        for _ in range(n_sk):
            rows.append((int(rng.choice(g)), int(rng.choice(forg)), 0))
        others = [q for q in people if q != p]
        for _ in range(n_neg - n_sk):
            if not others:
                break
            q = others[int(rng.integers(len(others)))]
            rows.append((int(rng.choice(g)), int(rng.choice(genuine[q])), 0))
    out = np.asarray(rows, np.int64).reshape(-1, 3)
    return out[rng.permutation(len(out))]


def make_triplets(
    records: list[SignatureRecord],
    persons,
    triplets_per_person: int,
    seed: int = 0,
    skilled_share: float = 0.5,
) -> np.ndarray:
    """``(n, 3)`` rows (anchor, positive, negative): anchor and positive genuine
    signatures of one person; negative a skilled forgery of that person
    (``skilled_share`` of the time, when available) or another person's genuine."""
    pairs = make_pairs(records, persons, triplets_per_person, seed, skilled_share)
    pos = pairs[pairs[:, 2] == 1]
    neg = pairs[pairs[:, 2] == 0]
    ids = {name: k for k, name in enumerate(sorted({r.person for r in records}))}
    person_of = np.array([ids[r.person] for r in records])
    rng = np.random.default_rng(seed + 1)
    rows = []
    for a, p, _ in pos:
        cands = neg[person_of[neg[:, 0]] == person_of[a]]
        if len(cands):
            rows.append((a, p, int(cands[rng.integers(len(cands))][1])))
    return np.asarray(rows, np.int64).reshape(-1, 3)


# ------------------------------------------------------------------------ data
def augment_image(img, seed, strength: float):
    """Stateless random shift, scale and small rotation of one ``(h, w, 1)`` ink
    image (ink = 1, paper 0 fills), scaled by ``strength``; never flips."""
    return pipelines.stateless_shift_scale(
        img, seed, max_shift=0.05 * strength, max_scale=0.1 * strength, max_rotate=0.06 * strength, fill=0.0
    )


def pair_dataset(
    images_u8: np.ndarray,
    rows: np.ndarray,
    batch_size: int,
    seed: int,
    loss: str = "contrastive",
    training: bool = True,
    augment_strength: float = 1.0,
) -> tf.data.Dataset:
    """tf.data of ``((a, b), label)`` (contrastive) or ``((a, p, n), 0)`` (triplet)
    gathered from the uint8 image array by index rows; stateless random shift,
    scale and small rotation per image when ``training`` (never flips)."""
    table = tf.constant(images_u8[..., None])
    n_in = 2 if loss == "contrastive" else 3

    def gather(row):
        imgs = tuple(tf.cast(tf.gather(table, row[k]), tf.float32) / 255.0 for k in range(n_in))
        label = tf.cast(row[2], tf.float32) if loss == "contrastive" else tf.constant(0.0)
        return imgs, label

    ds = pipelines.from_arrays(rows)
    if not training:
        return pipelines.eval_dataset(ds.map(gather, num_parallel_calls=pipelines.AUTOTUNE), batch_size)

    def augment(seed_pair, row):
        imgs, label = gather(row)
        seeds = tf.random.experimental.stateless_split(seed_pair, n_in)
        if augment_strength > 0:
            imgs = tuple(augment_image(im, seeds[k], augment_strength) for k, im in enumerate(imgs))
        return imgs, label

    return pipelines.training_dataset(ds, batch_size, seed, augment=augment, shuffle_buffer=len(rows))


def compile_model(
    tower: keras.Model, loss: str = "contrastive", margin: float = 1.0, learning_rate: float = 1e-3
) -> keras.Model:
    """The trainable Siamese (or triplet) model around ``tower``, compiled with Adam."""
    check_choice("loss", loss, LOSSES)
    if loss == "contrastive":
        model, fn = build_siamese(tower), contrastive_loss(margin)
    else:
        model, fn = build_triplet(tower), triplet_loss(margin)
    model.compile(optimizer=keras.optimizers.Adam(learning_rate), loss=fn)
    return model


def embed(tower: keras.Model, images, batch_size: int = 64):
    """Embeddings ``(n, d)`` of preprocessed images (uint8 ink maps or floats ink = 1).
    A model with several outputs gives a list of arrays, one per output."""
    x = np.asarray(images)
    x = x.astype(np.float32) / 255.0 if x.dtype == np.uint8 else x.astype(np.float32)
    if x.ndim == 3:
        x = x[..., None]
    several = isinstance(tower.output, (list, tuple))
    shapes = tower.output_shape if several else [tower.output_shape]
    out = [[] for _ in shapes]
    for start in range(0, len(x), batch_size):
        y = tower(x[start : start + batch_size], training=False)
        for k, part in enumerate(y if several else [y]):
            out[k].append(np.asarray(part))
    arrays = [
        np.concatenate(o) if o else np.zeros((0, shape[-1]), np.float32) for o, shape in zip(out, shapes)
    ]
    return arrays if several else arrays[0]


def pooled_model(tower: keras.Model) -> keras.Model:
    """The tower up to its pooled conv features (the layer before dropout and the
    embedding; sigver's writer-dependent classifiers use such penultimate features)."""
    layer = next((l for l in tower.layers if l.name == "pooled"), None) or next(
        l for l in tower.layers if isinstance(l, layers.Concatenate)
    )
    return keras.Model(tower.input, layer.output, name="pooled_features")


def embedding_and_pooled_model(tower: keras.Model) -> keras.Model:
    """The tower with two outputs, ``[embedding, pooled conv features]``: both
    from one forward pass (for :func:`embed`)."""
    return keras.Model(tower.input, [tower.output, pooled_model(tower).output], name="embedding_and_pooled")


def pooled_features(tower: keras.Model, images, batch_size: int = 64) -> np.ndarray:
    """Pooled conv features ``(n, 2 * 4 * base_filters)`` of preprocessed images (see :func:`embed`)."""
    return embed(pooled_model(tower), images, batch_size)


def training_throughput(
    model: keras.Model, dataset: tf.data.Dataset, batch_size: int, steps: int = 10
) -> float:
    """Training pairs (or triplets) per second over ``steps`` batches after one warm-up batch."""
    it = iter(dataset)
    x, y = next(it)
    model.train_on_batch(x, y)
    t0 = time.perf_counter()
    for _ in range(steps):
        x, y = next(it)
        model.train_on_batch(x, y)
    return steps * batch_size / (time.perf_counter() - t0)


def train(
    tower: keras.Model,
    images_u8: np.ndarray,
    records: list[SignatureRecord],
    train_persons,
    val_persons,
    *,
    loss: str = "contrastive",
    margin: float = 1.0,
    pairs_per_person: int = 40,
    skilled_share: float = 0.5,
    epochs: int = 10,
    batch_size: int = 32,
    learning_rate: float = 1e-3,
    patience: int = 3,
    augment_strength: float = 1.0,
    seed: int = 0,
    strategy=None,
) -> dict:
    """Build balanced pairs (or triplets) of the training and validation persons,
    fit the model around ``tower`` (early stopping on the validation loss) and
    return ``{"history", "n_train", "n_val", "model"}``."""
    make = make_pairs if loss == "contrastive" else make_triplets
    rows = make(records, train_persons, pairs_per_person, seed, skilled_share)
    vrows = make(records, val_persons, pairs_per_person, seed + 1, skilled_share)
    if len(rows) == 0 or len(vrows) == 0:
        raise ParamsError(
            "pairs_per_person: no training or validation pairs could be built (too few signatures)"
        )
    scope = strategy.scope() if strategy is not None else tf.distribute.get_strategy().scope()
    with scope:
        model = compile_model(tower, loss, margin, learning_rate)
    ds = pair_dataset(images_u8, rows, batch_size, seed, loss, True, augment_strength)
    vds = pair_dataset(images_u8, vrows, batch_size, seed, loss, training=False)
    history = training.fit(
        model,
        ds,
        vds,
        epochs=epochs,
        steps_per_epoch=pipelines.steps_for(len(rows), batch_size),
        patience=patience,
    )
    return {"history": history, "n_train": int(len(rows)), "n_val": int(len(vrows)), "model": model}
