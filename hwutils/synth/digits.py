"""Stroke-rendered handwritten digits: Bezier pen strokes in a seeded "hand".

A digit is a list of pen strokes; each stroke is a chain of cubic Bezier
segments (the ``bezier`` package evaluates them). A *style* (drawn from a
seed) slants, rotates and stretches the strokes, jitters their control
points and sets the pen width and pressure, so one seed is one writer's
distinctive way of writing the digit.

The example input of the single-image VAE stage,
``hwutils/assets/example_two.png``, is made by this module::

    python -m hwutils.synth.digits hwutils/assets/example_two.png --digit 2 --seed 0
"""

from __future__ import annotations

import argparse
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from PIL import Image, ImageDraw

# Control points in a unit box (x right, y down). Each stroke is a chain of
# cubic segments sharing end points: [p0, c1, c2, p1, c1, c2, p2, ...].
# The "2" has a round top hook, a long diagonal, a small loop where the
# diagonal meets the base, and a base that flicks upward at its end.
DIGIT_STROKES: dict[int, list[list[tuple[float, float]]]] = {
    2: [
        [
            (0.20, 0.32),
            (0.20, 0.04),
            (0.80, -0.02),
            (0.74, 0.34),
            (0.70, 0.56),
            (0.40, 0.70),
            (0.20, 0.86),
            (0.06, 0.98),
            (0.36, 1.02),
            (0.34, 0.86),
            (0.52, 0.92),
            (0.74, 0.90),
            (0.90, 0.78),
        ]
    ],
    7: [[(0.14, 0.10), (0.40, 0.06), (0.66, 0.10), (0.88, 0.06), (0.72, 0.36), (0.56, 0.64), (0.46, 0.98)]],
    1: [[(0.36, 0.22), (0.46, 0.14), (0.54, 0.06), (0.58, 0.02), (0.56, 0.36), (0.52, 0.70), (0.50, 0.98)]],
}


@dataclass(frozen=True)
class Style:
    """One writer's hand: geometry and pen, drawn reproducibly from a seed."""

    slant: float  # horizontal shear (x += slant * (0.5 - y)); positive leans right
    rotation: float  # radians
    aspect: float  # width / height stretch
    jitter: float  # std of control-point noise (unit box)
    width: float  # pen width as a share of the image side
    pressure: float  # how much the width swells mid-stroke (0 = constant)
    ink: int  # gray level of the ink (0 = black)

    @classmethod
    def from_seed(cls, seed: int) -> Style:
        rng = np.random.default_rng(seed)
        return cls(
            slant=float(rng.uniform(0.05, 0.35)),
            rotation=float(rng.uniform(-0.12, 0.12)),
            aspect=float(rng.uniform(0.8, 1.1)),
            jitter=float(rng.uniform(0.01, 0.025)),
            width=float(rng.uniform(0.045, 0.07)),
            pressure=float(rng.uniform(0.2, 0.6)),
            ink=int(rng.integers(10, 60)),
        )


def stroke_points(nodes, samples_per_segment: int = 80) -> np.ndarray:
    """Points ``(n, 2)`` along a chain of cubic Bezier segments (``3k + 1`` nodes)."""
    import bezier

    nodes = np.asarray(nodes, np.float64)
    if len(nodes) < 4 or (len(nodes) - 1) % 3:
        raise ValueError(f"a cubic chain needs 3k+1 control points, got {len(nodes)}")
    s = np.linspace(0.0, 1.0, samples_per_segment)
    parts = []
    for i in range(0, len(nodes) - 1, 3):
        curve = bezier.Curve(np.asfortranarray(nodes[i : i + 4].T), degree=3)
        parts.append(curve.evaluate_multi(s).T[(1 if i else 0) :])
    return np.concatenate(parts)


def _styled(nodes: np.ndarray, style: Style, rng: np.random.Generator) -> np.ndarray:
    pts = np.asarray(nodes, np.float64) + rng.normal(0.0, style.jitter, (len(nodes), 2))
    x, y = pts[:, 0] - 0.5, pts[:, 1] - 0.5
    x = x * style.aspect - style.slant * y
    c, s = np.cos(style.rotation), np.sin(style.rotation)
    return np.stack([c * x - s * y, s * x + c * y], axis=1) + 0.5


def render_digit(
    digit: int = 2, seed: int = 0, size: int = 160, margin: float = 0.12, supersample: int = 3
) -> np.ndarray:
    """A ``size`` x ``size`` uint8 image (white paper, dark ink) of ``digit``
    written in the hand of ``seed``. Raises ValueError for digits without strokes."""
    if digit not in DIGIT_STROKES:
        raise ValueError(f"no strokes for digit {digit}; known: {sorted(DIGIT_STROKES)}")
    style = Style.from_seed(seed)
    rng = np.random.default_rng([seed, digit])
    big = size * supersample
    canvas = Image.new("L", (big, big), 255)
    draw = ImageDraw.Draw(canvas)
    strokes = [stroke_points(_styled(nodes, style, rng)) for nodes in DIGIT_STROKES[digit]]
    allpts = np.concatenate(strokes)
    lo, hi = allpts.min(0), allpts.max(0)
    scale = (1 - 2 * margin) / max(hi - lo)
    offset = 0.5 - (lo + hi) / 2 * scale
    for pts in strokes:
        pts = (pts * scale + offset) * big
        t = np.linspace(0, 1, len(pts))
        radius = style.width * big / 2 * (1 + style.pressure * np.sin(np.pi * t) - 0.3 * style.pressure)
        for (x, y), r in zip(pts, radius):
            draw.ellipse((x - r, y - r, x + r, y + r), fill=style.ink)
    return np.asarray(canvas.resize((size, size), Image.Resampling.BOX), np.uint8)


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description="Render a stroke-drawn handwritten digit to an image file.")
    parser.add_argument("output", help="image file to write (e.g. hwutils/assets/example_two.png)")
    parser.add_argument("--digit", type=int, default=2)
    parser.add_argument("--seed", type=int, default=0, help="the writer's style seed")
    parser.add_argument("--size", type=int, default=160)
    args = parser.parse_args(argv)
    out = Path(args.output)
    out.parent.mkdir(parents=True, exist_ok=True)
    Image.fromarray(render_digit(args.digit, args.seed, args.size)).save(out)
    print(f"wrote {out}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
