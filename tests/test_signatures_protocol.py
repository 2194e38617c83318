"""What moved out of the signatures notebook: the invalid images' split, the
screener's decision rule and threshold chosen on validation, the ROC series,
the latency harness and the headline results."""

from __future__ import annotations

import numpy as np
import pytest

from hwutils.errors import HwError
from hwutils.signatures import protocol, summary
from hwutils.signatures import screening as S


def test_split_invalid_60_20_20_disjoint_and_seeded():
    parts = S.split_invalid(10, seed=3)
    assert [len(parts[k]) for k in ("train", "val", "test")] == [6, 2, 2]
    assert sorted(np.concatenate(list(parts.values()))) == list(range(10))
    again = S.split_invalid(10, seed=3)
    assert all((parts[k] == again[k]).all() for k in parts)
    assert list(parts["train"]) == list(
        np.random.default_rng(3).permutation(10)[:6]
    )  # the notebook's old order
    with pytest.raises(HwError, match="at least 3"):
        S.split_invalid(2)


def test_balanced_accuracy_ignores_class_sizes():
    labels = np.r_[np.ones(90, bool), np.zeros(10, bool)]
    assert S.balanced_accuracy(labels, np.ones(100, bool)) == pytest.approx(0.5)
    accepted = np.r_[np.ones(81, bool), np.zeros(9, bool), np.zeros(5, bool), np.ones(5, bool)]
    assert S.balanced_accuracy(labels, accepted) == pytest.approx((0.9 + 0.5) / 2)


def test_combine_rules():
    acc = {
        "autoencoder": np.array([1, 1, 0, 0], bool),
        "isolation_forest": np.array([1, 0, 1, 0], bool),
        "classifier": np.array([1, 0, 0, 1], bool),
    }
    assert list(S.combine(acc, "vote", 2)) == [True, False, False, False]
    assert list(S.combine(acc, "vote", 1)) == [True, True, True, True]
    assert list(S.combine(acc, "all")) == [True, False, False, False]
    assert list(S.combine(acc, "classifier")) == [True, False, False, True]
    with pytest.raises(HwError, match="rule 'any'"):
        S.combine(acc, "any")


def test_choose_rule_prefers_the_good_detector_over_two_weak_voters():
    labels = np.r_[np.ones(6, bool), np.zeros(4, bool)]
    weak = np.r_[
        False, np.ones(9, bool)
    ]  # accepts all but one signature, like an autoencoder that only saw signatures
    acc = {"autoencoder": weak, "isolation_forest": weak, "classifier": labels.copy()}
    rule, scores = S.choose_rule(acc, labels)
    assert rule == "classifier" and scores["classifier"] == 1.0
    assert scores["vote"] == pytest.approx((5 / 6 + 0) / 2) and scores["all"] == pytest.approx(
        (5 / 6 + 1) / 2
    )
    assert set(scores) == set(S.RULES)
    tie = {"autoencoder": labels, "isolation_forest": labels, "classifier": labels}
    assert S.choose_rule(tie, labels)[0] == "vote"  # ties go to the earlier rule


def test_balanced_threshold_not_tilted_by_the_majority():
    labels = np.r_[np.ones(8), np.zeros(2)]
    probs = np.array([0.9, 0.9, 0.9, 0.9, 0.9, 0.9, 0.3, 0.3, 0.35, 0.2])
    # the best F1 of the valid class lets the invalid 0.35 pass to keep the two valid 0.3s;
    # balanced accuracy rejects both invalid images (0.75 + 1) / 2, at the lowest such candidate (0.5)
    assert S._best_f1_threshold(labels, probs) == pytest.approx(0.3)
    t = S._best_balanced_threshold(labels, probs)
    assert t == pytest.approx(0.5) and S.balanced_accuracy(labels, probs >= t) == pytest.approx(0.875)


def test_all_valid_f1():
    assert S.all_valid_f1(160, 60) == pytest.approx(2 * (160 / 220) / (1 + 160 / 220))
    assert S.all_valid_f1(0, 5) == 0.0


def test_roc_series_and_groups():
    scores = {
        "type": np.array(["genuine", "skilled", "random", "genuine"]),
        "distance": np.array([0.1, 0.5, 0.9, 0.2]),
    }
    series = protocol.roc_series(scores)
    labels, s = series["skilled"]
    assert list(labels) == [True, False, True] and list(s) == [-0.1, -0.5, -0.2]
    assert list(series["random"][1]) == [-0.1, -0.9, -0.2]
    assert "random" not in protocol.roc_series({**scores, "type": np.array(["genuine", "skilled"] * 2)})
    groups = protocol.score_groups(scores)
    assert list(groups["genuine"]) == [0.1, 0.2] and list(groups["random"]) == [0.9]


def test_time_per_call():
    ticks = iter([10.0, 10.5])
    results, ms = protocol.time_per_call(lambda x: x * 2, [1, 2], clock=lambda: next(ticks))
    assert results == [2, 4] and ms == pytest.approx(250.0)
    assert np.isnan(protocol.time_per_call(str, [])[1])


