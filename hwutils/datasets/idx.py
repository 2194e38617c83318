"""MNIST-style IDX files (``.gz`` or not): images ``uint8 (n, h, w)``, labels ``uint8 (n,)``."""

from __future__ import annotations

import gzip
import struct
from pathlib import Path

import numpy as np

from hwutils.errors import DataError

_DTYPES = {0x08: np.uint8, 0x09: np.int8, 0x0B: ">i2", 0x0C: ">i4", 0x0D: ">f4", 0x0E: ">f8"}


def read_idx(path) -> np.ndarray:
    """Read one IDX file (magic ``0x00 0x00 type ndim``) into an array."""
    path = Path(path)
    if not path.is_file():
        raise DataError(f"{path}: no such IDX file")
    opener = gzip.open if path.suffix == ".gz" else open
    try:
        with opener(path, "rb") as fh:
            data = fh.read()
    except (OSError, EOFError) as exc:
        raise DataError(f"{path}: cannot read ({exc})") from None
    if len(data) < 4 or data[0] != 0 or data[1] != 0 or data[2] not in _DTYPES:
        raise DataError(f"{path}: not an IDX file (bad magic number)")
    ndim = data[3]
    dims = struct.unpack(f">{ndim}I", data[4 : 4 + 4 * ndim])
    dtype = np.dtype(_DTYPES[data[2]])
    expected = int(np.prod(dims)) * dtype.itemsize
    body = data[4 + 4 * ndim :]
    if len(body) < expected:
        raise DataError(f"{path}: truncated IDX file ({len(body)} of {expected} bytes)")
    return np.frombuffer(body[:expected], dtype=dtype).reshape(dims)


def load_idx_pair(images_path, labels_path) -> tuple[np.ndarray, np.ndarray]:
    """Images ``(n, h, w)`` uint8 (ink bright, as in MNIST) and labels ``(n,)``."""
    images, labels = read_idx(images_path), read_idx(labels_path)
    if images.ndim != 3:
        raise DataError(f"{images_path}: expected 3-D image data, got shape {images.shape}")
    if len(images) != len(labels):
        raise DataError(f"{images_path} has {len(images)} images but {labels_path} has {len(labels)} labels")
    return images, labels.astype(np.int64)


def read_emnist_mapping(path) -> dict[int, str]:
    """An EMNIST mapping file (``emnist-<split>-mapping.txt``: lines of
    ``label ascii_code``) as ``{label: character}``."""
    path = Path(path)
    if not path.is_file():
        raise DataError(f"{path}: no such EMNIST mapping file")
    mapping = {}
    with open(path) as fh:
        for line_no, line in enumerate(fh, start=1):
            parts = line.split()
            if not parts:
                continue
            try:
                label, code = int(parts[0]), int(parts[1])
            except (ValueError, IndexError):
                raise DataError(
                    f"{path}:{line_no}: expected 'label ascii_code', got {line.strip()!r}"
                ) from None
            mapping[label] = chr(code)
    if not mapping:
        raise DataError(f"{path}: empty EMNIST mapping file")
    return mapping


def load_emnist(images_path, labels_path, mapping_path) -> tuple[np.ndarray, np.ndarray]:
    """EMNIST IDX files (stored transposed) as upright images ``(n, 28, 28)``
    uint8 (ink bright) and labels as characters (``<U1`` array) through the
    split's mapping file. Raises :class:`DataError` on a label the mapping lacks."""
    images, labels = load_idx_pair(images_path, labels_path)
    mapping = read_emnist_mapping(mapping_path)
    missing = sorted(set(np.unique(labels).tolist()) - set(mapping))
    if missing:
        raise DataError(f"{mapping_path}: no character for labels {missing[:10]} found in {labels_path}")
    chars = np.array([mapping[int(v)] for v in labels])
    return np.ascontiguousarray(images.transpose(0, 2, 1)), chars
