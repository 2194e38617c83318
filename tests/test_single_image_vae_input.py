"""The user's digit image: preparation and bad input."""

from __future__ import annotations

import warnings

import numpy as np
import pytest
from PIL import Image

from hwutils.errors import HwError, ImageError
from hwutils.synth.digits import render_digit
from hwutils.vae import input as vae_input


def _ink_centre(img):
    ink = 255.0 - img
    ys, xs = np.mgrid[: img.shape[0], : img.shape[1]]
    return (ink * ys).sum() / ink.sum(), (ink * xs).sum() / ink.sum()


def test_default_image_is_mnist_like():
    img = vae_input.load_digit_image(vae_input.resolve_image_path(""))
    assert img.shape == (28, 28) and img.dtype == np.uint8
    assert img.min() < 40 and np.median(img) > 240  # dark ink on white paper
    cy, cx = _ink_centre(img)
    assert abs(cy - 13.5) < 1.5 and abs(cx - 13.5) < 1.5
    rows = np.flatnonzero((img < 200).any(1))
    cols = np.flatnonzero((img < 200).any(0))
    assert max(rows[-1] - rows[0], cols[-1] - cols[0]) + 1 <= 22  # fitted in the 20x20 box (+ blur)


@pytest.mark.parametrize("mode", ["RGB", "RGBA", "I;16", "P"])
def test_any_colour_mode_and_size(tmp_path, mode):
    gray = render_digit(2, seed=3, size=97)
    pil = Image.fromarray(gray)
    if mode == "I;16":
        pil = Image.fromarray(gray.astype(np.uint16) * 257)
    else:
        pil = pil.convert(mode)
    path = tmp_path / f"digit_{mode.replace(';', '')}.png"
    pil.save(path)
    img = vae_input.load_digit_image(path)
    assert img.shape == (28, 28)
    assert (img < 100).sum() > 20


def test_light_ink_on_dark_is_inverted():
    gray = render_digit(2, seed=1)
    a = vae_input.prepare_digit(gray)
    b = vae_input.prepare_digit(255 - gray)
    assert np.abs(a.astype(int) - b).mean() < 8


def test_thin_strokes_on_a_big_image_stay_visible():
    big = np.asarray(Image.fromarray(render_digit(2, seed=2, size=300)).resize((1500, 1500)))
    thin = np.full_like(big, 255)
    # keep only a 2-pixel outline of the strokes: very thin lines at 1500 px
    from scipy import ndimage

    mask = big < 128
    thin[mask & ~ndimage.binary_erosion(mask, iterations=2)] = 0
    img = vae_input.prepare_digit(thin)
    assert (img < 128).sum() >= 40


def test_specks_are_ignored_without_warning():
    gray = render_digit(2, seed=4, size=160).copy()
    gray[5:7, 150:152] = 0
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        vae_input.prepare_digit(gray)


# ------------------------------------------------------------------ bad input
def test_blank_image_is_refused(tmp_path):
    path = tmp_path / "blank.png"
    Image.fromarray(np.full((64, 64), 250, np.uint8)).save(path)
    with pytest.raises(ImageError, match="blank.png: no ink"):
        vae_input.load_digit_image(path)


def test_all_ink_image_is_refused():
    with pytest.raises(ImageError, match="ink"):
        vae_input.prepare_digit(np.pad(np.zeros((40, 40), np.uint8), 3, constant_values=255))


def test_tiny_image_is_refused(tmp_path):
    path = tmp_path / "tiny.png"
    Image.fromarray(render_digit(2, size=160)).resize((9, 9)).save(path)
    with pytest.raises(ImageError, match=r"tiny.png: image is only 9x9 pixels"):
        vae_input.load_digit_image(path)


def test_tiny_ink_is_refused():
    gray = np.full((100, 100), 255, np.uint8)
    gray[50:53, 50:53] = 0
    with pytest.raises(ImageError, match="ink spans only"):
        vae_input.prepare_digit(gray)


def test_several_digits_warn_and_keep_the_largest():
    small_seven = np.asarray(Image.fromarray(render_digit(7, seed=2)).resize((100, 100)))
    small_seven = np.pad(small_seven, ((30, 30), (0, 0)), constant_values=255)
    two = render_digit(2, seed=5)
    page = np.concatenate([small_seven, two], axis=1)
    with pytest.warns(vae_input.SeveralDigitsWarning, match="2 separate digits; using the largest"):
        got = vae_input.prepare_digit(page)
    alone = vae_input.prepare_digit(two)
    assert np.abs(got.astype(int) - alone).mean() < 5


def test_unreadable_file_is_refused(tmp_path):
    path = tmp_path / "notes.png"
    path.write_text("this is not an image")
    with pytest.raises(ImageError, match="notes.png: not a readable image"):
        vae_input.load_digit_image(path)
    with pytest.raises(HwError, match="missing.png: no such image file"):
        vae_input.load_digit_image(tmp_path / "missing.png")
