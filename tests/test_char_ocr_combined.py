"""The combined word reader (segmentation + CTC): scoring candidate strings on
made-up lattices and log-probabilities with known answers, the weight chosen on
validation words, a saved run reloaded, and its parameters checked (tiny
untrained models)."""

from pathlib import Path

import numpy as np
import pytest

from hwutils import cli
from hwutils.errors import HwError, ImageError, ParamsError
from hwutils.ocr import combined as C
from hwutils.ocr import ctc
from hwutils.ocr import read as R
from hwutils.ocr.language import CharBigram
from hwutils.ocr.model import build_classifier
from hwutils.ocr.seg_reader import Lattice
from hwutils.runs import params as P

ROOT = Path(__file__).resolve().parents[1]
LETTERS = "AB"  # emission columns: A, B, then the hyphen


def lattice(runs, emissions, n_pieces):
    return Lattice(list(range(n_pieces)), runs, np.asarray(emissions, float), np.zeros((len(runs), 2)))


def test_segmentation_score_reads_the_pieces_as_exactly_the_string():
    # two pieces: each alone, or both as one character
    lat = lattice([(0, 1), (1, 2), (0, 2)], [[-1, -3, -np.inf], [-2, -0.5, -np.inf], [-4, -0.2, -np.inf]], 2)
    assert C.segmentation_score(lat, [0, 1]) == (pytest.approx(-1.5), [(0, 1), (1, 2)])  # "AB"
    assert C.segmentation_score(lat, [1]) == (pytest.approx(-0.2), [(0, 2)])  # "B", both pieces
    assert C.segmentation_score(lat, [0, 0]) == (pytest.approx(-3.0), [(0, 1), (1, 2)])
    assert C.segmentation_score(lat, [0, 1, 1])[0] == -np.inf  # three characters from two pieces
    assert C.segmentation_score(lat, [2])[0] == -np.inf  # no run may be a hyphen
    assert C.segmentation_score(lat, [])[0] == -np.inf  # ink read as nothing
    assert C.segmentation_score(lattice([], np.zeros((0, 3)), 0), []) == (0.0, [])


def test_lm_score_sums_the_bigrams_with_boundaries():
    table = np.log(np.array([[0.1, 0.6, 0.3], [0.5, 0.1, 0.4], [0.7, 0.2, 0.1]]))  # A, B, boundary
    assert C.lm_score(table, [0, 1]) == pytest.approx(np.log(0.7 * 0.6 * 0.4))
    assert C.lm_score(None, [0, 1]) == 0.0


def test_combine_weighs_the_two_readers_with_a_known_answer():
    seg = np.array([-1.0, -3.0, -np.inf])  # the segmentation reader prefers candidate 0
    ctc_ll = np.array([-5.0, -1.0, -0.1])  # the CTC reader candidate 2, which the pieces cannot be
    lm = np.zeros(3)
    assert np.argmax(C.combine(seg, ctc_ll, lm, 0.0, 0.5)) == 0
    assert np.argmax(C.combine(seg, ctc_ll, lm, 1.0, 0.5)) == 2  # weight 1: the CTC reader alone
    # weight 0.5: 0.5 * (-1 - 5) = -3 against 0.5 * (-3 - 1) = -2: candidate 1, better by both together
    assert np.argmax(C.combine(seg, ctc_ll, lm, 0.5, 0.5)) == 1
    # the language model can tip it back: -3 + 0 against -2 - 3
    assert np.argmax(C.combine(seg, ctc_ll, np.array([0.0, -3.0, 0.0]), 0.5, 1.0)) == 0
    # no candidate the pieces can be read as: the CTC log-likelihood decides
    assert np.argmax(C.combine(np.full(3, -np.inf), ctc_ll, lm, 0.2, 0.5)) == 2


