"""Line images to tensors: decode and resize once, then a tf.data pipeline of
random crops.

Every line is read once, cropped to its ink, resized to ``height`` keeping its
aspect ratio and kept in memory as ink floats (ink = 1). The training pipeline
(:func:`raw_patches`) cuts random ``height`` x ``crop_width`` patches out of
those lines with stateless random ops (one seed per block of batches),
gathering the crops of several batches in one op, so no file is reopened and
no Python runs per batch; it emits them as uint8 in the layout the gather gives, and the
model's first layer (:class:`hwutils.writer_id.models.PatchInput`) turns them
into float patches with a random ink strength on the training device. Lines
narrower than a crop are padded with paper, never dropped.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import tensorflow as tf

from hwutils import pipelines
from hwutils.errors import DataError, HwError
from hwutils.images import as_gray, crop_to_ink, read_gray, resize_keep_aspect


def prepare_line(image, height: int) -> np.ndarray:
    """A line image (path, array or PIL image, paper white) -> ``height`` x W
    uint8, cropped to its ink (2 px margin) and resized keeping its aspect."""
    gray = as_gray(image)
    return resize_keep_aspect(crop_to_ink(gray, margin=2), height=height)


@dataclass
class LineSet:
    """Lines ready for the model: ``lines[i]`` is ``height`` x W_i uint8 (paper white),
    ``records[i]`` its :class:`~hwutils.datasets.iam.LineRecord`; ``skipped`` lists
    ``(path, reason)`` of images that could not be read."""

    lines: list
    records: list
    skipped: list = field(default_factory=list)

    def __len__(self):
        return len(self.lines)

    def subset(self, index) -> LineSet:
        return LineSet([self.lines[i] for i in index], [self.records[i] for i in index], [])


def load_lines(records, height: int, max_bad_fraction: float = 0.05) -> LineSet:
    """Read every record's pixels once (``record.image`` or ``record.path``) and
    prepare them with :func:`prepare_line`. Unreadable or empty images are
    skipped and listed; more than ``max_bad_fraction`` of them is a
    :class:`DataError` naming the first bad file."""
    lines, kept, skipped = [], [], []
    for rec in records:
        try:
            src = rec.image if rec.image is not None else read_gray(rec.path)
            lines.append(prepare_line(src, height))
            kept.append(rec)
        except HwError as exc:
            skipped.append((str(rec.path), str(exc)))
    if records and len(skipped) > max_bad_fraction * len(records):
        raise DataError(
            f"{len(skipped)} of {len(records)} images unreadable (more than "
            f"max_bad_fraction={max_bad_fraction}); first: {skipped[0][1]}"
        )
    if not lines:
        raise DataError("no readable line images")
    return LineSet(lines, kept, skipped)


def to_ink(lines) -> list[np.ndarray]:
    """uint8 paper-white lines -> float32 ink (ink = 1, paper = 0)."""
    return [(255.0 - np.asarray(l, np.float32)) / 255.0 for l in lines]


def _columns_dataset(lines_ink, labels) -> tf.data.Dataset:
    """``(columns, label)``: each line as a W x H uint8 ink tensor (transposed, so a
    crop is a cheap slice of rows), all held as one ragged tensor in memory."""
    if not len(lines_ink):
        raise DataError("no lines to build a dataset from")
    cols = [np.ascontiguousarray(np.round(np.clip(l, 0, 1) * 255).astype(np.uint8).T) for l in lines_ink]
    ragged = tf.RaggedTensor.from_row_lengths(np.concatenate(cols, axis=0), [c.shape[0] for c in cols])
    return tf.data.Dataset.from_tensor_slices((ragged, np.asarray(labels, np.int32)))


def lines_dataset(lines_ink, labels) -> tf.data.Dataset:
    """``(line, label)`` elements, ``line`` a ``height`` x W x 1 float ink tensor (ink = 1).

    ``lines_ink`` are float ink lines (see :func:`to_ink`). They are held as one
    ragged uint8 tensor in memory (this is the cache: decoding and resizing
    happened once, in :func:`load_lines`) and turned back into floats per element."""

    def _to_image(cols_t, label):
        return tf.transpose(tf.cast(cols_t, tf.float32))[..., None] / 255.0, label

    return _columns_dataset(lines_ink, labels).map(_to_image, num_parallel_calls=pipelines.AUTOTUNE)


def pack_columns(lines_ink, crop_width: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """All lines side by side as one ``(total_width, height)`` uint8 ink array
    (lines transposed, so a crop is a run of rows), with each line's first row
    and its number of crop positions (``width - crop_width + 1``). Lines
    narrower than ``crop_width`` are padded with paper (centred) to that width,
    so every line offers at least one crop and none is dropped."""
    if not len(lines_ink):
        raise DataError("no lines to build a dataset from")
    cols = []
    for line in lines_ink:
        c = np.round(np.clip(np.asarray(line, np.float32), 0, 1) * 255).astype(np.uint8).T
        if c.shape[0] < crop_width:
            pad = crop_width - c.shape[0]
            c = np.pad(c, ((pad // 2, pad - pad // 2), (0, 0)))
        cols.append(c)
    widths = np.array([c.shape[0] for c in cols], np.int64)
    starts = np.concatenate([[0], np.cumsum(widths)[:-1]]).astype(np.int64)
    return np.ascontiguousarray(np.concatenate(cols, axis=0)), starts, widths - crop_width + 1


def batch_affine(
    patches: tf.Tensor, seed, max_scale: float = 0.1, max_shear: float = 0.2, max_shift: float = 0.05
) -> tf.Tensor:
    """A random zoom, horizontal shear (slant) and shift per patch of a
    ``(B, H, W, 1)`` ink batch, as one projective-transform op (empty areas = paper)."""
    b = tf.shape(patches)[0]
    h = tf.cast(tf.shape(patches)[1], tf.float32)
    w = tf.cast(tf.shape(patches)[2], tf.float32)
    s1, s2, s3, s4 = tf.unstack(tf.random.experimental.stateless_split(tf.cast(seed, tf.int64), 4))
    inv = 1.0 / (1.0 + tf.random.stateless_uniform([b], s1, -max_scale, max_scale))
    k = tf.random.stateless_uniform([b], s2, -max_shear, max_shear)
    dx = tf.random.stateless_uniform([b], s3, -max_shift, max_shift) * w
    dy = tf.random.stateless_uniform([b], s4, -max_shift, max_shift) * h
    cx, cy = (w - 1) / 2, (h - 1) / 2
    # output (x, y) samples input (inv * (x - cx + k * (y - cy)) + cx + dx, inv * (y - cy) + cy + dy)
    zeros = tf.zeros([b])
    transforms = tf.stack(
        [inv, inv * k, cx + dx - inv * (cx + k * cy), zeros, inv, cy + dy - inv * cy, zeros, zeros], axis=1
    )
    return tf.raw_ops.ImageProjectiveTransformV3(
        images=patches,
        transforms=transforms,
        output_shape=tf.shape(patches)[1:3],
        fill_value=0.0,
        interpolation="BILINEAR",
        fill_mode="CONSTANT",
    )


def columns_to_patches(
    columns: tf.Tensor,
    seed=None,
    ink_jitter: float = 0.15,
    augment: bool = False,
    max_scale: float = 0.1,
    max_shear: float = 0.2,
    max_shift: float = 0.05,
) -> tf.Tensor:
    """``(B, crop_width, height)`` uint8 ink columns (the layout :func:`raw_patches`
    gathers) -> ``(B, height, crop_width, 1)`` float ink patches (ink = 1).

    With a ``seed`` (a stateless seed pair), each patch gets a random ink
    strength (``ink_jitter``) and, with ``augment``, a random zoom
    (``max_scale``), slant (``max_shear``) and shift (``max_shift``); without
    one the pixels are only rescaled (evaluation)."""
    x = tf.transpose(tf.cast(columns, tf.float32), [0, 2, 1])[..., None] * (1.0 / 255.0)
    if seed is None:
        return x
    s_gain, s_affine = tf.unstack(tf.random.experimental.stateless_split(tf.cast(seed, tf.int64), 2))
    if ink_jitter:
        x = x * tf.random.stateless_uniform(
            [tf.shape(x)[0], 1, 1, 1], s_gain, 1.0 - ink_jitter, 1.0 + ink_jitter
        )
    if augment:
        x = batch_affine(x, s_affine, max_scale, max_shear, max_shift)
    return tf.minimum(x, 1.0)


def to_columns(windows) -> np.ndarray:
    """``(N, height, width[, 1])`` float ink windows -> ``(N, width, height)`` uint8
    columns, the input layout of :func:`hwutils.writer_id.models.training_model`."""
    w = np.asarray(windows, np.float32)
    w = w[..., 0] if w.ndim == 4 else w
    return np.ascontiguousarray(np.round(np.clip(w, 0, 1) * 255).astype(np.uint8).transpose(0, 2, 1))


def _patch_sampler(lines_ink, labels, height: int, crop_width: int, batch_size: int):
    """A TF function ``seed pair -> (columns, labels)``: ``batch_size`` random crops,
    positions drawn uniformly over every crop position of every line, gathered
    in one op from the packed uint8 columns (see :func:`pack_columns`)."""
    cols_np, starts_np, spans_np = pack_columns(lines_ink, crop_width)
    if cols_np.shape[1] != height:
        raise DataError(f"lines are {cols_np.shape[1]} px high, expected height={height}")
    labels_np = np.asarray(labels, np.int32)
    if len(labels_np) != len(starts_np):
        raise DataError(f"{len(starts_np)} lines but {len(labels_np)} labels")
    cols = tf.constant(cols_np)
    starts = tf.constant(starts_np)
    ends = tf.constant(np.cumsum(spans_np))  # positions of lines 0..i
    before = tf.constant(np.cumsum(spans_np) - spans_np)
    lab = tf.constant(labels_np)
    total = int(spans_np.sum())
    offsets = tf.range(crop_width, dtype=tf.int64)[None]

    def sample(seed):
        pos = tf.random.stateless_uniform([batch_size], seed, 0, total, dtype=tf.int64)
        line = tf.searchsorted(ends, pos, side="right")
        first = tf.gather(starts, line) + pos - tf.gather(before, line)
        crops = tf.gather(cols, first[:, None] + offsets)  # rows of the column store: (B, crop_width, height)
        return tf.ensure_shape(crops, [batch_size, crop_width, height]), tf.gather(lab, line)

    return sample


def raw_patches(
    lines_ink, labels, height: int, crop_width: int, batch_size: int, seed: int, block: int = 8
) -> tf.data.Dataset:
    """Infinite batches ``(columns, labels)`` for training through
    :func:`hwutils.writer_id.models.training_model` (the fast path).

    ``columns`` is ``(batch_size, crop_width, height)`` uint8 ink, each patch
    transposed, exactly as the gather makes it: the cast, rescale, transpose
    and per-patch ink jitter (and augmentation) are done by the model's first
    layer on the training device, so the pipeline only draws positions
    (stateless random ops seeded by ``(seed, block number)``) and gathers
    the crops of ``block`` batches in one op per step (which spreads
    tf.data's per-step cost over several batches). The decoded lines stay in memory as one uint8 tensor (decoding and
    resizing happened once, in :func:`load_lines`)."""
    sample = _patch_sampler(lines_ink, labels, height, crop_width, batch_size * block)
    base = tf.constant(seed, tf.int64)

    def _block(step):
        cols, lab = sample(tf.stack([base, step]))
        return tf.reshape(cols, [block, batch_size, crop_width, height]), tf.reshape(lab, [block, batch_size])

    # The autotuner is off: its background tuning competes with the training
    # step for the CPU cores (on 2 cores, training fed with it on ran at ~78%
    # of its speed in about half of the benchmark rounds; with it off, never).
    options = tf.data.Options()
    options.autotune.enabled = False
    return (
        tf.data.Dataset.counter()
        .map(_block, num_parallel_calls=2, deterministic=True)
        .unbatch()
        .prefetch(2 * block)
        .with_options(options)
    )


def training_patches(
    lines_ink,
    labels,
    height: int,
    crop_width: int,
    batch_size: int,
    seed: int,
    augment: bool = False,
    ink_jitter: float = 0.15,
    max_scale: float = 0.1,
    max_shear: float = 0.2,
) -> tf.data.Dataset:
    """Infinite batches ``(patches, labels)`` of random ``height`` x ``crop_width`` x 1
    float ink patches (ink = 1): the batches of :func:`raw_patches` converted by
    :func:`columns_to_patches` (random ink strength ``ink_jitter`` and, with
    ``augment``, zoom/slant/shift; seeded per batch) inside the pipeline, on
    the CPU. For looking at patches and for models with float inputs; the
    notebook trains on :func:`raw_patches`, which is several times faster."""
    base = tf.constant(seed, tf.int64)

    def _convert(batch, step):
        cols, lab = batch
        x = columns_to_patches(cols, tf.stack([base + 1, step]), ink_jitter, augment, max_scale, max_shear)
        return tf.ensure_shape(x, [batch_size, height, crop_width, 1]), lab

    raw = raw_patches(lines_ink, labels, height, crop_width, batch_size, seed)
    return (
        tf.data.Dataset.zip((raw, tf.data.Dataset.counter()))
        .map(_convert, num_parallel_calls=pipelines.AUTOTUNE, deterministic=True)
        .prefetch(pipelines.AUTOTUNE)
    )