def test_results_yardsticks_and_shortfalls():
    test_eval = {
        "eer_skilled": 0.1,
        "eer_skilled_per_user": 0.2,
        "eer_random": 0.0,
        "far_random": 0.0,
        "far_skilled": 0.1,
        "frr": 0.2,
    }
    dist = {"eer_skilled": 0.15, "eer_skilled_per_user": 0.1}
    screen = {"combined": {"f1": 0.8, "invalid_pass_rate": 0.4, "balanced_accuracy": 0.7}}
    shifted = {"eer_skilled": 0.1, "far_skilled": 0.25, "frr": 0.05}
    rows = summary.results(test_eval, dist, "wd", screen, 160, 60, 250.0, 30.0, None, shifted)
    by = {r.name: r for r in rows}
    glob = by["skilled-forgery EER, one global threshold (writer-dependent)"]
    assert glob.yardstick == "the goal" and glob.yardstick_value == 0.05 and glob.beats is False
    assert "15.0%" in glob.note  # the distance rule beside it
    assert by["skilled-forgery EER, per user (writer-dependent)"].beats is False
    # the operating point beside the EER: FAR and FRR against 1.5 x the test EER, the other
    # collection's against 2 x its own EER
    far, frr = (
        by["FAR on skilled forgeries at the calibration threshold"],
        by["FRR at the calibration threshold"],
    )
    assert far.yardstick_value == pytest.approx(0.15) and far.beats is True
    assert frr.yardstick_value == pytest.approx(0.15) and frr.beats is False
    other = by["other collection: FAR on skilled forgeries, same threshold"]
    assert other.yardstick_value == pytest.approx(0.2) and other.beats is False
    assert by["other collection: FRR, same threshold"].beats is True
    f1 = by["screening F1 (valid class)"]
    assert f1.yardstick_value == pytest.approx(S.all_valid_f1(160, 60)) and f1.beats is False
    assert by["invalid images that pass"].beats is True
    assert by["verification latency"].value == pytest.approx(0.25)
    text = summary.shortfalls(rows)
    assert "screening F1 (valid class) (80.0%)" in text and "per user" in text and "balanced" not in text
    assert "one global threshold" in text and "FRR at the calibration threshold" in text
    distance_rows = summary.results(test_eval, {}, "distance", {}, 0, 0, 1.0, 1.0)
    by = {r.name: r for r in distance_rows}
    assert by["skilled-forgery EER, per user (distance rule)"].yardstick == "chance"
    assert not any(name.startswith("other collection") for name in by)  # not measured, not shown


def test_operating_point_ratios_and_the_transfer_sentence():
    ratios = summary.operating_point_ratios(
        {"eer_skilled": 0.1, "far_skilled": 0.12, "frr": 0.05},
        {"eer_skilled": 0.2, "far_skilled": 0.5, "frr": 0.1},
    )
    assert ratios == pytest.approx(
        {
            "test_far_skilled_over_eer": 1.2,
            "test_frr_over_eer": 0.5,
            "shifted_far_skilled_over_eer": 2.5,
            "shifted_frr_over_eer": 0.5,
        }
    )
    assert np.isnan(
        summary.operating_point_ratios({"eer_skilled": 0.0, "far_skilled": 0.0, "frr": 0.0})[
            "test_frr_over_eer"
        ]
    )
    good = {"eer_skilled": 0.1, "far_skilled": 0.12, "frr": 0.09}
    text = summary.transfer_sentence(good, {}, "x")
    assert "12.0%" in text and "misses" not in text and "collection" not in text
    text = summary.transfer_sentence(
        good, {"eer_skilled": 0.2, "far_skilled": 0.5, "frr": 0.1}, "resampled x0.7"
    )
    assert "resampled x0.7" in text and "misses its goal on: other collection" in text


def test_screening_sentence_says_when_it_does_not_beat_the_baseline():
    ev = {"combined": {"f1": 0.77, "confusion": [[22, 38], [35, 125]], "invalid_pass_rate": 38 / 60}}
    text = summary.screening_sentence(ev, "vote", {"vote": 0.6}, 160, 60)
    assert "38 of 60" in text and "does not beat calling everything valid" in text
    assert "rejects 35 of 160 valid signatures" in text and "72.7% of the test images" in text
    ev["combined"]["f1"] = 0.9
    assert "does not beat" not in summary.screening_sentence(ev, "vote", {"vote": 0.6}, 160, 60)


def test_the_chosen_rule_is_saved_and_an_old_screener_votes(tmp_path):
    import json

    scr = S.Screener(16, 32, latent_dim=4, seed=0)
    scr.train_codes = np.random.default_rng(0).normal(size=(20, 4)).astype(np.float32)
    scr.forest = S._fit_forest(scr.train_codes, 0)
    scr.thresholds = {"reconstruction_error": 1.0, "isolation_score": -1.0, "classifier_probability": 0.0}
    scr.rule = "classifier"
    folder = scr.save(tmp_path / "screener")
    assert S.Screener.load(folder).rule == "classifier"
    cfg = json.loads((folder / "screener.json").read_text())
    del cfg["rule"]
    (folder / "screener.json").write_text(json.dumps(cfg))
    assert S.Screener.load(folder).rule == "vote"
    cfg["rule"] = "any"
    (folder / "screener.json").write_text(json.dumps(cfg))
    with pytest.raises(HwError, match="rule 'any'"):
        S.Screener.load(folder)
