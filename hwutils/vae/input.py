"""The user's one digit image: read any file, find the digit, make it MNIST-like.

``load_digit_image(path)`` reads any size and colour mode (through
:func:`hwutils.images.read_gray`), separates ink from paper, keeps one digit
(the largest ink group, with a warning when there are several), thickens
strokes that would vanish when shrunk, and returns a 28x28 uint8 image,
white paper and dark ink, the digit fitted in a 20x20 box and centred on
its ink like MNIST.
"""

from __future__ import annotations

import warnings
from pathlib import Path

import numpy as np

from hwutils import images
from hwutils.datasets.digits import mnist_like
from hwutils.errors import ImageError

DEFAULT_IMAGE = Path(__file__).resolve().parents[1] / "assets" / "example_two.png"
MIN_SIDE = 12  # an image smaller than this (either side) is refused
MIN_INK_SIDE = 6  # the digit's ink must span at least this many pixels
NOISE_SHARE = 0.02  # ink groups below this share of all ink are specks, dropped silently
DIGIT_SHARE = 0.15  # groups above this share of the largest count as another digit


class SeveralDigitsWarning(UserWarning):
    """The image holds more than one digit-sized ink group; the largest is used."""


def resolve_image_path(image_path: str) -> Path:
    """The ``image_path`` parameter as a path; empty means the shipped example "2"."""
    return Path(image_path) if image_path else DEFAULT_IMAGE


def load_digit_image(path, size: int = 28) -> np.ndarray:
    """Read ``path`` and return the prepared ``size`` x ``size`` digit (see :func:`prepare_digit`).

    Raises :class:`ImageError` naming the file when it cannot be read, is
    too small, or holds no ink.
    """
    gray = images.read_gray(path)
    return prepare_digit(gray, size=size, name=str(path))


def _paper_white(gray: np.ndarray) -> np.ndarray:
    """Invert light-ink-on-dark images (judged by the border) to white paper."""
    border = np.concatenate([gray[0], gray[-1], gray[:, 0], gray[:, -1]])
    return 255 - gray if np.median(border) < 128 else gray


def _digit_groups(mask: np.ndarray) -> list[np.ndarray]:
    """Ink pixels grouped into digit candidates, largest first.

    Strokes closer than ~3% of the image side are joined; groups whose
    horizontal extents overlap by half of the narrower one (a "5"'s bar over
    its body) are one digit, since digits are written side by side.
    """
    from scipy import ndimage

    radius = max(1, int(round(0.03 * max(mask.shape))))
    joined = ndimage.binary_dilation(mask, structure=np.ones((3, 3), bool), iterations=radius)
    labels, n = ndimage.label(joined)
    labels = np.where(mask, labels, 0)
    spans = ndimage.find_objects(labels)
    parent = list(range(n))

    def find(i):
        while parent[i] != i:
            parent[i] = parent[parent[i]]
            i = parent[i]
        return i

    for i in range(n):
        for j in range(i + 1, n):
            if spans[i] is None or spans[j] is None:
                continue
            a, b = spans[i][1], spans[j][1]
            overlap = min(a.stop, b.stop) - max(a.start, b.start)
            if overlap >= 0.5 * min(a.stop - a.start, b.stop - b.start):
                parent[find(j)] = find(i)
    groups: dict[int, np.ndarray] = {}
    for i in range(n):
        if spans[i] is not None:
            root = find(i)
            groups[root] = groups.get(root, np.zeros(mask.shape, bool)) | (labels == i + 1)
    return sorted(groups.values(), key=lambda g: -int(g.sum()))


def _stroke_width(mask: np.ndarray) -> float:
    """Mean stroke width in pixels: twice the ink area over its outline length."""
    from scipy import ndimage

    edge = mask & ~ndimage.binary_erosion(mask)
    return 2.0 * mask.sum() / max(1, edge.sum())


