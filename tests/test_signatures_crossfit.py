"""Cross-fitted calibration trials (issue 27): every development person scored out
of fold, so the threshold, the fusion scales and the LR calibration rest on all of
them instead of a few validation persons, while no person's own signatures are
ever negatives of their own SVMs and persons outside the development set never enter."""

from __future__ import annotations

import math

import numpy as np
import pytest

from hwutils.datasets.sign_data import GENUINE, SignatureRecord
from hwutils.errors import ParamsError
from hwutils.signatures import lr, verify, wd_fitting
from hwutils.signatures import writer_dependent as wd


def _records_and_sets(n_persons=9, n_gen=8, n_skilled=4, dim=5, seed=0):
    rng = np.random.default_rng(seed)
    recs, rows = [], []
    for p in range(n_persons):
        centre = rng.normal(0, 3, dim)
        for k in range(n_gen + n_skilled):
            kind = GENUINE if k < n_gen else "skilled"
            recs.append(SignatureRecord(path=f"{p}_{k}.png", person=f"{p:03d}", kind=kind, forger=None))
            rows.append(centre + rng.normal(0, 1.0 if kind == GENUINE else 2.0, dim))
    x = np.array(rows, np.float32)
    return recs, {"a": x, "b": np.abs(x[:, ::-1]) ** 1.5}


def test_person_folds_partition_the_persons_and_are_seeded():
    persons = [f"{p:03d}" for p in range(11)]
    folds = wd_fitting.person_folds(persons, 4, seed=3)
    assert len(folds) == 4 and all(folds)
    assert sorted(p for f in folds for p in f) == persons
    assert folds == wd_fitting.person_folds(
        list(reversed(persons)), 4, seed=3
    )  # order of the input: no matter
    assert folds != wd_fitting.person_folds(persons, 4, seed=4)
    assert len(wd_fitting.person_folds(persons[:2], 5)) == 2  # never an empty fold


def test_out_of_fold_scores_use_other_folds_as_negatives_and_nothing_outside_the_persons():
    recs, sets = _records_and_sets()
    dev = [f"{p:03d}" for p in range(7)]  # persons 007 and 008 stand for test persons
    raw, folds = wd_fitting.cross_fitted_trials(sets, recs, dev, 5, folds=3, seed=1)
    assert sorted(np.unique(raw["person"])) == dev  # every development person, once
    assert set(raw["loo"]["a"]) == set(dev)
    # each fold is exactly raw_trials with the other folds' genuine signatures as negatives
    for fold in folds:
        neg = [
            i for i, r in enumerate(recs) if r.kind == GENUINE and r.person in dev and r.person not in fold
        ]
        prot = verify.make_trials(recs, fold, 5, 1)
        direct = wd.raw_trials(sets, prot, {k: v[neg] for k, v in sets.items()})
        m = np.isin(raw["person"], fold)
        np.testing.assert_allclose(raw["a"][m], direct["a"], atol=1e-9)
        assert all(raw["type"][m][raw["type"][m] == "random"])  # random forgeries of the same fold only
        assert set(raw["person"][m]) == set(fold)
        for k in np.flatnonzero(m & (raw["type"] == "random")):
            assert recs[raw["index"][k]].person in fold
    # the test persons' signatures changed beyond recognition: the same calibration trials
    outside = np.array([r.person not in dev for r in recs])
    moved = {k: np.where(outside[:, None], v * 5 + 17, v).astype(v.dtype) for k, v in sets.items()}
    again, _ = wd_fitting.cross_fitted_trials(moved, recs, dev, 5, folds=3, seed=1)
    np.testing.assert_allclose(again["a"], raw["a"], atol=1e-12)
    np.testing.assert_allclose(again["b"], raw["b"], atol=1e-12)
    with pytest.raises(ParamsError, match="wd_folds"):
        wd_fitting.cross_fitted_trials(sets, recs, ["nobody"], 5, folds=2)


