"""Reading and normalising handwriting images.

Convention used across the project: a page, line, character or signature is a
2-D ``uint8`` array, white paper (255) and dark ink (0). Functions that need
"ink = 1" say so and return floats.

Every image file is read through :func:`read_gray` (the one door): whatever
goes wrong (a missing file, a folder, zero bytes, not an image, a truncated
PNG or JPEG, an image over the pixel limit) becomes one :class:`ImageError`
naming the file. Arrays and PIL images given directly go through
:func:`as_gray`, which refuses empty arrays and NaN/infinite values.

Pixel limit: :data:`MAX_PIXELS` (300 megapixels by default: a 600-dpi A3
page is 70 MP, so this leaves room for 1200-dpi scans while refusing
"decompression bombs" that would fill the memory). The environment variable
``HW_MAX_IMAGE_PIXELS`` overrides it (a whole number; 0 = no limit). It
replaces Pillow's own ``Image.MAX_IMAGE_PIXELS`` for the reads made here.
"""

from __future__ import annotations

import os
import threading
import warnings
from pathlib import Path

import numpy as np
from PIL import Image, ImageOps, UnidentifiedImageError

from hwutils.errors import ImageError, ParamsError

IMAGE_SUFFIXES = (".png", ".jpg", ".jpeg", ".bmp", ".tif", ".tiff", ".gif", ".webp", ".pgm")

MAX_PIXELS = 300_000_000
"""Largest image (width x height) :func:`read_gray` decodes; see the module docstring."""
MAX_PIXELS_ENV = "HW_MAX_IMAGE_PIXELS"
_PILLOW_LIMIT_LOCK = threading.Lock()

INK_CONTRAST = 32
"""Gray levels under the paper a pixel needs to count as ink in :func:`has_ink`."""
MIN_INK_PIXELS = 10
"""Ink pixels an image needs for :func:`has_ink` (fewer: dust, not writing)."""


def max_pixels() -> int | None:
    """The pixel limit in force: ``HW_MAX_IMAGE_PIXELS`` when set, else
    :data:`MAX_PIXELS`; None when it is 0 (no limit)."""
    raw = os.environ.get(MAX_PIXELS_ENV, "").strip()
    value = MAX_PIXELS
    if raw:
        try:
            value = int(raw)
        except ValueError:
            value = -1
        if value < 0:
            raise ParamsError(f"{MAX_PIXELS_ENV}: must be a whole number >= 0, got {raw!r}")
    return int(value) or None


def _label(name) -> str:
    return str(name) if name is not None else "<array>"


def _levels(arr: np.ndarray, name) -> np.ndarray:
    """Any numeric array -> float64 gray levels 0..255 (not yet rounded).

    * ``bool``: True = 255 (white), False = 0;
    * ``uint8``: as it is;
    * other integers: 0..255 as they are; up to 65535 (16-bit) scaled by
      255 / 65535; negative or larger values are refused. A 16-bit image whose
      values all fit in 0..255 is thus read as 8-bit levels stored in 16 bits;
    * floats: in 0..1 (1.0 = white) when no value exceeds 1.5 (so resampling
      overshoot such as 1.02 stays white), else in 0..255; values outside the
      range are clipped; NaN or infinite values are refused.
    """
    label = _label(name)
    if arr.dtype == np.bool_:
        return arr.astype(np.float64) * 255.0
    if arr.dtype == np.uint8:
        return arr.astype(np.float64)
    if np.issubdtype(arr.dtype, np.integer):
        lo, hi = int(arr.min()), int(arr.max())
        if lo < 0 or hi > 65535:
            raise ImageError(f"{label}: integer values from {lo} to {hi}; expected 0..255 or 16-bit 0..65535")
        a = arr.astype(np.float64)
        return a if hi <= 255 else a * (255.0 / 65535.0)
    if np.issubdtype(arr.dtype, np.floating):
        a = arr.astype(np.float64)
        if not np.isfinite(a).all():
            raise ImageError(f"{label}: image holds NaN or infinite values")
        if a.max() <= 1.5:
            a = a * 255.0
        return np.clip(a, 0.0, 255.0)
    raise ImageError(f"{label}: not an image array (dtype {arr.dtype})")


def _round(levels: np.ndarray) -> np.ndarray:
    return np.clip(levels + 0.5, 0, 255).astype(np.uint8)


