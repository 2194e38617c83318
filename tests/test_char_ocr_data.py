"""Loaders (A-Z CSV, words CSV, EMNIST) and the character set builder."""

import gzip
import struct

import numpy as np
import pytest
from conftest import write_idx as _write_idx

from hwutils.datasets.az_csv import load_az_csv
from hwutils.datasets.idx import load_emnist
from hwutils.datasets.words import load_word_labels, split_by_file
from hwutils.errors import DataError
from hwutils.ocr import CLASSES
from hwutils.ocr import data as D


def test_az_csv(tmp_path):
    rows = []
    for label in (0, 1, 25, 0):
        px = np.zeros(784, int)
        px[100:110] = 255
        rows.append(",".join(map(str, [label, *px])))
    p = tmp_path / "az.csv"
    p.write_text("\n".join(rows) + "\n")
    images, chars = load_az_csv(p)
    assert images.shape == (4, 28, 28) and list(chars) == ["A", "B", "Z", "A"]
    images, chars = load_az_csv(p, per_class=1)
    assert sorted(chars) == ["A", "B", "Z"]
    bad = tmp_path / "bad.csv"
    bad.write_text("3,1,2\n")
    with pytest.raises(DataError, match="bad.csv:1"):
        load_az_csv(bad)
    with pytest.raises(DataError, match="no such"):
        load_az_csv(tmp_path / "missing.csv")


def test_emnist_transposed_with_mapping(tmp_path):
    img = np.zeros((1, 28, 28), np.uint8)
    img[0, 2, 10] = 255  # stored transposed: row 2 col 10 -> row 10 col 2
    _write_idx(tmp_path / "i.gz", img)
    _write_idx(tmp_path / "l.gz", np.array([1]))
    (tmp_path / "map.txt").write_text("0 48\n1 97\n")
    images, chars = load_emnist(tmp_path / "i.gz", tmp_path / "l.gz", tmp_path / "map.txt")
    assert images[0, 10, 2] == 255 and chars[0] == "a"
    cs = D.emnist_chars(tmp_path / "i.gz", tmp_path / "l.gz", tmp_path / "map.txt")
    assert CLASSES[cs.labels[0]] == "A"  # lower case folded into capitals
    (tmp_path / "map2.txt").write_text("0 48\n")
    with pytest.raises(DataError, match="map2.txt"):
        load_emnist(tmp_path / "i.gz", tmp_path / "l.gz", tmp_path / "map2.txt")


def test_word_labels_and_split(tmp_path):
    (tmp_path / "labels.csv").write_text("FILENAME,IDENTITY\na.jpg,BOB\r\nb.jpg,EMPTY\r\nc.jpg,\r\n")
    recs = load_word_labels(tmp_path / "labels.csv")
    assert [r.label for r in recs] == ["BOB", "EMPTY", ""]
    assert recs[0].path == tmp_path / "a.jpg"
    a, b = split_by_file(recs * 50, 0.5)
    assert len(a) + len(b) == 150
    assert split_by_file(recs, 0.5) == split_by_file(recs, 0.5)
    (tmp_path / "x.csv").write_text("NAME,TEXT\n")
    with pytest.raises(DataError, match="FILENAME"):
        load_word_labels(tmp_path / "x.csv")


def test_char_set_sources_and_split():
    syn = D.synthetic_chars("AB", 6, seed=0)
    assert syn.images.shape == (12, 32, 32) and set(syn.sources) == {"synthetic"}
    digits = D.sklearn_digits()
    assert len(digits) == 1797 and set(np.unique(digits.labels)) == set(range(10))
    both = D.concat(digits.subset(np.arange(50)), syn)
    assert D.class_sources(both)["synthetic"] == ["A", "B"]
    parts = D.split(both, {"val": 0.2, "test": 0.2}, seed=0)
    assert sum(len(p) for p in parts.values()) == len(both)
    # labels outside the 36 classes are dropped, not mislabelled
    odd = D.from_chars(np.zeros((3, 32, 32), np.uint8), ["a", "é", "?"], "x")
    assert [CLASSES[i] for i in odd.labels] == ["A"]


def test_synthetic_is_reproducible():
    a = D.synthetic_chars("Q", 3, seed=4)
    b = D.synthetic_chars("Q", 3, seed=4)
    assert np.array_equal(a.images, b.images)


def test_compose_words():
    syn = D.synthetic_chars("ABC", 4, seed=0)
    images, labels = D.compose_words(syn, 3, seed=0, min_len=3, max_len=4)
    assert len(images) == 3 and all(3 <= len(l) <= 4 for l in labels)
    assert all(im.dtype == np.uint8 and im.ndim == 2 for im in images)


