"""The connected components of a word image's ink as boxes (:class:`_Group`), their typical
size, and the rules that drop, merge and flag them.

Used by the segmentation (:mod:`hwutils.ocr.segment`), the line finding
(:mod:`hwutils.ocr.ink`) and the over-segmentation (:mod:`hwutils.ocr.cuts`).
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
from scipy import ndimage


@dataclass
class _Group:
    comps: list[int]
    top: int
    bottom: int
    left: int
    right: int
    area: int
    meta: dict = field(default_factory=dict)

    @property
    def height(self):
        return self.bottom - self.top

    @property
    def width(self):
        return self.right - self.left

    @property
    def cy(self):
        return (self.top + self.bottom) / 2

    @property
    def cx(self):
        return (self.left + self.right) / 2


def _components(mask: np.ndarray):
    labels, n = ndimage.label(mask, structure=np.ones((3, 3), bool))
    if n == 0:
        return labels, []
    areas = np.bincount(labels.ravel(), minlength=n + 1)
    groups = []
    for i, sl in enumerate(ndimage.find_objects(labels), start=1):
        groups.append(_Group([i], sl[0].start, sl[0].stop, sl[1].start, sl[1].stop, int(areas[i])))
    return labels, groups


def _text_height(groups: list[_Group]) -> float:
    """Typical character height: a high percentile of the heights of
    components that are not specks (robust to dots and noise)."""
    heights = np.array([g.height for g in groups if g.area >= 8], float)
    if heights.size == 0:
        heights = np.array([g.height for g in groups], float)
    return float(max(4.0, np.percentile(heights, 75)))


def _drop_rules(groups, h_ref):
    """Long thin components (ruled lines of a form, underlines)."""
    return [
        g
        for g in groups
        if not (g.height <= max(2, 0.2 * h_ref) and g.width > 3 * h_ref)
        and not (g.width <= max(2, 0.2 * h_ref) and g.height > 3 * h_ref)
    ]


def _drop_border_lines(groups, h_ref, shape):
    """Thin strokes at the left or right end of the image: touching its side,
    or near the side and running from its top to its bottom (the side of a
    form's box cut by the crop, or a speck of it; read as ``I`` otherwise)."""
    height, width = shape
    thin = max(3.0, 0.25 * h_ref)
    near = 2 + 0.02 * width

    def border(g):
        full_height = g.top <= 1 and g.bottom >= height - 1
        touches = g.left <= 1 or g.right >= width - 1
        close = g.left <= near or g.right >= width - near
        return g.width <= thin and (touches or (close and full_height))

    return [g for g in groups if not border(g)]


def _merge(a: _Group, b: _Group) -> _Group:
    return _Group(
        a.comps + b.comps,
        min(a.top, b.top),
        max(a.bottom, b.bottom),
        min(a.left, b.left),
        max(a.right, b.right),
        a.area + b.area,
    )


def _merge_stacked(groups, h_ref, min_overlap: float = 0.5):
    """Merge groups that overlap horizontally by ``min_overlap`` of the
    narrower one and lie within ``0.45 h_ref`` of each other vertically."""
    groups = sorted(groups, key=lambda g: g.left)
    changed = True
    while changed:
        changed = False
        for i in range(len(groups)):
            for j in range(i + 1, len(groups)):
                a, b = groups[i], groups[j]
                if b.left >= a.right:
                    break
                overlap = min(a.right, b.right) - max(a.left, b.left)
                vgap = max(a.top, b.top) - min(a.bottom, b.bottom)
                if overlap >= min_overlap * min(a.width, b.width) and vgap <= 0.45 * h_ref:
                    # Don't glue two full-size characters written above each other.
                    if a.height >= 0.6 * h_ref and b.height >= 0.6 * h_ref and vgap > 0:
                        continue
                    groups[i] = _merge(a, b)
                    del groups[j]
                    changed = True
                    break
            if changed:
                break
    return groups


def _char_width(chars, h_ref) -> float:
    widths = np.array([g.width for g in chars if g.height >= 0.5 * h_ref], float)
    return float(np.clip(np.median(widths) if widths.size else 0.7 * h_ref, 0.5 * h_ref, 0.9 * h_ref))


def _flag_hyphens(groups, h_ref, centre):
    for g in groups:
        if g.height <= 0.3 * h_ref and g.width >= 1.5 * g.height and abs(g.cy - centre) <= 0.35 * h_ref:
            g.meta["hyphen"] = True
    return groups
