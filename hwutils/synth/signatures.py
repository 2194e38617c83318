"""Synthetic signature persons drawn with Bezier strokes (the ``bezier`` package).

A person's *template* is a name-like signature: an optional capital initial,
one or two words of connected letter-like loops on a baseline (x-height 1,
ascenders, descenders), and a flourish under the name. Each stroke is a chain
of cubic Bezier segments through anchor points (Catmull-Rom tangents).

* genuine sample = the template drawn by its own *hand*: small control-point
  jitter, the person's slant, pressure and stroke width with small variation,
  slight scale and rotation changes;
* skilled forgery = the same template copied by another hand: larger shape
  deviations, proportions off (letters stretched), a different slant,
  pressure and width, and tremor along the stroke;
* random forgeries are simply other persons' genuine signatures.

:func:`write_dataset` writes persons in the ``sign_data`` layout
(``NNN/NNN_KK.png``, ``NNN_forg/FFFFNNN_KK.png``) so the same loader reads
synthetic and real data.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import bezier
import numpy as np
from PIL import Image, ImageDraw

from hwutils.images import save_gray


@dataclass
class Hand:
    """How someone writes: slant (shear), stroke width (px), pressure (ink darkness
    0-1), jitter (shape noise in x-heights), tremor amplitude, and proportion noise."""

    slant: float
    width: float
    pressure: float
    jitter: float
    tremor: float
    proportions: float


def _segments(anchors: np.ndarray) -> list[np.ndarray]:
    """Cubic Bezier control points (2x4 each) through ``anchors`` (n x 2), Catmull-Rom tangents."""
    p = np.vstack([anchors[0], anchors, anchors[-1]])
    segs = []
    for i in range(1, len(p) - 2):
        p0, p1, p2, p3 = p[i - 1], p[i], p[i + 1], p[i + 2]
        c1 = p1 + (p2 - p0) / 6.0
        c2 = p2 - (p3 - p1) / 6.0
        segs.append(np.stack([p1, c1, c2, p2], axis=1))
    return segs


def stroke_points(anchors: np.ndarray, per_segment: int = 24) -> np.ndarray:
    """Dense (m x 2) points along the Bezier chain through ``anchors``."""
    s = np.linspace(0.0, 1.0, per_segment)
    pts = [
        bezier.Curve(nodes, degree=3).evaluate_multi(s).T for nodes in _segments(np.asarray(anchors, float))
    ]
    return np.vstack(pts) if pts else np.asarray(anchors, float)


def make_template(rng: np.random.Generator) -> list[np.ndarray]:
    """A random name-like signature: a list of strokes, each an (n x 2) anchor array
    in x-height units (y up)."""
    strokes = []
    x = 0.0
    if rng.random() < 0.8:  # capital initial: a tall loop
        h = rng.uniform(2.0, 3.0)
        w = rng.uniform(0.8, 1.4)
        cap = np.array(
            [
                [x, 0],
                [x + 0.1 * w, h],
                [x + w, h * rng.uniform(0.7, 1.0)],
                [x + 0.7 * w, h * 0.45],
                [x + 0.2 * w, h * 0.5],
                [x + w * 1.1, 0.2],
            ]
        )
        strokes.append(cap)
        x += w * 1.1 + rng.uniform(0.1, 0.5)
    n_words = 1 if rng.random() < 0.6 else 2
    for word in range(n_words):
        n_letters = int(rng.integers(3, 8)) if word == n_words - 1 else int(rng.integers(2, 4))
        pts = [[x, rng.uniform(0.0, 0.3)]]
        for _ in range(n_letters):
            kind = rng.choice(["x", "x", "x", "asc", "desc", "loop"], p=[0.25, 0.2, 0.15, 0.15, 0.1, 0.15])
            w = rng.uniform(0.45, 0.9)
            if kind == "asc":
                top = rng.uniform(1.8, 2.6)
                pts += [[x + 0.3 * w, top], [x + 0.15 * w, top * 0.5], [x + 0.6 * w, 0.05]]
            elif kind == "desc":
                bottom = -rng.uniform(0.9, 1.5)
                pts += [
                    [x + 0.4 * w, 0.9],
                    [x + 0.3 * w, bottom],
                    [x + 0.1 * w, bottom * 0.6],
                    [x + 0.7 * w, 0.1],
                ]
            elif kind == "loop":
                pts += [[x + 0.6 * w, 0.95], [x + 0.2 * w, 0.7], [x + 0.35 * w, 0.05], [x + 0.8 * w, 0.5]]
            else:
                pts += [[x + 0.35 * w, rng.uniform(0.8, 1.1)], [x + 0.7 * w, rng.uniform(0.0, 0.15)]]
            x += w
        strokes.append(np.asarray(pts, float))
        x += rng.uniform(0.4, 0.9)
    end = x
    if rng.random() < 0.85:  # flourish: a long sweep under (or back through) the name
        y0 = rng.uniform(-0.9, -0.3)
        flourish = np.array(
            [
                [end - 0.3, 0.3],
                [end + 0.2, y0 - 0.2],
                [end * rng.uniform(0.4, 0.7), y0],
                [rng.uniform(-0.2, 0.6), y0 + rng.uniform(-0.3, 0.3)],
            ]
        )
        if rng.random() < 0.5:
            flourish = np.vstack([flourish, [[end * rng.uniform(0.5, 0.9), y0 + rng.uniform(-0.5, 0.2)]]])
        strokes.append(flourish)
    return strokes


def random_hand(rng: np.random.Generator, forger: bool = False) -> Hand:
    """A writer's habits; a forger copies slowly: more jitter, tremor and proportion errors."""
    if forger:
        return Hand(
            slant=rng.uniform(-0.35, 0.45),
            width=rng.uniform(1.6, 4.2),
            pressure=rng.uniform(0.55, 1.0),
            jitter=rng.uniform(0.07, 0.12),
            tremor=rng.uniform(0.008, 0.02),
            proportions=rng.uniform(0.08, 0.18),
        )
    return Hand(
        slant=rng.uniform(-0.2, 0.5),
        width=rng.uniform(1.5, 4.0),
        pressure=rng.uniform(0.6, 1.0),
        jitter=rng.uniform(0.025, 0.05),
        tremor=0.0,
        proportions=rng.uniform(0.02, 0.05),
    )


