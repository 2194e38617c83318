"""Reading and normalising handwriting images.

Convention used across the project: a page, line, character or signature is a
2-D ``uint8`` array, white paper (255) and dark ink (0). Functions that need
"ink = 1" say so and return floats.
"""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np
from PIL import Image, ImageOps, UnidentifiedImageError

from hwutils.errors import ImageError

IMAGE_SUFFIXES = (".png", ".jpg", ".jpeg", ".bmp", ".tif", ".tiff", ".gif", ".webp", ".pgm")


def _to_gray_array(img: Image.Image, path) -> np.ndarray:
    """Convert any PIL mode (1, L, P, RGB, RGBA, LA, I;16, I, F) to uint8 gray."""
    if img.mode in ("RGBA", "LA", "PA") or (img.mode == "P" and "transparency" in img.info):
        # Transparent pixels become paper: composite on white.
        rgba = img.convert("RGBA")
        white = Image.new("RGBA", rgba.size, (255, 255, 255, 255))
        img = Image.alpha_composite(white, rgba)
    if img.mode in ("I;16", "I;16B", "I;16L", "I", "F"):
        arr = np.asarray(img, dtype=np.float64)
        lo, hi = float(arr.min()), float(arr.max())
        if img.mode.startswith("I;16"):
            lo, hi = 0.0, 65535.0 if hi > 255 else 255.0
        if hi <= lo:
            return np.full(arr.shape, 255, np.uint8)
        return np.clip((arr - lo) / (hi - lo) * 255.0 + 0.5, 0, 255).astype(np.uint8)
    return np.asarray(img.convert("L"), dtype=np.uint8).copy()


def read_gray(path: str | os.PathLike) -> np.ndarray:
    """Read any image file as a 2-D uint8 array (white paper, dark ink).

    Colour, palette, alpha (composited on white) and 16-bit images are
    converted, not rejected; EXIF rotation is applied.
    Raises :class:`ImageError` naming the file when it is missing, empty or
    not an image.
    """
    path = Path(path)
    if not path.is_file():
        raise ImageError(f"{path}: no such image file")
    if path.stat().st_size == 0:
        raise ImageError(f"{path}: empty file (0 bytes)")
    try:
        with Image.open(path) as img:
            img.load()
            img = ImageOps.exif_transpose(img)
            arr = _to_gray_array(img, path)
    except (UnidentifiedImageError, OSError, SyntaxError, ValueError) as exc:
        raise ImageError(f"{path}: not a readable image ({exc.__class__.__name__}: {exc})") from None
    if arr.ndim != 2 or arr.size == 0:
        raise ImageError(f"{path}: image has no pixels")
    return arr


def as_gray(image) -> np.ndarray:
    """Accept a path, a PIL image or an array (2-D, or HxWx3/4) and return uint8 gray."""
    if isinstance(image, (str, os.PathLike)):
        return read_gray(image)
    if isinstance(image, Image.Image):
        return _to_gray_array(image, "<image>")
    arr = np.asarray(image)
    if arr.ndim == 3 and arr.shape[2] in (3, 4):
        return _to_gray_array(Image.fromarray(arr.astype(np.uint8)), "<array>")
    if arr.ndim == 3 and arr.shape[2] == 1:
        arr = arr[..., 0]
    if arr.ndim != 2:
        raise ImageError(f"expected a 2-D grayscale image, got an array of shape {arr.shape}")
    if arr.dtype != np.uint8:
        a = arr.astype(np.float64)
        if a.max() <= 1.0:
            a = a * 255.0
        arr = np.clip(a + 0.5, 0, 255).astype(np.uint8)
    return arr


def otsu_threshold(gray: np.ndarray) -> int:
    """Otsu's threshold of a uint8 image: the level that best separates ink from paper."""
    hist = np.bincount(np.asarray(gray, np.uint8).ravel(), minlength=256).astype(np.float64)
    total = hist.sum()
    if total == 0:
        return 128
    levels = np.arange(256)
    w0 = np.cumsum(hist)
    w1 = total - w0
    m0 = np.cumsum(hist * levels)
    mean_all = m0[-1]
    with np.errstate(divide="ignore", invalid="ignore"):
        between = (mean_all * w0 / total - m0) ** 2 / (w0 * w1)
    between[~np.isfinite(between)] = 0
    return int(np.argmax(between))


def binarize(gray: np.ndarray, threshold: int | None = None) -> np.ndarray:
    """Boolean ink mask (True = ink). ``threshold`` defaults to Otsu's.

    A nearly uniform image (no contrast) gives an empty mask rather than
    half the page as ink.
    """
    gray = np.asarray(gray, np.uint8)
    if threshold is None:
        if int(gray.max()) - int(gray.min()) < 32:
            return np.zeros(gray.shape, bool)
        threshold = otsu_threshold(gray)
    return gray <= threshold


