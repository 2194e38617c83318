"""hwutils.images: reading any image mode, and the normalisation helpers."""

import numpy as np
import pytest
from PIL import Image

from hwutils import images as I
from hwutils.errors import ImageError


def test_read_gray_converts_colour_alpha_16bit_and_palette(tmp_path):
    rgb = np.full((10, 12, 3), 255, np.uint8)
    rgb[2:5, 3:6] = (0, 0, 0)
    Image.fromarray(rgb).save(tmp_path / "rgb.png")
    rgba = np.zeros((10, 12, 4), np.uint8)  # transparent background, opaque black ink
    rgba[2:5, 3:6] = (0, 0, 0, 255)
    Image.fromarray(rgba, "RGBA").save(tmp_path / "rgba.png")
    g16 = np.full((10, 12), 65535, np.uint16)
    g16[2:5, 3:6] = 0
    Image.fromarray(g16).save(tmp_path / "g16.png")
    Image.fromarray(rgb).convert("P").save(tmp_path / "pal.png")
    for name in ("rgb", "rgba", "g16", "pal"):
        g = I.read_gray(tmp_path / f"{name}.png")
        assert g.dtype == np.uint8 and g.shape == (10, 12), name
        assert g[3, 4] < 30 and g[8, 10] > 225, name


@pytest.mark.parametrize("content,expected", [(b"", "empty file"), (b"not an image at all", "not a readable image")])
def test_read_gray_bad_files_name_the_file(tmp_path, content, expected):
    path = tmp_path / "bad.png"
    path.write_bytes(content)
    with pytest.raises(ImageError, match=expected) as err:
        I.read_gray(path)
    assert str(path) in str(err.value)
    with pytest.raises(ImageError, match="no such image file"):
        I.read_gray(tmp_path / "missing.png")


def test_binarize_crop_and_pad():
    img = np.full((50, 40), 250, np.uint8)
    img[10:20, 5:15] = 20
    mask = I.binarize(img)
    assert mask.sum() == 100
    assert I.crop_to_ink(img).shape == (10, 10)
    assert I.crop_to_ink(img, margin=2).shape == (14, 14)
    assert not I.binarize(np.full((5, 5), 200, np.uint8)).any()  # blank page: no ink, not half the page
    padded = I.pad_to(np.zeros((5, 3), np.uint8), 9, 9)
    assert padded.shape == (9, 9) and padded[0, 0] == 255 and padded[4, 4] == 0
    assert I.pad_to(np.zeros((20, 30), np.uint8), 9, 9).shape == (20, 30)  # never crops


def test_resize_keep_aspect_and_fit_in_box():
    img = np.zeros((50, 200), np.uint8)
    assert I.resize_keep_aspect(img, height=113).shape == (113, 452)
    assert I.fit_in_box(img, 32, 32).shape == (32, 32)
    assert I.square_pad(img).shape == (200, 200)
    ink = I.to_ink_float(np.array([[0, 255]], np.uint8))
    assert ink.tolist() == [[1.0, 0.0]] and I.from_ink_float(ink).tolist() == [[0, 255]]
