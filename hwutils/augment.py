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