def test_the_threshold_and_calibration_on_out_of_fold_trials_at_known_truth():
    """Persons whose genuine scores sit at 1 and forgeries at -1 (a known EER of 0 and a
    threshold between): the threshold from the merged folds lies between, and the LR
    calibration fitted on them is bounded by what that many persons support."""
    rng = np.random.default_rng(0)
    raws = []
    for f in range(3):
        persons = [f"f{f}p{k}" for k in range(4)]
        person = np.repeat(persons, 10)
        kind = np.tile(["genuine"] * 5 + ["skilled"] * 5, 4)
        score = np.where(kind == "genuine", 1.0, -1.0) + rng.normal(0, 0.1, len(kind))
        raws.append(
            {
                "person": person,
                "index": np.arange(len(kind)),
                "type": kind,
                "s": score,
                "loo": {"s": {p: np.full(5, 1.0) for p in persons}},
            }
        )
    merged = wd_fitting.merge_raw(raws)
    assert len(merged["person"]) == 120 and len(merged["loo"]["s"]) == 12
    cal = wd.as_distance_scores(
        merged, {"s": 1.0}, norm=1.0
    )  # level 1 subtracted: genuine at 0, forgeries at -2
    thr = verify.calibrate_threshold(cal)
    g = cal["type"] == "genuine"
    assert cal["distance"][g].max() <= thr < cal["distance"][~g].min()
    assert verify.evaluate(cal, thr)["eer_skilled"] == 0.0
    calibrator = lr.fit_calibration(cal, persons=12)
    lo, hi = calibrator.bounds
    assert lo >= -math.log10(12) - 1e-12 and hi <= math.log10(12 * 11) + 1e-12
    assert calibrator.source_bounds == pytest.approx((-math.log10(12), math.log10(132)))
    assert lr.fit_calibration(cal).source_bounds is None  # without a count, ELUB alone (as before)


def test_learned_set_weights_favour_the_set_that_separates_and_fold_into_the_scales():
    """Two sets on development trials: ``good`` separates genuine from skilled forgeries,
    ``noise`` does not. The learned weights (mean 1) put almost all on ``good``; folded into
    the scales, the fused score is that weighted sum; without skilled trials: equal weights."""
    rng = np.random.default_rng(0)
    n = 200
    kind = np.array(["genuine"] * n + ["skilled"] * n + ["random"] * 20)
    persons = np.array([f"p{k % 10}" for k in range(len(kind))])
    good = np.where(kind == "genuine", 1.0, -1.0) + rng.normal(0, 0.5, len(kind))
    noise = rng.normal(0, 1.0, len(kind))
    loo = {k: {p: np.zeros(5) for p in np.unique(persons)} for k in ("good", "noise")}
    raw = {
        "person": persons,
        "index": np.arange(len(kind)),
        "type": kind,
        "good": good,
        "noise": noise,
        "loo": loo,
    }
    scales = wd.fit_scales(raw, ["good", "noise"])
    w = wd.fit_weights(raw, scales)
    assert set(w) == {"good", "noise"} and np.mean(list(w.values())) == pytest.approx(1.0)
    assert w["good"] > 1.5 and w["noise"] < 0.5
    weighted = wd.weighted_scales(scales, w)
    np.testing.assert_allclose(
        wd.fuse(raw, weighted), w["good"] * good / scales["good"] + w["noise"] * noise / scales["noise"]
    )
    only_genuine = {**raw, "type": np.where(kind == "skilled", "random", kind)}
    assert wd.fit_weights(only_genuine, scales) == {"good": 1.0, "noise": 1.0}
    # the same run's comparison scores the chosen normalisation with equal weights too
    fitted = {"raw_cal": raw, "raw_val": raw, "raw_test": raw, "scales": weighted}
    fitted["other_weights"] = ("equal", scales, w)
    fitted["prior"] = wd.spread_prior(raw, weighted)
    rows = {r["normalisation"]: r for r in verify.compare_normalisations(fitted, "eer", (1.0, 0.0))}
    assert rows["the reference level"]["used"] and not rows["the same, equal set weights"]["used"]
    assert rows["the reference level"]["eer_skilled"] < rows["the same, equal set weights"]["eer_skilled"]
    with pytest.raises(ParamsError, match="wd_weights"):
        verify.fit_writer_dependent(
            None, None, None, [], {"references": {}}, None, None, None, "hog", weights="x"
        )
