"""Synthetic pen-drawn characters (0-9, A-Z): the strokes a hand draws, not a font's outline.

Handwritten capitals are mostly single-line strokes of one pen width, and
people draw the same letter in a few distinct ways (an ``M`` with upright or
splayed sides, its middle reaching the baseline or not; an ``E`` as three bars
or as two arcs). Font glyphs (:mod:`hwutils.synth.characters`) give neither:
their strokes are filled outlines with serifs and contrast. Here each
character is a set of stroke skeletons in a unit box (:data:`SKELETONS`, with
variants), and each sample draws one variant with its control points moved,
the whole slanted, rotated and stretched, then rasterised as a polyline of
one random pen width (supersampled, so widths are not whole pixels), with
the same elastic distortion, blur and noise as the font characters.
Everything is drawn from one seed: the same arguments give the same images.
"""

from __future__ import annotations

import numpy as np
from PIL import Image, ImageDraw

DEFAULT_ALPHABET = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ"
SUPERSAMPLE = 3


def arc(cx: float, cy: float, rx: float, ry: float, a0: float, a1: float, n: int = 24) -> list:
    """Points of an elliptic arc from angle ``a0`` to ``a1`` (degrees,
    counter-clockwise as seen on the page: 0 right, 90 up; y grows downwards)."""
    t = np.radians(np.linspace(a0, a1, n))
    return [(cx + rx * np.cos(a), cy - ry * np.sin(a)) for a in t]


def _l(*points) -> list:
    return list(points)


