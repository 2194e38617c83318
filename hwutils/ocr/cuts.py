"""Cutting a word image into pieces no wider than about one character, for segmentation by
recognition (:func:`over_segment`).

A search (:mod:`hwutils.ocr.search`) then groups consecutive pieces into
characters, scoring every candidate grouping with the classifier.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy import ndimage

from hwutils.ocr import CHAR_SIZE
from hwutils.ocr.components import _char_width, _flag_hyphens, _Group
from hwutils.ocr.ink import _prepare
from hwutils.ocr.normalize import Segment, _to_segment


@dataclass
class WordPieces:
    """A word cut into small pieces (components, and parts of wide
    components cut at ink minima) for segmentation by recognition: a
    character is one or a few consecutive pieces.

    ``pieces`` are ordered left to right; a piece with ``meta["hyphen"]`` is
    a hyphen and is never joined to others, one with ``meta["cut_left"]``
    was cut from the piece on its left. ``h_ref``/``w_ref`` are the
    typical character height and width in pixels."""

    gray: np.ndarray
    labels: np.ndarray
    pieces: list
    h_ref: float
    w_ref: float

    def __len__(self):
        return len(self.pieces)

    def is_hyphen(self, i: int) -> bool:
        return bool(self.pieces[i].meta.get("hyphen"))

    def group(self, i: int, j: int) -> _Group:
        """Pieces ``i..j-1`` as one group (its box, area and pieces; a hyphen
        piece alone stays a hyphen)."""
        ps = self.pieces[i:j]
        g = _Group(
            sorted({c for p in ps for c in p.comps}),
            min(p.top for p in ps),
            max(p.bottom for p in ps),
            min(p.left for p in ps),
            max(p.right for p in ps),
            sum(p.area for p in ps),
        )
        g.meta["pieces"] = ps
        if j - i == 1 and self.is_hyphen(i):
            g.meta["hyphen"] = True
        return g

    def inner_gap(self, i: int, j: int) -> float:
        """The widest empty column run between pieces ``i..j-1`` (pixels)."""
        if j - i < 2:
            return 0.0
        spans = sorted((p.left, p.right) for p in self.pieces[i:j])
        gap, reach = 0, spans[0][1]
        for left, right in spans[1:]:
            gap = max(gap, left - reach)
            reach = max(reach, right)
        return float(gap)

    def segment(self, i: int, j: int, size: int = CHAR_SIZE) -> Segment:
        return _to_segment(self.gray, self.labels, self.group(i, j), False, size)


def _cut_columns(g: _Group, labels, w_ref: float, min_piece: float) -> list[int]:
    """Candidate cut columns (relative to ``g.left``) inside a component:
    local minima of its column ink profile, at least ``min_piece * w_ref``
    from each other and from the edges, lowest ink first."""
    sub = np.isin(labels[g.top : g.bottom, g.left : g.right], g.comps)
    profile = ndimage.uniform_filter1d(sub.sum(0).astype(float), 3)
    gap = max(2, int(round(min_piece * w_ref)))
    if g.width < 2 * gap:
        return []
    inner = np.arange(gap, g.width - gap + 1)
    is_min = (profile[inner] <= profile[inner - 1]) & (
        profile[inner] <= profile[np.minimum(inner + 1, g.width - 1)]
    )
    # a cut through a thick vertical stroke is never a character boundary
    stroke = max(1.0, float(np.median(profile[profile > 0])) if (profile > 0).any() else 1.0)

    def valley(x):  # clearly lower than the ink on both sides (not a flat stretch of one stroke)
        return profile[x] <= 0.7 * min(profile[:x].max(), profile[x + 1 :].max())

    candidates = [int(x) for x in inner[is_min] if profile[x] <= 1.2 * stroke and valley(int(x))]
    cuts: list[int] = []
    for x in sorted(candidates, key=lambda x: profile[x]):
        if all(abs(x - c) >= gap for c in cuts):
            cuts.append(x)
    return sorted(cuts)


def over_segment(
    image,
    *,
    min_speck: float = 0.02,
    drop_label: bool = True,
    split_ratio: float = 1.1,
    min_piece: float = 0.35,
    faint: float = 0.3,
) -> WordPieces | None:
    """Cut a word image into pieces no wider than about one character:
    components (dots and broken strokes already joined when stacked) and
    parts of components wider than ``split_ratio`` typical widths, cut at
    ink minima. None for an image without ink.

    A search (:mod:`hwutils.ocr.search`) then groups consecutive pieces
    into characters, scoring every candidate grouping with the classifier."""
    prepared = _prepare(image, min_speck, drop_label, faint)
    if prepared is None:
        return None
    gray, labels, groups, h_ref, centre = prepared
    groups = _flag_hyphens(groups, h_ref, centre)
    w_ref = _char_width([g for g in groups if not g.meta.get("hyphen")], h_ref)
    pieces = []
    for g in groups:
        cuts = (
            []
            if g.meta.get("hyphen") or g.width <= split_ratio * w_ref
            else _cut_columns(g, labels, w_ref, min_piece)
        )
        if not cuts:
            pieces.append(g)
            continue
        sub = np.isin(labels[g.top : g.bottom, g.left : g.right], g.comps)
        for a, b in zip([0] + cuts, cuts + [g.width]):
            rows = np.flatnonzero(sub[:, a:b].any(1))
            if rows.size:
                piece = _Group(
                    g.comps,
                    g.top + int(rows[0]),
                    g.top + int(rows[-1]) + 1,
                    g.left + a,
                    g.left + b,
                    int(sub[:, a:b].sum()),
                )
                piece.meta["cut_left"] = a > 0  # its left edge cuts through ink
                pieces.append(piece)
    pieces.sort(key=lambda p: p.cx)
    return WordPieces(gray, labels, pieces, h_ref, w_ref)
