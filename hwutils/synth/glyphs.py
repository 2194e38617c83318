"""Glyph outlines from the fonts matplotlib ships, and their rasterisation.

The synthetic handwriting and character generators start from these
outlines, then bend them (per-writer affine, jitter, stroke width) before
rasterising. Nothing is downloaded: the fonts are part of matplotlib.
"""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path

import numpy as np
from PIL import Image, ImageDraw

# Text fonts with full Latin letters and digits (symbol and math fonts left out).
_FONT_FILES = (
    "DejaVuSans.ttf",
    "DejaVuSans-Oblique.ttf",
    "DejaVuSans-Bold.ttf",
    "DejaVuSans-BoldOblique.ttf",
    "DejaVuSansMono.ttf",
    "DejaVuSansMono-Oblique.ttf",
    "DejaVuSansMono-Bold.ttf",
    "DejaVuSerif.ttf",
    "DejaVuSerif-Italic.ttf",
    "DejaVuSerif-Bold.ttf",
    "DejaVuSerif-BoldItalic.ttf",
    "STIXGeneral.ttf",
    "STIXGeneralItalic.ttf",
    "STIXGeneralBol.ttf",
    "STIXGeneralBolIta.ttf",
    "cmr10.ttf",
    "cmss10.ttf",
    "cmti10.ttf",
    "cmtt10.ttf",
    "cmb10.ttf",
)


def font_paths() -> list[Path]:
    """Paths of the text fonts shipped in matplotlib's ``mpl-data/fonts/ttf``."""
    import matplotlib

    folder = Path(matplotlib.get_data_path()) / "fonts" / "ttf"
    return [folder / name for name in _FONT_FILES if (folder / name).is_file()]


@lru_cache(maxsize=4096)
def _outline(char: str, font: str) -> tuple[tuple[np.ndarray, ...], float]:
    from matplotlib.font_manager import FontProperties
    from matplotlib.textpath import TextPath

    if char == " ":
        return (), 0.33
    path = TextPath((0, 0), char, size=1.0, prop=FontProperties(fname=font))
    polys = tuple(np.asarray(p, np.float64) for p in path.to_polygons(closed_only=True) if len(p) >= 3)
    if not polys:
        return (), 0.33
    xs = np.concatenate([p[:, 0] for p in polys])
    return polys, float(xs.max() - min(0.0, xs.min()))


def glyph_outline(char: str, font: str | Path) -> tuple[list[np.ndarray], float]:
    """Closed polygons of one character in em units (baseline y = 0, y up)
    and its advance width. Inner contours (holes) are filled by even-odd."""
    polys, advance = _outline(char, str(font))
    return [p.copy() for p in polys], advance


def rasterize(polygons: list[np.ndarray], height: int, width: int, supersample: int = 2) -> np.ndarray:
    """Fill polygons given in pixel coordinates (x right, y down) with the
    even-odd rule; returns a ``height`` x ``width`` float mask in [0, 1]
    (anti-aliased by supersampling)."""
    s = max(1, int(supersample))
    acc = np.zeros((height * s, width * s), bool)
    for poly in polygons:
        if len(poly) < 3:
            continue
        layer = Image.new("1", (width * s, height * s), 0)
        ImageDraw.Draw(layer).polygon([(float(x) * s, float(y) * s) for x, y in poly], fill=1)
        acc ^= np.asarray(layer, bool)
    if s == 1:
        return acc.astype(np.float32)
    return acc.reshape(height, s, width, s).mean(axis=(1, 3)).astype(np.float32)


def apply_affine(polygons: list[np.ndarray], matrix: np.ndarray) -> list[np.ndarray]:
    """Apply a 2x3 affine matrix to every polygon (rows are points ``(x, y)``)."""
    m = np.asarray(matrix, np.float64)
    return [p @ m[:, :2].T + m[:, 2] for p in polygons]


def shear_scale_rotate(
    scale: float = 1.0, slant: float = 0.0, rotate: float = 0.0, aspect: float = 1.0
) -> np.ndarray:
    """A 2x2 matrix: horizontal shear ``slant`` (tan of the slant angle),
    width ``aspect``, uniform ``scale`` and rotation ``rotate`` (radians)."""
    shear = np.array([[aspect, slant], [0.0, 1.0]])
    c, s = np.cos(rotate), np.sin(rotate)
    return scale * np.array([[c, -s], [s, c]]) @ shear


def render_glyph(
    char: str,
    font: str | Path,
    matrix: np.ndarray | None = None,
    height: int = 64,
    margin: float = 0.15,
    supersample: int = 2,
) -> np.ndarray:
    """One character as a float ink mask in [0, 1] (ink = 1), transformed by the
    2x2 ``matrix`` (e.g. from :func:`shear_scale_rotate`) and fitted, aspect
    kept, into a square of side ``height`` with ``margin`` (share of the side)
    left empty around it. A character the font lacks gives an empty mask."""
    polys, _ = glyph_outline(char, font)
    if not polys:
        return np.zeros((height, height), np.float32)
    m = np.eye(2) if matrix is None else np.asarray(matrix, np.float64)
    # y up (font units) -> y down (pixels)
    polys = [p @ (m @ np.diag([1.0, -1.0])).T for p in polys]
    pts = np.concatenate(polys)
    lo, hi = pts.min(0), pts.max(0)
    inner = height * (1 - 2 * margin)
    scale = inner / max(float((hi - lo).max()), 1e-6)
    offset = (height - (hi - lo) * scale) / 2 - lo * scale
    placed = [p * scale + offset for p in polys]
    return rasterize(placed, height, height, supersample=supersample)
