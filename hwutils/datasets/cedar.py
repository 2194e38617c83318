"""CEDAR signatures: ``full_org/original_N_M.png`` (genuine signature M of
person N) and ``full_forg/forgeries_N_M.png`` (skilled forgery M of person N).
Returns the same :class:`~hwutils.datasets.sign_data.SignatureRecord` as the
sign_data loader."""

from __future__ import annotations

import re
from pathlib import Path

from hwutils.datasets.folders import no_match, require_images
from hwutils.datasets.sign_data import GENUINE, SKILLED, SignatureRecord, check_records
from hwutils.errors import DataError
from hwutils.images import list_images

_NAME = re.compile(r"^(original|forgeries)_(\d+)_(\d+)$", re.IGNORECASE)


def load_cedar(root, min_genuine: int = 2) -> list[SignatureRecord]:
    """All CEDAR signatures under ``root`` (persons named ``NNN`` zero-padded)."""
    root = Path(root)
    org = root / "full_org"
    if not org.is_dir():
        raise DataError(f"{root}: not a CEDAR folder (missing full_org/)")
    org_images = require_images(org, what="signature images")
    forg = root / "full_forg"  # optional: a CEDAR copy without forgeries is genuine signatures only
    records = []
    for images, expected in (
        (org_images, "original"),
        (list_images(forg) if forg.is_dir() else [], "forgeries"),
    ):
        for path in images:
            m = _NAME.match(path.stem)
            if not m or m.group(1).lower() != expected:
                continue  # Thumbs.db-like strays and unrelated files are ignored
            person = f"{int(m.group(2)):03d}"
            records.append(SignatureRecord(path, person, GENUINE if expected == "original" else SKILLED))
    if not records:
        raise no_match(org, org_images, "original_N_M.png")
    return check_records(sorted(records, key=lambda r: str(r.path)), root, min_genuine)
