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


def preprocess(image, height: int = DEFAULT_SIZE[0], width: int = DEFAULT_SIZE[1], margin: float = 0.04,
               denoise: bool = True, require_ink: bool = True, name: str | None = None,
               ink: str = "normalize") -> np.ndarray:
    """One signature (path, PIL image or array) -> ``(height, width)`` float32, ink = 1.

    ``margin`` is the share of the canvas left empty around the ink. With
    ``require_ink`` an image without ink raises :class:`ImageError` naming
    the file; otherwise it gives an all-zero array. ``ink`` is passed to
    :func:`normalize_ink`.
    """
    label = name or (str(image) if isinstance(image, (str, bytes)) or hasattr(image, "__fspath__") else "<image>")
    gray = images.as_gray(image)
    if denoise and min(gray.shape) >= 3:
        gray = np.asarray(Image.fromarray(gray).filter(ImageFilter.MedianFilter(3)), np.uint8)
    ink_map = normalize_ink(gray, ink)
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
