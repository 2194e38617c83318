"""hwutils.metrics against hand-computed values and scikit-learn."""

import numpy as np
import pytest
from sklearn.metrics import roc_auc_score

from hwutils import metrics as M


def test_top_k_and_confusion():
    probs = np.array([[0.6, 0.3, 0.1], [0.2, 0.3, 0.5], [0.1, 0.5, 0.4]])
    y = np.array([0, 1, 2])
    assert M.top_k_accuracy(y, probs, 1) == pytest.approx(1 / 3)
    assert M.top_k_accuracy(y, probs, 2) == pytest.approx(1.0)
    cm = M.confusion_matrix(y, probs.argmax(1), 3)
    assert cm.tolist() == [[1, 0, 0], [0, 0, 1], [0, 1, 0]]
    assert M.per_class_accuracy(cm).tolist() == [1.0, 0.0, 0.0]
    pairs = M.most_confused_pairs(cm, labels=["a", "b", "c"])
    assert {(p["true"], p["predicted"]) for p in pairs} == {("b", "c"), ("c", "b")}


def test_auroc_matches_sklearn_with_ties():
    rng = np.random.default_rng(0)
    labels = rng.integers(0, 2, 200)
    scores = np.round(rng.normal(labels * 0.8, 1.0), 1)
    assert M.auroc(labels, scores) == pytest.approx(roc_auc_score(labels, scores))


def test_eer_far_frr():
    labels = np.array([1] * 100 + [0] * 100)
    scores = np.r_[np.linspace(0.2, 1.0, 100), np.linspace(0.0, 0.8, 100)]
    e, t = M.eer(labels, scores)
    far, frr = M.far_frr(labels, scores, t)
    # FRR = (t - 0.2) / 0.8 and FAR = (0.8 - t) / 0.8 meet at t = 0.5: EER = 0.375
    assert (
        abs(far - frr) <= 0.02 and e == pytest.approx(0.375, abs=0.01) and t == pytest.approx(0.5, abs=0.01)
    )
    assert M.eer([1, 1, 0, 0], [0.9, 0.8, 0.2, 0.1])[0] == 0.0
    users = np.array([0, 1] * 100)
    assert 0 <= M.per_user_eer(labels, scores, users) <= 0.5


def test_thresholds_at_target_rates():
    labels = np.array([1] * 100 + [0] * 100)
    scores = np.r_[np.linspace(0.2, 1.0, 100), np.linspace(0.0, 0.8, 100)]
    for target in (0.0, 0.05, 0.2):
        t = M.threshold_at_far(labels, scores, target)
        far, _ = M.far_frr(labels, scores, t)
        next_lower = scores[scores < t].max()
        assert far <= target and M.far_frr(labels, scores, next_lower)[0] > target  # the most accepting one
        t = M.threshold_at_frr(labels, scores, target)
        _, frr = M.far_frr(labels, scores, t)
        next_higher = scores[scores > t].min()
        assert frr <= target and M.far_frr(labels, scores, next_higher)[1] > target  # the strictest one


def test_text_metrics():
    assert M.edit_distance("kitten", "sitting") == 3
    assert M.cer(["ABC", "DE"], ["ABD", "DE"]) == pytest.approx(1 / 5)
    assert M.word_accuracy(["ABC", "DE"], ["ABD", "DE"]) == 0.5


def test_reading_intervals_over_words():
    refs = ["ABCD", "EF", "GHIJ", "KL", "MNOP"] * 8
    assert M.reading_intervals(refs, refs) == {"cer": [0.0, 0.0], "word_accuracy": [1.0, 1.0]}
    assert M.reading_intervals([], []) == {}
    hyps = ["ABCX", "EF", "GHIJ", "K", "MNOP"] * 8  # 2 errors in 16 characters, 3 of 5 words right
    ci = M.reading_intervals(refs, hyps, seed=3)
    assert ci == M.reading_intervals(refs, hyps, seed=3)  # seeded
    lo, hi = ci["cer"]
    assert M.cer(refs, hyps) == pytest.approx(2 / 16)
    assert 0 <= lo < 2 / 16 < hi < 0.3
    lo, hi = ci["word_accuracy"]
    assert lo < 0.6 < hi and hi - lo < 0.45
    wider = M.reading_intervals(refs[:5], hyps[:5], seed=3)  # fewer words, wider interval
    assert wider["cer"][1] - wider["cer"][0] > ci["cer"][1] - ci["cer"][0]


def test_frechet_and_diversity():
    rng = np.random.default_rng(0)
    a = rng.normal(size=(500, 3))
    assert M.frechet_distance(a, a) == pytest.approx(0.0, abs=1e-6)
    assert M.frechet_distance(a, a + 2.0) == pytest.approx(12.0, rel=0.05)
    assert M.mean_pairwise_distance(np.zeros((5, 4))) == 0.0
    assert M.mean_pairwise_distance(np.array([[0.0, 0.0], [3.0, 4.0]])) == pytest.approx(5.0)
