"""Labelled word images: a CSV with columns ``FILENAME,IDENTITY`` (the Kaggle
"handwriting-recognition" layout) beside (or pointing into) an image folder."""

from __future__ import annotations

import csv
import warnings
import zlib
from dataclasses import dataclass
from pathlib import Path

from hwutils.errors import DataError


class DataWarning(UserWarning):
    """A few bad rows in a data file, skipped and named."""


@dataclass(frozen=True)
class WordRecord:
    """One labelled word image: its path and the label as written in the CSV."""

    path: Path
    label: str


def read_word_labels(
    labels_csv, image_dir=None, limit: int | None = None, max_bad_fraction: float = 0.05
) -> tuple[list[WordRecord], list[int]]:
    """Records of a ``FILENAME,IDENTITY`` CSV, in file order, and the line
    numbers of the rows skipped as bad.

    ``image_dir`` defaults to the CSV's folder. Labels are stripped of
    surrounding spaces; empty labels are kept as ``""`` (the evaluation counts
    them as non-words). A bad row is one shorter than the header (no
    ``IDENTITY`` field: the label is unknown, not empty) or without a file
    name; blank lines are not rows. Bad rows are skipped and their lines
    returned; more than one bad row and more than ``max_bad_fraction`` of
    the rows read is an error (a cut file or another delimiter, not a stray
    line). Image files are not checked here
    (:func:`hwutils.ocr.evaluate.check_word_files` does, cheaply). Raises :class:`DataError` naming the file (and lines) when the
    CSV is missing, lacks the two columns, has too many bad rows or no row.
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
        records, bad, n_rows = [], [], 0
        for row in reader:
            if not any(field.strip() for field in row):
                continue
            n_rows += 1
            if len(row) <= max(fi, li) or not row[fi].strip():
                bad.append(reader.line_num)
                continue
            records.append(WordRecord(image_dir / row[fi].strip(), row[li].strip()))
            if limit is not None and len(records) >= limit:
                break
    if len(bad) > max(1.0, max_bad_fraction * n_rows) or (bad and not records):
        raise DataError(
            f"{labels_csv}: {len(bad)} of {n_rows} rows have no file name or are shorter than the "
            f"header {','.join(header)} ({_lines(bad)}); more than max_bad_fraction={max_bad_fraction}: "
            f"a cut file, or not comma-separated?"
        )
    if not records:
        raise DataError(f"{labels_csv}: no rows")
    return records, bad


def load_word_labels(
    labels_csv, image_dir=None, limit: int | None = None, max_bad_fraction: float = 0.05
) -> list[WordRecord]:
    """The records of :func:`read_word_labels`; skipped bad rows give a
    :class:`DataWarning` naming the file and their lines."""
    records, bad = read_word_labels(labels_csv, image_dir, limit, max_bad_fraction)
    if bad:
        warnings.warn(bad_rows_message(labels_csv, bad), DataWarning, stacklevel=2)
    return records


def bad_rows_message(labels_csv, bad: list[int]) -> str:
    """One line naming the skipped rows of a labels CSV."""
    return f"{labels_csv}: {len(bad)} row(s) without a file name or shorter than the header skipped ({_lines(bad)})"


def _lines(numbers: list[int], show: int = 10) -> str:
    shown = ", ".join(map(str, numbers[:show]))
    return f"line{'s' if len(numbers) > 1 else ''} {shown}{', ...' if len(numbers) > show else ''}"


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
