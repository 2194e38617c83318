"""Splits by group: every item of a group (the lines of one IAM form, the
patches of one line, the pages of one person) lands on exactly one side.

The functions take plain sequences of labels and groups and return index
arrays, so they work on records of any loader.
"""

from __future__ import annotations

from collections import defaultdict

import numpy as np

from hwutils.errors import DataError, ParamsError


def split_by_group(
    labels, groups, val_fraction: float = 0.15, test_fraction: float = 0.2, seed: int = 0, what: str = "form"
) -> dict[str, np.ndarray]:
    """Indices of ``train``/``val``/``test`` items, split per label by group.

    For each label (writer) its distinct groups are shuffled with ``seed``;
    ``round(n * fraction)`` groups (at least one when the fraction is > 0) go
    to test and to validation, the rest to train. A label needs at least one
    training group plus one per non-empty side, otherwise :class:`DataError`
    names the label and the count (``what`` names the group kind in messages).
    """
    labels = np.asarray(labels).astype(str)
    groups = np.asarray(groups).astype(str)
    if len(labels) != len(groups):
        raise ValueError("labels and groups differ in length")
    for name, frac in (("val_fraction", val_fraction), ("test_fraction", test_fraction)):
        if not 0 <= frac < 1:
            raise ParamsError(f"{name}: must be in [0, 1), got {frac}")
    if val_fraction + test_fraction >= 1:
        raise ParamsError("val_fraction + test_fraction: must leave something to train on")
    rng = np.random.default_rng(seed)
    groups_of: dict[str, list[str]] = defaultdict(list)
    for lab, grp in zip(labels, groups):
        if grp not in groups_of[lab]:
            groups_of[lab].append(grp)
    side_of: dict[tuple[str, str], str] = {}
    for lab in sorted(groups_of):
        gs = sorted(groups_of[lab])
        n = len(gs)
        n_test = max(1, int(round(n * test_fraction))) if test_fraction > 0 else 0
        n_val = max(1, int(round(n * val_fraction))) if val_fraction > 0 else 0
        needed = 1 + (test_fraction > 0) + (val_fraction > 0)
        if n < needed:
            raise DataError(
                f"writer {lab}: only {n} {what}(s), a split into train"
                f"{'/val' if val_fraction > 0 else ''}{'/test' if test_fraction > 0 else ''} "
                f"needs at least {needed}"
            )
        while n_test + n_val > n - 1:  # keep at least one training group
            if n_val >= n_test and n_val > 1:
                n_val -= 1
            elif n_test > 1:
                n_test -= 1
            else:
                break
        order = [gs[i] for i in rng.permutation(n)]
        for i, g in enumerate(order):
            side_of[(lab, g)] = "test" if i < n_test else "val" if i < n_test + n_val else "train"
    sides = np.array([side_of[(l, g)] for l, g in zip(labels, groups)])
    return {name: np.flatnonzero(sides == name) for name in ("train", "val", "test")}


def hold_out_labels(labels, n: int, seed: int = 0, name: str = "unknown_writers") -> list[str]:
    """``n`` labels drawn with ``seed`` to keep out of training entirely
    (the "unknown writers" of open-set evaluation, the calibration writers of
    the likelihood ratios); sorted. ``name``: the parameter named in errors."""
    names = sorted(set(np.asarray(labels).astype(str)))
    if n <= 0:
        return []
    if n >= len(names) - 1:
        raise ParamsError(f"{name}: {n} held out leaves fewer than 2 of {len(names)} writers to train on")
    rng = np.random.default_rng(seed + 7919)
    return sorted(rng.choice(names, size=n, replace=False).tolist())


def check_disjoint(groups: dict[str, object], what: str = "group") -> None:
    """Raise :class:`DataError` when a group (an IAM form, a page, a person)
    sits on two sides of a split: ``groups`` maps each side (``train``,
    ``val``, ``test``) to the groups on it. The message names both sides,
    how many groups they share and a few of them, so a leak is never silent."""
    sides = {name: set(map(str, g)) for name, g in groups.items()}
    names = list(sides)
    for i, a in enumerate(names):
        for b in names[i + 1 :]:
            shared = sorted(sides[a] & sides[b])
            if shared:
                shown = ", ".join(shared[:5]) + (", ..." if len(shared) > 5 else "")
                raise DataError(
                    f"split leak: {len(shared)} {what}(s) on both {a} and {b} ({shown}); "
                    f"every {what} must sit on one side only"
                )
