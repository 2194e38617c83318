"""Class balancing by repetition and the character split (hwutils.ocr.data),
moved out of the char_ocr notebook."""

import numpy as np
import pytest

from hwutils.errors import ParamsError
from hwutils.ocr import CLASSES
from hwutils.ocr import data as D


def _set(spec):
    """A CharSet from ``[(class char, source, count), ...]``; each image holds its own index."""
    labels, sources = [], []
    for char, source, n in spec:
        labels += [CLASSES.index(char)] * n
        sources += [source] * n
    images = np.zeros((len(labels), 32, 32), np.uint8)
    images[:, 0, 0] = np.arange(len(labels)) % 256
    images[:, 0, 1] = np.arange(len(labels)) // 256
    return D.CharSet(images, np.array(labels, np.int64), np.array(sources, "<U16"))


def _ids(charset):
    return (charset.images[:, 0, 0].astype(int) + 256 * charset.images[:, 0, 1].astype(int)).tolist()


def test_repeat_source_repeats_only_that_source():
    cs = _set([("A", "synthetic", 5), ("A", "harvested", 3), ("B", "harvested", 2), ("7", "mnist", 4)])
    out = D.repeat_source(cs, "harvested", 3)
    assert len(out) == 14 + 5 * 2
    ids = _ids(out)
    harvested = [k for k in range(14) if cs.sources[k] == "harvested"]
    for k in range(14):
        assert ids.count(k) == (3 if k in harvested else 1)
    # labels and sources travel with their images
    for img_id, label, source in zip(ids, out.labels, out.sources):
        assert label == cs.labels[img_id] and source == cs.sources[img_id]


def test_repeat_once_or_absent_source_is_unchanged():
    cs = _set([("A", "synthetic", 4)])
    assert D.repeat_source(cs, "synthetic", 1) is cs
    assert D.repeat_source(cs, "harvested", 5) is cs


@pytest.mark.parametrize("times", [0, -1, 1.5, True, "2"])
def test_repeat_refuses_what_is_not_a_whole_number_from_one(times):
    with pytest.raises(ParamsError, match="harvested"):
        D.repeat_source(_set([("A", "harvested", 2)]), "harvested", times)


def test_training_splits_repeat_the_training_part_only():
    cs = _set([(c, "harvested", 20) for c in "ABC"] + [(c, "synthetic", 20) for c in "ABC"])
    train, val, test = D.training_splits(cs, 0.1, 0.2, seed=3, repeat={"harvested": 2})
    plain = D.split(cs, {"val": 0.1, "test": 0.2}, seed=3)
    assert _ids(val) == _ids(plain["val"]) and _ids(test) == _ids(plain["test"])  # never repeated
    held_out = set(_ids(val)) | set(_ids(test))
    assert not held_out & set(_ids(train))  # no copy of a held-out character is trained on
    n_harvested = int(np.sum(plain["train"].sources == "harvested"))
    assert len(train) == len(plain["train"]) + n_harvested
    assert sorted(set(_ids(train))) == sorted(_ids(plain["train"]))


def test_class_origins_and_source_counts():
    cs = _set(
        [("0", "sklearn-digits", 3), ("A", "synthetic", 2), ("A", "harvested", 1), ("B", "synthetic", 2)]
    )
    origins = D.class_origins(cs)
    assert origins["real"] == "0A"
    assert origins["synthetic_only"] == "B"
    assert origins["missing"] == "".join(c for c in CLASSES if c not in "0AB")
    rows = D.source_counts(cs)
    assert rows == [
        {"source": "sklearn-digits", "samples": 3, "classes": "0"},
        {"source": "synthetic", "samples": 4, "classes": "AB"},
        {"source": "harvested", "samples": 1, "classes": "A"},
    ]
