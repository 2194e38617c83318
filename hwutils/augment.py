"""Albumentations pipelines shared by the stages (albumentations 2.x API).

Albumentations works on NumPy images outside the graph: use these to make
augmented copies on disk or in memory (galleries, synthetic data sets). For
per-batch training augmentation use the stateless TF ops in
:mod:`hwutils.pipelines`.
"""

from __future__ import annotations

import numpy as np


def apply(transform, images, seed: int) -> list[np.ndarray]:
    """Apply an albumentations transform to each uint8 image, reproducibly."""
    import albumentations as A

    if isinstance(transform, A.BaseCompose):
        transform.set_random_seed(seed)
    else:
        transform = A.Compose([transform], seed=seed)
    return [transform(image=np.asarray(img, np.uint8))["image"] for img in images]


# ------------------------------------------------------------- signature augmentations
# Grid distortion at the four strengths of the signature seed notebook.
SIGNATURE_GRID_STRENGTHS = ((5, 0.4), (7, 0.5), (9, 0.6), (12, 0.7))


def signature_grid_distortions(fill: int = 255) -> list:
    """Four ``GridDistortion`` transforms (num_steps, distort_limit) from mild to
    strong; borders filled with paper. Never flips: a mirrored signature is another signature."""
    import albumentations as A

    return [
        A.GridDistortion(num_steps=s, distort_limit=d, border_mode=0, fill=fill, p=1.0)
        for s, d in SIGNATURE_GRID_STRENGTHS
    ]


def signature_degradation():
    """Multiplicative noise, then motion blur and median blur (scanner/pen degradation)."""
    import albumentations as A

    return A.Compose(
        [
            A.MultiplicativeNoise(multiplier=(0.9, 1.1), p=1.0),
            A.MotionBlur(blur_limit=7, p=1.0),
            A.MedianBlur(blur_limit=7, p=1.0),
        ]
    )


def signature_warps(fill: int = 255) -> dict:
    """Optical (lens) and elastic distortions, by name."""
    import albumentations as A

    return {
        "optical": A.OpticalDistortion(distort_limit=(-0.3, 0.3), border_mode=0, fill=fill, p=1.0),
        "elastic": A.ElasticTransform(alpha=30, sigma=6, border_mode=0, fill=fill, p=1.0),
    }


def signature_augmentations(fill: int = 255) -> dict:
    """Every signature augmentation by name: ``grid_1..grid_4``, ``degrade``,
    ``optical``, ``elastic`` (for galleries and offline augmented copies)."""
    named = {f"grid_{i + 1}": t for i, t in enumerate(signature_grid_distortions(fill))}
    named["degrade"] = signature_degradation()
    named.update(signature_warps(fill))
    return named
