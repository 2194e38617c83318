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
def ink_crop(gray: np.ndarray, mask: np.ndarray | None = None):
    """The ink of an image (uint8, paper white), cleaned and cropped:
    ``(crop, (top, left))`` or None when there is no ink.

    Pixels outside ``mask`` (True = keep) become paper; the contrast is
    stretched (darkest pixel -> 0), paper texture and faint noise become
    paper, and the image is cropped to the remaining ink. ``(top, left)``
    is the crop's corner in ``gray``."""
    gray = np.asarray(gray, np.uint8)
    if mask is not None:
        gray = np.where(mask, gray, 255).astype(np.uint8)
    ink = 255.0 - gray.astype(np.float32)
    if ink.max() <= 0:
        return None
    ink = ink / ink.max()
    ink = np.clip((ink - 0.12) / 0.88, 0, 1)  # paper texture and faint noise -> paper
    rows, cols = np.flatnonzero(ink.max(1) > 0.3), np.flatnonzero(ink.max(0) > 0.3)
    if rows.size == 0:
        return None
    ink = ink[rows[0] : rows[-1] + 1, cols[0] : cols[-1] + 1]
    return I.from_ink_float(ink), (int(rows[0]), int(cols[0]))


def normalize_char(
    gray: np.ndarray, mask: np.ndarray | None = None, size: int = CHAR_SIZE, box: int = CHAR_BOX
) -> np.ndarray:
    """One character image (uint8, paper white) -> ``size`` x ``size`` uint8.

    Pixels outside ``mask`` (True = belongs to the character) become paper.
    The ink is cropped, its contrast stretched (darkest pixel -> 0), the
    longer side scaled to ``box`` and the result centred. An image without
    ink gives a blank square.
    """
    cropped = ink_crop(gray, mask)
    if cropped is None:
        return np.full((size, size), 255, np.uint8)
    crop = cropped[0]
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
    return (
        np.stack([normalize_char(255 - np.asarray(im, np.uint8), size=size) for im in images])
        if len(images)
        else np.zeros((0, size, size), np.uint8)
    )


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


# ------------------------------------------------------------------- the line
def _text_lines(groups, h_ref):
    """Cluster groups into text lines by their vertical centres: a group
    joins the line whose centre is within ``0.6 h_ref`` (tall groups first,
    so small marks join the line they sit in)."""
    lines: list[list[_Group]] = []
    for g in sorted(groups, key=lambda g: -g.height):
        best, dist = None, 0.6 * h_ref
        for line in lines:
            tall = [m for m in line if m.height >= 0.5 * h_ref] or line
            cy = float(np.average([m.cy for m in tall], weights=[m.area for m in tall]))
            d = abs(g.cy - cy)
            if d <= dist or (line[0].top <= g.cy <= line[0].bottom and d <= 0.9 * h_ref):
                best, dist = line, d
        if best is None:
            lines.append([g])
        else:
            best.append(g)
    return lines


def _main_line(groups, h_ref, shape) -> list[_Group]:
    """The handwritten line among the text lines of a crop.

    Crops of forms often show a cut-off printed line above or below the
    field and printed labels (``NOM``, ``PRENOM``, ``DATE DE NAISSANCE``).
    Each line is scored by the square root of its ink (so a bold printed line
    does not win on ink alone), times the median height of its characters
    (printed labels are set smaller than a name written in the field), times
    a weight that falls with its distance from the image's vertical centre,
    times 0.3 when it is cut off by the top or bottom border, times 0.5 when
    it is a single small mark.
    """
    height = shape[0]
    lines = _text_lines(groups, h_ref)
    if len(lines) == 1:
        return lines[0]
    best, best_score = lines[0], -1.0
    for line in lines:
        tall = [g for g in line if g.height >= 0.5 * h_ref]
        if not tall:
            continue
        top, bottom = min(g.top for g in tall), max(g.bottom for g in tall)
        mass = sum(g.area for g in line)
        cy = float(np.average([g.cy for g in tall], weights=[g.area for g in tall]))
        centrality = 1.0 - 0.7 * min(1.0, abs(cy - height / 2) / (height / 2))
        cut = 0.3 if (top <= 1 or bottom >= height - 1) else 1.0
        single = 0.5 if len(tall) == 1 else 1.0
        size = float(np.median([g.height for g in tall]))
        score = np.sqrt(mass) * size * centrality * cut * single
        if score > best_score:
            best, best_score = line, score
    return best