def test_candidates_scored_end_to_end_on_made_up_log_probs():
    # the CTC log-likelihood of each candidate: frames that say "AB" clearly
    a, b = (ctc.TOKENS.index(c) + 1 for c in "AB")
    frames = np.full((4, len(ctc.TOKENS) + 1), 1e-6)
    for t, tok in enumerate([a, 0, b, 0]):
        frames[t, tok] = 1.0
    lp = np.log(frames / frames.sum(1, keepdims=True))
    texts = ["AB", "BB", "A"]
    ll = ctc.ctc_log_likelihood(lp, [[ctc.TOKENS.index(c) + 1 for c in t] for t in texts])
    lat = lattice([(0, 1), (1, 2)], [[-0.5, -0.4, -np.inf], [-2.0, -0.1, -np.inf]], 2)
    seg = np.array([C.segmentation_score(lat, [LETTERS.index(c) for c in t])[0] for t in texts])
    scored = C.Scored(texts, seg, ll, np.zeros(3))
    assert texts[scored.pick(0.0, 0.0)] == "BB"  # the classifier alone prefers B for the first piece
    assert texts[scored.pick(0.5, 0.0)] == "AB"  # the CTC reader is sure of "AB"
    assert seg[2] == -np.inf


@pytest.fixture(scope="module")
def readers():
    seg = R.Reader(build_classifier(width=4), allowed="AB")
    return seg, R.CTCReader(ctc.build_crnn(width=2), allowed="AB- ")


def _word(n=3):
    img = np.full((50, 30 + 30 * n), 255, np.uint8)
    for i in range(n):
        img[10:40, 15 + 30 * i : 30 + 30 * i] = 0
    return img


def test_weight_chosen_on_validation_words_with_a_known_answer(readers, monkeypatch):
    reader = C.CombinedReader(*readers, weight=0.5)
    # two words, candidates "AB"/"BA": the segmentation score is right on the first, the CTC on the second,
    # and the CTC is more sure: only weights above 0.5 read both right
    scored = [
        C.Scored(["AB", "BA"], np.array([-1.0, -2.0]), np.array([-1.0, -1.5]), np.zeros(2)),
        C.Scored(["AB", "BA"], np.array([-1.0, -1.5]), np.array([-3.0, -2.5]), np.zeros(2)),
    ]
    monkeypatch.setattr(reader, "score", lambda images, blank="empty": scored)
    items = [(_word(2), "AB"), (_word(2), "BA"), (_word(2), "UNREADABLE")]
    weight, table = C.tune_weight(reader, items)
    assert table[0.0] == (0.5, 0.5) and table[1.0] == (0.0, 1.0)
    assert weight == 0.6  # the lowest CER, then the weight nearest 0.5 (0.6 ... 1 all read both right)
    assert [s.texts[s.pick(weight, reader.lm_weight)] for s in scored] == ["AB", "BA"]
    # with the language model's weight: a model that favours "AB" by 1 nat undoes the second word at 1
    for s in scored:
        s.lm = np.array([0.0, -1.0])
    w, lw, grid = C.tune_weight(reader, items, (0.6, 1.0), (0.0, 1.0))
    assert (w, lw) == (0.6, 0.0) and grid[(1.0, 1.0)] == (0.5, 0.5) and len(grid) == 4


def test_combined_reader_reads_and_refuses_a_blank_image_like_read_word(readers):
    reader = C.CombinedReader(*readers, weight=0.3)
    white = np.full((40, 200), 255, np.uint8)
    with pytest.raises(ImageError, match="blank"):
        reader.read_word(white)
    assert reader.read_word(white, blank="empty").text == ""
    reading = reader.read_word(_word(3))
    assert set(reading.text) <= set("AB- ")
    assert all(0 <= c.confidence <= 1 and len(c.box) == 4 for c in reading.chars)
    assert [w.text for w in reader.read_words([_word(2), _word(3)])][1] == reading.text


def test_combined_settings_are_checked(readers):
    with pytest.raises(ParamsError, match="weight"):
        C.CombinedReader(*readers, weight=1.5)
    with pytest.raises(ParamsError, match="alternatives"):
        C.CombinedReader(*readers, alternatives=-1)
    with pytest.raises(ParamsError, match="lm_weight"):
        C.CombinedReader(*readers, lm_weight=1.0)  # no language model to weigh
    with pytest.raises(ParamsError, match="search"):
        C.CombinedReader(readers[0].geometry_only(), readers[1])


