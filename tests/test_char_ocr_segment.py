"""Segmentation and normalisation of word images (small generated images)."""

import numpy as np
import pytest

from hwutils.ocr.segment import normalize_char, normalize_ink_bright, segment_word


def _bar(img, top, left, h, w):
    img[top : top + h, left : left + w] = 0


def _word(n_chars=4, gap=10, h=30, w=16):
    """White image with ``n_chars`` dark 'characters' (boxes with a hole)."""
    img = np.full((60, 20 + n_chars * (w + gap)), 255, np.uint8)
    for i in range(n_chars):
        x = 10 + i * (w + gap)
        _bar(img, 15, x, h, w)
        img[20:40, x + 4 : x + w - 4] = 255
    return img


def test_counts_and_orders_characters():
    segs = segment_word(_word(5))
    assert len(segs) == 5
    lefts = [s.box[0] for s in segs]
    assert lefts == sorted(lefts)
    assert all(s.image.shape == (32, 32) and s.image.dtype == np.uint8 for s in segs)


def test_dot_of_i_is_merged_and_speck_dropped():
    img = _word(3)
    x = 10 + 3 * 26
    img = np.pad(img, ((0, 0), (0, 30)), constant_values=255)
    _bar(img, 22, x + 4, 23, 4)  # stem of an i
    _bar(img, 15, x + 4, 4, 4)  # its dot
    img[55, 3] = 0  # a speck
    segs = segment_word(img)
    assert len(segs) == 4
    assert segs[-1].parts == 2
    assert segs[-1].box[1] <= 15


def test_wide_box_is_split():
    img = np.full((60, 120), 255, np.uint8)
    for x in (10, 30, 50, 70):  # four letters joined by a baseline stroke
        _bar(img, 15, x, 30, 5)
    _bar(img, 42, 10, 3, 65)
    segs = segment_word(img)
    assert len(segs) >= 2
    assert all(s.box[2] < 50 for s in segs)


def test_hyphen_and_space():
    img = np.full((60, 300), 255, np.uint8)
    for x in (10, 36):
        _bar(img, 15, x, 30, 14)
    _bar(img, 29, 62, 3, 12)  # hyphen at mid height
    for x in (86, 112, 190, 216):  # a wide gap before 190: a space
        _bar(img, 15, x, 30, 14)
    segs = segment_word(img)
    kinds = "".join("-" if s.kind == "-" else "c" for s in segs)
    assert kinds == "cc-cccc"
    assert [s.space_before for s in segs].index(True) == 5


def test_side_of_a_form_box_is_not_a_character():
    img = _word(3)
    plain = len(segment_word(img))
    boxed = img.copy()
    boxed[:, -4:-2] = 0  # the box side, near the right edge, top to bottom
    boxed[25:35, 0:2] = 0  # a bit of the left side, touching the edge
    assert len(segment_word(boxed)) == plain == 3
    thin = img.copy()
    _bar(thin, 15, 30, 30, 2)  # a thin upright stroke inside the word stays
    assert len(segment_word(thin)) == 4


def test_blank_and_uniform_images_give_nothing():
    assert segment_word(np.full((40, 100), 255, np.uint8)) == []
    assert segment_word(np.full((40, 100), 128, np.uint8)) == []
    from hwutils.errors import ImageError

    with pytest.raises(
        ImageError, match="has no pixels"
    ):  # a 0x0 array is not an image (hwutils.images.as_gray)
        segment_word(np.zeros((0, 0), np.uint8))


def test_normalize_char_centres_and_scales():
    img = np.full((100, 50), 255, np.uint8)
    img[10:90, 20:30] = 0
    out = normalize_char(img)
    ink = out < 128
    rows, cols = np.flatnonzero(ink.any(1)), np.flatnonzero(ink.any(0))
    assert rows[-1] - rows[0] + 1 == 24
    assert abs((cols[0] + cols[-1]) / 2 - 15.5) <= 1.5
    assert normalize_char(np.full((5, 5), 255, np.uint8)).min() == 255


def test_normalize_ink_bright_matches_paper_white():
    mnist_like = np.zeros((2, 28, 28), np.uint8)
    mnist_like[:, 4:24, 12:16] = 255
    out = normalize_ink_bright(mnist_like)
    assert out.shape == (2, 32, 32) and out[0, 0, 0] == 255 and out.min() == 0


def test_not_an_image_array_is_a_clear_error():
    from hwutils.errors import ImageError

    with pytest.raises(ImageError):
        segment_word(np.zeros((2, 3, 4, 5)))


def test_a_colon_of_another_line_does_not_cut_the_handwriting():
    """A printed line above the field ending in a colon further right
    (``CODE RNE / UAI :``) must not drop the handwriting left of that colon;
    the field's own label (``NOM :``) is dropped."""
    from hwutils.ocr.segment import segment_word

    img = np.full((50, 160), 255, np.uint8)
    for x in range(5, 90, 10):  # the printed line above, its colon at x = 100
        img[2:10, x : x + 5] = 0
    img[3:5, 100:102] = 0
    img[8:10, 100:102] = 0
    for x in (5, 12, 19):  # the field's label and its colon at x = 27
        img[28:36, x : x + 5] = 0
    img[29:31, 27:29] = 0
    img[34:36, 27:29] = 0
    for x in (60, 80, 100, 120):  # four handwritten letters, two of them left of the upper colon
        img[20:42, x : x + 8] = 0
    boxes = [s.box for s in segment_word(img)]
    assert [b[0] for b in boxes] == [60, 80, 100, 120]


def test_marks_left_of_the_field_label_stay_dropped():
    """What lies left of the rightmost colon and has no colon of its own line
    before it (a vertical stamp at the border, the label itself) is dropped."""
    from hwutils.ocr.segment import segment_word

    img = np.full((50, 160), 255, np.uint8)
    img[5:45, 3:6] = 0  # a tall thin mark at the left (a stamp's edge), not in any colon's line
    img[8:12, 9:12] = 0
    for x in (14, 21, 28):  # the field's label and its colon at x = 36
        img[28:36, x : x + 5] = 0
    img[29:31, 36:38] = 0
    img[34:36, 36:38] = 0
    for x in (60, 80, 100):
        img[20:42, x : x + 8] = 0
    assert [s.box[0] for s in segment_word(img)] == [60, 80, 100]
