"""Synthetic handwritten-looking characters (0-9, A-Z) from matplotlib's fonts.

Each sample: a random font of :func:`hwutils.synth.glyphs.font_paths`, a
random slant, rotation and width (:func:`glyphs.shear_scale_rotate`), a stroke
made thinner or thicker (grey erosion/dilation), then an elastic distortion,
blur and noise through albumentations. Everything is drawn from one seed, so
the same arguments give the same images.
"""

from __future__ import annotations

import numpy as np
from scipy import ndimage

from hwutils.synth import glyphs

DEFAULT_ALPHABET = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ"


def distortion(seed: int):
    """The elastic distortion, blur and noise every synthetic character gets
    (albumentations, seeded); also used by :mod:`hwutils.synth.pen`."""
    import albumentations as A

    return A.Compose(
        [
            A.ElasticTransform(alpha=18, sigma=5, p=0.8, border_mode=0, fill=0),
            A.GaussianBlur(blur_limit=(3, 3), p=0.3),
            A.GaussNoise(std_range=(0.01, 0.05), p=0.5),
        ],
        seed=seed,
    )


def render_character(char: str, rng: np.random.Generator, size: int = 64) -> np.ndarray:
    """One character as ink-bright float ``(size, size)`` in [0, 1], before
    elastic distortion and noise (see :func:`make_characters`)."""
    fonts = glyphs.font_paths()
    font = fonts[rng.integers(len(fonts))]
    matrix = glyphs.shear_scale_rotate(
        slant=rng.normal(0.0, 0.18), rotate=rng.normal(0.0, 0.06), aspect=rng.uniform(0.75, 1.25)
    )
    ink = glyphs.render_glyph(char, font, matrix, height=size, margin=rng.uniform(0.12, 0.22))
    # Stroke width: thin bold fonts down, thicken thin ones (a pen is not a font).
    change = int(rng.integers(-2, 3))
    if change < 0:
        thinner = ndimage.grey_erosion(ink, size=(1 - change, 1 - change))
        if thinner.sum() >= 0.45 * ink.sum():  # never erode a thin font away
            ink = thinner
    elif change > 0:
        ink = ndimage.grey_dilation(ink, size=(1 + change, 1 + change))
    return ink.astype(np.float32)


def make_characters(
    chars: str, per_class: int, seed: int = 0, size: int = 64
) -> tuple[np.ndarray, np.ndarray]:
    """``per_class`` samples of every character of ``chars``.

    Returns images ``(n, size, size)`` uint8 with white paper and dark ink,
    and labels ``(n,)``: the index of each character in ``chars``.
    """
    rng = np.random.default_rng(seed)
    transform = distortion(seed)
    images, labels = [], []
    for label, char in enumerate(chars):
        for _ in range(per_class):
            ink = render_character(char, rng, size)
            img = (ink * 255).astype(np.uint8)
            img = transform(image=img)["image"]
            images.append(255 - img)
            labels.append(label)
    if not images:
        return np.zeros((0, size, size), np.uint8), np.zeros((0,), np.int64)
    return np.stack(images).astype(np.uint8), np.asarray(labels, np.int64)
