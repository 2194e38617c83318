"""Word evaluation items, the cheap check of their files before training, and
the sample words a report draws.

An evaluation item is an ``(image_or_path, label)`` pair or a record with
``path`` and ``label`` (:class:`hwutils.datasets.words.WordRecord`). Every row
of :func:`hwutils.ocr.read.evaluate_words` carries the position of its item
(``index``), its file name and its label, so whatever is drawn from the rows
takes each image from its own row, never from a parallel list that an
unreadable file would shift.
"""

from __future__ import annotations

import os
from pathlib import Path

from hwutils.datasets.folders import require_images
from hwutils.errors import DataError, ImageError
from hwutils.images import check_image_file

SAMPLE_KINDS = ("word", "empty")


def item_image(item):
    """The image (a path or pixels) of an evaluation item."""
    path = getattr(item, "path", None)
    return path if path is not None else item[0]


def item_label(item) -> str:
    """The label of an evaluation item."""
    return item.label if hasattr(item, "label") else item[1]


def _is_file(image) -> bool:
    return isinstance(image, (str, os.PathLike))


def file_problem(path) -> str | None:
    """Why ``path`` cannot be a word image, found cheaply through the image
    door's header check (:func:`hwutils.images.check_image_file`: exists, not
    empty, an image under the pixel limit; the pixels are not decoded), or None."""
    try:
        check_image_file(path)
    except ImageError as exc:
        return str(exc)
    return None


def none_readable(source, n: int, first: str) -> DataError:
    """The one error of a word list none of whose images could be read."""
    return DataError(f"{source}: none of the {n} word images listed could be read (first: {first})")


def check_word_files(items, source) -> list[tuple[str, str]]:
    """Check the files of the evaluation items before any training.

    Returns ``(path, reason)`` for each listed file that cannot be read (the
    evaluation counts them as unreadable). Raises :class:`DataError` naming
    ``source`` (the labels CSV) when there is no item at all, or when not
    one listed file is readable (and then, when they all sit in one folder
    that is empty or holds no image file, says so too).
    """
    items = list(items)
    if not items:
        raise DataError(f"{source}: no words to evaluate")
    bad = []
    for item in items:
        image = item_image(item)
        if _is_file(image):
            why = file_problem(image)
            if why:
                bad.append((str(image), why))
    if len(bad) == len(items):
        error = none_readable(source, len(items), bad[0][1])
        folders = {Path(p).parent for p, _ in bad}
        if len(folders) == 1 and next(iter(folders)).is_dir():
            try:
                require_images(next(iter(folders)))
            except DataError as why:  # the listed files' folder is empty or holds no image at all
                error = DataError(f"{error}; {why}")
        raise error
    return bad


def sample_words(items, rows, n: int, kinds=SAMPLE_KINDS) -> list[tuple[object, dict]]:
    """The first ``n`` rows of the given kinds with the image of their own item:
    ``[(image_or_path, row), ...]``. Unreadable files are never among them.

    ``rows`` are those :func:`hwutils.ocr.read.evaluate_words` returned for
    ``items``; a row whose item has another label or file raises ValueError
    (the rows belong to other items).
    """
    items = list(items)
    out = []
    for row in rows:
        if len(out) >= n:
            break
        if row["kind"] not in kinds:
            continue
        item = items[row["index"]]
        image = item_image(item)
        name = Path(image).name if _is_file(image) else ""
        if item_label(item) != row["label"] or name != row["file"]:
            raise ValueError(
                f"row {row['index']} (label {row['label']!r}, file {row['file']!r}) does not "
                f"belong to item {row['index']} (label {item_label(item)!r}, file {name!r})"
            )
        out.append((image, row))
    return out


def split_validation(items, fraction: float, salt: str = "validation") -> tuple[list, list]:
    """Split evaluation items into ``(validation, evaluation)`` by a SHA-1 hash
    of each file name (stable across runs and machines, and independent of the
    CRC32 split that set the harvest part aside, so it can split that split's
    other part): about ``fraction`` of them validate (choices are tuned on
    them), the rest are only ever scored. Items without a file name (arrays)
    are split by position."""
    import hashlib

    validation, evaluation = [], []
    for k, item in enumerate(items):
        image = item_image(item)
        key = Path(image).name if _is_file(image) else str(k)
        h = int.from_bytes(hashlib.sha1(f"{salt}:{key}".encode()).digest()[:8], "big") / 2**64
        (validation if h < fraction else evaluation).append(item)
    return validation, evaluation
