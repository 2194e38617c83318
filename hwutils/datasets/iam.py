"""The IAM Handwriting Database layout (and anything written in it).

On disk::

    ROOT/forms.txt                 "a01-000u 000 2 prt 7 5 52 36" (form id, writer id, ...); '#' lines are comments
    ROOT/lines.txt                 "a01-000u-00 ok 154 19 408 746 1661 89 A|MOVE|to" (optional: segmentation status)
    ROOT/lines/a01/a01-000u/a01-000u-00.png
    ROOT/sentences.txt             (optional, same idea for sentence images)
    ROOT/sentences/a01/a01-000u/a01-000u-s00-00.png

:func:`load_iam` returns one :class:`LineRecord` per image with its writer and
form (the form is the split group: lines of one form never land on both sides
of a split). The synthetic handwriting generator writes the same layout.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from hwutils.datasets.folders import no_match, require_images
from hwutils.errors import DataError, check_choice

LEVELS = ("lines", "sentences")


@dataclass
class LineRecord:
    """One line (or sentence) image of a known writer.

    ``group`` is what splits are made by (the IAM form, or the page / line of a
    page for page collections). ``path`` points at the image file; ``image``
    holds the pixels instead when the line was cut out of a page in memory.
    """

    writer: str
    group: str
    line_id: str
    path: Path | None = None
    image: np.ndarray | None = field(default=None, repr=False)
    page: str = ""


def read_forms(path: str | Path) -> dict[str, str]:
    """``{form_id: writer_id}`` from an IAM ``forms.txt`` (comment lines skipped).

    Raises :class:`DataError` naming the file when it is missing or holds no forms.
    """
    path = Path(path)
    if not path.is_file():
        raise DataError(
            f"{path}: forms.txt not found (expected the IAM layout: forms.txt, lines/ or sentences/)"
        )
    forms: dict[str, str] = {}
    for number, line in enumerate(path.read_text(errors="replace").splitlines(), 1):
        line = line.strip()
        if not line or line.startswith("#"):
            continue
        parts = line.split()
        if len(parts) < 2:
            raise DataError(f"{path}:{number}: expected 'FORM_ID WRITER_ID ...', got {line[:60]!r}")
        forms[parts[0]] = parts[1]
    if not forms:
        raise DataError(f"{path}: no forms listed")
    return forms


def read_status(path: str | Path) -> dict[str, str]:
    """``{image_id: status}`` from IAM ``lines.txt`` / ``sentences.txt`` (``ok`` or ``err``).
    Empty when the file is absent."""
    path = Path(path)
    if not path.is_file():
        return {}
    status = {}
    for line in path.read_text(errors="replace").splitlines():
        if line.startswith("#") or not line.strip():
            continue
        parts = line.split()
        if len(parts) >= 2:
            status[parts[0]] = parts[1]
    return status


def form_of(image_id: str) -> str:
    """``a01-000u-00`` / ``a01-000u-s00-00`` -> ``a01-000u`` (the first two dash-separated parts)."""
    return "-".join(image_id.split("-")[:2])


def choose_writers(writer_of_form: dict[str, str], top_writers: int = 0, min_forms: int = 0) -> list[str]:
    """Writers to keep: the ``top_writers`` with most forms (ties by id), or
    every writer with at least ``min_forms`` forms; both 0 = all writers."""
    counts = Counter(writer_of_form.values())
    ranked = sorted(counts, key=lambda w: (-counts[w], w))
    if min_forms:
        ranked = [w for w in ranked if counts[w] >= min_forms]
    if top_writers:
        ranked = ranked[:top_writers]
    return sorted(ranked)


def load_iam(
    root: str | Path, level: str = "lines", ok_only: bool = True, top_writers: int = 0, min_forms: int = 0
) -> list[LineRecord]:
    """Every line (or sentence) image of the chosen writers, as :class:`LineRecord`.

    ``level``: ``lines`` or ``sentences`` (the image folder to read).
    ``ok_only``: keep only images whose status in ``lines.txt`` /
    ``sentences.txt`` is ``ok`` (ignored when that file is absent).
    ``top_writers`` / ``min_forms``: see :func:`choose_writers`.
    Raises :class:`DataError` naming the file or folder at fault.
    """
    check_choice("level", level, LEVELS)
    root = Path(root)
    if not root.is_dir():
        raise DataError(f"{root}: no such data folder")
    writer_of_form = read_forms(root / "forms.txt")
    folder = root / level
    if not folder.is_dir():
        raise DataError(f"{folder}: image folder not found (expected {level}/<prefix>/<form>/<id>.png)")
    status = read_status(root / f"{level}.txt") if ok_only else {}
    keep = set(choose_writers(writer_of_form, top_writers, min_forms))
    found = sorted(folder.glob("*/*/*.png"))
    if not found:  # empty, no images at all, or images not at <prefix>/<form>/<id>.png
        raise no_match(
            folder,
            require_images(folder, recursive=True, what=f"{level} images"),
            f"the IAM layout {level}/<prefix>/<form>/<id>.png",
        )
    if not any(form_of(p.stem) in writer_of_form for p in found):
        raise DataError(
            f"{folder}: none of its {len(found)} images belongs to a form listed in "
            f"{root / 'forms.txt'} (e.g. {found[0].relative_to(folder)}: form {form_of(found[0].stem)!r})"
        )
    records = []
    for path in found:
        image_id = path.stem
        form = form_of(image_id)
        writer = writer_of_form.get(form)
        if writer is None or writer not in keep:
            continue
        if status and status.get(image_id, "ok") != "ok":
            continue
        records.append(LineRecord(writer=writer, group=form, line_id=image_id, path=path, page=form))
    if not records:
        raise DataError(
            f"{folder}: no {level} images of the chosen writers "
            f"(top_writers={top_writers}, min_forms={min_forms})"
        )
    return records
