"""Normalising one character like the training data: an image (or a group of a word's
components) to the ``32x32`` square.

:func:`normalize_char` crops a character to its ink, stretches the contrast,
scales the longer side to ``box`` pixels and centres it on a ``size`` x
``size`` white square; :func:`_to_segment` does so for a group of components
cut from a word image and returns the :class:`Segment`.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy import ndimage

from hwutils import images as I
from hwutils.ocr import CHAR_SIZE

CHAR_BOX = 24  # longer side of a character inside the 32x32 square


@dataclass
class Segment:
    """One character (or a hyphen) cut from a word image.

    ``box`` is ``(left, top, width, height)`` in the input image's pixels;
    ``image`` the normalised ``32x32`` uint8 character (paper white);
    ``kind`` is ``"char"`` or ``"-"``; ``space_before`` marks a word gap.
    """

    box: tuple[int, int, int, int]
    image: np.ndarray
    kind: str = "char"
    space_before: bool = False
    parts: int = 1


def ink_crop(gray: np.ndarray, mask: np.ndarray | None = None):
    """The ink of an image (uint8, paper white), cleaned and cropped:
    ``(crop, (top, left))`` or None when there is no ink.

    Pixels outside ``mask`` (True = keep) become paper; the contrast is
    stretched (darkest pixel -> 0), paper texture and faint noise become
    paper, and the image is cropped to the remaining ink. ``(top, left)``
    is the crop's corner in ``gray``."""
    gray = np.asarray(gray, np.uint8)
    if mask is not None:
        gray = np.where(mask, gray, 255).astype(np.uint8)
    ink = 255.0 - gray.astype(np.float32)
    if ink.max() <= 0:
        return None
    ink = ink / ink.max()
    ink = np.clip((ink - 0.12) / 0.88, 0, 1)  # paper texture and faint noise -> paper
    rows, cols = np.flatnonzero(ink.max(1) > 0.3), np.flatnonzero(ink.max(0) > 0.3)
    if rows.size == 0:
        return None
    ink = ink[rows[0] : rows[-1] + 1, cols[0] : cols[-1] + 1]
    return I.from_ink_float(ink), (int(rows[0]), int(cols[0]))


def normalize_char(
    gray: np.ndarray, mask: np.ndarray | None = None, size: int = CHAR_SIZE, box: int = CHAR_BOX
) -> np.ndarray:
    """One character image (uint8, paper white) -> ``size`` x ``size`` uint8.

    Pixels outside ``mask`` (True = belongs to the character) become paper.
    The ink is cropped, its contrast stretched (darkest pixel -> 0), the
    longer side scaled to ``box`` and the result centred. An image without
    ink gives a blank square.
    """
    cropped = ink_crop(gray, mask)
    if cropped is None:
        return np.full((size, size), 255, np.uint8)
    crop = cropped[0]
    h, w = crop.shape
    scale = box / max(h, w)
    small = I.resize(crop, max(1, round(h * scale)), max(1, round(w * scale)))
    return I.pad_to(small, size, size, fill=255)


def normalize_ink_bright(images: np.ndarray, size: int = CHAR_SIZE) -> np.ndarray:
    """MNIST/EMNIST-style arrays ``(n, h, w)`` with bright ink on black ->
    ``(n, size, size)`` normalised characters (paper white)."""
    images = np.asarray(images)
    if images.dtype != np.uint8:
        images = np.clip(np.asarray(images, np.float32) * (255.0 / max(1e-6, float(images.max()))), 0, 255)
    return (
        np.stack([normalize_char(255 - np.asarray(im, np.uint8), size=size) for im in images])
        if len(images)
        else np.zeros((0, size, size), np.uint8)
    )


def _to_segment(gray, labels, g, space, size) -> Segment:
    box_labels = labels[g.top : g.bottom, g.left : g.right]
    if "pieces" in g.meta:  # a union of pieces, each limited to its own columns
        sub = np.zeros(box_labels.shape, bool)
        for p in g.meta["pieces"]:
            cols = slice(p.left - g.left, p.right - g.left)
            sub[:, cols] |= np.isin(box_labels[:, cols], p.comps)
    else:
        sub = np.isin(box_labels, g.comps)
    others = (box_labels > 0) & ~sub
    sub = ndimage.binary_dilation(sub, iterations=1) & ~others  # keep the anti-aliased rim
    crop = gray[g.top : g.bottom, g.left : g.right]
    kind = "-" if g.meta.get("hyphen") else "char"
    return Segment(
        (int(g.left), int(g.top), int(g.width), int(g.height)),
        normalize_char(crop, sub, size=size),
        kind,
        space,
        len(g.comps),
    )