# Each character: (width, [variant, ...]); a variant is a list of strokes, a
# stroke a list of (x, y) points in a box of height 1 (y down) and that width.
SKELETONS: dict[str, tuple[float, list]] = {
    "A": (
        0.75,
        [
            [_l((0, 1), (0.375, 0), (0.75, 1)), _l((0.16, 0.62), (0.6, 0.62))],
            [_l((0, 1), (0.3, 0), (0.45, 0), (0.75, 1)), _l((0.14, 0.55), (0.62, 0.55))],
        ],
    ),
    "B": (
        0.6,
        [
            [
                _l((0, 0), (0, 1)),
                _l((0, 0), (0.4, 0))
                + arc(0.4, 0.24, 0.16, 0.24, 90, -90)
                + _l((0, 0.48), (0.42, 0.48))
                + arc(0.42, 0.74, 0.18, 0.26, 90, -90)
                + _l((0, 1)),
            ],
            [
                _l((0, 0), (0, 1)),
                _l((0, 0.02))
                + arc(0.3, 0.25, 0.28, 0.23, 110, -90)
                + _l((0.05, 0.48))
                + arc(0.32, 0.74, 0.28, 0.26, 90, -100),
            ],
        ],
    ),
    "C": (0.65, [[arc(0.38, 0.5, 0.38, 0.5, 50, 310)], [arc(0.38, 0.5, 0.38, 0.5, 70, 300)]]),
    "D": (
        0.65,
        [
            [_l((0, 0), (0, 1)), _l((0, 0), (0.25, 0)) + arc(0.25, 0.5, 0.4, 0.5, 90, -90) + _l((0, 1))],
            [_l((0, 0), (0, 1)), _l((0, 0.02)) + arc(0.12, 0.5, 0.53, 0.49, 100, -95)],
        ],
    ),
    "E": (
        0.55,
        [
            [_l((0.55, 0), (0, 0), (0, 1), (0.55, 1)), _l((0, 0.5), (0.42, 0.5))],
            [_l((0, 0), (0, 1)), _l((0, 0), (0.55, 0)), _l((0, 0.48), (0.45, 0.48)), _l((0, 1), (0.55, 1))],
            [arc(0.3, 0.25, 0.25, 0.25, 40, 270) + arc(0.32, 0.73, 0.3, 0.27, 90, 320)],
        ],
    ),
    "F": (
        0.55,
        [
            [_l((0.55, 0), (0, 0), (0, 1)), _l((0, 0.48), (0.42, 0.48))],
            [_l((0, 0), (0, 1)), _l((0, 0), (0.55, 0)), _l((0, 0.48), (0.4, 0.48))],
        ],
    ),
    "G": (
        0.7,
        [
            [arc(0.38, 0.5, 0.38, 0.5, 50, 360) + _l((0.4, 0.5))],
            [arc(0.38, 0.5, 0.38, 0.5, 60, 350) + _l((0.76, 1.0)), _l((0.45, 0.55), (0.76, 0.55))],
        ],
    ),
    "H": (
        0.65,
        [
            [_l((0, 0), (0, 1)), _l((0.65, 0), (0.65, 1)), _l((0, 0.5), (0.65, 0.5))],
            [_l((0, 0), (0, 1)), _l((0.65, 0), (0.65, 1)), _l((0, 0.45), (0.65, 0.45))],
        ],
    ),
    "I": (
        0.35,
        [
            [_l((0.17, 0), (0.17, 1))],
            [_l((0.17, 0), (0.17, 1)), _l((0, 0), (0.35, 0)), _l((0, 1), (0.35, 1))],
        ],
    ),
    "J": (
        0.5,
        [
            [_l((0.4, 0), (0.4, 0.7)) + arc(0.2, 0.7, 0.2, 0.3, 0, -180)],
            [_l((0.1, 0), (0.5, 0)), _l((0.32, 0), (0.32, 0.72)) + arc(0.16, 0.72, 0.16, 0.28, 0, -170)],
        ],
    ),
    "K": (
        0.6,
        [
            [_l((0, 0), (0, 1)), _l((0.58, 0), (0, 0.55)), _l((0.15, 0.43), (0.6, 1))],
            [_l((0, 0), (0, 1)), _l((0.58, 0), (0.02, 0.5), (0.6, 1))],
        ],
    ),
    "L": (0.5, [[_l((0, 0), (0, 1), (0.5, 1))]]),
    "M": (
        0.85,
        [
            [_l((0, 1), (0, 0), (0.42, 0.7), (0.85, 0), (0.85, 1))],
            [_l((0, 1), (0, 0), (0.42, 1), (0.85, 0), (0.85, 1))],
            [_l((0, 1), (0.15, 0), (0.42, 0.8), (0.7, 0), (0.85, 1))],
            [_l((0, 1), (0, 0), (0.42, 0.5), (0.85, 0), (0.85, 1))],
        ],
    ),
    "N": (
        0.65,
        [
            [_l((0, 1), (0, 0), (0.65, 1), (0.65, 0))],
            [_l((0, 1), (0.05, 0), (0.6, 1), (0.65, 0))],
        ],
    ),
    "O": (0.7, [[arc(0.35, 0.5, 0.35, 0.5, 95, 460)], [arc(0.35, 0.5, 0.35, 0.5, 80, 440)]]),
    "P": (
        0.55,
        [
            [_l((0, 1), (0, 0), (0.3, 0)) + arc(0.3, 0.25, 0.25, 0.25, 90, -90) + _l((0, 0.5))],
            [_l((0, 0), (0, 1)), _l((0, 0.02)) + arc(0.22, 0.27, 0.33, 0.25, 110, -100)],
        ],
    ),
    "Q": (
        0.72,
        [
            [arc(0.36, 0.48, 0.36, 0.48, 95, 460), _l((0.45, 0.72), (0.74, 1.02))],
            [arc(0.36, 0.48, 0.36, 0.48, 95, 460), _l((0.52, 0.86), (0.74, 1.05))],
            [arc(0.36, 0.48, 0.36, 0.48, 80, 440), _l((0.3, 0.9), (0.5, 0.85), (0.78, 1.02))],
        ],
    ),
    "R": (
        0.6,
        [
            [_l((0, 1), (0, 0), (0.3, 0)) + arc(0.3, 0.25, 0.25, 0.25, 90, -90) + _l((0, 0.5), (0.6, 1))],
            [
                _l((0, 0), (0, 1)),
                _l((0, 0.02)) + arc(0.22, 0.27, 0.33, 0.25, 110, -100) + _l((0.25, 0.52), (0.6, 1)),
            ],
        ],
    ),
    "S": (
        0.55,
        [
            [arc(0.28, 0.25, 0.26, 0.25, 30, 270) + arc(0.28, 0.75, 0.26, 0.25, 90, -150)],
            [arc(0.3, 0.24, 0.25, 0.24, 20, 250) + arc(0.26, 0.74, 0.28, 0.26, 110, -160)],
        ],
    ),
    "T": (
        0.65,
        [
            [_l((0, 0), (0.65, 0)), _l((0.33, 0), (0.33, 1))],
            [_l((0, 0.03), (0.65, 0)), _l((0.3, 0.02), (0.34, 1))],
        ],
    ),
    "U": (
        0.65,
        [
            [_l((0, 0), (0, 0.65)) + arc(0.325, 0.65, 0.325, 0.35, 180, 360) + _l((0.65, 0))],
            [
                _l((0, 0), (0, 0.65)) + arc(0.3, 0.65, 0.3, 0.35, 180, 360) + _l((0.6, 0)),
                _l((0.6, 0), (0.62, 1)),
            ],
        ],
    ),
    "V": (0.7, [[_l((0, 0), (0.35, 1), (0.7, 0))], [_l((0, 0), (0.3, 1), (0.7, 0))]]),
    "W": (
        1.0,
        [
            [_l((0, 0), (0.25, 1), (0.5, 0.15), (0.75, 1), (1.0, 0))],
            [_l((0, 0), (0.25, 1), (0.5, 0.5), (0.75, 1), (1.0, 0))],
            [_l((0, 0), (0.15, 1), (0.5, 0), (0.85, 1), (1.0, 0))],
        ],
    ),
    "X": (0.65, [[_l((0, 0), (0.65, 1)), _l((0.65, 0), (0, 1))]]),
    "Y": (
        0.65,
        [
            [_l((0, 0), (0.33, 0.5), (0.65, 0)), _l((0.33, 0.5), (0.33, 1))],
            [_l((0, 0), (0.33, 0.5)), _l((0.65, 0), (0.1, 1))],
        ],
    ),
    "Z": (
        0.6,
        [
            [_l((0, 0), (0.6, 0), (0, 1), (0.6, 1))],
            [_l((0, 0), (0.6, 0), (0, 1), (0.6, 1)), _l((0.12, 0.5), (0.48, 0.5))],
        ],
    ),
    "0": (0.6, [[arc(0.3, 0.5, 0.3, 0.5, 95, 460)]]),
    "1": (0.4, [[_l((0.05, 0.25), (0.3, 0), (0.3, 1))], [_l((0.2, 0), (0.2, 1))]]),
    "2": (
        0.55,
        [
            [arc(0.27, 0.27, 0.27, 0.27, 160, -30) + _l((0, 1), (0.55, 1))],
            [arc(0.27, 0.27, 0.27, 0.27, 160, -40) + _l((0.02, 0.98), (0.55, 1))],
        ],
    ),
    "3": (
        0.55,
        [
            [arc(0.27, 0.25, 0.25, 0.25, 150, -90) + arc(0.27, 0.74, 0.28, 0.26, 90, -150)],
            [_l((0, 0), (0.55, 0), (0.2, 0.42)) + arc(0.25, 0.7, 0.3, 0.3, 80, -150)],
        ],
    ),
    "4": (
        0.6,
        [
            [_l((0.45, 1), (0.45, 0), (0, 0.7), (0.6, 0.7))],
            [_l((0.1, 0), (0, 0.65), (0.6, 0.65)), _l((0.45, 0.3), (0.45, 1))],
        ],
    ),
    "5": (
        0.55,
        [
            [_l((0.55, 0), (0.05, 0), (0.02, 0.45)) + arc(0.25, 0.7, 0.3, 0.3, 120, -150)],
        ],
    ),
    "6": (
        0.55,
        [
            [arc(0.3, 0.45, 0.3, 0.45, 60, 180) + arc(0.28, 0.72, 0.27, 0.28, 180, -180)],
        ],
    ),
    "7": (
        0.55,
        [
            [_l((0, 0), (0.55, 0), (0.15, 1))],
            [_l((0, 0), (0.55, 0), (0.15, 1)), _l((0.12, 0.5), (0.45, 0.5))],
        ],
    ),
    "8": (
        0.5,
        [
            [arc(0.25, 0.24, 0.22, 0.24, -90, 270) + arc(0.25, 0.74, 0.25, 0.26, 90, 450)],
        ],
    ),
    "9": (
        0.55,
        [
            [arc(0.27, 0.28, 0.27, 0.28, 0, 360) + _l((0.54, 0.28), (0.45, 1))],
        ],
    ),
}