# ------------------------------------------------------------------- the word
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


def _ink_mask(gray, faint: float) -> np.ndarray:
    """Otsu's mask, with the threshold moved ``faint`` of the way from Otsu's
    level towards the paper level (so a light pen next to dark print keeps
    its strokes whole)."""
    mask = I.binarize(gray)
    if faint <= 0 or not mask.any():
        return mask
    paper = float(np.percentile(gray, 75))
    otsu = float(I.otsu_threshold(gray))
    if paper <= otsu:
        return mask
    return I.binarize(gray, int(otsu + faint * (paper - otsu)))


def _prepare(image, min_speck: float, drop_label: bool, faint: float = 0.0):
    """Binarize, find components, keep the main line. Returns ``(gray,
    labels, groups, h_ref, centre)`` or None for an image without ink."""
    gray = I.as_gray(image)
    if gray.size == 0 or min(gray.shape) < 2:
        return None
    mask = _ink_mask(gray, faint)
    if not mask.any() or mask.mean() > 0.6:
        return None
    labels, groups = _components(mask)
    h_ref = _text_height(groups)
    groups = _drop_border_lines(_drop_rules(groups, h_ref), h_ref, gray.shape)
    if not groups:
        return None
    h_ref = _text_height(groups)
    groups = _merge_stacked(groups, h_ref)
    if drop_label:
        groups = _drop_label_prefix(groups, labels, h_ref, gray.shape[1])
    speck = [g for g in groups if g.area >= min_speck * h_ref**2 and max(g.height, g.width) >= 0.2 * h_ref]
    if not speck:
        return None
    line = _main_line(speck, _text_height(speck), gray.shape)
    centre = _line_centre(line, _text_height(line))
    groups = _in_line(groups, centre, _text_height(line))
    groups = [g for g in groups if g.area >= min_speck * h_ref**2 and max(g.height, g.width) >= 0.2 * h_ref]
    if not groups:
        return None
    return gray, labels, groups, _text_height(groups), centre


def _char_width(chars, h_ref) -> float:
    widths = np.array([g.width for g in chars if g.height >= 0.5 * h_ref], float)
    return float(np.clip(np.median(widths) if widths.size else 0.7 * h_ref, 0.5 * h_ref, 0.9 * h_ref))


def _flag_hyphens(groups, h_ref, centre):
    for g in groups:
        if g.height <= 0.3 * h_ref and g.width >= 1.5 * g.height and abs(g.cy - centre) <= 0.35 * h_ref:
            g.meta["hyphen"] = True
    return groups


def _to_segment(gray, labels, g, space, size) -> Segment:
    box_labels = labels[g.top : g.bottom, g.left : g.right]
    if "pieces" in g.meta:  # a union of pieces, each limited to its own columns
        sub = np.zeros(box_labels.shape, bool)
        for p in g.meta["pieces"]:
            cols = slice(p.left - g.left, p.right - g.left)
            sub[:, cols] |= np.isin(box_labels[:, cols], p.comps)
    else:
        sub = np.isin(box_labels, g.comps)
    others = (box_labels > 0) & ~sub
    sub = ndimage.binary_dilation(sub, iterations=1) & ~others  # keep the anti-aliased rim
    crop = gray[g.top : g.bottom, g.left : g.right]
    kind = "-" if g.meta.get("hyphen") else "char"
    return Segment(
        (int(g.left), int(g.top), int(g.width), int(g.height)),
        normalize_char(crop, sub, size=size),
        kind,
        space,
        len(g.comps),
    )


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
    lowers the ink threshold for light pens (:func:`_ink_mask`).
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


def line_ink(image, *, min_speck: float = 0.02, drop_label: bool = True, faint: float = 0.3):
    """The handwritten line of a word image, not cut into characters (for the
    segmentation-free reader, :mod:`hwutils.ocr.ctc`): ``(gray, mask)``, the
    mask True on the ink of the main line's components (printed lines above
    or below, ruled lines, a field label and specks left out, as
    :func:`segment_word` does), or None for an image without ink."""
    prepared = _prepare(image, min_speck, drop_label, faint)
    if prepared is None:
        return None
    gray, labels, groups, _, _ = prepared
    keep = np.isin(labels, [c for g in groups for c in g.comps])
    others = (labels > 0) & ~keep
    return gray, ndimage.binary_dilation(keep, iterations=1) & ~others  # keep the anti-aliased rim


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
