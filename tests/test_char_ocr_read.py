"""The reader API, word evaluation and bad input (tiny untrained model)."""

import numpy as np
import pytest

from hwutils.errors import HwError, ImageError
from hwutils.ocr import CLASSES
from hwutils.ocr import read as R
from hwutils.ocr.model import build_classifier, predict_probs


@pytest.fixture(scope="module")
def reader():
    return R.Reader(build_classifier(width=4))


def _word(n=3):
    img = np.full((50, 30 + 30 * n), 255, np.uint8)
    for i in range(n):
        img[10:40, 15 + 30 * i: 30 + 30 * i] = 0
    return img


def test_read_word_gives_text_boxes_confidence(reader):
    reading = reader.read_word(_word(3))
    assert len(reading.text) == 3 and all(c in CLASSES for c in reading.text)
    assert len(reading.chars) == 3
    assert all(0 <= c.confidence <= 1 and len(c.box) == 4 for c in reading.chars)


def test_blank_and_white_images_read_as_empty(reader):
    assert reader.read_word(np.full((40, 200), 255, np.uint8)).text == ""
    assert reader.read_word(np.zeros((40, 200), np.uint8)).text == ""
    assert reader.read_word(np.full((1, 1), 255, np.uint8)).chars == []


def test_very_large_image_is_scaled_and_boxes_stay_in_its_pixels(reader):
    big = np.full((3000, 9000), 255, np.uint8)
    for i in range(3):
        big[1000:2000, 1000 + 2500 * i: 1600 + 2500 * i] = 0
    reading = reader.read_word(big)
    assert len(reading.chars) == 3
    left, top, width, height = reading.chars[0].box
    assert 900 <= left <= 1100 and 900 <= top <= 1100 and width > 400


def test_unreadable_file_is_one_clear_error(reader, tmp_path):
    bad = tmp_path / "broken.png"
    bad.write_bytes(b"not a png")
    with pytest.raises(ImageError, match="broken.png"):
        reader.read_word(bad)
    with pytest.raises(ImageError, match="missing.png"):
        reader.read_word(tmp_path / "missing.png")


def test_label_kinds():
    assert R.label_kind("JEAN-PAUL") == "word"
    assert R.label_kind("DE LA") == "word"
    assert R.label_kind("EMPTY") == "empty"
    assert R.label_kind("UNREADABLE") == "no_label"
    assert R.label_kind("  ") == "no_label"
    assert R.label_kind("JOSÉ") == "outside_alphabet"
    assert R.label_kind("O'NEIL") == "outside_alphabet"


def test_evaluate_words_counts_every_kind(reader, tmp_path):
    bad = tmp_path / "bad.jpg"
    bad.write_bytes(b"")
    items = [(_word(3), "ABC"), (np.full((40, 90), 255, np.uint8), "EMPTY"), (_word(2), "UNREADABLE"),
             (_word(2), "ÉA"), (bad, "XYZ"), (_word(1), "")]
    m, rows = R.evaluate_words(reader, items)
    assert m["words_scored"] == 1 and m["labels_empty"] == 1 and m["empty_read_as_empty"] == 1
    assert m["labels_not_words"] == 2 and m["labels_outside_alphabet"] == 1 and m["unreadable_files"] == 1
    assert 0 <= m["cer"] <= 1 and len(rows) == len(items)


def test_save_and_load_reader(tmp_path, reader):
    R.save_reader(reader.model, tmp_path / "run" / "artifacts", {"max_width_ratio": 1.5})
    loaded = R.load_reader(tmp_path / "run")
    assert loaded.segment_kwargs == {"max_width_ratio": 1.5}
    x = np.full((2, 32, 32), 255, np.uint8)
    assert np.allclose(predict_probs(loaded.model, x), predict_probs(reader.model, x), atol=1e-5)
    with pytest.raises(HwError, match="not a char_ocr run"):
        R.load_reader(tmp_path)


def test_language_model_is_saved_with_the_reader(tmp_path, reader):
    from hwutils.ocr.language import CharBigram

    lm = CharBigram.fit(["MARIE", "MARC"])
    R.save_reader(reader.model, tmp_path / "run" / "artifacts", search={}, language_model=lm, lm_weight=0.5)
    loaded = R.load_reader(tmp_path / "run")
    assert loaded.lm_weight == 0.5 and np.array_equal(loaded.language_model.counts, lm.counts)
    assert R.load_reader(tmp_path / "run", lm_weight=0).lm_weight == 0.0
    plain = loaded.with_lm_weight(0)
    assert plain.model is loaded.model and plain.lm_weight == 0.0 and loaded.lm_weight == 0.5
    assert len(loaded.read_word(_word(3)).text) == 3


def test_hyphen_is_read_as_a_hyphen_in_the_search(reader):
    img = np.full((60, 200), 255, np.uint8)
    img[15:45, 20:45] = 0
    img[28:32, 70:95] = 0           # a hyphen at mid-height
    img[15:45, 120:145] = 0
    text = reader.read_word(img).text
    assert len(text) == 3 and text[1] == "-" and "-" not in text[::2]


def test_allowed_characters_restrict_the_reading():
    model = build_classifier(width=4)
    letters = R.Reader(model, allowed="AB")
    assert set(letters.read_word(_word(3)).text) <= set("AB")
    with pytest.raises(HwError, match="allowed"):
        R.Reader(model, allowed="a?")
