"""Pages (or line images) whose file name carries the writer, and line
segmentation of whole pages.

The file-name pattern is a regular expression with a named group ``writer``;
the default reads the CSAFE Handwriting Database names
``wWWWW_sSS_pPROMPT_rRR.png`` (writer, session, prompt, repetition).

Line segmentation (:func:`segment_lines`): Otsu ink mask, specks dropped,
connected components; a horizontal projection profile of the ink, smoothed
at the scale of the letters, has one peak per text line; the valleys
between peaks cut the page into bands and each component joins the band
holding its centre, so ascenders and descenders that reach into the
neighbouring band stay with their own line. Blank margins are cropped and
bands with (almost) no ink are dropped as empty lines.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from scipy import ndimage, signal

from hwutils.datasets.folders import no_match, require_images
from hwutils.datasets.iam import LineRecord
from hwutils.errors import DataError, HwError, ParamsError, check_choice
from hwutils.images import binarize, read_gray

CSAFE_PATTERN = r"w(?P<writer>\d+)_s(?P<session>\d+)_p(?P<prompt>[A-Za-z]+)_r(?P<rep>\d+)"
SPLIT_BY = ("page", "line")


@dataclass
class LineBox:
    """A segmented line: its box on the page (bottom/right exclusive) and its pixels."""

    top: int
    bottom: int
    left: int
    right: int
    image: np.ndarray


def segment_lines(
    gray: np.ndarray, min_speck: int | None = None, min_ink_share: float = 0.15, margin: int = 4
) -> list[LineBox]:
    """Cut a page image (uint8, paper white) into text lines, top to bottom.

    ``min_speck``: components with fewer ink pixels are dust (default scales
    with the page size); ``min_ink_share``: a band whose ink is below this
    share of the median band's ink is an empty line and dropped.
    Returns ``[]`` when no line is found.
    """
    gray = np.asarray(gray, np.uint8)
    h, w = gray.shape
    mask = binarize(gray)
    if not mask.any():
        return []
    labels, n = ndimage.label(mask, structure=np.ones((3, 3), bool))
    if n == 0:
        return []
    sizes = np.bincount(labels.ravel(), minlength=n + 1)
    min_speck = max(4, int(h * w * 2e-6)) if min_speck is None else min_speck
    objects = ndimage.find_objects(labels)
    comps = [(i + 1, sl) for i, sl in enumerate(objects) if sl is not None and sizes[i + 1] >= min_speck]
    if not comps:
        return []
    heights = np.array([sl[0].stop - sl[0].start for _, sl in comps], float)
    letter = float(np.median(heights))
    keep_ids = np.array([cid for cid, _ in comps])
    clean = np.isin(labels, keep_ids)
    ys, xs = np.nonzero(clean)
    slope = _skew_slope(ys, xs, h)
    offset = int(np.ceil(abs(slope) * w))
    rows = np.clip(np.round(ys - xs * slope).astype(int) + offset, 0, h + 2 * offset - 1)
    profile = np.bincount(rows, minlength=h + 2 * offset).astype(float)
    smooth = ndimage.gaussian_filter1d(profile, sigma=max(1.0, 0.6 * letter))
    peaks, _ = signal.find_peaks(smooth, distance=max(2, int(1.2 * letter)), prominence=0.08 * smooth.max())
    if len(peaks) == 0:
        return []
    pitch = float(np.median(np.diff(peaks))) if len(peaks) > 1 else 3.0 * letter
    cuts = [0] + [int(a + np.argmin(smooth[a:b])) for a, b in zip(peaks[:-1], peaks[1:])] + [len(smooth)]
    members: list[list[tuple[int, tuple]]] = [[] for _ in range(len(peaks))]
    for cid, sl in comps:
        centre = (sl[0].start + sl[0].stop) / 2 - (sl[1].start + sl[1].stop) / 2 * slope + offset
        band = min(len(peaks) - 1, max(0, int(np.searchsorted(cuts, centre, side="right")) - 1))
        if abs(centre - peaks[band]) <= 0.8 * pitch:  # far-off marks (page edges, dust) join no line
            members[band].append((cid, sl))
    ink = np.array([sum(int(sizes[c]) for c, _ in m) for m in members], float)
    ref = np.median(ink[ink > 0]) if (ink > 0).any() else 0.0
    out = []
    for m, amount in zip(members, ink):
        if not m or amount < min_ink_share * ref:
            continue
        top = max(0, min(sl[0].start for _, sl in m) - margin)
        bottom = min(h, max(sl[0].stop for _, sl in m) + margin)
        left = max(0, min(sl[1].start for _, sl in m) - margin)
        right = min(w, max(sl[1].stop for _, sl in m) + margin)
        ids = np.array([c for c, _ in m])
        own = ndimage.binary_dilation(np.isin(labels[top:bottom, left:right], ids), iterations=1)
        crop = np.where(own, gray[top:bottom, left:right], 255).astype(np.uint8)
        out.append(LineBox(top, bottom, left, right, crop))
    return out


def _skew_slope(ys: np.ndarray, xs: np.ndarray, h: int, max_slope: float = 0.1, steps: int = 41) -> float:
    """The text-line slope (dy/dx) that makes the sheared row profile of the ink sharpest."""
    if len(ys) > 200_000:
        pick = np.random.default_rng(0).choice(len(ys), 200_000, replace=False)
        ys, xs = ys[pick], xs[pick]
    best, best_score = 0.0, -1.0
    for t in np.linspace(-max_slope, max_slope, steps):
        rows = np.round((ys - xs * t) / 4).astype(int)
        counts = np.bincount(rows - rows.min())
        score = float(np.dot(counts, counts))
        if score > best_score:
            best, best_score = float(t), score
    return best


def segment_page(path: str | Path, **kw) -> list[LineBox]:
    """Read and segment one page; :class:`DataError` naming the file when no line is found."""
    lines = segment_lines(read_gray(path), **kw)
    if not lines:
        raise DataError(f"{path}: no text lines detected on this page")
    return lines


def writer_from_name(path: str | Path, pattern: str) -> str | None:
    """The ``writer`` group of ``pattern`` matched against the file name (stem); None if no match."""
    try:
        rx = re.compile(pattern)
    except re.error as exc:
        raise ParamsError(f"name_pattern: not a regular expression ({exc})") from None
    if "writer" not in rx.groupindex:
        raise ParamsError("name_pattern: needs a named group (?P<writer>...)")
    m = rx.search(Path(path).stem)
    return m.group("writer") if m else None


def load_pages(
    root: str | Path,
    name_pattern: str = CSAFE_PATTERN,
    segment: bool = True,
    split_by: str = "line",
    max_bad_fraction: float = 0.2,
    **segment_kw,
):
    """Line records from a folder of pages (``segment``) or of line images.

    Each image whose file name matches ``name_pattern`` gives its writer;
    pages are cut into lines with :func:`segment_lines`. ``split_by``:
    ``page`` makes the page the split group (several pages per writer),
    ``line`` makes each line its own group (one page per writer, as in CSAFE).
    Unreadable images and pages without lines are skipped and returned in
    ``skipped`` as ``(path, reason)``; past ``max_bad_fraction`` of the
    files it is an error. Returns ``(records, skipped)``.
    """
    check_choice("split_by", split_by, SPLIT_BY)
    root = Path(root)
    if not root.is_dir():
        raise DataError(f"{root}: no such image folder")
    images = require_images(root, what="page images")
    files = [(p, writer_from_name(p, name_pattern)) for p in images]
    files = [(p, wr) for p, wr in files if wr is not None]
    if not files:
        raise no_match(root, images, f"name_pattern {name_pattern!r}")
    records: list[LineRecord] = []
    skipped: list[tuple[str, str]] = []
    for path, writer in files:
        try:
            if segment:
                images = [lb.image for lb in segment_page(path, **segment_kw)]
            else:
                images = [read_gray(path)]
        except HwError as exc:
            skipped.append((str(path), str(exc)))
            continue
        for i, img in enumerate(images):
            line_id = f"{path.stem}-{i:02d}" if segment else path.stem
            group = line_id if split_by == "line" else path.stem
            records.append(
                LineRecord(writer=writer, group=group, line_id=line_id, path=path, image=img, page=path.stem)
            )
    if len(skipped) > max_bad_fraction * len(files):
        raise DataError(
            f"{root}: {len(skipped)} of {len(files)} images unusable (more than "
            f"max_bad_fraction={max_bad_fraction}); first: {skipped[0][1]}"
        )
    if not records:
        raise DataError(f"{root}: no usable line images")
    return records, skipped
