"""Many variations of one digit image: the seed notebook's augmentation list.

Erosion or dilation (thinner or thicker strokes), rotation, translation (and
a little zoom), brightness and contrast, blur. The transforms run on an
ink-bright copy upsampled to twice the size, so a one-pixel morphological
step is a half-pixel change at 28x28, then the result is shrunk back.
"""

from __future__ import annotations

import numpy as np

from hwutils import augment as shared_augment
from hwutils import images


def digit_transform(
    max_rotate: float = 15.0,
    max_shift: float = 0.08,
    max_zoom: float = 0.1,
    brightness: float = 0.15,
    contrast: float = 0.2,
    max_blur_sigma: float = 0.8,
):
    """The albumentations pipeline, for ink-bright uint8 images at twice the final size."""
    import albumentations as A

    return A.Compose(
        [
            A.OneOf(
                [
                    A.Morphological(scale=(2, 3), operation="erosion", p=1.0),
                    A.Morphological(scale=(2, 4), operation="dilation", p=1.0),
                ],
                p=0.7,
            ),
            A.Affine(
                rotate=(-max_rotate, max_rotate),
                translate_percent=(-max_shift, max_shift),
                scale=(1 - max_zoom, 1 + max_zoom),
                fill=0,
                p=1.0,
            ),
            A.RandomBrightnessContrast(brightness_limit=brightness, contrast_limit=contrast, p=0.8),
            A.GaussianBlur(blur_limit=0, sigma_limit=(0.3, max_blur_sigma * 2), p=0.5),
        ]
    )


def augment_digit(image, count: int = 100, seed: int = 0, **transform_kw) -> np.ndarray:
    """``count`` variations ``(count, h, w)`` uint8 (white paper, dark ink) of
    one prepared digit image ``(h, w)`` uint8 paper-white. Reproducible for
    a given ``seed``; ``transform_kw`` goes to :func:`digit_transform`."""
    image = images.as_gray(image)
    if count < 1:
        raise ValueError(f"count must be at least 1, got {count}")
    h, w = image.shape
    big = images.resize(255 - image, 2 * h, 2 * w)
    out = shared_augment.apply(digit_transform(**transform_kw), [big] * count, seed)
    return np.stack([255 - images.resize(np.asarray(o, np.uint8), h, w) for o in out])
