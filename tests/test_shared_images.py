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


@pytest.mark.parametrize(
    "content,expected", [(b"", "empty file"), (b"not an image at all", "not a readable image")]
)
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


# ------------------------------------------------------------- one door, one error type
def _png(path, arr):
    Image.fromarray(np.asarray(arr)).save(path)
    return path


def _page(h=20, w=30):
    img = np.full((h, w), 255, np.uint8)
    img[5:15, 5:25] = 0
    return img


def test_a_folder_is_not_an_image(tmp_path):
    with pytest.raises(ImageError, match="is a folder") as err:
        I.read_gray(tmp_path)
    assert str(tmp_path) in str(err.value)


@pytest.mark.parametrize("suffix", [".png", ".jpg"])
def test_truncated_png_and_jpeg_are_refused(tmp_path, suffix):
    from PIL import ImageFile

    full = tmp_path / f"full{suffix}"
    Image.fromarray(np.random.default_rng(0).integers(0, 256, (200, 300), np.uint8)).save(full)
    cut = tmp_path / f"cut{suffix}"
    data = full.read_bytes()
    cut.write_bytes(data[: len(data) // 2])
    assert ImageFile.LOAD_TRUNCATED_IMAGES is False
    with pytest.raises(ImageError, match="not a readable image") as err:
        I.read_gray(cut)
    assert str(cut) in str(err.value)


def test_images_over_the_pixel_limit_are_image_errors(tmp_path, monkeypatch):
    monkeypatch.delenv(I.MAX_PIXELS_ENV, raising=False)
    path = _png(tmp_path / "big.png", _page(20, 30))  # 600 pixels
    monkeypatch.setattr(I, "MAX_PIXELS", 600)
    assert I.read_gray(path).shape == (20, 30)  # at the limit: read
    for limit in (599, 250, 100):  # just over (Pillow's warning zone) and over twice (its error zone)
        monkeypatch.setattr(I, "MAX_PIXELS", limit)
        with pytest.raises(ImageError, match=f"30x20 = 600 pixels, over the limit of {limit}") as err:
            I.read_gray(path)
        assert str(path) in str(err.value) and I.MAX_PIXELS_ENV in str(err.value)
    monkeypatch.setenv(I.MAX_PIXELS_ENV, "599")  # the environment variable wins over the module setting
    monkeypatch.setattr(I, "MAX_PIXELS", 10**9)
    with pytest.raises(ImageError, match="over the limit of 599"):
        I.read_gray(path)
    monkeypatch.setenv(I.MAX_PIXELS_ENV, "0")  # 0: no limit
    assert I.read_gray(path).shape == (20, 30)
    monkeypatch.setenv(I.MAX_PIXELS_ENV, "lots")
    from hwutils.errors import ParamsError

    with pytest.raises(ParamsError, match=f"{I.MAX_PIXELS_ENV}: must be a whole number >= 0, got 'lots'"):
        I.read_gray(path)


def test_the_project_limit_not_pillows_decides(tmp_path, monkeypatch):
    monkeypatch.delenv(I.MAX_PIXELS_ENV, raising=False)
    path = _png(tmp_path / "page.png", _page(20, 30))
    monkeypatch.setattr(Image, "MAX_IMAGE_PIXELS", 50)  # someone lowered Pillow's own limit
    assert I.read_gray(path).shape == (20, 30)
    assert I.MAX_PIXELS == 300_000_000  # the default: a 600-dpi A3 page (7016 x 9921) is 69.6 MP


def test_over_limit_images_count_as_bad_files_of_the_loaders(tmp_path, monkeypatch):
    from hwutils.datasets.iam import LineRecord
    from hwutils.datasets.pages import load_pages
    from hwutils.errors import DataError
    from hwutils.writer_id.data import load_lines

    monkeypatch.delenv(I.MAX_PIXELS_ENV, raising=False)
    folder = tmp_path / "pages"
    folder.mkdir()
    for i in range(5):
        _png(folder / f"w000{i}_s01_pWOZ_r01.png", _page(20, 30))
    _png(folder / "w0009_s01_pWOZ_r01.png", _page(40, 60))  # 2400 pixels
    monkeypatch.setattr(I, "MAX_PIXELS", 1000)
    records, skipped = load_pages(folder, segment=False, max_bad_fraction=0.2)
    assert len(records) == 5 and len(skipped) == 1
    assert skipped[0][0].endswith("w0009_s01_pWOZ_r01.png") and "over the limit of 1000" in skipped[0][1]
    with pytest.raises(DataError, match="1 of 6 images unusable"):
        load_pages(folder, segment=False, max_bad_fraction=0.1)
    recs = [
        LineRecord(writer="a", group=str(i), line_id=str(i), path=p)
        for i, p in enumerate(I.list_images(folder))
    ]
    lines = load_lines(recs, height=16, max_bad_fraction=0.2)
    assert len(lines) == 5 and "over the limit of 1000" in lines.skipped[0][1]
    with pytest.raises(DataError, match="1 of 6 images unreadable"):
        load_lines(recs, height=16, max_bad_fraction=0.1)


@pytest.mark.parametrize(
    "arr,expected",
    [
        (np.zeros((0, 0), np.uint8), "has no pixels"),
        (np.zeros((0, 5)), "has no pixels"),
        (np.zeros((3, 0, 3), np.uint8), "has no pixels"),
        (np.array([[0.0, np.nan]]), "NaN or infinite"),
        (np.array([[0.0, np.inf]], np.float32), "NaN or infinite"),
        (np.full((2, 2, 3), -np.inf), "NaN or infinite"),
        (np.array([[0, -3]], np.int32), "integer values from -3 to 0"),
        (np.array([[0, 70000]], np.int64), "integer values from 0 to 70000"),
        (np.zeros((2, 2, 5), np.uint8), "shape"),
        (np.array([["a"]]), "dtype"),
    ],
)
def test_unusable_arrays_are_image_errors(arr, expected):
    with pytest.raises(ImageError, match=expected) as err:
        I.as_gray(arr)
    assert str(err.value).startswith("<array>:")
    with pytest.raises(ImageError, match="^line 3:"):
        I.as_gray(arr, name="line 3")


@pytest.mark.parametrize(
    "arr,expected",
    [
        # float in [0, 1]: 1.0 is white (rounded to the nearest level)
        (np.array([[0.0, 0.5, 1.0]]), [[0, 128, 255]]),
        (np.array([[0.0, 0.25, 1.02]], np.float32), [[0, 64, 255]]),  # resampling overshoot stays white
        # float in [0, 255]
        (np.array([[0.0, 127.6, 255.0, 300.0]]), [[0, 128, 255, 255]]),
        # float RGB white stays white (was black), RGB black stays black
        (np.ones((1, 2, 3), np.float32), [[255, 255]]),
        (np.array([[[1.0, 1.0, 1.0], [0.0, 0.0, 0.0]]]), [[255, 0]]),
        # uint16 scaled, not wrapped; uint16 holding only 0..255 is taken as 8-bit levels
        (np.array([[0, 32768, 65535]], np.uint16), [[0, 128, 255]]),
        (np.array([[0, 100, 255]], np.uint16), [[0, 100, 255]]),
        (np.full((1, 2, 3), 32768, np.uint16), [[128, 128]]),
        (np.array([[[65535, 65535, 65535, 0], [0, 0, 0, 65535]]], np.uint16), [[255, 0]]),
        # bool: True = 1 = white (a binarize() mask, True = ink, is ~mask here)
        (np.array([[True, False]]), [[255, 0]]),
        # int arrays: 8-bit levels, or 16-bit ones past 255
        (np.array([[0, 100, 255]], np.int64), [[0, 100, 255]]),
        (np.array([[0, 65535]], np.int32), [[0, 255]]),
        # RGB uint8: ITU-R 601 luma, as Pillow
        (np.array([[[255, 0, 0], [0, 255, 0], [0, 0, 255]]], np.uint8), [[76, 150, 29]]),
        # RGBA and LA: composited on white paper
        (np.array([[(0, 0, 0, 0), (0, 0, 0, 255), (0, 0, 0, 128)]], np.uint8), [[255, 0, 127]]),
        (np.array([[(0, 0), (0, 255), (0, 128)]], np.uint8), [[255, 0, 127]]),
        (np.array([[(0.0, 0.0), (0.0, 1.0)]]), [[255, 0]]),
        (np.array([[(0.0, 0.0, 0.0, 0.0), (1.0, 1.0, 1.0, 1.0)]], np.float32), [[255, 255]]),
        # one channel: squeezed
        (np.array([[[0], [255]]], np.uint8), [[0, 255]]),
    ],
)
def test_as_gray_converts_each_dtype_and_layout(arr, expected):
    out = I.as_gray(arr)
    assert out.dtype == np.uint8 and out.tolist() == expected


def test_files_and_pil_images_follow_the_array_rules(tmp_path):
    g16 = np.array([[0, 100, 255]], np.uint16)  # a 16-bit PNG holding 8-bit levels
    assert I.read_gray(_png(tmp_path / "low16.png", g16)).tolist() == [[0, 100, 255]]
    full16 = np.array([[0, 32768, 65535]], np.uint16)
    assert I.read_gray(_png(tmp_path / "full16.png", full16)).tolist() == [[0, 128, 255]]
    assert I.as_gray(Image.fromarray(np.array([[0.0, 0.5, 1.0]], np.float32), "F")).tolist() == [
        [0, 128, 255]
    ]
    assert I.as_gray(Image.fromarray(np.array([[0, 65535]], np.int32), "I")).tolist() == [[0, 255]]
    la = Image.fromarray(np.array([[(0, 0), (0, 255)]], np.uint8), "LA")
    assert I.as_gray(la).tolist() == [[255, 0]]
    with pytest.raises(ImageError, match="NaN or infinite"):
        I.as_gray(Image.fromarray(np.array([[0.0, np.nan]], np.float32), "F"))


def test_has_ink_refuses_blank_and_keeps_faint_writing():
    rng = np.random.default_rng(0)
    white = np.full((60, 300), 255, np.uint8)
    noisy = np.clip(235 + rng.normal(0, 4, white.shape), 0, 255).astype(np.uint8)  # blank scan, paper noise
    black = np.zeros((60, 300), np.uint8)
    faint = noisy.copy()
    faint[25:35, 20:280:12] = 195  # faint pencil strokes, 40 levels under the paper
    speck = white.copy()
    speck[30, 30] = 0  # one dust speck
    for img in (white, noisy, black, speck):
        assert not I.has_ink(img)
    assert I.has_ink(faint)
    tiny = np.full((5, 5), 255, np.uint8)
    tiny[2, 2] = 0  # one dark pixel in 25: a dot, not dust, at this size
    assert I.has_ink(tiny)
    assert I.require_ink(faint, "faint.png") is faint
    with pytest.raises(ImageError, match=r"^white.png: no ink found \(blank or uniform image\)$"):
        I.require_ink(white, "white.png")


def test_save_gray_is_atomic_and_round_trips(tmp_path, monkeypatch):
    img = _page(20, 30)
    path = I.save_gray(img, tmp_path / "sub" / "page.png")
    assert I.read_gray(path).tolist() == img.tolist()

    def fail(self, fp, *a, **kw):
        open(fp, "wb").write(b"\x89PNG half")
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(Image.Image, "save", fail)
    with pytest.raises(OSError):
        I.save_gray(np.zeros((5, 5), np.uint8), path)
    assert I.read_gray(path).tolist() == img.tolist() and sorted(p.name for p in path.parent.iterdir()) == [
        "page.png"
    ]


def test_check_image_file_reads_the_header_only_with_the_same_errors(tmp_path, monkeypatch):
    monkeypatch.delenv(I.MAX_PIXELS_ENV, raising=False)
    path = _png(tmp_path / "page.png", _page(20, 30))
    assert I.check_image_file(path) == (30, 20)
    monkeypatch.setattr(I, "MAX_PIXELS", 100)
    with pytest.raises(ImageError, match="30x20 = 600 pixels, over the limit of 100"):
        I.check_image_file(path)
    (tmp_path / "zero.png").write_bytes(b"")
    for bad, expected in (
        (tmp_path, "is a folder"),
        (tmp_path / "zero.png", "empty file"),
        (tmp_path / "none.png", "no such image file"),
    ):
        with pytest.raises(ImageError, match=expected):
            I.check_image_file(bad)


def test_scale_by_resamples_as_a_scanner_of_another_resolution():
    from hwutils.images import scale_by

    g = np.full((40, 100), 255, np.uint8)
    g[10:30, 20:80] = 0
    half = scale_by(g, 0.5)
    assert half.shape == (20, 50) and half.dtype == np.uint8
    assert half[10, 25] == 0 and half[0, 0] == 255
    assert scale_by(g, 0.01).shape == (8, 8)  # no side below min_side
