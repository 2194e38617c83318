"""Invalid, non-signature images for validity screening: random lines,
geometric shapes, text-like strokes (rows of short dashes), waves, circles,
and composites of several. Uint8, white paper, dark ink, like the signatures."""

from __future__ import annotations

from pathlib import Path

import numpy as np
from PIL import Image, ImageDraw

from hwutils.images import save_gray

KINDS = ("lines", "shapes", "text_like", "waves", "circles", "composite")


def _lines(d, rng, w, h):
    pts = [(rng.uniform(0, w), rng.uniform(0, h)) for _ in range(int(rng.integers(4, 12)))]
    for a, b in zip(pts, pts[1:]):
        d.line([a, b], fill=int(rng.integers(0, 90)), width=int(rng.integers(1, 5)))


def _shapes(d, rng, w, h):
    for _ in range(int(rng.integers(2, 5))):
        cx, cy = rng.uniform(0.15 * w, 0.85 * w), rng.uniform(0.2 * h, 0.8 * h)
        s = rng.uniform(0.1, 0.3) * h
        box = [cx - s, cy - s, cx + s, cy + s]
        ink, width = int(rng.integers(0, 90)), int(rng.integers(1, 5))
        kind = rng.integers(3)
        if kind == 0:
            d.rectangle(box, outline=ink, width=width)
        elif kind == 1:
            d.polygon([(cx, cy - s), (cx - s, cy + s), (cx + s, cy + s)], outline=ink, width=width)
        else:
            d.ellipse(box, outline=ink, width=width)


def _text_like(d, rng, w, h):
    rows = int(rng.integers(1, 4))
    for r in range(rows):
        y = h * (r + 1) / (rows + 1)
        x = rng.uniform(0.02, 0.1) * w
        while x < 0.95 * w:
            hh = rng.uniform(0.05, 0.15) * h
            d.line(
                [(x, y + hh), (x + rng.uniform(2, 8), y - hh)],
                fill=int(rng.integers(0, 90)),
                width=int(rng.integers(1, 4)),
            )
            x += rng.uniform(6, 16) * (2 if rng.random() < 0.15 else 1)


def _waves(d, rng, w, h):
    xs = np.linspace(0, w, 200)
    for _ in range(int(rng.integers(1, 4))):
        amp, freq, ph = rng.uniform(0.05, 0.3) * h, rng.uniform(1, 6) / w, rng.uniform(0, 2 * np.pi)
        ys = h / 2 + rng.uniform(-0.2, 0.2) * h + amp * np.sin(2 * np.pi * freq * xs + ph)
        d.line(list(zip(xs, ys)), fill=int(rng.integers(0, 90)), width=int(rng.integers(1, 5)))


def _circles(d, rng, w, h):
    for _ in range(int(rng.integers(3, 9))):
        cx, cy, r = rng.uniform(0, w), rng.uniform(0, h), rng.uniform(0.05, 0.35) * h
        d.ellipse(
            [cx - r, cy - r, cx + r, cy + r], outline=int(rng.integers(0, 90)), width=int(rng.integers(1, 4))
        )


_DRAW = {"lines": _lines, "shapes": _shapes, "text_like": _text_like, "waves": _waves, "circles": _circles}


def make_invalid(
    rng: np.random.Generator, kind: str | None = None, height: int = 120, width: int = 260
) -> np.ndarray:
    """One invalid image of ``kind`` (random kind when None); uint8 paper-white."""
    kind = kind or str(rng.choice(KINDS))
    if kind not in KINDS:
        raise ValueError(f"unknown invalid kind {kind!r}; choose one of {', '.join(KINDS)}")
    h = int(height * rng.uniform(0.8, 1.2))
    w = int(width * rng.uniform(0.8, 1.2))
    img = Image.new("L", (w, h), 255)
    d = ImageDraw.Draw(img)
    if kind == "composite":
        for k in rng.choice(list(_DRAW), size=int(rng.integers(2, 4)), replace=False):
            _DRAW[str(k)](d, rng, w, h)
    else:
        _DRAW[kind](d, rng, w, h)
    arr = np.asarray(img, np.float32)
    arr = np.minimum(arr, rng.uniform(238, 252)) + rng.normal(0, 2.0, arr.shape)
    return np.clip(arr, 0, 255).astype(np.uint8)


def make_invalid_set(n: int, seed: int = 0, **kw) -> tuple[list[np.ndarray], list[str]]:
    """``n`` invalid images cycling through every kind; returns (images, kinds)."""
    rng = np.random.default_rng(seed)
    kinds = [KINDS[i % len(KINDS)] for i in range(n)]
    return [make_invalid(rng, k, **kw) for k in kinds], kinds


def write_invalid(root, n: int, seed: int = 0) -> Path:
    """Write ``n`` invalid images as ``root/invalid_<kind>_<i>.png``; returns ``root``."""
    root = Path(root)
    imgs, kinds = make_invalid_set(n, seed)
    for i, (img, kind) in enumerate(zip(imgs, kinds)):
        save_gray(img, root / f"invalid_{kind}_{i:04d}.png")
    return root
