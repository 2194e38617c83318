"""tf.data building blocks shared by all stages.

Random augmentation uses stateless ops seeded per element: with TensorFlow's
op determinism on, stateful random ops inside ``Dataset.map`` run serially,
stateless ones stay parallel and reproducible. Each element gets the seed
``(seed, index)`` where ``index`` counts elements across repeated epochs, so
every epoch sees fresh augmentations.
"""

from __future__ import annotations

import math
from collections.abc import Callable

import keras
import numpy as np
import tensorflow as tf

AUTOTUNE = tf.data.AUTOTUNE


def steps_for(n: int, batch_size: int) -> int:
    """Batches needed to see ``n`` elements once."""
    return max(1, math.ceil(n / batch_size))


def from_arrays(*arrays) -> tf.data.Dataset:
    """A dataset of in-memory arrays (first axis = examples)."""
    return tf.data.Dataset.from_tensor_slices(
        tuple(np.asarray(a) for a in arrays) if len(arrays) > 1 else np.asarray(arrays[0])
    )


def training_dataset(
    ds: tf.data.Dataset,
    batch_size: int,
    seed: int,
    augment: Callable | None = None,
    shuffle_buffer: int = 10_000,
    cache: bool = True,
    repeat: bool = True,
    drop_remainder: bool = False,
) -> tf.data.Dataset:
    """cache -> shuffle (reshuffled each epoch) -> repeat -> stateless augment -> batch -> prefetch.

    ``augment(seed_pair, *element)`` receives a ``[2]`` int64 seed for the
    ``tf.random.stateless_*`` ops and returns the new element. With ``repeat``
    the dataset is infinite: pass ``steps_per_epoch`` to ``fit``.
    """
    if cache:
        ds = ds.cache()
    ds = ds.shuffle(shuffle_buffer, seed=seed, reshuffle_each_iteration=True)
    if repeat:
        ds = ds.repeat()
    if augment is not None:
        base = tf.constant(seed, tf.int64)

        def _apply(index, element):
            pair = tf.stack([base, index])
            return augment(pair, *element) if isinstance(element, tuple) else augment(pair, element)

        ds = ds.enumerate().map(_apply, num_parallel_calls=AUTOTUNE, deterministic=True)
    return ds.batch(batch_size, drop_remainder=drop_remainder).prefetch(AUTOTUNE)


def eval_dataset(ds: tf.data.Dataset, batch_size: int, cache: bool = False) -> tf.data.Dataset:
    """Batch and prefetch, in order, no augmentation."""
    if cache:
        ds = ds.cache()
    return ds.batch(batch_size).prefetch(AUTOTUNE)


def pad_to_at_least(image: tf.Tensor, height: int, width: int, fill: float = 0.0) -> tf.Tensor:
    """Pad an ``HxWxC`` image (centred) so both sides reach the given size; never crops."""
    shape = tf.shape(image)
    ph = tf.maximum(height - shape[0], 0)
    pw = tf.maximum(width - shape[1], 0)
    paddings = [[ph // 2, ph - ph // 2], [pw // 2, pw - pw // 2], [0, 0]]
    return tf.pad(image, paddings, constant_values=fill)


def stateless_random_crop(image: tf.Tensor, height: int, width: int, seed, fill: float = 0.0) -> tf.Tensor:
    """A random ``height`` x ``width`` crop of an ``HxWxC`` image; smaller images are padded first."""
    image = pad_to_at_least(image, height, width, fill)
    channels = tf.shape(image)[2]
    return tf.image.stateless_random_crop(image, tf.stack([height, width, channels]), seed=seed)


def stateless_shift_scale(
    image: tf.Tensor,
    seed,
    max_shift: float = 0.08,
    max_scale: float = 0.1,
    max_rotate: float = 0.0,
    fill: float = 0.0,
) -> tf.Tensor:
    """Random translation (share of size), zoom and rotation (radians) of an
    ``HxWxC`` float image as one affine warp; empty areas get ``fill``."""
    seeds = tf.random.experimental.stateless_split(tf.cast(seed, tf.int64), 4)
    h = tf.cast(tf.shape(image)[0], tf.float32)
    w = tf.cast(tf.shape(image)[1], tf.float32)
    dx = tf.random.stateless_uniform([], seeds[0], -max_shift, max_shift) * w
    dy = tf.random.stateless_uniform([], seeds[1], -max_shift, max_shift) * h
    s = 1.0 + tf.random.stateless_uniform([], seeds[2], -max_scale, max_scale)
    a = tf.random.stateless_uniform([], seeds[3], -max_rotate, max_rotate)
    cx, cy = (w - 1) / 2, (h - 1) / 2
    cos, sin = tf.cos(a) / s, tf.sin(a) / s
    # Output pixel (x, y) samples input at A @ (x, y) + b (inverse map about the centre).
    tx = cx - cos * (cx + dx) + sin * (cy + dy)
    ty = cy - sin * (cx + dx) - cos * (cy + dy)
    transform = tf.stack([cos, -sin, tx, sin, cos, ty, 0.0, 0.0])[None]
    out = tf.raw_ops.ImageProjectiveTransformV3(
        images=image[None],
        transforms=transform,
        output_shape=tf.shape(image)[:2],
        fill_value=fill,
        interpolation="BILINEAR",
        fill_mode="CONSTANT",
    )
    return out[0]


def stateless_brightness_contrast(
    image: tf.Tensor, seed, brightness: float = 0.1, contrast: float = 0.2
) -> tf.Tensor:
    """Random brightness and contrast change of a float image in [0, 1] (clipped)."""
    s1, s2 = tf.unstack(tf.random.experimental.stateless_split(tf.cast(seed, tf.int64), 2))
    image = tf.image.stateless_random_brightness(image, brightness, s1)
    image = tf.image.stateless_random_contrast(image, 1 - contrast, 1 + contrast, s2)
    return tf.clip_by_value(image, 0.0, 1.0)


def stateless_elastic(
    image: tf.Tensor, seed, alpha: float = 1.5, grid: int = 4, fill: float = 0.0
) -> tf.Tensor:
    """Elastic distortion of an ``HxWxC`` float image (Simard et al. 2003, as a
    smooth field): a ``grid`` x ``grid`` lattice of random displacements (normal,
    s.d. ``alpha`` pixels) is resized bicubically to the image and the image is
    resampled bilinearly along it; pixels drawn from outside get ``fill``.
    Stateless: the same ``seed`` gives the same warp."""
    shape = tf.shape(image)
    coarse = tf.random.stateless_normal([1, grid, grid, 2], tf.cast(seed, tf.int64), stddev=alpha)
    field = tf.image.resize(coarse, shape[:2], method="bicubic")[0]
    yy, xx, cc = tf.meshgrid(*[tf.range(n, dtype=tf.float32) for n in tf.unstack(shape)], indexing="ij")
    return keras.ops.image.map_coordinates(
        image, [yy + field[..., :1], xx + field[..., 1:], cc], order=1, fill_mode="constant", fill_value=fill
    )
