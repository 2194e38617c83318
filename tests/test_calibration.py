"""Score-to-LR calibration with lir: informative scores give Cllr well below 1
and little calibration loss, uninformative ones Cllr near 1, and a saved
calibrator gives the same LRs."""

from __future__ import annotations

import numpy as np
import pytest

from hwutils import calibration
from hwutils.errors import ArtifactError


def _trials(sep, n=400, seed=0):
    rng = np.random.default_rng(seed)
    same = np.r_[np.ones(n), np.zeros(n)].astype(int)
    scores = rng.normal(size=2 * n) + sep * same
    return scores, same


def test_separated_scores_give_low_cllr_and_small_calibration_loss():
    s, y = _trials(3.0)
    cal = calibration.LRCalibrator().fit(s, y)
    ts, ty = _trials(3.0, seed=1)  # other trials from the same populations
    m = calibration.lr_metrics(cal.log10_lr(ts), ty)
    assert m["cllr"] < 0.5 and m["cllr_cal"] < 0.05 and m["n_same"] == m["n_different"] == 400
    assert np.all(np.diff(cal.log10_lr(np.linspace(-3, 6, 20))) >= 0)  # monotone in the score
    lo, hi = cal.bounds
    assert lo < 0 < hi and np.all(cal.log10_lr([-100, 100]) == [lo, hi])  # bounded


def test_uninformative_scores_give_no_evidence():
    s, y = _trials(0.0)
    cal = calibration.LRCalibrator().fit(s, y)
    llr = cal.log10_lr(_trials(0.0, seed=2)[0])
    assert np.abs(llr).max() < 0.3
    assert calibration.lr_metrics(llr, _trials(0.0, seed=2)[1])["cllr"] == pytest.approx(1.0, abs=0.05)


def test_save_and_load_round_trip_and_bad_files(tmp_path):
    s, y = _trials(2.0)
    cal = calibration.LRCalibrator().fit(s, y)
    back = calibration.LRCalibrator.load(cal.save(tmp_path / "lr.json"))
    assert np.array_equal(back.log10_lr(s), cal.log10_lr(s))
    (tmp_path / "bad.json").write_text("{not json")
    with pytest.raises(ArtifactError, match="bad.json: not valid JSON"):
        calibration.LRCalibrator.load(tmp_path / "bad.json")
    (tmp_path / "bad.json").write_text('{"coef": 1}')
    with pytest.raises(ArtifactError, match="not an LR calibration"):
        calibration.LRCalibrator.load(tmp_path / "bad.json")
    with pytest.raises(ValueError, match="both kinds"):
        calibration.LRCalibrator().fit([1, 2], [1, 1])


def test_posteriors_and_verbal_scale():
    p = calibration.posteriors_equal_priors([[2.0, 0.0, -1.0], [0.0, 0.0, 0.0]])
    assert np.allclose(p.sum(axis=1), 1) and np.allclose(p[1], 1 / 3) and p[0].argmax() == 0
    assert p[0, 0] / p[0, 1] == pytest.approx(100)
    assert calibration.verbal_scale(2.5) == "moderately strong support for H1"
    assert calibration.verbal_scale(-0.5, h2="a different writer") == "weak support for a different writer"
    assert "no meaningful" in calibration.verbal_scale(0.1)


def test_figures_have_titles_and_labels():
    s, y = _trials(2.0, n=50)
    for fig in (calibration.tippett_figure(s, y, "test"), calibration.ece_figure(s, y, "test")):
        ax = fig.axes[0]
        assert ax.get_title() and ax.get_xlabel() and ax.get_ylabel()


def test_rates_of_misleading_evidence_on_trials_of_known_truth():
    from hwutils.calibration import misleading_rates

    llr = np.array([3.0, 0.5, -0.2, -2.5, 1.0, -1.0, 0.1, 2.4, -3.0])
    same = np.array([1, 1, 1, 1, 1, 0, 0, 0, 0])
    r = misleading_rates(llr, same)
    assert r["n_same"] == 5 and r["n_different"] == 4
    assert r["rmep"] == pytest.approx(2 / 5)  # -0.2 and -2.5
    assert r["rmed"] == pytest.approx(2 / 4)  # 0.1 and 2.4
    assert r["rmep_strong"] == pytest.approx(1 / 5)  # -2.5 < -2
    assert r["rmed_strong"] == pytest.approx(1 / 4)  # 2.4 > 2
    assert r["h1_log10_lr_min"] == -2.5 and r["h2_log10_lr_max"] == 2.4
    only_h1 = misleading_rates([1.0, -1.0], [1, 1])
    assert only_h1["rmed"] is None and only_h1["h2_log10_lr_max"] is None and only_h1["rmep"] == 0.5
    with pytest.raises(ValueError, match="finite"):
        misleading_rates([np.nan], [1])


def test_lrs_are_kept_inside_what_the_number_of_sources_supports():
    rng = np.random.default_rng(0)
    scores = np.r_[rng.normal(0, 1, 2000), rng.normal(6, 1, 2000)]  # many trials, strongly separated
    same = np.r_[[0] * 2000, [1] * 2000]
    cal = calibration.LRCalibrator().fit(scores, same)
    assert cal.bounds[1] > 2  # ELUB alone allows LR above 100 on 2000 trials
    cal.limit_to_sources(10, 90)  # ... but they came from 10 writers: 90 ordered different-writer pairs
    assert cal.bounds == pytest.approx((-1.0, np.log10(90)))
    assert cal.log10_lr([100.0])[0] == pytest.approx(np.log10(90))
    back = calibration.LRCalibrator.from_dict(cal.to_dict())
    assert back.bounds == pytest.approx(cal.bounds)
