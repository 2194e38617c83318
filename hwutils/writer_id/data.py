"""Line images to tensors: decode and resize once, then a tf.data pipeline of
random crops.

Every line is read once, cropped to its ink, resized to ``height`` keeping its
aspect ratio and kept in memory as ink floats (ink = 1). The training pipeline
slices random ``height`` x ``crop_width`` patches out of those lines with
stateless random ops (one seed per element), so no file is reopened and no
Python generator runs per batch. Lines narrower than a crop are padded with
paper, never dropped.
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

    def subset(self, index) -> "LineSet":
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
        raise DataError(f"{len(skipped)} of {len(records)} images unreadable (more than "
                        f"max_bad_fraction={max_bad_fraction}); first: {skipped[0][1]}")
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


def patch_augment(height: int, crop_width: int, ink_jitter: float = 0.15):
    """The per-element augmentation on a W x H uint8 column tensor: a random
    ``crop_width`` slice (padded with paper, centred, when the line is
    narrower), turned into a ``height`` x ``crop_width`` x 1 float patch with a
    random ink strength."""

    def _augment(seed, cols, label):
        s1, s2 = tf.unstack(tf.random.experimental.stateless_split(tf.cast(seed, tf.int64), 2))
        w = tf.shape(cols)[0]
        x0 = tf.random.stateless_uniform([], s1, 0, tf.maximum(w - crop_width, 0) + 1, dtype=tf.int32)
        piece = cols[x0:x0 + crop_width]
        pad = crop_width - tf.shape(piece)[0]
        piece = tf.pad(piece, [[pad // 2, pad - pad // 2], [0, 0]])
        patch = tf.transpose(tf.cast(piece, tf.float32))[..., None] / 255.0
        patch = tf.ensure_shape(patch, [height, crop_width, 1])
        gain = tf.random.stateless_uniform([], s2, 1.0 - ink_jitter, 1.0 + ink_jitter)
        return tf.clip_by_value(patch * gain, 0.0, 1.0), label

    return _augment


def training_patches(lines_ink, labels, height: int, crop_width: int, batch_size: int, seed: int) -> tf.data.Dataset:
    """Infinite batches of random patches for ``fit`` (pass ``steps_per_epoch``).

    Decoded lines are already in memory, so the dataset is not cached a second time."""
    return pipelines.training_dataset(_columns_dataset(lines_ink, labels), batch_size, seed,
                                      augment=patch_augment(height, crop_width),
                                      shuffle_buffer=max(1, len(lines_ink)), cache=False)
