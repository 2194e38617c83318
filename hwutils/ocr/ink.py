"""Finding the handwritten line's ink in a word image: binarizing, cleaning the components
and keeping the main text line.

:func:`_prepare` binarizes the image (Otsu, moved towards the paper for light
pens), labels its components, drops ruled lines and the sides of a form's
box, merges stacked parts of one character, drops a field label and specks,
and keeps the components of the main (handwritten) text line;
:func:`line_ink` gives that line's ink mask for the segmentation-free reader.
"""

from __future__ import annotations

import numpy as np
from scipy import ndimage

from hwutils import images as I
from hwutils.ocr.components import (
    _components,
    _drop_border_lines,
    _drop_rules,
    _Group,
    _merge_stacked,
    _text_height,
)
from hwutils.ocr.field_label import _drop_label_prefix


def _line_centre(groups, h_ref) -> float:
    """Vertical centre of the main text line: the ink-weighted median centre
    of the components at least half the text height tall."""
    big = [g for g in groups if g.height >= 0.5 * h_ref] or groups
    cys = np.array([g.cy for g in big])
    weights = np.array([g.area for g in big], float)
    order = np.argsort(cys)
    cum = np.cumsum(weights[order])
    return float(cys[order][np.searchsorted(cum, cum[-1] / 2)])


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
    """The handwritten line among the text lines of a crop: the first of :func:`_ranked_lines`."""
    return _ranked_lines(groups, h_ref, shape)[0]


def _ranked_lines(groups, h_ref, shape) -> list[list[_Group]]:
    """The text lines of a crop, the likeliest handwritten line first.

    Crops of forms often show a cut-off printed line above or below the
    field and printed labels (``NOM``, ``PRENOM``, ``DATE DE NAISSANCE``).
    Each line is scored by the square root of its ink (so a bold printed line
    does not win on ink alone), times the median height of its characters
    (printed labels are set smaller than a name written in the field), times
    a weight that falls with its distance from the image's vertical centre,
    times 0.3 when it is cut off by the top or bottom border, times 0.5 when
    it is a single small mark. Lines without a character half the text height
    tall come last, in their order.
    """
    height = shape[0]
    lines = _text_lines(groups, h_ref)
    if len(lines) == 1:
        return lines
    scored = []
    for n, line in enumerate(lines):
        tall = [g for g in line if g.height >= 0.5 * h_ref]
        if not tall:
            scored.append((-1.0, n, line))
            continue
        top, bottom = min(g.top for g in tall), max(g.bottom for g in tall)
        mass = sum(g.area for g in line)
        cy = float(np.average([g.cy for g in tall], weights=[g.area for g in tall]))
        centrality = 1.0 - 0.7 * min(1.0, abs(cy - height / 2) / (height / 2))
        cut = 0.3 if (top <= 1 or bottom >= height - 1) else 1.0
        single = 0.5 if len(tall) == 1 else 1.0
        size = float(np.median([g.height for g in tall]))
        scored.append((float(np.sqrt(mass) * size * centrality * cut * single), n, line))
    scored.sort(key=lambda t: (-t[0], t[1]))  # ties: the first line found, as before
    return [line for _, _, line in scored]


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


def _prepare(image, min_speck: float, drop_label: bool, faint: float = 0.0, rank: int = 0):
    """Binarize, find components, keep the main line (with ``rank`` k, the
    k-th likeliest line after it, :func:`_ranked_lines`). Returns ``(gray,
    labels, groups, h_ref, centre)`` or None for an image without ink (or
    without that many lines)."""
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
    ranked = _ranked_lines(speck, _text_height(speck), gray.shape)
    if rank >= len(ranked):
        return None
    line = ranked[rank]
    centre = _line_centre(line, _text_height(line))
    groups = _in_line(groups, centre, _text_height(line))
    groups = [g for g in groups if g.area >= min_speck * h_ref**2 and max(g.height, g.width) >= 0.2 * h_ref]
    if not groups:
        return None
    return gray, labels, groups, _text_height(groups), centre


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


def other_lines(
    image, *, max_lines: int = 3, min_speck: float = 0.02, drop_label: bool = True, faint: float = 0.3
):
    """The text lines of a word image after its main line, likeliest first (at
    most ``max_lines - 1``): each the image itself with every other line's ink
    (and a dropped field label) painted over with the paper's shade, so that
    a reader reading it finds that line as its main one. For reading the next
    line of a form when the main one turns out to be printed
    (:class:`hwutils.ocr.form.FieldReader`)."""
    out = []
    for rank in range(1, max_lines):
        prepared = _prepare(image, min_speck, drop_label, faint, rank=rank)
        if prepared is None:
            break
        gray, labels, groups, _, _ = prepared
        keep = ndimage.binary_dilation(np.isin(labels, [c for g in groups for c in g.comps]), iterations=1)
        others = ndimage.binary_dilation((labels > 0) & ~keep, iterations=1) & ~keep
        paper = np.uint8(np.median(gray[labels == 0])) if (labels == 0).any() else np.uint8(255)
        alt = gray.copy()
        alt[others] = paper
        out.append(alt)
    return out
