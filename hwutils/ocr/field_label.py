"""Dropping a printed field label that ends with a colon (``NOM :`` on forms) from a word
image's components."""

from __future__ import annotations

import numpy as np

from hwutils.ocr.components import _Group


def _is_colon(g: _Group, labels, h_ref) -> bool:
    if len(g.comps) != 2 or g.height > 0.9 * h_ref:
        return False
    sl = labels[g.top : g.bottom, g.left : g.right]
    parts = []
    for c in g.comps:
        rows = np.flatnonzero((sl == c).any(1))
        cols = np.flatnonzero((sl == c).any(0))
        parts.append((rows[0], rows[-1] + 1, cols[-1] + 1 - cols[0]))
    (t1, b1, w1), (t2, b2, w2) = sorted(parts)
    small = max(b1 - t1, b2 - t2, w1, w2) <= 0.35 * h_ref
    return small and t2 - b1 >= 0.5 * min(b1 - t1, b2 - t2)


def _drop_label_prefix(groups, labels, h_ref, width):
    """Drop a printed field label ending in a colon (``NOM :``) in the left
    part of the image, when handwriting follows it."""
    colons = [g for g in groups if g.right < 0.7 * width and _is_colon(g, labels, h_ref)]
    if not colons:
        return groups

    cut = max(g.right for g in colons)

    def kept(g):  # right of every colon, or right of a colon of its own line: a colon of a
        # printed line above or below (``CODE RNE / UAI :``) may end further right than the
        # field's own (``NOM :``) and must not cut the name written after the latter
        return g.cx > cut or any(c.right < g.cx and abs(g.cy - c.cy) <= 0.5 * h_ref for c in colons)

    rest = [g for g in groups if kept(g)]
    return rest if rest else groups
