"""Cutting a word image into characters from its geometry alone (:func:`segment_word`).

The steps of :func:`segment_word`:

1. binarize (Otsu) and label 8-connected components;
2. drop ruled lines (long, thin components);
3. estimate the text height from the components and find the main text line,
   so fragments of the lines above and below a crop are left out;
4. merge the parts of one character that sit above each other (the dot of an
   ``i``, accents, a stroke broken in two);
5. drop a printed field label that ends with a colon (``NOM :`` on forms);
6. drop specks; mark hyphens (short flat marks at mid height);
7. split boxes too wide for one character at the emptiest columns;
8. order left to right and find the spaces (gaps much wider than usual).

Steps 1-6 find the handwritten line (:mod:`hwutils.ocr.ink`, with the
components' rules in :mod:`hwutils.ocr.components` and the field label in
:mod:`hwutils.ocr.field_label`); steps 7-8 are here. Every character is then
normalised like the training data (:mod:`hwutils.ocr.normalize`). The
segmentation by recognition cuts the word into smaller pieces instead
(:mod:`hwutils.ocr.cuts`). The names of those modules that other code uses
are importable from here too.
"""

from __future__ import annotations

import numpy as np

from hwutils.ocr import CHAR_SIZE
from hwutils.ocr.components import _char_width, _flag_hyphens, _Group
from hwutils.ocr.cuts import WordPieces, over_segment
from hwutils.ocr.ink import _prepare, line_ink
from hwutils.ocr.normalize import (
    CHAR_BOX,
    Segment,
    _to_segment,
    ink_crop,
    normalize_char,
    normalize_ink_bright,
)

__all__ = [
    "CHAR_BOX",
    "Segment",
    "WordPieces",
    "ink_crop",
    "line_ink",
    "normalize_char",
    "normalize_ink_bright",
    "over_segment",
    "segment_word",
    "space_flags",
]


def _split_wide(g: _Group, labels, w_ref: float, max_ratio: float) -> list[_Group]:
    """Cut a group wider than ``max_ratio * w_ref`` into ``round(width / w_ref)``
    pieces at the columns with the least ink near each even cut."""
    if g.width <= max_ratio * w_ref:
        return [g]
    n = max(2, int(round(g.width / w_ref)))
    sub = np.isin(labels[g.top : g.bottom, g.left : g.right], g.comps)
    profile = sub.sum(0).astype(float)
    cuts, window = [], max(1, int(0.3 * w_ref))
    for k in range(1, n):
        x = int(round(k * g.width / n))
        lo, hi = max(1, x - window), min(g.width - 1, x + window)
        if hi <= lo:
            continue
        cuts.append(lo + int(np.argmin(profile[lo:hi] + 0.01 * np.abs(np.arange(lo, hi) - x))))
    pieces, start = [], 0
    for x in sorted(set(cuts)) + [g.width]:
        if x - start < 2:
            continue
        cols = sub[:, start:x]
        rows = np.flatnonzero(cols.any(1))
        if rows.size:
            piece = _Group(
                g.comps, g.top + rows[0], g.top + rows[-1] + 1, g.left + start, g.left + x, int(cols.sum())
            )
            piece.meta["split"] = True
            pieces.append(piece)
        start = x
    return pieces or [g]


def segment_word(
    image,
    *,
    min_speck: float = 0.02,
    max_width_ratio: float = 1.7,
    drop_label: bool = True,
    detect_spaces: bool = True,
    space_gap: float = 1.2,
    faint: float = 0.3,
    size: int = CHAR_SIZE,
) -> list[Segment]:
    """Cut a word image (path, array or PIL image) into characters, left to
    right, from its geometry alone (no classifier; see :func:`over_segment`
    for segmentation by recognition).

    Returns :class:`Segment` objects; an image without ink (blank, all white,
    uniform) gives ``[]``. ``min_speck`` is the smallest ink area kept, as a
    share of the squared text height; boxes wider than ``max_width_ratio``
    times the typical character width are split; a space is marked where the
    gap exceeds the median gap plus ``space_gap`` typical widths; ``faint``
    lowers the ink threshold for light pens (:func:`hwutils.ocr.ink._ink_mask`).
    """
    prepared = _prepare(image, min_speck, drop_label, faint)
    if prepared is None:
        return []
    gray, labels, groups, h_ref, centre = prepared
    groups = _flag_hyphens(groups, h_ref, centre)
    w_ref = _char_width([g for g in groups if not g.meta.get("hyphen")], h_ref)
    out: list[_Group] = []
    for g in groups:
        out += [g] if g.meta.get("hyphen") else _split_wide(g, labels, w_ref, max_width_ratio)
    out.sort(key=lambda g: g.cx)
    spaces = space_flags(out, space_gap) if detect_spaces else [False] * len(out)
    return [_to_segment(gray, labels, g, space, size) for g, space in zip(out, spaces)]


def space_flags(groups, space_gap: float = 1.2) -> list[bool]:
    """A space precedes a character when the gap before it exceeds the
    median gap plus ``space_gap`` typical character widths."""
    flags = [False] * len(groups)
    if len(groups) < 3:
        return flags
    gaps = np.array([b.left - a.right for a, b in zip(groups, groups[1:])], float)
    w_med = float(np.median([g.width for g in groups]))
    limit = max(np.median(gaps), 0) + space_gap * w_med
    for i, gap in enumerate(gaps, start=1):
        flags[i] = bool(gap > limit)
    return flags
