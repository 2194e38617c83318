"""The Kaggle "A-Z Handwritten Alphabets" CSV: one character per row, the
label (0 = A ... 25 = Z) then 784 pixels of a 28x28 image (ink bright, as
in MNIST). The file is large (370k rows): ``limit``/``per_class`` bound it."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from hwutils.errors import DataError

LETTERS = "ABCDEFGHIJKLMNOPQRSTUVWXYZ"


def load_az_csv(
    path, per_class: int | None = None, limit: int | None = None, seed: int = 0
) -> tuple[np.ndarray, np.ndarray]:
    """Images ``(n, 28, 28)`` uint8 (ink bright) and labels ``(n,)`` as the
    characters ``'A'..'Z'`` (a ``<U1`` array).

    ``limit`` stops after that many rows; ``per_class`` keeps at most that
    many of each letter (a seeded random choice). Raises :class:`DataError`
    naming the file and line on a malformed row.
    """
    path = Path(path)
    if not path.is_file():
        raise DataError(f"{path}: no such CSV file (Kaggle A-Z: label then 784 pixels per row)")
    rows = []
    with open(path, errors="replace") as fh:
        for line_no, line in enumerate(fh, start=1):
            if limit is not None and len(rows) >= limit:
                break
            line = line.strip()
            if not line:
                continue
            parts = line.split(",")
            if len(parts) != 785:
                raise DataError(
                    f"{path}:{line_no}: expected 785 values (label + 28x28 pixels), got {len(parts)}"
                )
            try:
                values = np.asarray(parts, dtype=np.float64)
            except ValueError:
                if line_no == 1:  # a header row
                    continue
                raise DataError(f"{path}:{line_no}: non-numeric value") from None
            label = int(values[0])
            if not 0 <= label < 26:
                raise DataError(f"{path}:{line_no}: label {label} outside 0..25")
            rows.append(values)
    if not rows:
        raise DataError(f"{path}: no character rows")
    data = np.stack(rows)
    labels = data[:, 0].astype(int)
    images = np.clip(data[:, 1:], 0, 255).astype(np.uint8).reshape(-1, 28, 28)
    if per_class is not None:
        rng = np.random.default_rng(seed)
        keep = np.concatenate([rng.permutation(np.flatnonzero(labels == c))[:per_class] for c in range(26)])
        keep.sort()
        images, labels = images[keep], labels[keep]
    return images, np.array([LETTERS[c] for c in labels])
