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
from hwutils.errors import ImageError, ParamsError

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
    if ink not in INK_MODES:
        raise ParamsError(f"ink: unknown value {ink!r}; choose one of {', '.join(INK_MODES)}")
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
    return name or (str(image) if isinstance(image, (str, bytes)) or hasattr(image, "__fspath__") else "<image>")


def _gray(image, denoise: bool = True) -> np.ndarray:
    """Grayscale uint8, optionally 3x3 median denoised."""
    gray = images.as_gray(image)
    if denoise and min(gray.shape) >= 3:
        gray = np.asarray(Image.fromarray(gray).filter(ImageFilter.MedianFilter(3)), np.uint8)
    return gray


def _ink_map(image, denoise: bool = True, ink: str = "normalize") -> np.ndarray:
    """Grayscale, optional 3x3 median denoise, :func:`normalize_ink` (ink = 1, paper = 0)."""
    return normalize_ink(_gray(image, denoise), ink)


def preprocess(image, height: int = DEFAULT_SIZE[0], width: int = DEFAULT_SIZE[1], margin: float = 0.04,
               denoise: bool = True, require_ink: bool = True, name: str | None = None,
               ink: str = "normalize") -> np.ndarray:
    """One signature (path, PIL image or array) -> ``(height, width)`` float32, ink = 1.

    ``margin`` is the share of the canvas left empty around the ink. With
    ``require_ink`` an image without ink raises :class:`ImageError` naming
    the file; otherwise it gives an all-zero array. ``ink`` is passed to
    :func:`normalize_ink`.
    """
    return _fit_canvas(_ink_map(image, denoise, ink), height, width, margin, require_ink, _label(image, name))


def _fit_canvas(ink_map: np.ndarray, height: int, width: int, margin: float, require_ink: bool,
                label: str) -> np.ndarray:
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


GEOMETRY_NAMES = ("log_height", "log_width", "log_aspect", "log_ink_area", "ink_density", "stroke_width",
                  "log_components", "centroid_y", "centroid_x", "spread_y", "spread_x", "slant")


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


def _geometry(mask: np.ndarray, label: str) -> np.ndarray:
    from scipy import ndimage

    if not mask.any():
        raise ImageError(f"{label}: no ink found (blank or uniform image)")
    ys, xs = np.nonzero(mask)
    t, l = ys.min(), xs.min()
    h, w = ys.max() - t + 1, xs.max() - l + 1
    box = mask[t:t + h, l:l + w]  # labelling and erosion on the ink box only (faster on large scans)
    area = float(box.sum())
    boundary = float((box & ~ndimage.binary_erosion(box)).sum())
    labels, n = ndimage.label(box)
    sizes = np.bincount(labels.ravel())[1:] if n else np.zeros(0)
    yc, xc = (ys - t) / h, (xs - l) / w
    vy = float(np.var(ys)) or 1.0
    slant = float(np.mean((xs - xs.mean()) * (ys - ys.mean()))) / vy
    return np.array([np.log(h), np.log(w), np.log(w / h), np.log(area), area / (h * w),
                     2.0 * area / max(boundary, 1.0), np.log1p(np.sum(sizes >= 20)), yc.mean(), xc.mean(),
                     yc.std(), xc.std(), slant], np.float32)


def preprocess_with_geometry(image, height: int = DEFAULT_SIZE[0], width: int = DEFAULT_SIZE[1],
                             ink: str = "normalize", name: str | None = None) -> tuple[np.ndarray, np.ndarray]:
    """:func:`preprocess` and :func:`ink_geometry` of one image, read and denoised once."""
    label = _label(image, name)
    gray = _gray(image)
    ink_map = normalize_ink(gray, ink)
    mask = ink_map > 0 if ink == "normalize" else normalize_ink(gray) > 0
    return _fit_canvas(ink_map, height, width, 0.04, True, label), _geometry(mask, label)


def geometry_many(items, **kw) -> np.ndarray:
    """:func:`ink_geometry` of a list of paths/arrays -> ``(n, 12)`` float32."""
    return np.stack([ink_geometry(item, **kw) for item in items]) if len(items) else np.zeros((0, 12), np.float32)
