"""Labelled word images: a CSV with columns ``FILENAME,IDENTITY`` (the Kaggle
"handwriting-recognition" layout) beside (or pointing into) an image folder."""

from __future__ import annotations

import csv
import zlib
from dataclasses import dataclass
from pathlib import Path

from hwutils.errors import DataError


@dataclass(frozen=True)
class WordRecord:
    """One labelled word image: its path and the label as written in the CSV."""

    path: Path
    label: str


def load_word_labels(labels_csv, image_dir=None, limit: int | None = None) -> list[WordRecord]:
    """Records of a ``FILENAME,IDENTITY`` CSV, in file order.

    ``image_dir`` defaults to the CSV's folder. Labels are stripped of
    surrounding spaces; empty labels are kept as ``""`` (the evaluation counts
    them as non-words). Missing image files are not checked here (reading
    them raises :class:`hwutils.errors.ImageError`). Raises
    :class:`DataError` when the CSV is missing or lacks the two columns.
    """
    labels_csv = Path(labels_csv)
    if not labels_csv.is_file():
        raise DataError(f"{labels_csv}: no such labels file (expected CSV with FILENAME,IDENTITY)")
    image_dir = Path(image_dir) if image_dir else labels_csv.parent
    with open(labels_csv, newline="", encoding="utf-8", errors="replace") as fh:
        reader = csv.reader(fh)
        header = [h.strip().upper() for h in next(reader, [])]
        if "FILENAME" not in header or "IDENTITY" not in header:
            raise DataError(f"{labels_csv}: header must have FILENAME and IDENTITY columns, got {header}")
        fi, li = header.index("FILENAME"), header.index("IDENTITY")
        records = []
        for row in reader:
            if not row or not row[fi].strip():
                continue
            label = row[li].strip() if li < len(row) else ""
            records.append(WordRecord(image_dir / row[fi].strip(), label))
            if limit is not None and len(records) >= limit:
                break
    if not records:
        raise DataError(f"{labels_csv}: no rows")
    return records


def split_by_file(records: list[WordRecord], fraction: float, salt: str = "harvest") -> tuple[list, list]:
    """Split records by a hash of the file name (stable across runs and
    machines): about ``fraction`` of them go to the first list.

    The hash is CRC32, which is affine in the name: for names of one length,
    another ``salt`` gives the same or the complementary split, not an
    independent one (do not split a half again with another salt)."""
    first, second = [], []
    for r in records:
        h = zlib.crc32(f"{salt}:{r.path.name}".encode()) / 2**32
        (first if h < fraction else second).append(r)
    return first, second