def draw(
    template: list[np.ndarray],
    hand: Hand,
    rng: np.random.Generator,
    x_height: float = 22.0,
    supersample: int = 2,
) -> np.ndarray:
    """Render a template as written by ``hand``: uint8 image, white paper, dark ink."""
    scale = x_height * rng.uniform(0.93, 1.07)
    slant = hand.slant + rng.normal(0, 0.03)
    angle = np.deg2rad(rng.normal(0, 2.0))
    rot = np.array([[np.cos(angle), -np.sin(angle)], [np.sin(angle), np.cos(angle)]])
    lines = []
    for anchors in template:
        a = np.asarray(anchors, float).copy()
        # proportions: stretch the stroke about its start, differently in x and y
        stretch = 1.0 + rng.normal(0, hand.proportions, size=2)
        a = a[0] + (a - a[0]) * stretch
        a = a + rng.normal(0, hand.jitter, size=a.shape)
        pts = stroke_points(a)
        if hand.tremor > 0:
            n = len(pts)
            wobble = rng.normal(0, hand.tremor, size=(n, 2))
            kernel = np.ones(3) / 3
            wobble = np.stack([np.convolve(wobble[:, k], kernel, mode="same") for k in range(2)], 1)
            pts = pts + wobble * 2
        pts[:, 0] = pts[:, 0] + slant * pts[:, 1]
        pts = pts @ rot.T
        lines.append(pts * scale)
    allpts = np.vstack(lines)
    lo = allpts.min(0)
    pad = 4 + hand.width * 2
    size = np.ceil(allpts.max(0) - lo + 2 * pad).astype(int)
    ss = supersample
    img = Image.new("L", (int(size[0]) * ss, int(size[1]) * ss), 255)
    d = ImageDraw.Draw(img)
    width0 = hand.width * rng.uniform(0.9, 1.1)
    for pts in lines:
        xy = pts - lo + pad
        xy[:, 1] = size[1] - xy[:, 1]  # y up -> image rows down
        xy = xy * ss
        n = len(xy)
        phase = rng.uniform(0, 2 * np.pi)
        press = hand.pressure * (0.8 + 0.2 * np.sin(np.linspace(0, 3 * np.pi, n) + phase))
        for i in range(n - 1):
            w = max(1, int(round(width0 * ss * (0.6 + 0.5 * press[i]))))
            shade = int(np.clip(255 - 230 * press[i], 0, 200))
            d.line([tuple(xy[i]), tuple(xy[i + 1])], fill=shade, width=w, joint="curve")
    out = img.resize((int(size[0]), int(size[1])), Image.Resampling.BOX)
    arr = np.asarray(out, np.float32)
    paper = rng.uniform(238, 252)
    arr = np.minimum(arr, paper) + rng.normal(0, 2.0, arr.shape)
    return np.clip(arr, 0, 255).astype(np.uint8)


def write_dataset(
    root, n_persons: int = 30, n_genuine: int = 12, n_forgeries: int = 8, n_forgers: int = 4, seed: int = 0
) -> Path:
    """Write ``n_persons`` synthetic persons in the sign_data layout under ``root``.

    Each person gets ``n_genuine`` genuine signatures (``NNN/NNN_KK.png``) and
    ``n_forgeries`` skilled forgeries spread over ``n_forgers`` forgers
    (``NNN_forg/FFFFNNN_KK.png``). Returns ``root``.
    """
    root = Path(root)
    rng = np.random.default_rng(seed)
    forgers = {f"{i + 1:04d}": random_hand(rng, forger=True) for i in range(max(1, n_forgers))}
    forger_ids = sorted(forgers)
    for p in range(n_persons):
        pid = f"{p + 1:03d}"
        template = make_template(rng)
        hand = random_hand(rng)
        for k in range(n_genuine):
            save_gray(draw(template, hand, rng), root / pid / f"{pid}_{k + 1:02d}.png")
        for k in range(n_forgeries):
            fid = forger_ids[(p + k) % len(forger_ids)]
            save_gray(draw(template, forgers[fid], rng), root / f"{pid}_forg" / f"{fid}{pid}_{k + 1:02d}.png")
    return root
