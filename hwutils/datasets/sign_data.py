"""Signature datasets in the ``sign_data`` layout (Kaggle / ICDAR 2011 SigComp).

Layout::

    ROOT/NNN/*.png                  genuine signatures of person NNN
    ROOT/NNN_forg/FFFFNNN_KK.png    skilled forgery KK of NNN's signature by forger FFFF
    ROOT/NNN_forg/KK_FFFFNNN.png    the same, as named in part of the Kaggle copy

A root without ``*_forg`` folders is simply a folder per person of genuine
signatures. The synthetic generator writes the same layout, so one loader
reads synthetic and real data. Records are :class:`SignatureRecord`.
"""

from __future__ import annotations

import random
import re
from dataclasses import dataclass
from pathlib import Path

from hwutils.datasets.folders import load_folder_per_class
from hwutils.errors import DataError

FORGERY_SUFFIX = "_forg"
GENUINE, SKILLED = "genuine", "skilled"


@dataclass(frozen=True)
class SignatureRecord:
    """One signature image: ``kind`` is ``genuine`` or ``skilled``; ``person``
    is whose signature it is (claimed identity); ``forger`` names the forger
    of a skilled forgery (empty when unknown or genuine)."""

    path: Path
    person: str
    kind: str
    forger: str = ""


def check_records(records: list[SignatureRecord], root, min_genuine: int = 2) -> list[SignatureRecord]:
    """Raise :class:`DataError` for a person with fewer than ``min_genuine``
    genuine signatures or forgeries of a person without genuine ones."""
    genuine: dict[str, int] = {}
    for r in records:
        if r.kind == GENUINE:
            genuine[r.person] = genuine.get(r.person, 0) + 1
    for person in sorted({r.person for r in records if r.kind == SKILLED}):
        if person not in genuine:
            raise DataError(
                f"{Path(root) / (person + FORGERY_SUFFIX)}: forgeries of person {person!r} "
                f"but no genuine folder {Path(root) / person}"
            )
    for person, n in sorted(genuine.items()):
        if n < min_genuine:
            raise DataError(
                f"{Path(root) / person}: person {person!r} has {n} genuine signature(s); "
                f"at least {min_genuine} are needed (references and questioned)"
            )
    return records


def _forger_of(stem: str, person: str) -> str:
    """The forger id in a forgery's file name (without suffix): ``FFFFNNN_KK`` or, as in
    part of the Kaggle copy, ``KK_FFFFNNN`` (``NNN`` = ``person``); ``""`` for other names."""
    p = re.escape(person)
    m = re.match(rf"^(\d+?){p}_\d+$", stem) or re.match(rf"^\d+_(\d+?){p}$", stem)
    return m.group(1) if m else ""


def load_sign_data(root, min_genuine: int = 2) -> list[SignatureRecord]:
    """All signatures under ``root`` in the sign_data layout, sorted by path."""
    root = Path(root)
    pairs = load_folder_per_class(root, kind="person", what="signature images")
    records = []
    for path, label in pairs:
        if label.endswith(FORGERY_SUFFIX):
            person = label[: -len(FORGERY_SUFFIX)]
            records.append(SignatureRecord(Path(path), person, SKILLED, _forger_of(Path(path).stem, person)))
        else:
            records.append(SignatureRecord(Path(path), label, GENUINE))
    return check_records(records, root, min_genuine)


def persons(records: list[SignatureRecord]) -> list[str]:
    """Sorted person ids that have genuine signatures."""
    return sorted({r.person for r in records if r.kind == GENUINE})


def split_persons(person_ids, n_val: int, n_test: int = 0, seed: int = 0) -> tuple[list, list, list]:
    """Seeded disjoint split of persons into (train, validation, test).

    Raises :class:`DataError` when fewer than one training person remains.
    """
    ids = sorted(person_ids)
    if n_val < 0 or n_test < 0:
        raise DataError(f"negative person count: val={n_val}, test={n_test}")
    if len(ids) - n_val - n_test < 1:
        raise DataError(
            f"only {len(ids)} persons: cannot hold out {n_val} validation and {n_test} test persons "
            f"and keep one for training"
        )
    shuffled = ids[:]
    random.Random(seed).shuffle(shuffled)
    test = sorted(shuffled[:n_test])
    val = sorted(shuffled[n_test : n_test + n_val])
    train = sorted(shuffled[n_test + n_val :])
    return train, val, test


def select(records: list[SignatureRecord], person_ids) -> list[SignatureRecord]:
    """Records of the given persons only."""
    keep = set(person_ids)
    return [r for r in records if r.person in keep]
