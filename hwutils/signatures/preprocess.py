"""sigver-style preprocessing of a signature image.

Steps (Hafemann's ``sigver`` ``normalize_image`` in spirit): grayscale ->
light denoise -> Otsu threshold -> background removed and ink contrast
normalised -> crop to the ink -> centre on a canvas with the target aspect
ratio -> invert (ink = 1) -> resize to ``height`` x ``width``.

The ink contrast is normalised per image (darkest ink -> 1) so that a darker
pen or scanner never tells genuine from forged by itself.
"""

from __future__ import annotations

import numpy as np
from PIL import Image, ImageFilter

from hwutils import images
from hwutils.errors import ImageError, ParamsError, check_choice

DEFAULT_SIZE = (96, 192)


INK_MODES = ("normalize", "keep")


def normalize_ink(gray: np.ndarray, ink: str = "normalize") -> np.ndarray:
    """Paper-white uint8 image -> float32 ink map in [0, 1] (ink = 1, paper = 0).

    Pixels lighter than Otsu's threshold become paper (0). With ``ink =
    "normalize"`` ink pixels are stretched so the 2nd percentile of the ink
    reaches 1 (pen darkness no longer matters); ``"keep"`` keeps the grey
    levels as they are (``255 - gray``, exactly as sigver does). An image
    without contrast gives all zeros.
    """
    check_choice("ink", ink, INK_MODES)
    gray = np.asarray(gray, np.uint8)
    mask = images.binarize(gray)
    if not mask.any():
        return np.zeros(gray.shape, np.float32)
    if ink == "keep":
        return np.where(mask, (255.0 - gray.astype(np.float32)) / 255.0, 0.0).astype(np.float32)
    paper = float(np.median(gray[~mask])) if (~mask).any() else 255.0
    dark = float(np.percentile(gray[mask], 2))
    out = (paper - gray.astype(np.float32)) / max(paper - dark, 1.0)
    out = np.clip(out, 0.0, 1.0)
    out[~mask] = 0.0
    return out.astype(np.float32)


def _label(image, name=None) -> str:
    return name or (
        str(image) if isinstance(image, (str, bytes)) or hasattr(image, "__fspath__") else "<image>"
    )


def _gray(image, denoise: bool = True) -> np.ndarray:
    """Grayscale uint8, optionally 3x3 median denoised."""
    gray = images.as_gray(image)
    if denoise and min(gray.shape) >= 3:
        gray = np.asarray(Image.fromarray(gray).filter(ImageFilter.MedianFilter(3)), np.uint8)
    return gray


def _ink_map(image, denoise: bool = True, ink: str = "normalize") -> np.ndarray:
    """Grayscale, optional 3x3 median denoise, :func:`normalize_ink` (ink = 1, paper = 0)."""
    return normalize_ink(_gray(image, denoise), ink)


def preprocess(
    image,
    height: int = DEFAULT_SIZE[0],
    width: int = DEFAULT_SIZE[1],
    margin: float = 0.04,
    denoise: bool = True,
    require_ink: bool = True,
    name: str | None = None,
    ink: str = "normalize",
) -> np.ndarray:
    """One signature (path, PIL image or array) -> ``(height, width)`` float32, ink = 1.

    ``margin`` is the share of the canvas left empty around the ink. With
    ``require_ink`` an image without ink raises :class:`ImageError` naming
    the file; otherwise it gives an all-zero array. ``ink`` is passed to
    :func:`normalize_ink`.
    """
    return _fit_canvas(_ink_map(image, denoise, ink), height, width, margin, require_ink, _label(image, name))


def _fit_canvas(
    ink_map: np.ndarray, height: int, width: int, margin: float, require_ink: bool, label: str
) -> np.ndarray:
    """Crop an ink map to its ink, centre it on a ``height`` x ``width`` canvas (see :func:`preprocess`)."""
    box = images.ink_bbox(ink_map > 0)
    if box is None:
        if require_ink:
            raise ImageError(f"{label}: no ink found (blank or uniform image)")
        return np.zeros((height, width), np.float32)
    t, b, l, r = box
    crop = images.from_ink_float(ink_map[t:b, l:r])  # paper-white again for the shared resize helpers
    inner_h = max(1, int(round(height * (1 - 2 * margin))))
    inner_w = max(1, int(round(width * (1 - 2 * margin))))
    fitted = images.fit_in_box(crop, inner_h, inner_w)
    canvas = images.pad_to(fitted, height, width)
    return images.to_ink_float(canvas)