def test_saved_run_reloads_and_reads_the_same(tmp_path):
    art = tmp_path / "run" / "artifacts"
    lm = CharBigram.fit(["ABA", "BAB", "AB"])
    R.save_reader(build_classifier(width=4), art, search={}, language_model=lm, lm_weight=0.5)
    seg = R.load_reader(tmp_path / "run", allowed="AB")
    ctc_reader = R.CTCReader(ctc.build_crnn(width=2), "AB- ", lm, 0.5, 4)
    R.save_ctc_reader(ctc_reader, art)
    saved = C.CombinedReader(seg, ctc_reader, weight=0.4, alternatives=1, lm_weight=1.0)
    R.save_combined_reader(saved, art)
    R.save_reader_choice(art, "combined", {"val_cer_combined": 0.1})
    name, loaded = R.load_any_reader(tmp_path / "run")
    assert name == "combined" and isinstance(loaded, R.CombinedReader)
    assert (loaded.weight, loaded.alternatives, loaded.lm_weight, loaded.seg_reader.letters) == (
        0.4,
        1,
        1.0,
        "AB",
    )
    images = [_word(2), _word(4)]
    assert [w.text for w in loaded.read_words(images)] == [w.text for w in saved.read_words(images)]
    assert [w.boxes for w in loaded.read_words(images)] == [w.boxes for w in saved.read_words(images)]


def test_run_without_combined_reader_says_so(tmp_path):
    R.save_reader(build_classifier(width=4), tmp_path / "artifacts")
    with pytest.raises(HwError, match="no combined reader"):
        R.load_any_reader(tmp_path, "combined")


def test_choice_among_three_readers():
    from hwutils.ocr import summary as S

    val = {
        "val_cer": 0.10,
        "val_word_accuracy": 0.7,
        "val_cer_ctc": 0.12,
        "val_word_accuracy_ctc": 0.6,
        "val_cer_combined": 0.10,
        "val_word_accuracy_combined": 0.7,
    }
    assert S.choose_reader(val) == "segmentation"  # a tie keeps the simpler reader
    assert S.choose_reader({**val, "val_cer_combined": 0.09}) == "combined"
    assert "`--reader combined`" in S.choice_sentence("combined", {**val, "val_words_scored": 3})
    rows = [
        r.name
        for r in S.ctc_results(
            {
                "words_scored": 3,
                "cer": 0.1,
                "word_accuracy": 0.7,
                "cer_ctc": 0.2,
                "word_accuracy_ctc": 0.5,
                "cer_combined": 0.08,
                "word_accuracy_combined": 0.75,
            }
        )
    ]
    assert "CER, combined reader" in rows


@pytest.mark.parametrize(
    "name,value,message",
    [
        ("combined_weight", 1.5, "parameter 'combined_weight' must be in [-1, 1], got 1.5"),
        ("ctc_real_copies", 0, "parameter 'ctc_real_copies' must be in [1, inf), got 0"),
        ("combined_lm_weight", -2, "parameter 'combined_lm_weight' must be in [-1, inf), got -2"),
    ],
)
def test_new_parameters_are_declared_and_checked(name, value, message):
    specs = P.notebook_parameters(ROOT / "notebooks" / "char_ocr.ipynb")
    with pytest.raises(ParamsError) as err:
        P.check_value("char_ocr", specs, name, value, "f.yaml")
    assert str(err.value).startswith(f"f.yaml: {message}")


def test_hw_run_refuses_an_unknown_or_out_of_range_parameter_in_one_line(tmp_path, monkeypatch, capsys):
    monkeypatch.setenv("HW_PROJECT", str(ROOT))
    monkeypatch.setenv("HW_OUTPUTS", str(tmp_path / "outputs"))
    for args, expected in [
        (
            ["-p", "combined_weight", "2"],
            "-p combined_weight: parameter 'combined_weight' must be in [-1, 1]",
        ),
        (["-p", "ctc_real_word", "true"], "ctc_real_word"),
    ]:
        code = cli.main(["run", "char_ocr", *args])
        err = capsys.readouterr().err
        assert code == 2 and err.count("\n") == 1 and expected in err, err
    assert not (tmp_path / "outputs" / "char_ocr").exists()
    with pytest.raises(ParamsError, match="combined weight"):
        C.check_weight(-0.5)  # the notebook's own check of what the declaration lets through
