"""Blank or near-blank input is refused where an answer would be meaningless:
naming a writer, reading a word, screening a signature (tiny untrained models)."""

import numpy as np
import pytest

from hwutils.errors import ImageError

BLANK_MESSAGE = r"no ink found \(blank or uniform image\)$"


def _noisy_blank(shape=(40, 300)):
    rng = np.random.default_rng(1)
    return np.clip(240 + rng.normal(0, 4, shape), 0, 255).astype(np.uint8)


def _faint_line(shape=(40, 300)):
    img = _noisy_blank(shape)
    for x in range(20, shape[1] - 20, 9):
        img[12:30, x : x + 3] = 200  # faint pencil, 40 levels under the paper
    return img


@pytest.fixture(scope="module")
def identifier(tmp_path_factory):
    from hwutils.writer_id import enrol, identify, models

    m = models.build_model("half_deepwriter", 3, height=24, width=0.1)
    g = enrol.Gallery.from_embeddings(
        np.random.default_rng(0).random((3, m.get_layer("embedding").units)), ["001", "002", "003"]
    )
    art = tmp_path_factory.mktemp("run") / "artifacts"
    identify.save_for_identification(art, m, ["001", "002", "003"], 24, 24, 0, 0.5, g)
    return identify.WriterIdentifier.load(art.parent)


def test_identify_line_refuses_a_blank_line(identifier, tmp_path):
    from PIL import Image

    for image, name in ((np.full((40, 300), 255, np.uint8), "<array>"), (_noisy_blank(), "<array>")):
        with pytest.raises(ImageError, match=f"^{name}: " + BLANK_MESSAGE):
            identifier.identify_line(image)
    path = tmp_path / "white_line.png"
    Image.fromarray(np.full((40, 300), 255, np.uint8)).save(path)
    with pytest.raises(ImageError, match=f"^{path}: " + BLANK_MESSAGE):
        identifier.identify_line(path)
    with pytest.raises(ImageError, match=BLANK_MESSAGE):
        identifier.identify_lines([_faint_line(), np.full((40, 300), 255, np.uint8)])
    res = identifier.identify_line(_faint_line())  # faint but real writing is scored
    assert sorted(w for w, _ in res.ranking) == ["001", "002", "003"] and res.n_windows >= 1


@pytest.fixture(scope="module")
def reader():
    from hwutils.ocr import read as R
    from hwutils.ocr.model import build_classifier

    return R.Reader(build_classifier(width=4))


def test_read_word_refuses_a_blank_image(reader):
    from hwutils.errors import ParamsError

    white = np.full((40, 200), 255, np.uint8)
    for image in (white, np.zeros((40, 200), np.uint8), _noisy_blank((40, 200))):
        with pytest.raises(ImageError, match="^<array>: " + BLANK_MESSAGE):
            reader.read_word(image)
        with pytest.raises(ImageError, match=BLANK_MESSAGE):
            reader.read_words([image], blank="error")
        assert reader.read_word(image, blank="empty").text == ""  # asked for: a blank field reads as empty
        assert reader.read_words([image])[0].chars == []  # the batch API for scoring labelled fields
    word = np.full((50, 120), 255, np.uint8)
    for i in range(3):
        word[10:40, 15 + 30 * i : 30 + 30 * i] = 190  # faint strokes are still read
    assert len(reader.read_word(word).chars) == 3
    with pytest.raises(ParamsError, match="blank: unknown value 'skip'"):
        reader.read_words([word], blank="skip")


def test_screener_refuses_a_blank_image(tmp_path):
    from hwutils.signatures.screening import Screener, _fit_forest

    scr = Screener(16, 32, latent_dim=4, seed=0)
    scr.train_codes = np.random.default_rng(0).normal(size=(20, 4)).astype(np.float32)
    scr.forest = _fit_forest(scr.train_codes, 0)
    scr.thresholds = {"reconstruction_error": 1.0, "isolation_score": -1.0, "classifier_probability": 0.0}
    for image in (np.full((60, 120), 255, np.uint8), _noisy_blank((60, 120))):
        with pytest.raises(ImageError, match="^<array>: " + BLANK_MESSAGE):
            scr.check(image)
    sig = np.full((60, 120), 255, np.uint8)
    sig[20:40, 10:110:6] = 30
    out = scr.check(sig)
    assert set(out["votes"]) == {"autoencoder", "isolation_forest", "classifier"}
    # saved and loaded back through the safe loaders, it refuses the same way
    scr.save(tmp_path / "screener")
    again = Screener.load(tmp_path / "screener")
    with pytest.raises(ImageError, match=BLANK_MESSAGE):
        again.check(np.full((60, 120), 255, np.uint8))
    assert again.check(sig)["scores"] == pytest.approx(out["scores"])
