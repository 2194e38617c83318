"""Real data (skipped without HW_DATA): loaders and segmentation on a few files."""

import numpy as np

from hwutils.datasets.words import load_word_labels, split_by_file
from hwutils.ocr import data as D
from hwutils.ocr.read import label_kind
from hwutils.ocr.segment import segment_word


def test_mnist_digits_load(real_data):
    cs = D.idx_digits(
        real_data / "mnist/mnist-images-idx3-ubyte.gz", real_data / "mnist/mnist-labels-idx1-ubyte.gz"
    )
    assert len(cs) == 5000 and cs.images.shape[1:] == (32, 32)
    assert set(np.unique(cs.labels)) == set(range(10))


def test_names_labels_and_segmentation(real_data):
    recs = load_word_labels(real_data / "names/labels.csv")
    assert len(recs) == 750
    kinds = [label_kind(r.label) for r in recs]
    assert kinds.count("empty") >= 1 and kinds.count("no_label") >= 1
    harvest, evaluation = split_by_file(recs, 0.5)
    assert not {r.path for r in harvest} & {r.path for r in evaluation}
    words = [r for r in recs[:20] if label_kind(r.label) == "word"]
    agree = sum(
        len([s for s in segment_word(r.path) if s.kind == "char"]) == len([c for c in r.label if c.isalnum()])
        for r in words
    )
    assert agree >= len(words) // 2


def test_validation_words_are_apart_from_evaluation_words_and_read_as_strips(real_data):
    from hwutils.ocr import ctc
    from hwutils.ocr.evaluate import split_validation
    from hwutils.ocr.read import word_strips

    recs = load_word_labels(real_data / "names/labels.csv")
    _, rest = split_by_file(recs, 0.5)
    validation, evaluation = split_validation(rest, 0.4)
    assert len(validation) + len(evaluation) == len(rest)
    assert not {r.path for r in validation} & {r.path for r in evaluation}
    assert 0.3 < len(validation) / len(rest) < 0.5
    assert split_validation(rest, 0.4)[0] == validation  # stable
    strips, texts = word_strips(validation[:20])
    assert strips.shape[1:] == (ctc.STRIP_H, ctc.STRIP_W) and len(strips) == len(texts) >= 15
    assert all((s < 128).sum() > 50 for s in strips)  # every scoreable name has ink on its strip


def test_a_printed_header_above_a_name_is_a_line_of_its_own(real_data):
    # Crops of the names' form with the printed PRENOM above the handwritten name (training half):
    # the line finding offers the name's line after the header's, and painting over the other lines
    # leaves that line as the main one (hwutils.ocr.form reads it when the header reads as a label).
    from hwutils.images import as_gray
    from hwutils.ocr.ink import _prepare, other_lines

    for name in ("VALIDATION_0087.jpg", "VALIDATION_0113.jpg", "VALIDATION_0141.jpg"):
        gray = as_gray(real_data / "names" / name)
        first, second = _prepare(gray, 0.02, True, 0.3), _prepare(gray, 0.02, True, 0.3, rank=1)
        assert first is not None and second is not None and second[4] > first[4] + 5  # lower on the crop
        alt = other_lines(gray)[0]
        assert abs(_prepare(alt, 0.02, True, 0.3)[4] - second[4]) < 3