def preprocess_many(items, height: int = DEFAULT_SIZE[0], width: int = DEFAULT_SIZE[1], **kw) -> np.ndarray:
    """A list of paths/arrays -> ``(n, height, width, 1)`` float32 batch (ink = 1)."""
    out = np.zeros((len(items), height, width, 1), np.float32)
    for i, item in enumerate(items):
        out[i, ..., 0] = preprocess(item, height, width, **kw)
    return out


GEOMETRY_NAMES = (
    "log_height",
    "log_width",
    "log_aspect",
    "log_ink_area",
    "ink_density",
    "stroke_width",
    "log_components",
    "centroid_y",
    "centroid_x",
    "spread_y",
    "spread_x",
    "slant",
)


def ink_geometry(image, denoise: bool = True, name: str | None = None) -> np.ndarray:
    """Global shape measures of a signature, taken *before* cropping and resizing
    (which discard them): ``(12,)`` float32 in the order of :data:`GEOMETRY_NAMES`.

    Size of the ink box in pixels (log height, log width, log aspect ratio), log ink
    area, ink density in the box, mean stroke width (2 x area / boundary pixels),
    log(1 + connected components of 20+ pixels), the ink centroid and spread
    relative to the box, and the slant (x-y covariance over y variance). Sizes
    are in pixels of the scan, so compare signatures scanned at one resolution.
    No ink raises :class:`ImageError` naming the file. Pen darkness is not used.
    """
    return _geometry(_ink_map(image, denoise) > 0, _label(image, name))


def _require_ink(mask: np.ndarray, label: str) -> np.ndarray:
    """``mask`` itself, or :class:`ImageError` naming ``label`` when it has no ink."""
    if not mask.any():
        raise ImageError(f"{label}: no ink found (blank or uniform image)")
    return mask


def _geometry(mask: np.ndarray, label: str) -> np.ndarray:
    from scipy import ndimage

    _require_ink(mask, label)
    ys, xs = np.nonzero(mask)
    t, l = ys.min(), xs.min()
    h, w = ys.max() - t + 1, xs.max() - l + 1
    box = mask[t : t + h, l : l + w]  # labelling and erosion on the ink box only (faster on large scans)
    area = float(box.sum())
    boundary = float((box & ~ndimage.binary_erosion(box)).sum())
    labels, n = ndimage.label(box)
    sizes = np.bincount(labels.ravel())[1:] if n else np.zeros(0)
    yc, xc = (ys - t) / h, (xs - l) / w
    vy = float(np.var(ys)) or 1.0
    slant = float(np.mean((xs - xs.mean()) * (ys - ys.mean()))) / vy
    return np.array(
        [
            np.log(h),
            np.log(w),
            np.log(w / h),
            np.log(area),
            area / (h * w),
            2.0 * area / max(boundary, 1.0),
            np.log1p(np.sum(sizes >= 20)),
            yc.mean(),
            xc.mean(),
            yc.std(),
            xc.std(),
            slant,
        ],
        np.float32,
    )


PRESSURE_NAMES = (
    tuple(f"grey_{i}" for i in range(8))
    + tuple(f"width_{i}" for i in range(6))
    + ("grey_mean", "grey_std", "high_pressure", "width_mean", "width_cv", "edge_sharpness", "ink_gradient")
)


def ink_pressure(image, denoise: bool = True, name: str | None = None) -> np.ndarray:
    """Pseudo-dynamic ("pressure") measures of a signature at scan resolution:
    ``(21,)`` float32 in the order of :data:`PRESSURE_NAMES`.

    On the ink map with the pen's darkness normalised away (:func:`normalize_ink`):
    the histogram of ink grey levels (8 bins), the histogram of stroke widths
    along the stroke centres (6 bins of 2 pixels), their mean and spread, the
    share of high-pressure ink (level above 0.7, Ammar's high-pressure factor),
    and the mean grey-level gradient on the stroke edges and inside the ink.
    A forger copying slowly presses and moves differently from the writer. Widths
    are in scan pixels (compare signatures scanned at one resolution). No ink
    raises :class:`ImageError` naming the file.
    """
    return _pressure(_ink_map(image, denoise), _label(image, name))


