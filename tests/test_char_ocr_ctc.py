"""The segmentation-free CTC reader: decoding on made-up logits with known
answers, the strip, bad input, and a saved reader reloaded (tiny untrained models)."""

import itertools

import numpy as np
import pytest

from hwutils.errors import HwError, ImageError, ParamsError
from hwutils.ocr import ctc
from hwutils.ocr import read as R
from hwutils.ocr.language import CharBigram
from hwutils.ocr.model import build_classifier

A, B, U, V, Q = (ctc.TOKENS.index(c) + 1 for c in "ABUVQ")
N = len(ctc.TOKENS) + 1


def frames(*rows):
    """Log-probabilities from rows of ``{token: probability}`` (every other token 1e-6)."""
    out = np.full((len(rows), N), 1e-6)
    for t, row in enumerate(rows):
        for k, p in row.items():
            out[t, k] = p
    return np.log(out / out.sum(1, keepdims=True))


def test_greedy_merges_repeats_and_drops_blanks():
    lp = frames({A: 0.9}, {A: 0.9}, {0: 0.9}, {A: 0.9}, {B: 0.9}, {B: 0.9}, {0: 0.9})
    assert ctc.decode_tokens(ctc.greedy_decode(lp)) == "AAB"


def test_beam_search_finds_the_likelier_labelling_than_the_best_path():
    # two frames, blank 0.6 and A 0.4 each: best path is blank-blank (0.36, the empty word),
    # but "A" has three paths (AA, A-, -A: 0.16 + 0.24 + 0.24 = 0.64)
    lp = frames({0: 0.6, A: 0.4}, {0: 0.6, A: 0.4})
    assert ctc.greedy_decode(lp) == []
    tokens, score = ctc.beam_search(lp, beam_width=4)
    assert tokens == [A]
    assert score == pytest.approx(np.log(0.64), abs=1e-3)


def test_ctc_likelihood_matches_every_path_summed():
    rng = np.random.default_rng(0)
    lp = ctc.log_softmax(rng.normal(size=(4, N)))
    small = [0, A, B]  # paths over blank, A and B only (other tokens never collapse to these texts)

    def collapse(path):
        out, prev = [], 0
        for t in path:
            if t != prev and t != 0:
                out.append(t)
            prev = t
        return tuple(out)

    texts = [[A], [A, B], [A, A], [B, A, B], []]
    brute = {tuple(t): -np.inf for t in texts}
    for path in itertools.product(small, repeat=4):
        key = collapse(path)
        if key in brute:
            brute[key] = np.logaddexp(brute[key], sum(lp[t, k] for t, k in enumerate(path)))
    got = ctc.ctc_log_likelihood(lp, texts)
    assert np.allclose(got, [brute[tuple(t)] for t in texts], atol=1e-9)
    assert ctc.ctc_log_likelihood(lp, [[A, B, A, B, A]])[0] == -np.inf  # needs more steps than 4


def test_language_model_decides_between_look_alikes():
    # "Q" then a letter that is U or V with equal odds: the bigram of labels where U follows Q picks U
    lp = frames({Q: 0.9}, {0: 0.9}, {U: 0.45, V: 0.45}, {0: 0.9})
    lm = CharBigram.fit(["QU", "QUA", "AQUA", "VA"])
    table, index = ctc.lm_mapping(lm)
    plain, _ = ctc.beam_search(lp, 8)
    assert ctc.decode_tokens(plain) in ("QU", "QV")
    tokens, _ = ctc.beam_search(lp, 8, table, index, lm_weight=1.0)
    assert ctc.decode_tokens(tokens) == "QU"
    lm_v = CharBigram.fit(["QV", "QVA"])
    tokens, _ = ctc.beam_search(lp, 8, *ctc.lm_mapping(lm_v), lm_weight=1.0)
    assert ctc.decode_tokens(tokens) == "QV"


def test_lexicon_word_taken_only_within_the_margin():
    lp = frames({A: 0.6, B: 0.4}, {0: 0.9}, {B: 0.9}, {0: 0.9})  # "AB" likelier than "BB"
    free, _ = ctc.beam_search(lp, 8)
    assert ctc.decode_tokens(free) == "AB"
    lexicon = [[B, B], [A, A, A]]
    # log P(BB) - log P(AB) = log(0.4 / 0.6) = -0.405
    assert ctc.lexicon_choice(lp, free, lexicon, margin=0.5) == [B, B]
    assert ctc.lexicon_choice(lp, free, lexicon, margin=0.3) == free
    assert ctc.lexicon_choice(lp, free, [], margin=9) == free


def test_allowed_tokens_and_alignment():
    lp = frames({1: 0.7, A: 0.3}, {0: 0.9}, {B: 0.6, 0: 0.4}, {B: 0.8, 0: 0.2})  # token 1 is the digit 0
    assert ctc.decode_tokens(ctc.greedy_decode(lp)) == "0B"
    only_letters = ctc.allowed_log_probs(lp, "AB")
    assert ctc.decode_tokens(ctc.greedy_decode(only_letters)) == "AB"
    spans = ctc.align(only_letters, [A, B])
    assert [s[:2] for s in spans] == [(0, 0), (2, 3)]
    assert spans[1][2] == pytest.approx(0.8, abs=1e-3)  # the largest probability of its steps


