"""scikit-learn's bundled handwritten digits (1797 real 8x8 scans, UCI
"optdigits"), made MNIST-like: 28x28 uint8, ink bright on black, the digit
fitted in a 20x20 box and centred by its centre of mass."""

from __future__ import annotations

import numpy as np


def mnist_like(ink: np.ndarray, box: int = 20, size: int = 28) -> np.ndarray:
    """Resize one ink-bright float/uint8 image so its longer side is ``box``
    pixels, then centre it by mass on a ``size`` x ``size`` black canvas (uint8)."""
    from PIL import Image
    from scipy import ndimage

    ink = np.asarray(ink, np.float32)
    if ink.max() > 0:
        ink = ink / ink.max()
    rows, cols = np.flatnonzero(ink.max(1) > 0.05), np.flatnonzero(ink.max(0) > 0.05)
    if rows.size == 0:
        return np.zeros((size, size), np.uint8)
    ink = ink[rows[0] : rows[-1] + 1, cols[0] : cols[-1] + 1]
    h, w = ink.shape
    scale = box / max(h, w)
    nh, nw = max(1, round(h * scale)), max(1, round(w * scale))
    small = np.asarray(
        Image.fromarray((ink * 255).astype(np.uint8)).resize((nw, nh), Image.Resampling.BICUBIC), np.float32
    )
    canvas = np.zeros((size, size), np.float32)
    top, left = (size - nh) // 2, (size - nw) // 2
    canvas[top : top + nh, left : left + nw] = small
    cy, cx = ndimage.center_of_mass(canvas)
    canvas = ndimage.shift(canvas, (size / 2 - 0.5 - cy, size / 2 - 0.5 - cx), order=1, mode="constant")
    return np.clip(canvas + 0.5, 0, 255).astype(np.uint8)


def load_sklearn_digits(size: int = 28) -> tuple[np.ndarray, np.ndarray]:
    """Images ``(1797, size, size)`` uint8 (ink bright) and labels ``(1797,)`` int64."""
    from sklearn.datasets import load_digits

    bunch = load_digits()
    images = np.stack([mnist_like(img / 16.0, box=round(size * 20 / 28), size=size) for img in bunch.images])
    return images, bunch.target.astype(np.int64)
