"""Seeded synthetic writers that write a small dataset in the IAM layout.

Each writer draws a persistent style from the seeded RNG: a font (outlines of
matplotlib's bundled fonts, see :mod:`hwutils.synth.glyphs`), personal
distortions of each letter's shape, slant, size, width, stroke width
(dilation/erosion), letter and word spacing, baseline wobble, ink darkness and
paper noise. Every line varies around that style (slant, size, spacing and
per-letter jitter), so lines of one writer look alike without being copies,
and two writers with the same font still differ. The output is read back with
:func:`hwutils.datasets.iam.load_iam`::

    ROOT/forms.txt     ROOT/lines.txt     ROOT/lines/<prefix>/<form>/<form>-NN.png
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np
from scipy import ndimage

from hwutils.images import save_gray
from hwutils.synth.glyphs import apply_affine, font_paths, glyph_outline, rasterize, shear_scale_rotate

WORDS = (
    "the of and to in is was he for it with as his on be at by had are but from or have an they which "
    "one you were her all she there would their we him been has when who will more no if out so said what "
    "up its about into than them can only other new some could time these two may then do first any my now "
    "such like our over man me even most made after also did many before must through back years where much "
    "your way well down should because each just those people how too little state good very make world "
    "still own see men work long get here between both life being under never day same another know while "
    "last might us great old year off come since against go came right used take three himself few house "
    "London business Vienna Berlin quiet letters Greece express tonight wizard city silver shoes birds"
).split()
LETTERS = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789.,"


@dataclass
class WriterStyle:
    """The persistent handwriting habits of one synthetic writer."""

    font: str
    size: float  # em height in pixels
    slant: float  # horizontal shear (tan of the slant angle)
    aspect: float  # letter width factor
    stroke: int  # >0 dilate, <0 erode, pixels
    spacing: float  # extra gap between letters, in em
    word_gap: float  # space between words, in em
    wobble: float  # baseline wobble amplitude, in em
    wobble_period: float  # baseline wobble period, in em
    ink: float  # darkness of the ink, 0..1
    noise: float  # paper noise std, grey levels
    glyph_warp: dict  # per-letter 2x2 personal distortion
    jitter: float  # per-letter randomness (within-writer variation)


def random_style(rng: np.random.Generator, fonts: list[Path] | None = None) -> WriterStyle:
    """Draw one writer's style."""
    fonts = fonts or font_paths()
    warp = {}
    for ch in LETTERS:
        warp[ch] = shear_scale_rotate(
            scale=float(rng.uniform(0.9, 1.1)),
            slant=float(rng.normal(0, 0.08)),
            rotate=float(rng.normal(0, 0.05)),
            aspect=float(rng.uniform(0.85, 1.15)),
        )
    return WriterStyle(
        font=str(fonts[int(rng.integers(len(fonts)))]),
        size=float(rng.uniform(30, 46)),
        slant=float(rng.uniform(-0.15, 0.45)),
        aspect=float(rng.uniform(0.8, 1.25)),
        stroke=int(rng.integers(-1, 3)),
        spacing=float(rng.uniform(-0.04, 0.12)),
        word_gap=float(rng.uniform(0.25, 0.6)),
        wobble=float(rng.uniform(0.0, 0.08)),
        wobble_period=float(rng.uniform(3.0, 12.0)),
        ink=float(rng.uniform(0.55, 0.95)),
        noise=float(rng.uniform(2.0, 12.0)),
        glyph_warp=warp,
        jitter=float(rng.uniform(0.02, 0.06)),
    )