def ink_bbox(mask: np.ndarray) -> tuple[int, int, int, int] | None:
    """(top, bottom, left, right) of True pixels, bottom/right exclusive; None if empty."""
    rows = np.flatnonzero(mask.any(axis=1))
    if rows.size == 0:
        return None
    cols = np.flatnonzero(mask.any(axis=0))
    return int(rows[0]), int(rows[-1]) + 1, int(cols[0]), int(cols[-1]) + 1


def crop_to_ink(gray: np.ndarray, margin: int = 0, threshold: int | None = None) -> np.ndarray:
    """Crop to the bounding box of the ink plus ``margin`` pixels; unchanged if no ink."""
    box = ink_bbox(binarize(gray, threshold))
    if box is None:
        return gray
    t, b, l, r = box
    h, w = gray.shape
    return gray[max(0, t - margin): min(h, b + margin), max(0, l - margin): min(w, r + margin)]


def resize(gray: np.ndarray, height: int, width: int) -> np.ndarray:
    """Resize to exactly ``height`` x ``width`` (area-averaging when shrinking)."""
    h, w = gray.shape
    if (h, w) == (height, width):
        return gray
    method = Image.Resampling.BOX if height <= h and width <= w else Image.Resampling.BILINEAR
    return np.asarray(Image.fromarray(gray).resize((int(width), int(height)), method), np.uint8)


def resize_keep_aspect(gray: np.ndarray, height: int | None = None, width: int | None = None,
                       max_side: int | None = None) -> np.ndarray:
    """Resize keeping the aspect ratio, to a given height, width, or longest side."""
    h, w = gray.shape
    if height is not None:
        scale = height / h
    elif width is not None:
        scale = width / w
    elif max_side is not None:
        scale = max_side / max(h, w)
    else:
        raise ValueError("give height, width or max_side")
    new_h = max(1, int(round(h * scale)))
    new_w = max(1, int(round(w * scale)))
    if height is not None:
        new_h = height
    if width is not None and height is None:
        new_w = width
    return resize(gray, new_h, new_w)


def pad_to(gray: np.ndarray, height: int, width: int, fill: int = 255, center: bool = True) -> np.ndarray:
    """Pad with paper (``fill``) to at least ``height`` x ``width``; never crops."""
    h, w = gray.shape
    out_h, out_w = max(h, height), max(w, width)
    if (out_h, out_w) == (h, w):
        return gray
    out = np.full((out_h, out_w), fill, np.uint8)
    top = (out_h - h) // 2 if center else 0
    left = (out_w - w) // 2 if center else 0
    out[top: top + h, left: left + w] = gray
    return out


def fit_in_box(gray: np.ndarray, height: int, width: int, fill: int = 255) -> np.ndarray:
    """Scale down (never up past the box) keeping aspect, then centre on a ``height`` x ``width`` canvas."""
    h, w = gray.shape
    scale = min(height / h, width / w)
    new_h, new_w = max(1, min(height, int(round(h * scale)))), max(1, min(width, int(round(w * scale))))
    return pad_to(resize(gray, new_h, new_w), height, width, fill=fill)


def square_pad(gray: np.ndarray, fill: int = 255) -> np.ndarray:
    """Pad the shorter side so the image is square, content centred."""
    side = max(gray.shape)
    return pad_to(gray, side, side, fill=fill)


def to_ink_float(gray: np.ndarray) -> np.ndarray:
    """float32 in [0, 1] with ink = 1 and paper = 0 (the input convention of the models)."""
    return (255.0 - np.asarray(gray, np.float32)) / 255.0


def from_ink_float(ink: np.ndarray) -> np.ndarray:
    """Inverse of :func:`to_ink_float`: ink-is-1 floats back to a uint8 paper-white image."""
    return np.clip(255.0 - np.asarray(ink, np.float32) * 255.0 + 0.5, 0, 255).astype(np.uint8)


def save_gray(gray: np.ndarray, path: str | os.PathLike) -> Path:
    """Write a uint8 gray image (format from the suffix), creating parent folders."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    Image.fromarray(np.asarray(gray, np.uint8)).save(path)
    return path


def list_images(folder: str | os.PathLike) -> list[Path]:
    """Image files directly in ``folder``, sorted by name."""
    folder = Path(folder)
    return sorted(p for p in folder.iterdir() if p.is_file() and p.suffix.lower() in IMAGE_SUFFIXES)
