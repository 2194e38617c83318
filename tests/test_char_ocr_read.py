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
        img[10:40, 15 + 30 * i : 30 + 30 * i] = 0
    return img


def test_read_word_gives_text_boxes_confidence(reader):
    reading = reader.read_word(_word(3))
    assert len(reading.text) == 3 and all(c in CLASSES for c in reading.text)
    assert len(reading.chars) == 3
    assert all(0 <= c.confidence <= 1 and len(c.box) == 4 for c in reading.chars)


def test_blank_and_white_images_read_as_empty(reader):
    # read_word refuses blank images by default (tests/test_stages_blank.py); blank="empty" reads them as ""
    assert reader.read_word(np.full((40, 200), 255, np.uint8), blank="empty").text == ""
    assert reader.read_word(np.zeros((40, 200), np.uint8), blank="empty").text == ""
    assert reader.read_words([np.full((1, 1), 255, np.uint8)])[0].chars == []


def test_very_large_image_is_scaled_and_boxes_stay_in_its_pixels(reader):
    big = np.full((3000, 9000), 255, np.uint8)
    for i in range(3):
        big[1000:2000, 1000 + 2500 * i : 1600 + 2500 * i] = 0
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
    items = [
        (_word(3), "ABC"),
        (np.full((40, 90), 255, np.uint8), "EMPTY"),
        (_word(2), "UNREADABLE"),
        (_word(2), "ÉA"),
        (bad, "XYZ"),
        (_word(1), ""),
    ]
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
    img[28:32, 70:95] = 0  # a hyphen at mid-height
    img[15:45, 120:145] = 0
    text = reader.read_word(img).text
    assert len(text) == 3 and text[1] == "-" and "-" not in text[::2]


def test_allowed_characters_restrict_the_reading():
    model = build_classifier(width=4)
    letters = R.Reader(model, allowed="AB")
    assert set(letters.read_word(_word(3)).text) <= set("AB")
    with pytest.raises(HwError, match="allowed"):
        R.Reader(model, allowed="a?")


# ------------------------------------------- unreadable words never shift labels
def _word_files(tmp_path, labels_and_widths):
    """Word image files of distinct widths (one box per letter) and a labels CSV;
    ``None`` width: a zero-byte file, ``0``: a file listed but missing."""
    from hwutils.images import save_gray

    lines = ["FILENAME,IDENTITY"]
    for k, (label, n) in enumerate(labels_and_widths):
        name = f"w{k}.png"
        if n is None:
            (tmp_path / name).write_bytes(b"")
        elif n:
            save_gray(_word(n), tmp_path / name)
        lines.append(f"{name},{label}")
    (tmp_path / "labels.csv").write_text("\n".join(lines) + "\n")
    return tmp_path / "labels.csv"


def test_unreadable_words_keep_every_row_with_its_own_label_and_image(reader, tmp_path):
    from hwutils.datasets.words import load_word_labels
    from hwutils.ocr import evaluate as E

    csv = _word_files(
        tmp_path, [("HELLO", 5), ("GONE", None), ("AB", 2), ("LOST", 0), ("WORLD", 4), ("EMPTY", 1)]
    )
    records = load_word_labels(csv)
    m, rows = R.evaluate_words(reader, records, batch=4)  # a batch boundary inside the list
    assert [r["label"] for r in rows] == ["HELLO", "GONE", "AB", "LOST", "WORLD", "EMPTY"]
    assert [r["file"] for r in rows] == [f"w{k}.png" for k in range(6)]
    assert [r["index"] for r in rows] == list(range(6))
    assert [r["kind"] for r in rows] == [
        "word",
        "unreadable_file",
        "word",
        "unreadable_file",
        "word",
        "empty",
    ]
    assert "empty file (0 bytes)" in rows[1]["error"] and "no such image file" in rows[3]["error"]
    assert m["unreadable_files"] == 2 and m["words_scored"] == 3 and m["labels_empty"] == 1
    # each readable row's reading is the reading of its own image
    assert [len(rows[i]["read"]) for i in (0, 2, 4)] == [5, 2, 4]
    # the report's sample words: each image with its own label, unreadable ones never drawn
    samples = E.sample_words(records, rows, 8)
    assert [row["label"] for _, row in samples] == ["HELLO", "AB", "WORLD", "EMPTY"]
    for image, row in samples:
        assert image == tmp_path / row["file"]
    assert [row["label"] for _, row in E.sample_words(records, rows, 2)] == ["HELLO", "AB"]


def test_sample_words_refuses_rows_of_other_items(reader):
    from hwutils.ocr import evaluate as E

    items = [(_word(3), "ABC"), (_word(2), "XY")]
    _, rows = R.evaluate_words(reader, items)
    assert [(len(img[0]), row["label"]) for img, row in E.sample_words(items, rows, 5)] == [
        (120, "ABC"),
        (90, "XY"),
    ]
    with pytest.raises(ValueError, match="row 0 .*label 'ABC'.*'XY'"):
        E.sample_words(items[::-1], rows, 5)


def test_no_scorable_word_is_one_error_naming_the_source(reader, tmp_path):
    from hwutils.errors import DataError

    csv = _word_files(tmp_path, [("ANNA", None), ("BOB", 0), ("CY", None)])
    from hwutils.datasets.words import load_word_labels

    with pytest.raises(
        DataError,
        match=r"labels.csv: none of the 3 word images listed could be read "
        r"\(first: .*w0.png: empty file \(0 bytes\)\)",
    ):
        R.evaluate_words(reader, load_word_labels(csv), source=csv)
    with pytest.raises(
        DataError, match=r"no word could be scored: 2 words: 1 labelled EMPTY, 1 without a label"
    ):
        R.evaluate_words(reader, [(_word(1), "EMPTY"), (_word(1), "UNREADABLE")])
    with pytest.raises(DataError, match="no words to evaluate"):
        R.evaluate_words(reader, [], source="names.csv")


def test_word_files_are_checked_before_training(tmp_path):
    from hwutils.datasets.words import load_word_labels
    from hwutils.errors import DataError
    from hwutils.ocr import evaluate as E

    (tmp_path / "junk.png").write_bytes(b"not a png")
    csv = _word_files(tmp_path, [("ANNA", 4), ("BOB", None), ("CY", 0)])
    recs = load_word_labels(csv)
    bad = E.check_word_files(recs + [load_word_labels(csv)[0].__class__(tmp_path / "junk.png", "JO")], csv)
    assert [(p.rsplit("/", 1)[-1], why.split(": ", 1)[1]) for p, why in bad] == [
        ("w1.png", "empty file (0 bytes)"),
        ("w2.png", "no such image file"),
        ("junk.png", "not a readable image (UnidentifiedImageError)"),
    ]
    with pytest.raises(
        DataError,
        match=r"labels.csv: none of the 2 word images listed could be read "
        r"\(first: .*w1.png: empty file \(0 bytes\)\)",
    ):
        E.check_word_files(recs[1:], csv)
    with pytest.raises(DataError, match="labels.csv: no words to evaluate"):
        E.check_word_files([], csv)
    empty = tmp_path / "empty_dir"
    empty.mkdir()
    with pytest.raises(
        DataError,
        match=r"labels.csv: none of the 3 word images listed could be read \(first: "
        r".*empty_dir/w0.png: no such image file\); .*empty_dir: empty, no image "
        r"files \(looked for .png, .jpg",
    ):
        E.check_word_files(load_word_labels(csv, empty), csv)