def prepare_digit(
    gray, size: int = 28, box: int | None = None, min_stroke: float = 2.0, name: str = "<image>"
) -> np.ndarray:
    """Any gray (or colour) image of one handwritten digit -> ``size`` x ``size``
    uint8, white paper, dark ink; the digit scaled into a ``box`` (default
    20/28 of ``size``) square and centred by its ink mass.

    Steps: Otsu ink mask; ink groups (specks dropped; several digits -> a
    :class:`SeveralDigitsWarning` and the largest kept); ink strength from
    the paper and ink levels; strokes thickened when they would come out
    thinner than ``min_stroke`` pixels; :func:`hwutils.datasets.digits.mnist_like`.
    """
    from scipy import ndimage

    gray = images.as_gray(gray)
    h, w = gray.shape
    if min(h, w) < MIN_SIDE:
        raise ImageError(
            f"{name}: image is only {w}x{h} pixels; a digit needs at least {MIN_SIDE}x{MIN_SIDE}"
        )
    gray = _paper_white(gray)
    mask = images.binarize(gray)
    if not mask.any():
        raise ImageError(f"{name}: no ink found (blank or uniform image)")
    if mask.mean() > 0.6:
        raise ImageError(f"{name}: {mask.mean():.0%} of the image is ink; expected a digit on plain paper")
    groups = _digit_groups(mask)
    total = mask.sum()
    groups = [g for g in groups if g.sum() >= NOISE_SHARE * total] or groups[:1]
    digits = [g for g in groups if g.sum() >= DIGIT_SHARE * groups[0].sum()]
    if len(digits) > 1:
        warnings.warn(
            f"{name}: found {len(digits)} separate digits; using the largest ink component",
            SeveralDigitsWarning,
            stacklevel=2,
        )
    keep = groups[0]
    top, bottom, left, right = images.ink_bbox(keep)
    if max(bottom - top, right - left) < MIN_INK_SIDE:
        raise ImageError(
            f"{name}: the ink spans only {right - left}x{bottom - top} pixels; "
            f"a digit needs at least {MIN_INK_SIDE}"
        )
    paper = float(np.median(gray[~mask])) if (~mask).any() else 255.0
    ink_level = float(np.percentile(gray[keep], 10))
    strength = np.clip((paper - gray.astype(np.float32)) / max(paper - ink_level, 1.0), 0.0, 1.0)
    near = ndimage.binary_dilation(keep, iterations=2)
    ink = np.where(near, strength, 0.0)[top:bottom, left:right].astype(np.float32)
    box = box or int(round(size * 20 / 28))
    if max(ink.shape) > 4 * box:  # work at 4x the final size: thickening stays cheap
        ink = _shrink(ink, 4 * box)
    scale = box / max(ink.shape)
    width = _stroke_width(ink > 0.3) * scale
    if width < min_stroke:
        grow = int(np.ceil((min_stroke - width) / (2 * scale)))
        ink = np.pad(ink, grow)
        ink = ndimage.grey_dilation(ink, footprint=_disk(grow))
    out = mnist_like(ink, box=box, size=size).astype(np.float32)
    strong = out[out > 0.2 * out.max()]
    out = np.clip(out / max(np.percentile(strong, 90), 1.0), 0.0, 1.0)
    return images.from_ink_float(out)


def _shrink(ink: np.ndarray, side: int) -> np.ndarray:
    """Area-average a float ink image so its longer side is ``side``, then
    restore full strength (thin strokes fade when averaged)."""
    from PIL import Image

    h, w = ink.shape
    f = side / max(h, w)
    small = np.asarray(
        Image.fromarray(ink, mode="F").resize(
            (max(1, round(w * f)), max(1, round(h * f))), Image.Resampling.BOX
        ),
        np.float32,
    )
    return np.clip(small / max(float(small.max()), 1e-6), 0.0, 1.0)


def _disk(radius: int) -> np.ndarray:
    y, x = np.mgrid[-radius : radius + 1, -radius : radius + 1]
    return x * x + y * y <= radius * radius + radius