def render_line(text: str, style: WriterStyle, rng: np.random.Generator) -> np.ndarray:
    """Render ``text`` in ``style`` with this line's natural variation;
    returns a uint8 paper-white image of the line."""
    size = style.size * rng.uniform(0.94, 1.06)
    slant = style.slant + rng.normal(0, 0.04)
    spacing = style.spacing + rng.normal(0, 0.015)
    phase = rng.uniform(0, 2 * np.pi)
    height = int(size * 1.9) + 8
    base_y = size * 1.25 + 4
    pieces = []  # (left, top, mask)
    pen = 6.0
    for ch in text:
        if ch == " ":
            pen += size * (style.word_gap + rng.normal(0, 0.04))
            continue
        polys, advance = glyph_outline(ch, style.font)
        j = style.jitter
        m = shear_scale_rotate(
            scale=size * rng.normal(1.0, j),
            slant=slant + rng.normal(0, j),
            rotate=rng.normal(0, j),
            aspect=style.aspect,
        )
        m = m @ style.glyph_warp.get(ch, np.eye(2))
        y0 = (
            base_y
            + style.wobble * size * np.sin(2 * np.pi * pen / (style.wobble_period * size) + phase)
            + rng.normal(0, j * size * 0.3)
        )
        flip = np.array([[1.0, 0.0], [0.0, -1.0]])  # font y up -> image y down
        affine = np.c_[flip @ m, [0.0, 0.0]]
        pts = apply_affine(polys, affine)
        if pts:
            allp = np.concatenate(pts)
            lo = np.floor(allp.min(axis=0)) - 3
            hi = np.ceil(allp.max(axis=0)) + 3
            bw, bh = int(hi[0] - lo[0]), int(hi[1] - lo[1])
            mask = rasterize([p - lo for p in pts], bh, bw)
            pieces.append((int(round(pen + lo[0])), int(round(y0 + lo[1])), mask))
        pen += size * (advance * style.aspect + spacing)
    width = int(pen + size) + 8
    left_min = min([0] + [p[0] for p in pieces])
    top_min = min([0] + [p[1] for p in pieces])
    dx, dy = -left_min, -top_min
    height = max(height, max([p[1] + dy + p[2].shape[0] for p in pieces] + [1]))
    width = max(width + dx, max([p[0] + dx + p[2].shape[1] for p in pieces] + [1]))
    canvas = np.zeros((height, width), np.float32)
    for left, top, mask in pieces:
        region = canvas[top + dy : top + dy + mask.shape[0], left + dx : left + dx + mask.shape[1]]
        np.maximum(region, mask, out=region)
    if style.stroke > 0:
        canvas = ndimage.grey_dilation(canvas, size=(style.stroke + 1, style.stroke + 1))
    elif style.stroke < 0:
        canvas = ndimage.grey_erosion(canvas, size=(2, 2)) * 0.5 + canvas * 0.5
    ink = np.clip(style.ink + rng.normal(0, 0.03), 0.3, 1.0)
    gray = 250.0 - canvas * ink * 235.0 + rng.normal(0, style.noise, canvas.shape)
    return np.clip(gray, 0, 255).astype(np.uint8)


def random_text(rng: np.random.Generator, n_chars: int) -> str:
    """Words drawn from a small English list until about ``n_chars`` characters."""
    words = []
    while sum(len(w) + 1 for w in words) < n_chars:
        w = WORDS[int(rng.integers(len(WORDS)))]
        if rng.random() < 0.08:
            w = w.capitalize()
        if rng.random() < 0.06:
            w += rng.choice([".", ","])
        words.append(w)
    return " ".join(words)


def write_iam_dataset(
    root: str | Path,
    n_writers: int = 12,
    forms_per_writer: int = 4,
    lines_per_form: int = 6,
    chars_per_line: int = 32,
    seed: int = 0,
) -> Path:
    """Write ``n_writers`` synthetic writers as an IAM-layout folder and return ``root``.

    Writer ids are ``000``, ``001``, ...; form ids ``s00-000`` (prefix ``s00``).
    Same ``seed`` and arguments give the same files.
    """
    root = Path(root)
    rng = np.random.default_rng(seed)
    fonts = font_paths()
    styles = [random_style(rng, fonts) for _ in range(n_writers)]
    forms_lines = [
        "# synthetic IAM-layout forms: form-id writer-id (hwutils.synth.handwriting)",
        "# format: a01-000u 000 2 prt 7 5 52 36",
    ]
    status_lines = ["# synthetic lines: line-id status"]
    form_no = 0
    for w, style in enumerate(styles):
        for _ in range(forms_per_writer):
            prefix = f"s{form_no // 100:02d}"
            form = f"{prefix}-{form_no % 100:03d}"
            form_no += 1
            forms_lines.append(f"{form} {w:03d} {lines_per_form} prt 0 0 0 0")
            for k in range(lines_per_form):
                line_id = f"{form}-{k:02d}"
                img = render_line(random_text(rng, chars_per_line), style, rng)
                save_gray(img, root / "lines" / prefix / form / f"{line_id}.png")
                status_lines.append(f"{line_id} ok 180 0 0 {img.shape[1]} {img.shape[0]}")
    (root / "forms.txt").write_text("\n".join(forms_lines) + "\n")
    (root / "lines.txt").write_text("\n".join(status_lines) + "\n")
    return root
