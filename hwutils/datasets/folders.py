"""A folder per class (or per person): ``ROOT/<label>/*.png``.

Used by the character classifier (one folder per character) and the
signature verifier (one folder per person of genuine signatures).
"""

from __future__ import annotations

import random
from pathlib import Path

from hwutils.errors import DataError
from hwutils.images import list_images


def load_folder_per_class(root, cap: int | None = None, seed: int = 0,
                          classes: list[str] | None = None) -> list[tuple[Path, str]]:
    """``[(path, label), ...]`` for every image in ``root/<label>/``.

    ``cap`` keeps at most that many images per class (a seeded random
    choice); ``classes`` restricts and orders the labels. Raises
    :class:`DataError` when ``root`` is missing or holds no images.
    """
    root = Path(root)
    if not root.is_dir():
        raise DataError(f"{root}: no such folder (expected one sub-folder per class)")
    folders = sorted(p for p in root.iterdir() if p.is_dir() and not p.name.startswith("."))
    if classes is not None:
        folders = [root / c for c in classes if (root / c).is_dir()]
    rng = random.Random(seed)
    records: list[tuple[Path, str]] = []
    for folder in folders:
        files = list_images(folder)
        if cap is not None and len(files) > cap:
            files = sorted(rng.sample(files, cap))
        records += [(f, folder.name) for f in files]
    if not records:
        raise DataError(f"{root}: no images found in its sub-folders")
    return records
