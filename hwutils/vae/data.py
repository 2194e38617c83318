"""Real handwritten digits for the stage: MNIST-format IDX files, or the
embedded default (scikit-learn's bundled digits scaled to 28x28).

Everything is returned in the project's image convention (uint8, white
paper, dark ink), with a train part (for the classifiers) and a disjoint
held-out part (for every reported accuracy).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np

from hwutils import images
from hwutils.errors import ParamsError


@dataclass
class DigitData:
    """Train and held-out digits (uint8 paper-white ``(n, 28, 28)``, int labels) and where they came from."""

    train_x: np.ndarray
    train_y: np.ndarray
    test_x: np.ndarray
    test_y: np.ndarray
    source: str  # e.g. "scikit-learn digits (1797 8x8 scans scaled to 28x28)"
    split: str  # how train and held-out were separated

    def summary(self) -> dict:
        return {
            "digits_source": self.source,
            "digits_split": self.split,
            "digits_train": int(len(self.train_y)),
            "digits_heldout": int(len(self.test_y)),
        }


def _load_idx(images_param: str, labels_param: str, what: str, size: int):
    from hwutils.datasets.idx import load_idx_pair

    if not images_param or not labels_param:
        raise ParamsError(
            f"{what}_images and {what}_labels: give both IDX files or neither "
            f"(got {images_param!r} and {labels_param!r})"
        )
    x, y = load_idx_pair(images_param, labels_param)
    return _to_paper_white(x, size), y


def _to_paper_white(ink_bright: np.ndarray, size: int) -> np.ndarray:
    out = 255 - np.asarray(ink_bright, np.uint8)
    if out.shape[1:] != (size, size):
        out = np.stack([images.resize(im, size, size) for im in out])
    return out


def _split(x, y, fraction: float, seed: int):
    from sklearn.model_selection import train_test_split

    if not 0 < fraction < 1:
        raise ParamsError(f"heldout_fraction: must be between 0 and 1, got {fraction}")
    return train_test_split(x, y, test_size=fraction, random_state=seed, stratify=y)


def _cap(x, y, limit: int, seed: int):
    if limit and len(y) > limit:
        keep = np.sort(np.random.default_rng(seed).choice(len(y), limit, replace=False))
        return x[keep], y[keep]
    return x, y


def load_digit_data(
    images_path: str = "",
    labels_path: str = "",
    heldout_images: str = "",
    heldout_labels: str = "",
    heldout_fraction: float = 0.2,
    max_train: int = 0,
    seed: int = 0,
    size: int = 28,
) -> DigitData:
    """Load real digits.

    * no ``images_path``: scikit-learn's bundled digits (1797), split by a
      seeded stratified split (``heldout_fraction`` held out);
    * ``images_path``/``labels_path``: IDX files (gz or not); held-out
      digits from ``heldout_images``/``heldout_labels`` when they name other
      files, else (empty or the same files) a seeded stratified split of the
      training files into disjoint parts.

    ``max_train`` (0 = all) caps the training part after the split.
    """
    if images_path or labels_path:
        x, y = _load_idx(images_path, labels_path, "digits", size)
        source = f"IDX files {images_path} ({len(y)} digits)"
        same = (not heldout_images and not heldout_labels) or (
            heldout_images and Path(heldout_images).resolve() == Path(images_path).resolve()
        )
        if same:
            train_x, test_x, train_y, test_y = _split(x, y, heldout_fraction, seed)
            split = (
                f"seeded stratified split (seed {seed}) of the same files: "
                f"{1 - heldout_fraction:.0%} train, {heldout_fraction:.0%} held out, disjoint"
            )
        else:
            train_x, train_y = x, y
            test_x, test_y = _load_idx(heldout_images, heldout_labels, "heldout", size)
            split = f"held-out digits from other files: {heldout_images}"
    else:
        if heldout_images or heldout_labels:
            raise ParamsError("heldout_images: only used together with digits_images (IDX training files)")
        from hwutils.datasets.digits import load_sklearn_digits

        x, y = load_sklearn_digits(size)
        x = 255 - x
        source = f"scikit-learn bundled digits ({len(y)} real 8x8 scans scaled to {size}x{size})"
        train_x, test_x, train_y, test_y = _split(x, y, heldout_fraction, seed)
        split = (
            f"seeded stratified split (seed {seed}): {1 - heldout_fraction:.0%} train, "
            f"{heldout_fraction:.0%} held out, disjoint"
        )
    train_x, train_y = _cap(train_x, train_y, max_train, seed)
    return DigitData(
        train_x, np.asarray(train_y, np.int64), test_x, np.asarray(test_y, np.int64), source, split
    )
