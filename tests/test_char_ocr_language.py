"""The character bigram model and the search that reads with it."""

import numpy as np
import pytest

from hwutils.errors import HwError, ParamsError
from hwutils.ocr import read as R
from hwutils.ocr.language import TOKENS, CharBigram
from hwutils.ocr.search import best_cover, best_reading


def test_bigram_counts_pairs_and_boundaries():
    lm = CharBigram.fit(["ANNA", "anne", "JEAN PAUL", "", "O'NEIL"])
    n = len(TOKENS)
    c = lm.counts
    assert c[TOKENS.index("N"), TOKENS.index("N")] == 2  # ANNA, ANNE
    assert c[n, TOKENS.index("A")] == 2 and c[TOKENS.index("E"), n] == 1
    assert c[TOKENS.index("N"), TOKENS.index("P")] == 1  # the space is dropped
    assert c[TOKENS.index("O"), TOKENS.index("N")] == 1  # so is the apostrophe
    assert lm.n_words == 4  # the empty label counts nothing


def test_log_probs_are_normalised_over_the_tokens_used():
    lm = CharBigram.fit(["ABBA", "ABBE"])
    table = lm.log_probs("ABE-")
    assert table.shape == (5, 5)
    assert np.allclose(np.exp(table).sum(1), 1.0)
    a, b, e = 0, 1, 2
    assert table[a, b] > table[a, e]  # seen pair above an unseen one
    assert table[4, a] > table[4, b]  # words start with A
    with pytest.raises(ParamsError, match="tokens"):
        lm.log_probs("Ab")


def test_bigram_round_trip_and_bad_dicts():
    lm = CharBigram.fit(["MARIE", "MARC"], smoothing=0.25)
    back = CharBigram.from_dict(lm.to_dict())
    assert np.array_equal(back.counts, lm.counts) and back.smoothing == 0.25
    with pytest.raises(HwError, match="bigram"):
        CharBigram.from_dict({"tokens": "AB", "counts": [[0]]})
    with pytest.raises(HwError, match="bigram"):
        CharBigram.from_dict({"tokens": TOKENS, "counts": [[1, 2], [3, 4]]})
    with pytest.raises(ParamsError, match="smoothing"):
        CharBigram(lm.counts, smoothing=0)


def test_best_reading_without_weight_is_the_best_cover_with_best_tokens():
    runs = [(0, 1), (1, 2), (0, 2), (2, 3), (1, 3)]
    rng = np.random.default_rng(0)
    emissions = np.log(rng.dirichlet(np.ones(4), len(runs)))
    emissions[2] += 2.0
    flat = np.log(np.full((5, 5), 0.2))
    path = best_reading(3, runs, emissions, flat, weight=0.0)
    cover = best_cover(3, runs, emissions.max(1))
    assert [run for run, _ in path] == cover
    assert all(tok == int(np.argmax(emissions[runs.index(run)])) for run, tok in path)
    assert best_reading(0, [], np.zeros((0, 4)), flat) == []


def test_best_reading_lets_the_neighbours_decide_a_doubtful_character():
    runs = [(0, 1), (1, 2), (2, 3)]
    # tokens A, U, V: the middle character is U or V (V slightly ahead), the others clearly A
    emissions = np.log(np.array([[0.98, 0.01, 0.01], [0.02, 0.48, 0.50], [0.98, 0.01, 0.01]]))
    lm = CharBigram.fit(["AUA", "AUAU", "UAU"])
    table = lm.log_probs("AUV")
    assert [tok for _, tok in best_reading(3, runs, emissions, table, weight=0.0)] == [0, 2, 0]
    assert [tok for _, tok in best_reading(3, runs, emissions, table, weight=0.5)] == [0, 1, 0]


class Doubtful:
    """A stand-in classifier: every character is U or V, V slightly ahead."""

    output_shape = (None, 36)

    def __call__(self, x, training=False):
        out = np.full((len(np.asarray(x)), 36), 0.001, np.float32)
        out[:, R.CLASSES.index("U")] = 0.45
        out[:, R.CLASSES.index("V")] = 0.5
        return out / out.sum(1, keepdims=True)


def _blocks(n=3):
    img = np.full((60, 40 + 40 * n), 255, np.uint8)
    for i in range(n):
        img[15:45, 20 + 40 * i : 45 + 40 * i] = 0
    return img


def test_reader_with_a_language_model_and_its_settings():
    lm = CharBigram.fit(["UUU", "UU", "UUUU"])
    assert R.Reader(Doubtful()).read_word(_blocks()).text == "VVV"
    reader = R.Reader(Doubtful(), language_model=lm, lm_weight=1.0)
    reading = reader.read_word(_blocks())
    assert reading.text == "UUU"
    assert all(
        abs(c.confidence - 0.45 / 0.984) < 1e-3 for c in reading.chars
    )  # the chosen class's probability
    with pytest.raises(ParamsError, match="lm_weight"):
        R.Reader(Doubtful(), lm_weight=0.5)
    with pytest.raises(ParamsError, match="lm_weight"):
        R.Reader(Doubtful(), search=False, language_model=lm, lm_weight=0.5)
    with pytest.raises(ParamsError, match="lm_weight"):
        R.Reader(Doubtful(), language_model=lm, lm_weight=-1)


def test_run_emissions_keep_hyphens_and_characters_apart():
    from hwutils.ocr.search import candidate_runs, run_emissions
    from hwutils.ocr.segment import over_segment

    img = np.full((60, 200), 255, np.uint8)
    img[15:45, 20:45] = 0
    img[28:32, 70:95] = 0  # a hyphen
    img[15:45, 120:145] = 0
    pieces = over_segment(img)
    runs = candidate_runs(pieces)
    em = run_emissions(pieces, runs, np.log(np.full((len(runs), 3), 1 / 3)))
    assert em.shape == (len(runs), 4)
    for (i, j), row in zip(runs, em):
        lone_hyphen = j - i == 1 and pieces.is_hyphen(i)
        assert np.isfinite(row[-1]) == lone_hyphen and np.all(np.isfinite(row[:-1]) != lone_hyphen)
