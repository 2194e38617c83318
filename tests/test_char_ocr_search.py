"""Segmentation by recognition, line choice and forced harvesting (small generated images)."""

import numpy as np
import pytest

from hwutils.errors import ParamsError
from hwutils.ocr import data as D
from hwutils.ocr import read as R
from hwutils.ocr.search import SearchSettings, best_cover
from hwutils.ocr.segment import over_segment, segment_word


class SquareLover:
    """A stand-in classifier: confident (class 0) when the normalised
    character's ink box is about square, unsure otherwise."""

    output_shape = (None, 36)

    def __call__(self, x, training=False):
        x = np.asarray(x)[..., 0]
        out = np.zeros((len(x), 36), np.float32)
        for k, im in enumerate(x):
            rows, cols = np.flatnonzero(im.max(1) > 0.5), np.flatnonzero(im.max(0) > 0.5)
            aspect = (cols[-1] - cols[0] + 1) / (rows[-1] - rows[0] + 1) if rows.size else 0
            out[k, 0] = 0.95 if 0.75 <= aspect <= 1.33 else 0.2
            out[k, 1:] = (1 - out[k, 0]) / 35
        return out


def _page(width=260):
    return np.full((70, width), 255, np.uint8)


def test_best_cover_highest_total_and_exact_count():
    runs = [(0, 1), (1, 2), (0, 2), (2, 3), (1, 3)]
    scores = [-1.0, -1.0, -0.5, -0.2, -3.0]
    assert best_cover(3, runs, scores) == [(0, 2), (2, 3)]
    assert best_cover(3, runs, scores, n_chars=3) == [(0, 1), (1, 2), (2, 3)]
    assert best_cover(3, runs, scores, n_chars=5) == []
    assert best_cover(0, [], []) == []


def test_search_rejoins_a_broken_character_and_splits_joined_ones():
    img = _page()
    img[20:50, 20:34] = 0  # one square character broken into two halves ...
    img[20:50, 36:50] = 0  # ... with a 2-pixel gap
    img[20:50, 90:120] = 0  # two squares joined by a short thin stroke
    img[46:49, 120:126] = 0
    img[20:50, 126:156] = 0
    reader = R.Reader(SquareLover())
    reading = reader.read_word(img)
    assert len(reading.chars) == 3, [c.box for c in reading.chars]
    assert reading.chars[0].box[2] >= 28 and reading.chars[0].confidence > 0.5
    assert all(c.box[2] <= 45 for c in reading.chars[1:])
    plain = R.Reader(SquareLover(), search=False).read_word(img)
    assert len(plain.chars) != 3 or plain.chars[0].box[2] < 28  # geometry alone cannot do both


def test_unknown_search_setting_is_a_clear_error():
    with pytest.raises(ParamsError, match="unknown"):
        SearchSettings.from_dict({"beam": 3})


def test_over_segment_cuts_wide_components_and_keeps_hyphens():
    img = _page()
    for x in (20, 40, 60, 80):  # four strokes joined along the bottom
        img[20:50, x : x + 5] = 0
    img[46:50, 20:85] = 0
    img[33:36, 110:125] = 0  # a hyphen
    img[20:50, 140:160] = 0
    pieces = over_segment(img)
    assert len(pieces) >= 4
    assert sum(pieces.is_hyphen(i) for i in range(len(pieces))) == 1
    assert over_segment(np.full((40, 80), 255, np.uint8)) is None


def test_main_line_prefers_the_centred_line_over_a_cut_off_one():
    img = np.full((120, 300), 255, np.uint8)
    for x in range(10, 290, 18):  # a bold printed line cut off by the top border
        img[0:14, x : x + 12] = 0
    for x in (60, 110, 160):  # the handwriting, thin, in the middle
        img[50:80, x : x + 3] = 0
        img[50:53, x : x + 20] = 0
    segs = segment_word(img)
    assert len(segs) == 3
    assert all(45 <= s.box[1] <= 55 for s in segs)


def test_main_line_prefers_taller_writing_over_a_small_bold_printed_label():
    img = np.full((60, 200), 255, np.uint8)
    for x in range(10, 190, 15):  # a printed label: small, bold, many letters
        img[5:15, x : x + 8] = 0
    for x in (40, 110):  # the name written below it: taller, thin strokes
        img[28:50, x : x + 14] = 0
        img[30:48, x + 2 : x + 12] = 255
    segs = segment_word(img)
    assert len(segs) == 2 and all(s.box[1] >= 25 for s in segs)


def test_faint_pen_beside_dark_print_is_kept():
    img = _page(200)
    img[5:15, 5:60] = 0  # dark print
    img[25:55, 80:84] = 110  # a light pen: an L ...
    img[52:55, 80:100] = 110
    light = over_segment(img, faint=0.5, drop_label=False)
    assert any(p.left >= 75 and p.height >= 25 for p in light.pieces)


def test_forced_segments_give_the_label_count_or_none():
    img = _page()
    img[20:50, 20:45] = 0
    img[46:49, 45:60] = 0
    img[20:50, 60:85] = 0  # two letters joined by a stroke
    img[20:50, 110:135] = 0
    segs = D.forced_segments(img, 3)
    assert segs is not None and len(segs) == 3
    assert D.forced_segments(img, 12) is None
