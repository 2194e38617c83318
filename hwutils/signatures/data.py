"""Signature datasets for the stage: pick the loader for a folder's layout and
turn records into preprocessed image arrays.

Layouts: ``sign_data`` (``NNN/`` + ``NNN_forg/``; also a plain folder per
person), ``cedar`` (``full_org/`` + ``full_forg/``); ``auto`` detects them.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from hwutils.datasets.cedar import load_cedar
from hwutils.datasets.sign_data import GENUINE, SKILLED, SignatureRecord, load_sign_data
from hwutils.errors import DataError, check_choice
from hwutils.images import read_gray
from hwutils.signatures.preprocess import preprocess_with_scan, stack_scans

LAYOUTS = ("auto", "sign_data", "cedar")


def load_records(root, layout: str = "auto", min_genuine: int = 2) -> list[SignatureRecord]:
    """Signature records of a dataset folder (see module docstring for layouts)."""
    check_choice("layout", layout, LAYOUTS)
    root = Path(root)
    if not root.is_dir():
        raise DataError(f"{root}: no such dataset folder")
    if layout == "cedar" or (layout == "auto" and (root / "full_org").is_dir()):
        return load_cedar(root, min_genuine)
    return load_sign_data(root, min_genuine)


def load_images(
    records: list[SignatureRecord], height: int, width: int, ink: str = "normalize"
) -> np.ndarray:
    """Preprocess every record -> ``(n, height, width)`` uint8 ink maps (ink = 255).

    Stored as uint8 to keep whole datasets small in memory; divide by 255 for
    the model. Unreadable or blank files raise :class:`ImageError` naming them.
    """
    return load_images_with_scan(records, height, width, ink)[0]


def load_images_with_scan(
    records: list[SignatureRecord],
    height: int,
    width: int,
    ink: str = "normalize",
    scan_names=(),
    transform=None,
) -> tuple[np.ndarray, dict]:
    """:func:`load_images` and, for the ``scan_names`` sets (see
    :func:`preprocess.scan_features`), the measures taken on each scan before
    cropping, every file read and denoised once: ``(images, {set: (n, d)})``
    (``{}`` without ``scan_names``). ``transform``: applied to each scan as read
    (e.g. :func:`hwutils.signatures.collection.recollect`), before everything else."""
    scan_names = list(scan_names)
    out = np.zeros((len(records), height, width), np.uint8)
    rows = []
    for i, r in enumerate(records):
        src = r.path if transform is None else transform(read_gray(r.path))
        img, scan = preprocess_with_scan(src, height, width, ink, scan_names, name=str(r.path))
        rows.append(scan)
        out[i] = np.round(img * 255.0).astype(np.uint8)
    return out, stack_scans(rows, scan_names) if scan_names else {}


def summary(records: list[SignatureRecord]) -> dict:
    """Counts of persons, genuine and skilled-forgery images."""
    return {
        "persons": len({r.person for r in records if r.kind == GENUINE}),
        "genuine": sum(r.kind == GENUINE for r in records),
        "skilled": sum(r.kind == SKILLED for r in records),
    }


def split_for_verification(
    records: list[SignatureRecord],
    val_persons: int,
    test_persons: int,
    seed: int = 0,
    test_records: list[SignatureRecord] | None = None,
) -> dict:
    """Persons split for writer-independent training and measurement.

    With ``test_records`` (a separate folder of other persons) every person of
    ``records`` is used for training/validation and the test set is that
    folder; otherwise ``test_persons`` persons of ``records`` are held out.
    Held-out persons never reach training or threshold calibration.
    Returns ``{"train": [...], "val": [...], "test": [...], "test_records": [...]}``.
    """
    from hwutils.datasets.sign_data import persons, select, split_persons

    if test_records is not None:
        train, val, _ = split_persons(persons(records), val_persons, 0, seed)
        overlap = sorted(set(persons(test_records)) & set(persons(records)))
        test = persons(test_records)
    else:
        train, val, test = split_persons(persons(records), val_persons, test_persons, seed)
        test_records = select(records, test)
        overlap = []
    if not val:
        raise DataError("val_persons: at least one validation person is needed to calibrate the threshold")
    if not test:
        raise DataError("test_persons: no test persons (set test_persons > 0 or give test_dir)")
    return {"train": train, "val": val, "test": test, "test_records": test_records, "id_overlap": overlap}