def _pressure(ink_map: np.ndarray, label: str) -> np.ndarray:
    from scipy import ndimage

    ink = _require_ink(ink_map > 0, label)
    levels = ink_map[ink]
    grey = np.histogram(levels, bins=8, range=(0.0, 1.0))[0] / levels.size
    dist = ndimage.distance_transform_edt(ink)
    centre = ink & (dist >= ndimage.maximum_filter(dist, 3) - 1e-6)  # ridge of the distance map
    widths = 2.0 * dist[centre]
    width_hist = np.histogram(widths, bins=6, range=(0.0, 12.0))[0] / max(widths.size, 1)
    gy, gx = np.gradient(ink_map)
    grad = np.hypot(gx, gy)
    edge = ink & ~ndimage.binary_erosion(ink)
    return np.r_[
        grey,
        width_hist,
        levels.mean(),
        levels.std(),
        np.mean(levels > 0.7),
        widths.mean(),
        widths.std() / max(widths.mean(), 1e-6),
        grad[edge].mean(),
        grad[ink].mean(),
    ].astype(np.float32)


def ink_cooccurrence(image, levels: int = 8, denoise: bool = True, name: str | None = None) -> np.ndarray:
    """Grey-level co-occurrence of neighbouring ink pixels (GLCM; Vargas et al.
    2011 use it for signature verification): ink grey levels (pen darkness
    normalised) quantised to ``levels``, pairs of ink pixels one step apart in 4
    directions, as unordered pairs of levels; returns their shares,
    ``(levels * (levels + 1) / 2,)`` float32 summing to 1. No ink raises :class:`ImageError` naming the file."""
    return _cooccurrence(_ink_map(image, denoise), _label(image, name), levels)


def _cooccurrence(ink_map: np.ndarray, label: str, levels: int = 8) -> np.ndarray:
    ink = _require_ink(ink_map > 0, label)
    q = np.minimum((ink_map * levels).astype(np.int64), levels - 1)
    h, w = q.shape
    counts = np.zeros((levels, levels))
    for dy, dx in ((0, 1), (1, 0), (1, 1), (1, -1)):
        x0, x1 = max(0, -dx), w - max(0, dx)
        a, b = (slice(0, h - dy), slice(x0, x1)), (slice(dy, h), slice(x0 + dx, x1 + dx))
        both = ink[a] & ink[b]
        np.add.at(counts, (q[a][both], q[b][both]), 1)
    pairs = np.triu(counts + counts.T) - np.diag(np.diag(counts))  # unordered pairs of levels
    return (pairs[np.triu_indices(levels)] / max(pairs.sum(), 1.0)).astype(np.float32)


SCAN_SETS = ("geom", "pressure", "glcm")


def scan_features(image, names=SCAN_SETS, denoise: bool = True, name: str | None = None) -> dict:
    """The measures of one signature taken on the scan itself, before cropping
    and resizing, read and denoised once: ``{set: vector}`` for the ``names``
    among :data:`SCAN_SETS` (``geom``: :func:`ink_geometry`; ``pressure``:
    :func:`ink_pressure`; ``glcm``: :func:`ink_cooccurrence`)."""
    return _scan(_ink_map(image, denoise), _label(image, name), names)


def _scan(ink_map: np.ndarray, label: str, names) -> dict:
    makers = {
        "geom": lambda: _geometry(ink_map > 0, label),
        "pressure": lambda: _pressure(ink_map, label),
        "glcm": lambda: _cooccurrence(ink_map, label),
    }
    bad = [k for k in names if k not in makers]
    if bad:
        raise ParamsError(f"scan feature sets: unknown {bad}; choose among {', '.join(SCAN_SETS)}")
    return {k: makers[k]() for k in names}


def scan_features_many(items, names=SCAN_SETS, **kw) -> dict:
    """:func:`scan_features` of a list of paths/arrays -> ``{set: (n, d) float32}``."""
    names = list(names)
    return stack_scans([scan_features(item, names, **kw) for item in items] if names else [], names)


def stack_scans(rows: list[dict], names) -> dict:
    """Per-image ``{set: vector}`` rows -> ``{set: (n, d) float32}`` (``{}`` without rows or names)."""
    if not rows:
        return {}
    return {k: np.stack([r[k] for r in rows]).astype(np.float32) for k in names}


def preprocess_with_scan(
    image,
    height: int = DEFAULT_SIZE[0],
    width: int = DEFAULT_SIZE[1],
    ink: str = "normalize",
    names=SCAN_SETS,
    name: str | None = None,
) -> tuple[np.ndarray, dict]:
    """:func:`preprocess` and :func:`scan_features` of one image, read and denoised
    once (with no ``names``: :func:`preprocess` and ``{}``)."""
    names = list(names)
    if not names:
        return preprocess(image, height, width, ink=ink, name=name), {}
    label = _label(image, name)
    gray = _gray(image)
    normalized = normalize_ink(gray)
    ink_map = normalized if ink == "normalize" else normalize_ink(gray, ink)
    return _fit_canvas(ink_map, height, width, 0.04, True, label), _scan(normalized, label, names)