def _array_to_gray(arr: np.ndarray, name) -> np.ndarray:
    """2-D, HxWx1, HxWx2 (LA), HxWx3 (RGB) or HxWx4 (RGBA) of any numeric dtype -> uint8 gray.

    Channels are scaled together by the rules of :func:`_levels`; colour
    becomes gray with Pillow's ITU-R 601-2 luma; alpha is composited on white
    paper (transparent = paper)."""
    label = _label(name)
    if arr.ndim == 3 and arr.shape[2] == 1:
        arr = arr[..., 0]
    if arr.ndim not in (2, 3) or (arr.ndim == 3 and arr.shape[2] not in (2, 3, 4)):
        raise ImageError(
            f"{label}: expected a 2-D grayscale image or HxWx1/2/3/4 channels, "
            f"got an array of shape {arr.shape}"
        )
    if arr.size == 0:
        raise ImageError(f"{label}: image has no pixels (shape {arr.shape})")
    levels = _levels(arr, name)
    if arr.ndim == 2:
        return _round(levels)
    img = _round(levels)
    mode = {2: "LA", 3: "RGB", 4: "RGBA"}[arr.shape[2]]
    return _pil_to_gray(Image.fromarray(img, mode), name)


def _pil_to_gray(img: Image.Image, name) -> np.ndarray:
    """Any PIL mode (1, L, P, RGB, RGBA, LA, PA, CMYK, I;16, I, F, ...) -> uint8 gray.

    Transparent pixels become paper (composited on white); 16-bit, 32-bit
    integer and float modes follow the array rules of :func:`_levels`."""
    if img.mode in ("RGBA", "LA", "PA", "RGBa", "La") or (
        img.mode in ("P", "L", "RGB") and "transparency" in img.info
    ):
        rgba = img.convert("RGBA")
        white = Image.new("RGBA", rgba.size, (255, 255, 255, 255))
        img = Image.alpha_composite(white, rgba)
    if img.mode.startswith("I") or img.mode == "F":
        arr = np.asarray(img)
        if arr.size == 0:
            raise ImageError(f"{_label(name)}: image has no pixels")
        return _round(_levels(arr, name))
    out = np.asarray(img.convert("L"), dtype=np.uint8).copy()
    if out.size == 0:
        raise ImageError(f"{_label(name)}: image has no pixels")
    return out


def read_gray(path: str | os.PathLike) -> np.ndarray:
    """Read any image file as a 2-D uint8 array (white paper, dark ink): the
    one function every image file of the project is read through.

    Colour, palette, alpha (composited on white), 16-bit and float images are
    converted, not rejected (see :func:`as_gray` for the rules); EXIF rotation
    is applied; multi-frame files give their first frame.
    Raises :class:`ImageError` naming the file when it is missing, a folder,
    empty, not an image, truncated (Pillow's ``LOAD_TRUNCATED_IMAGES`` is
    left off) or larger than the pixel limit (:func:`max_pixels`).
    """
    return _open_image(path, decode=True)


def check_image_file(path: str | os.PathLike) -> tuple[int, int]:
    """Check cheaply (the header only, pixels not decoded) that ``path`` is an
    image :func:`read_gray` can open, and return its ``(width, height)``.

    The same :class:`ImageError` as :func:`read_gray` for a missing file, a
    folder, zero bytes, not an image or an image over the pixel limit; a
    truncated file is only found when its pixels are decoded.
    """
    return _open_image(path, decode=False)


def _open_image(path, decode: bool):
    """The door itself: open ``path`` with the project's pixel limit and every
    failure as :class:`ImageError` naming it; the gray pixels (``decode``) or the size."""
    path = Path(path)
    if path.is_dir():
        raise ImageError(f"{path}: is a folder, not an image file")
    if not path.is_file():
        raise ImageError(f"{path}: no such image file")
    if path.stat().st_size == 0:
        raise ImageError(f"{path}: empty file (0 bytes)")
    limit = max_pixels()
    size = None
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            with _PILLOW_LIMIT_LOCK:  # the project's limit, checked below, replaces Pillow's for this open
                saved, Image.MAX_IMAGE_PIXELS = Image.MAX_IMAGE_PIXELS, None
                try:
                    img = Image.open(path)
                finally:
                    Image.MAX_IMAGE_PIXELS = saved
            with img:
                size = img.size
                if limit is not None and size[0] * size[1] > limit:
                    raise Image.DecompressionBombError(f"{size[0]}x{size[1]}")
                if not decode:
                    return size
                img.load()
                img = ImageOps.exif_transpose(img)
                return _pil_to_gray(img, path)
    except ImageError:
        raise
    except (Image.DecompressionBombError, Image.DecompressionBombWarning) as exc:
        what = f"{size[0]}x{size[1]} = {size[0] * size[1]} pixels" if size else f"too many pixels ({exc})"
        raise ImageError(
            f"{path}: {what}, over the limit of {limit} (set {MAX_PIXELS_ENV} to read larger images)"
        ) from None
    except MemoryError:
        raise ImageError(f"{path}: too large to decode in the memory available") from None
    except UnidentifiedImageError:  # Pillow's text only repeats the file name
        raise ImageError(f"{path}: not a readable image (UnidentifiedImageError)") from None
    except Exception as exc:  # noqa: BLE001 - any decoder failure is this file's fault, named as such
        raise ImageError(f"{path}: not a readable image ({exc.__class__.__name__}: {exc})") from None