@pytest.mark.parametrize("gz", [True, False])
def test_idx_digits_gzipped_or_not(tmp_path, gz):
    img = np.zeros((3, 28, 28), np.uint8)
    img[:, 8:20, 12:16] = 255  # a bar, ink bright as in MNIST
    suffix = ".gz" if gz else ""
    _write_idx(tmp_path / f"i.idx{suffix}", img)
    _write_idx(tmp_path / f"l.idx{suffix}", np.array([1, 7, 1]))
    if not gz:  # _write_idx gzips: store the plain bytes under the plain names
        for name in ("i.idx", "l.idx"):
            raw = gzip.open(tmp_path / name, "rb").read()
            (tmp_path / name).write_bytes(raw)
    cs = D.idx_digits(tmp_path / f"i.idx{suffix}", tmp_path / f"l.idx{suffix}")
    assert len(cs) == 3 and [CLASSES[k] for k in cs.labels] == ["1", "7", "1"]
    assert cs.images.shape == (3, 32, 32) and cs.images.min() < 128 < cs.images.max()  # ink dark on paper


def test_digit_sources_split_one_file_or_test_on_another(tmp_path):
    from hwutils.errors import ParamsError

    img = np.zeros((4, 28, 28), np.uint8)
    img[:, 8:20, 12:16] = 255
    _write_idx(tmp_path / "a-i.gz", img)
    _write_idx(tmp_path / "a-l.gz", np.array([1, 2, 3, 4]))
    _write_idx(tmp_path / "b-i.gz", img[:3])
    _write_idx(tmp_path / "b-l.gz", np.array([7, 8, 9]))
    a, b = (
        (str(tmp_path / "a-i.gz"), str(tmp_path / "a-l.gz")),
        (str(tmp_path / "b-i.gz"), str(tmp_path / "b-l.gz")),
    )
    sources, test = D.digit_sources("idx", *a, 0.5)
    assert [list(x.labels) for x in sources] == [[1, 2]] and list(test.labels) == [3, 4]
    sources, test = D.digit_sources("idx", *a, 0.5, *b, extra_sklearn=True)
    assert list(sources[0].labels) == [1, 2, 3, 4] and list(test.labels) == [7, 8, 9]
    assert len(sources) == 2 and len(sources[1]) == 1797  # scikit-learn's scans added to training only
    sources, test = D.digit_sources("sklearn")
    assert test is None and len(sources[0]) == 1797
    with pytest.raises(ParamsError, match="digits_test_images, digits_test_labels"):
        D.digit_sources("idx", *a, 0.5, b[0], "")
    with pytest.raises(ParamsError, match="digits_images, digits_labels"):
        D.digit_sources("idx", "", "", 0.5)
    with pytest.raises(ParamsError, match="digits_train_fraction"):
        D.digit_sources("idx", *a, 1.0)


def test_idx_bad_files_name_the_file(tmp_path):
    (tmp_path / "bad.idx").write_bytes(b"\x01\x02\x03\x04rest")
    with pytest.raises(DataError, match="bad.idx.*magic"):
        D.idx_digits(tmp_path / "bad.idx", tmp_path / "bad.idx")
    _write_idx(tmp_path / "l.gz", np.array([1, 2]))
    short = tmp_path / "short.gz"
    with gzip.open(short, "wb") as fh:
        fh.write(bytes([0, 0, 8, 3]) + struct.pack(">3I", 2, 28, 28) + b"\x00" * 100)
    with pytest.raises(DataError, match="short.gz.*truncated"):
        D.idx_digits(short, tmp_path / "l.gz")
    with pytest.raises(DataError, match="missing.gz"):
        D.idx_digits(tmp_path / "missing.gz", tmp_path / "l.gz")


def test_folder_per_class_with_cap(tmp_path):
    from PIL import Image

    for label, n in (("A", 5), ("7", 2), ("notes", 1)):
        (tmp_path / label).mkdir()
        for k in range(n):
            im = np.full((40, 30), 255, np.uint8)
            im[10:30, 10 + k : 14 + k] = 0
            Image.fromarray(im).save(tmp_path / label / f"{k}.png")
    cs = D.folder_chars(tmp_path, cap=3, seed=0)
    assert sorted(CLASSES[k] for k in cs.labels) == ["7", "7", "A", "A", "A"]  # "notes" is not a class
    assert set(cs.sources) == {"folders"} and cs.images.shape[1:] == (32, 32)
    with pytest.raises(DataError, match="no such folder"):
        D.folder_chars(tmp_path / "absent")