def _variant_points(char: str, rng: np.random.Generator) -> tuple[float, list[np.ndarray]]:
    width, variants = SKELETONS[char]
    strokes = variants[rng.integers(len(variants))]
    return width, [np.asarray(s, np.float64) for s in strokes]


def pen_strokes(char: str, rng: np.random.Generator) -> list[np.ndarray]:
    """One hand's strokes of ``char`` in unit-height coordinates: a variant,
    its points moved (each stroke as a whole and each point a little), the
    whole stretched, slanted and rotated."""
    if char not in SKELETONS:
        raise KeyError(f"no pen skeleton for {char!r}")
    width, strokes = _variant_points(char, rng)
    out = []
    for s in strokes:
        wobble = rng.normal(0.0, 0.025, s.shape)
        if len(s) > 6:  # a curve: the hand's wobble is slow along it, not point by point
            k = np.ones(len(s) // 4) / (len(s) // 4)
            wobble = np.stack([np.convolve(w, k, mode="same") for w in wobble.T], 1) * np.sqrt(len(k))
        out.append(s + rng.normal(0.0, 0.02, 2) + wobble)
    aspect = rng.uniform(0.75, 1.3)
    slant = rng.normal(0.0, 0.18)
    angle = rng.normal(0.0, 0.06)
    m = np.array([[aspect, -slant], [0.0, 1.0]])  # x stretched, sheared by the slant (y down)
    c, s_ = np.cos(angle), np.sin(angle)
    m = np.array([[c, -s_], [s_, c]]) @ m
    centre = np.array([width / 2, 0.5])
    return [(p - centre) @ m.T for p in out]


def render_pen(char: str, rng: np.random.Generator, size: int = 64) -> np.ndarray:
    """One pen-drawn character as ink-bright float ``(size, size)`` in [0, 1]
    (before the elastic distortion and noise of :func:`make_pen_characters`)."""
    strokes = pen_strokes(char, rng)
    pts = np.concatenate(strokes)
    lo, hi = pts.min(0), pts.max(0)
    margin = rng.uniform(0.12, 0.2)
    scale = size * (1 - 2 * margin) / max(hi[1] - lo[1], hi[0] - lo[0], 1e-6)
    pen = rng.uniform(1.4, 4.5) * SUPERSAMPLE  # pen width in supersampled pixels
    big = size * SUPERSAMPLE
    image = Image.new("L", (big, big), 0)
    draw = ImageDraw.Draw(image)
    offset = (np.array([size, size]) - (hi - lo) * scale) / 2
    for s in strokes:
        xy = ((s - lo) * scale + offset) * SUPERSAMPLE
        points = [tuple(map(float, p)) for p in xy]
        draw.line(points, fill=255, width=max(1, int(round(pen))), joint="curve")
        r = pen / 2  # round pen ends
        for x, y in (points[0], points[-1]):
            draw.ellipse((x - r, y - r, x + r, y + r), fill=255)
    small = image.resize((size, size), Image.Resampling.BOX)
    return np.asarray(small, np.float32) / 255.0


def make_pen_characters(
    chars: str, per_class: int, seed: int = 0, size: int = 64
) -> tuple[np.ndarray, np.ndarray]:
    """``per_class`` pen-drawn samples of every character of ``chars``: images
    ``(n, size, size)`` uint8 with white paper and dark ink, and labels
    ``(n,)``, the index of each character in ``chars``."""
    from hwutils.synth.characters import distortion

    rng = np.random.default_rng(seed)
    transform = distortion(seed)
    images, labels = [], []
    for label, char in enumerate(chars):
        for _ in range(per_class):
            img = (render_pen(char, rng, size) * 255).astype(np.uint8)
            images.append(255 - transform(image=img)["image"])
            labels.append(label)
    if not images:
        return np.zeros((0, size, size), np.uint8), np.zeros((0,), np.int64)
    return np.stack(images).astype(np.uint8), np.asarray(labels, np.int64)
