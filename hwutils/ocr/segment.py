"""Cutting a word image into characters, and normalising one character.

The steps of :func:`segment_word` (each a small function below):

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

Every character is then normalised like the training data by
:func:`normalize_char`: cropped to its ink, contrast stretched, the longer
side scaled to ``box`` pixels and centred on a ``size`` x ``size`` white square.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
from scipy import ndimage

from hwutils import images as I
from hwutils.ocr import CHAR_SIZE

CHAR_BOX = 24  # longer side of a character inside the 32x32 square


@dataclass
class Segment:
    """One character (or a hyphen) cut from a word image.

    ``box`` is ``(left, top, width, height)`` in the input image's pixels;
    ``image`` the normalised ``32x32`` uint8 character (paper white);
    ``kind`` is ``"char"`` or ``"-"``; ``space_before`` marks a word gap.
    """

    box: tuple[int, int, int, int]
    image: np.ndarray
    kind: str = "char"
    space_before: bool = False
    parts: int = 1


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


# ----------------------------------------------------------------- normalising
def normalize_char(gray: np.ndarray, mask: np.ndarray | None = None, size: int = CHAR_SIZE,
                   box: int = CHAR_BOX) -> np.ndarray:
    """One character image (uint8, paper white) -> ``size`` x ``size`` uint8.

    Pixels outside ``mask`` (True = belongs to the character) become paper.
    The ink is cropped, its contrast stretched (darkest pixel -> 0), the
    longer side scaled to ``box`` and the result centred. An image without
    ink gives a blank square.
    """
    gray = np.asarray(gray, np.uint8)
    if mask is not None:
        gray = np.where(mask, gray, 255).astype(np.uint8)
    ink = 255.0 - gray.astype(np.float32)
    if ink.max() <= 0:
        return np.full((size, size), 255, np.uint8)
    ink = ink / ink.max()
    ink = np.clip((ink - 0.12) / 0.88, 0, 1)  # paper texture and faint noise -> paper
    rows, cols = np.flatnonzero(ink.max(1) > 0.3), np.flatnonzero(ink.max(0) > 0.3)
    if rows.size == 0:
        return np.full((size, size), 255, np.uint8)
    ink = ink[rows[0]: rows[-1] + 1, cols[0]: cols[-1] + 1]
    crop = I.from_ink_float(ink)
    h, w = crop.shape
    scale = box / max(h, w)
    small = I.resize(crop, max(1, round(h * scale)), max(1, round(w * scale)))
    return I.pad_to(small, size, size, fill=255)


def normalize_ink_bright(images: np.ndarray, size: int = CHAR_SIZE) -> np.ndarray:
    """MNIST/EMNIST-style arrays ``(n, h, w)`` with bright ink on black ->
    ``(n, size, size)`` normalised characters (paper white)."""
    images = np.asarray(images)
    if images.dtype != np.uint8:
        images = np.clip(np.asarray(images, np.float32) * (255.0 / max(1e-6, float(images.max()))), 0, 255)
    return np.stack([normalize_char(255 - np.asarray(im, np.uint8), size=size) for im in images]) \
        if len(images) else np.zeros((0, size, size), np.uint8)


# ----------------------------------------------------------------- components
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
    return [g for g in groups if not (g.height <= max(2, 0.2 * h_ref) and g.width > 3 * h_ref)
            and not (g.width <= max(2, 0.2 * h_ref) and g.height > 3 * h_ref)]


def _line_centre(groups, h_ref) -> float:
    """Vertical centre of the main text line: the ink-weighted median centre
    of the components at least half the text height tall."""
    big = [g for g in groups if g.height >= 0.5 * h_ref] or groups
    cys = np.array([g.cy for g in big])
    weights = np.array([g.area for g in big], float)
    order = np.argsort(cys)
    cum = np.cumsum(weights[order])
    return float(cys[order][np.searchsorted(cum, cum[-1] / 2)])


def _merge(a: _Group, b: _Group) -> _Group:
    return _Group(a.comps + b.comps, min(a.top, b.top), max(a.bottom, b.bottom), min(a.left, b.left),
                  max(a.right, b.right), a.area + b.area)


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


def _in_line(groups, centre, h_ref):
    """Keep groups whose box overlaps the main line band by half its height
    (or that reach across the band's centre)."""
    lo, hi = centre - 0.55 * h_ref, centre + 0.55 * h_ref
    keep = []
    for g in groups:
        overlap = min(hi, g.bottom) - max(lo, g.top)
        if overlap >= 0.5 * min(g.height, hi - lo) or (g.top <= centre <= g.bottom):
            keep.append(g)
    return keep


def _is_colon(g: _Group, labels, h_ref) -> bool:
    if len(g.comps) != 2 or g.height > 0.9 * h_ref:
        return False
    sl = labels[g.top: g.bottom, g.left: g.right]
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
    rest = [g for g in groups if g.cx > cut]
    return rest if rest else groups


def _split_wide(g: _Group, labels, w_ref: float, max_ratio: float) -> list[_Group]:
    """Cut a group wider than ``max_ratio * w_ref`` into ``round(width / w_ref)``
    pieces at the columns with the least ink near each even cut."""
    if g.width <= max_ratio * w_ref:
        return [g]
    n = max(2, int(round(g.width / w_ref)))
    sub = np.isin(labels[g.top: g.bottom, g.left: g.right], g.comps)
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
            piece = _Group(g.comps, g.top + rows[0], g.top + rows[-1] + 1, g.left + start, g.left + x,
                           int(cols.sum()))
            piece.meta["split"] = True
            pieces.append(piece)
        start = x
    return pieces or [g]


# ------------------------------------------------------------------- the word
def segment_word(image, *, min_speck: float = 0.02, max_width_ratio: float = 1.7,
                 drop_label: bool = True, detect_spaces: bool = True,
                 size: int = CHAR_SIZE) -> list[Segment]:
    """Cut a word image (path, array or PIL image) into characters, left to right.

    Returns :class:`Segment` objects; an image without ink (blank, all white,
    uniform) gives ``[]``. ``min_speck`` is the smallest ink area kept, as a
    share of the squared text height; boxes wider than ``max_width_ratio``
    times the typical character width are split.
    """
    gray = I.as_gray(image)
    if gray.size == 0 or min(gray.shape) < 2:
        return []
    mask = I.binarize(gray)
    if not mask.any() or mask.mean() > 0.6:
        return []
    labels, groups = _components(mask)
    h_ref = _text_height(groups)
    groups = _drop_rules(groups, h_ref)
    if not groups:
        return []
    h_ref = _text_height(groups)
    groups = _merge_stacked(groups, h_ref)
    if drop_label:
        groups = _drop_label_prefix(groups, labels, h_ref, gray.shape[1])
    centre = _line_centre(groups, h_ref)
    groups = _in_line(groups, centre, h_ref)
    groups = [g for g in groups if g.area >= min_speck * h_ref ** 2 and max(g.height, g.width) >= 0.2 * h_ref]
    if not groups:
        return []
    h_ref = _text_height(groups)

    def is_hyphen(g):
        return g.height <= 0.3 * h_ref and g.width >= 1.5 * g.height and abs(g.cy - centre) <= 0.35 * h_ref

    chars = [g for g in groups if not is_hyphen(g)]
    widths = np.array([g.width for g in chars if g.height >= 0.5 * h_ref], float)
    w_ref = float(np.clip(np.median(widths) if widths.size else 0.7 * h_ref, 0.5 * h_ref, 0.9 * h_ref))
    out: list[_Group] = []
    for g in groups:
        if is_hyphen(g):
            g.meta["hyphen"] = True
            out.append(g)
        else:
            out += _split_wide(g, labels, w_ref, max_width_ratio)
    out.sort(key=lambda g: g.cx)
    spaces = _spaces(out) if detect_spaces else [False] * len(out)
    segments = []
    for g, space in zip(out, spaces):
        sub = np.isin(labels[g.top: g.bottom, g.left: g.right], g.comps)
        others = (labels[g.top: g.bottom, g.left: g.right] > 0) & ~sub
        sub = ndimage.binary_dilation(sub, iterations=1) & ~others  # keep the anti-aliased rim
        crop = gray[g.top: g.bottom, g.left: g.right]
        kind = "-" if g.meta.get("hyphen") else "char"
        segments.append(Segment((int(g.left), int(g.top), int(g.width), int(g.height)),
                                normalize_char(crop, sub, size=size), kind, space, len(g.comps)))
    return segments


def _spaces(groups) -> list[bool]:
    """A space precedes a character when the gap before it exceeds the
    median gap plus 0.8 typical character widths."""
    flags = [False] * len(groups)
    if len(groups) < 3:
        return flags
    gaps = np.array([b.left - a.right for a, b in zip(groups, groups[1:])], float)
    w_med = float(np.median([g.width for g in groups]))
    limit = max(np.median(gaps), 0) + 0.8 * w_med
    for i, gap in enumerate(gaps, start=1):
        flags[i] = bool(gap > limit)
    return flags