def as_gray(image, name: str | None = None) -> np.ndarray:
    """A path, a PIL image or an array -> a 2-D uint8 gray image (white paper).

    Paths go through :func:`read_gray`. Arrays may be 2-D, HxWx1, HxWx2 (LA),
    HxWx3 (RGB) or HxWx4 (RGBA), of any numeric dtype:

    * ``bool``: True = white (1), False = black (a :func:`binarize` mask,
      True = ink, is given as ``~mask``);
    * ``uint8``: as it is; other integers: 0..255 as they are, up to 65535
      scaled as 16-bit (so a 16-bit image holding only 0..255 keeps its
      levels); negative or larger values are refused;
    * floats: 0..1 (1.0 = white) when no value exceeds 1.5, else 0..255;
      clipped to that range;
    * colour: Pillow's ITU-R 601-2 luma; alpha: composited on white paper.

    Empty arrays and NaN or infinite values raise :class:`ImageError` naming
    ``name`` (default ``<array>``).
    """
    if isinstance(image, (str, os.PathLike)):
        return read_gray(image)
    if isinstance(image, Image.Image):
        return _pil_to_gray(image, name or "<image>")
    return _array_to_gray(np.asarray(image), name)


def has_ink(gray: np.ndarray, min_contrast: int = INK_CONTRAST, min_pixels: int = MIN_INK_PIXELS) -> bool:
    """Does a uint8 gray image hold writing? True when enough pixels are
    ``min_contrast`` or more gray levels darker than the paper (its
    99th-percentile level): ``min_pixels`` of them, or one per thousand pixels
    in images under ``1000 * min_pixels`` pixels (at least one). Blank paper,
    scanner noise, a uniform (white, gray or black) image and a dust speck on a
    line have none; faint pencil 40 levels under the paper has."""
    gray = np.asarray(gray)
    if gray.size == 0:
        return False
    paper = float(np.percentile(gray, 99))
    needed = min(min_pixels, max(1, gray.size // 1000))
    return int(np.count_nonzero(gray <= paper - min_contrast)) >= needed


def require_ink(gray: np.ndarray, name) -> np.ndarray:
    """``gray`` itself when it holds writing (:func:`has_ink`), else
    :class:`ImageError` naming ``name``: an answer about a blank image would be
    meaningless."""
    if not has_ink(gray):
        raise ImageError(f"{_label(name)}: no ink found (blank or uniform image)")
    return gray


def gray_with_ink(image) -> np.ndarray:
    """:func:`as_gray` of ``image``, refused (:func:`require_ink`) when it is
    blank or near-blank, the error naming it (:func:`image_name`)."""
    return require_ink(as_gray(image), image_name(image))


def image_name(image) -> str:
    """How an error names ``image``: its path, or ``<image>`` / ``<array>``."""
    if isinstance(image, (str, os.PathLike)):
        return str(image)
    return "<image>" if isinstance(image, Image.Image) else "<array>"


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
    return gray[max(0, t - margin) : min(h, b + margin), max(0, l - margin) : min(w, r + margin)]


def resize(gray: np.ndarray, height: int, width: int) -> np.ndarray:
    """Resize to exactly ``height`` x ``width`` (area-averaging when shrinking)."""
    h, w = gray.shape
    if (h, w) == (height, width):
        return gray
    method = Image.Resampling.BOX if height <= h and width <= w else Image.Resampling.BILINEAR
    return np.asarray(Image.fromarray(gray).resize((int(width), int(height)), method), np.uint8)


def scale_by(gray: np.ndarray, scale: float, min_side: int = 8) -> np.ndarray:
    """``gray`` as a scanner of ``scale`` times the resolution would give it
    (bilinear; each side at least ``min_side``)."""
    h, w = gray.shape
    size = (max(min_side, round(w * scale)), max(min_side, round(h * scale)))
    return np.asarray(Image.fromarray(gray).resize(size, Image.Resampling.BILINEAR), np.uint8)


def resize_keep_aspect(
    gray: np.ndarray, height: int | None = None, width: int | None = None, max_side: int | None = None
) -> np.ndarray:
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
    out[top : top + h, left : left + w] = gray
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
    """Write a uint8 gray image (format from the suffix), creating parent
    folders; atomically (a temporary name, then renamed into place)."""
    from hwutils.fileio import atomic_path

    path = Path(path)
    with atomic_path(path) as tmp:
        Image.fromarray(np.asarray(gray, np.uint8)).save(tmp)
    return path


def list_images(folder: str | os.PathLike) -> list[Path]:
    """Image files directly in ``folder``, sorted by name."""
    folder = Path(folder)
    return sorted(p for p in folder.iterdir() if p.is_file() and p.suffix.lower() in IMAGE_SUFFIXES)