def test_encode_round_trip():
    assert ctc.decode_tokens(ctc.encode("jean-paul le", 20)) == "JEAN-PAUL LE"
    assert ctc.encode("ABC", 2).tolist() == [A, B]
    assert ctc.encode("A", 3).tolist() == [A, 0, 0]


def _word(n=3):
    img = np.full((50, 30 + 30 * n), 255, np.uint8)
    for i in range(n):
        img[10:40, 15 + 30 * i : 30 + 30 * i] = 0
    return img


@pytest.fixture(scope="module")
def crnn():
    return ctc.build_crnn(width=2)


def test_word_strip_normalises_height_and_keeps_left_aligned():
    strip, geom = ctc.word_strip(_word(3))
    assert strip.shape == (ctc.STRIP_H, ctc.STRIP_W) and strip.dtype == np.uint8
    ink_rows = np.flatnonzero((strip < 128).any(1))
    assert ink_rows[0] <= ctc.MARGIN + 1 and ink_rows[-1] >= ctc.STRIP_H - ctc.MARGIN - 2
    assert geom.box(ctc.MARGIN, ctc.MARGIN + 10)[0] == 15  # the ink starts at column 15
    blank, none = ctc.word_strip(np.full((40, 100), 255, np.uint8))
    assert none is None and (blank == 255).all()


def test_reader_refuses_a_blank_image_like_read_word(crnn):
    reader = R.CTCReader(crnn)
    white = np.full((40, 200), 255, np.uint8)
    with pytest.raises(ImageError, match="blank"):
        reader.read_word(white)
    with pytest.raises(ImageError, match="blank"):
        R.Reader(build_classifier(width=4)).read_word(white)  # the segmentation reader says the same
    assert reader.read_word(white, blank="empty").text == ""
    reading = reader.read_word(_word(3))
    assert all(c in ctc.TOKENS for c in reading.text)
    assert all(0 <= c.confidence <= 1 and len(c.box) == 4 for c in reading.chars)


def test_reader_settings_are_checked(crnn):
    with pytest.raises(HwError, match="allowed"):
        R.CTCReader(crnn, allowed="ab")
    with pytest.raises(ParamsError, match="lm_weight"):
        R.CTCReader(crnn, lm_weight=0.5)  # no language model
    with pytest.raises(ParamsError, match="beam_width"):
        R.CTCReader(crnn, beam_width=0)
    with pytest.raises(ParamsError, match="lexicon_margin"):
        R.CTCReader(crnn, lexicon_margin=-1)


def test_saved_reader_reloads_and_reads_the_same(tmp_path, crnn):
    art = tmp_path / "run" / "artifacts"
    R.save_reader(build_classifier(width=4), art)
    lm = CharBigram.fit(["ABA", "BAB"])
    saved = R.CTCReader(crnn, "AB- ", lm, 0.5, 4, ["AB"])
    R.save_ctc_reader(saved, art)
    R.save_reader_choice(art, "ctc", {"cer_ctc": 0.1})
    name, loaded = R.load_any_reader(tmp_path / "run")
    assert name == "ctc" and isinstance(loaded, R.CTCReader)
    images = [_word(2), _word(4)]
    assert [w.text for w in loaded.read_words(images)] == [w.text for w in saved.read_words(images)]
    x = np.random.default_rng(0).integers(0, 256, (2, ctc.STRIP_H, ctc.STRIP_W)).astype(np.uint8)
    assert np.allclose(ctc.predict_log_probs(loaded.model, x), ctc.predict_log_probs(crnn, x), atol=1e-5)
    assert R.load_any_reader(tmp_path / "run", "segmentation")[0] == "segmentation"
    with pytest.raises(ParamsError, match="--reader"):
        R.load_any_reader(tmp_path / "run", "tesseract")


def test_run_without_ctc_reader_says_so(tmp_path):
    R.save_reader(build_classifier(width=4), tmp_path / "artifacts")
    assert R.chosen_reader(tmp_path) == "segmentation"
    with pytest.raises(HwError, match="no CTC reader"):
        R.load_any_reader(tmp_path, "ctc")


def test_reader_choice_and_summary_rows():
    from hwutils.ocr import summary as S

    val = {"val_cer": 0.10, "val_word_accuracy": 0.7, "val_cer_ctc": 0.10, "val_word_accuracy_ctc": 0.7}
    assert S.choose_reader(val) == "segmentation"  # a tie keeps the segmentation reader
    assert S.choose_reader({**val, "val_word_accuracy_ctc": 0.71}) == "ctc"
    assert S.choose_reader({**val, "val_cer_ctc": 0.09, "val_word_accuracy_ctc": 0.5}) == "ctc"  # CER first
    assert "the CTC reader" in S.choice_sentence("ctc", {**val, "val_words_scored": 3})
    metrics = {
        "words_scored": 9,
        "cer": 0.10,
        "word_accuracy": 0.7,
        "cer_geometry_only": 0.2,
        "word_accuracy_geometry_only": 0.6,
        "cer_ctc": 0.12,
        "word_accuracy_ctc": 0.65,
    }
    rows = {r.name: r for r in S.ctc_results(metrics)}
    assert len(rows) == 4
    against_geometry = rows["CER, CTC reader (against geometry-only)"]
    assert against_geometry.yardstick_value == 0.2 and against_geometry.beats is True
    against_segmentation = rows["word accuracy, CTC reader"]
    assert against_segmentation.yardstick_value == 0.7 and against_segmentation.beats is False
    assert S.ctc_results({"cer": 0.1}) == []
