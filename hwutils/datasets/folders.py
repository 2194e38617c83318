"""A folder per class (or per person): ``ROOT/<label>/*.png``.

Used by the character classifier (one folder per character) and the
signature verifier (one folder per person of genuine signatures).
"""

from __future__ import annotations

import random
from pathlib import Path

from hwutils.errors import DataError
from hwutils.images import IMAGE_SUFFIXES, list_images


def _looked_for() -> str:
    return ", ".join(IMAGE_SUFFIXES)


def require_images(folder, recursive: bool = False, what: str = "image files") -> list[Path]:
    """The image files in ``folder`` (sorted; with ``recursive``, in its
    sub-folders too), or :class:`DataError` saying the folder is missing,
    empty, or holds only files that are not images (naming one of them).
    ``what`` names the files looked for in the message."""
    folder = Path(folder)
    if not folder.is_dir():
        raise DataError(f"{folder}: no such folder")
    if recursive:
        files = sorted(p for p in folder.rglob("*") if p.is_file() and not p.name.startswith("."))
    else:
        files = sorted(p for p in folder.iterdir() if p.is_file() and not p.name.startswith("."))
    images = [p for p in files if p.suffix.lower() in IMAGE_SUFFIXES]
    if images:
        return images
    where = " or its sub-folders" if recursive else ""
    if not files:
        raise DataError(f"{folder}: empty, no {what}{where} (looked for {_looked_for()})")
    raise DataError(
        f"{folder}: no {what}{where}, only {len(files)} other file(s) such as "
        f"{files[0].relative_to(folder)} (looked for {_looked_for()})"
    )


def no_match(folder, images: list[Path], expected: str) -> DataError:
    """The error for a folder whose image files exist but none is named as
    expected: how many there are, one of them, and what was expected."""
    folder = Path(folder)
    return DataError(
        f"{folder}: none of its {len(images)} image files matches {expected} "
        f"(e.g. {Path(images[0]).relative_to(folder)})"
    )


def load_folder_per_class(
    root,
    cap: int | None = None,
    seed: int = 0,
    classes: list[str] | None = None,
    kind: str = "class",
    what: str = "images",
) -> list[tuple[Path, str]]:
    """``[(path, label), ...]`` for every image in ``root/<label>/``.

    ``cap`` keeps at most that many images per class (a seeded random
    choice); ``classes`` restricts and orders the labels. Raises
    :class:`DataError` when ``root`` is missing or holds no images, saying
    whether it is empty, has no sub-folders, or its sub-folders hold no image
    files (``kind``: what a sub-folder stands for, ``what``: what the images
    are, both for the message).
    """
    root = Path(root)
    if not root.is_dir():
        raise DataError(f"{root}: no such folder (expected one sub-folder per {kind})")
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
        raise _why_no_records(root, folders, classes, kind, what)
    return records


def _why_no_records(root: Path, folders: list[Path], classes, kind: str, what: str) -> DataError:
    head = f"{root}: no {what}"
    expected = f"expected one sub-folder per {kind} holding its images"
    if not folders and classes is not None:
        shown = ", ".join(map(str, classes[:5])) + (", ..." if len(classes) > 5 else "")
        return DataError(f"{head}: no sub-folder for any of the {kind} names {shown} ({expected})")
    if not folders:
        loose = sorted(p for p in root.iterdir() if p.is_file() and not p.name.startswith("."))
        if not loose:
            return DataError(f"{head}: empty, no sub-folders ({expected})")
        return DataError(
            f"{head}: no sub-folders, only {len(loose)} file(s) such as {loose[0].name} ({expected})"
        )
    names = ", ".join(f.name for f in folders[:3]) + (", ..." if len(folders) > 3 else "")
    others = sorted(p for f in folders for p in f.iterdir() if p.is_file() and not p.name.startswith("."))
    if not others:
        return DataError(
            f"{head}: its {len(folders)} sub-folders ({names}) are empty, no image files "
            f"(looked for {_looked_for()})"
        )
    return DataError(
        f"{head}: its {len(folders)} sub-folders ({names}) hold no image files, only "
        f"{len(others)} other file(s) such as {others[0].relative_to(root)} "
        f"(looked for {_looked_for()})"
    )