def test_word_rows_shorter_than_the_header_are_named_by_line(tmp_path):
    from hwutils.datasets.words import DataWarning, read_word_labels

    rows = [f"w{k}.png,NAME{k}" for k in range(40)]
    rows[3] = "w3.png"  # no IDENTITY field: the label is unknown, not empty
    rows[7] = "w7.png,"  # an empty label is a label (kept as "")
    rows[9] = ",ANNA"  # no file name
    (tmp_path / "labels.csv").write_text("FILENAME,IDENTITY\n" + "\n".join(rows) + "\n\n")
    recs, bad = read_word_labels(tmp_path / "labels.csv")
    assert bad == [5, 11] and len(recs) == 38
    assert [r.label for r in recs][:8] == ["NAME0", "NAME1", "NAME2", "NAME4", "NAME5", "NAME6", "", "NAME8"]
    with pytest.warns(DataWarning, match=r"labels.csv: 2 row\(s\) .* skipped \(lines 5, 11\)"):
        assert load_word_labels(tmp_path / "labels.csv") == recs
    with pytest.raises(
        DataError, match=r"labels.csv: 2 of 40 rows .*\(lines 5, 11\); more than max_bad_fraction=0.01"
    ):
        read_word_labels(tmp_path / "labels.csv", max_bad_fraction=0.01)
    # IDENTITY before FILENAME: a short row must not crash on the missing field
    (tmp_path / "swapped.csv").write_text("IDENTITY,FILENAME\nBOB,b.png\nANN\n" + "CY,c.png\n" * 30)
    recs, bad = read_word_labels(tmp_path / "swapped.csv")
    assert bad == [3] and recs[0].label == "BOB" and recs[0].path.name == "b.png"
    (tmp_path / "one.csv").write_text("FILENAME,IDENTITY\na.png\nc.png,CY\n")  # one bad row is never fatal
    assert read_word_labels(tmp_path / "one.csv")[1] == [2]
    (tmp_path / "cut.csv").write_text("FILENAME,IDENTITY\na.png\nb.png\nc.png,CY\n")
    with pytest.raises(DataError, match=r"cut.csv: 2 of 3 rows .*\(lines 2, 3\)"):
        read_word_labels(tmp_path / "cut.csv")


def test_harvest_counts_unreadable_words_and_keeps_letters_with_their_own_word(tmp_path):
    from hwutils.datasets.words import WordRecord
    from hwutils.images import save_gray

    def word(n, width):  # n letters, each a bar of its own width so letters can be told apart
        img = np.full((60, 40 * n + 20), 255, np.uint8)
        for i in range(n):
            img[12:48, 20 + 40 * i : 20 + 40 * i + width] = 0
        return img

    save_gray(word(2, 6), tmp_path / "a.png")
    (tmp_path / "b.png").write_bytes(b"")  # zero bytes, between two good words
    (tmp_path / "c.png").write_bytes(b"not an image")
    save_gray(word(3, 14), tmp_path / "d.png")
    recs = [
        WordRecord(tmp_path / "a.png", "AB"),
        WordRecord(tmp_path / "b.png", "CD"),
        WordRecord(tmp_path / "missing.png", "XY"),
        WordRecord(tmp_path / "c.png", "QQ"),
        WordRecord(tmp_path / "d.png", "EFG"),
    ]
    chars, stats = D.harvest_word_letters(recs)
    assert stats == {"words_used": 2, "words_forced": 0, "words_skipped": 0, "unreadable_files": 3}
    assert "".join(CLASSES[k] for k in chars.labels) == "ABEFG"
    ink = (chars.images < 128).sum(axis=(1, 2))
    assert ink[:2].max() < ink[2:].min()  # A, B are the thin bars of a.png


def test_pen_drawn_characters_every_class_reproducible_and_synthetic():
    from hwutils.synth.pen import SKELETONS, make_pen_characters

    assert set(SKELETONS) == set(CLASSES)
    images, labels = make_pen_characters(CLASSES, 2, seed=5)
    assert images.shape == (72, 64, 64) and images.dtype == np.uint8
    assert list(labels) == [k for k in range(36) for _ in range(2)]
    ink = images < 128
    assert ink.any(axis=(1, 2)).all()  # every sample has ink ...
    assert not ink[:, 0, :].any() and not ink[:, -1, :].any()  # ... inside its margins
    again, _ = make_pen_characters(CLASSES, 2, seed=5)
    other, _ = make_pen_characters(CLASSES, 2, seed=6)
    assert np.array_equal(images, again) and not np.array_equal(images, other)
    pen = D.pen_chars("AB", 3, seed=0)
    assert pen.images.shape == (6, 32, 32) and set(pen.sources) == {"synthetic-pen"}
    real_a = D.from_chars(pen.images[:1], ["A"], "harvested")
    # pen-drawn samples are synthetic: a class with them alone is "synthetic only"
    assert D.class_origins(D.concat(real_a, pen)) == {
        "real": "A",
        "synthetic_only": "B",
        "missing": CLASSES.replace("A", "").replace("B", ""),
    }
    assert list(D.is_synthetic(["synthetic", "synthetic-pen", "harvested", "mnist"])) == [
        True,
        True,
        False,
        False,
    ]


def test_pen_drawn_letters_keep_their_shape():
    from hwutils.synth.pen import make_pen_characters

    images, labels = make_pen_characters("IL", 20, seed=0)
    ratios = []
    for im in images[labels == 0]:  # an I is a tall, narrow stroke
        ys, xs = np.nonzero(im < 128)
        ratios.append((np.ptp(xs) + 1) / (np.ptp(ys) + 1))
    assert np.median(ratios) < 0.6
    for im in images[labels == 1]:  # an L has more ink in its lower half than in its upper right quarter
        h, w = im.shape
        ink = im < 128
        assert ink[h // 2 :].sum() > ink[: h // 2, w // 2 :].sum()
    with pytest.raises(KeyError, match="no pen skeleton"):
        make_pen_characters("a", 1)
