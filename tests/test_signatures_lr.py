"""Likelihood ratios of the signatures stage: the calibrator fitted on
distance-shaped genuine vs skilled-forgery trials orders them, saves and
loads with the run, reaches the verifier's results, and the report says so
plainly when the LRs carry no evidence."""

from __future__ import annotations

import math

import numpy as np
import pytest

from hwutils.errors import HwError
from hwutils.signatures import lr, summary


def _scores(sep=2.0, n_gen=200, n_skilled=200, n_random=50, seed=0):
    """Scored trials as verify.score_trials gives them: genuine distances lower by ``sep``."""
    rng = np.random.default_rng(seed)
    d = np.r_[
        rng.normal(1.0, 0.5, n_gen),
        rng.normal(1.0 + 0.5 * sep, 0.5, n_skilled),
        rng.normal(3.0, 0.5, n_random),
    ]
    t = np.array(["genuine"] * n_gen + ["skilled"] * n_skilled + ["random"] * n_random)
    return {"type": t, "distance": d, "person": np.array(["p"] * len(t))}


def test_calibrator_fitted_on_distances_orders_them_and_measures_only_genuine_vs_skilled():
    val = _scores(seed=0)
    cal = lr.fit_calibration(val)
    assert (cal.n_same, cal.n_different) == (200, 200)  # random forgeries are not H2
    grid = np.linspace(0.0, 3.0, 31)
    llrs = [lr.log10_lr(cal, d) for d in grid]
    assert np.all(np.diff(llrs) <= 0) and llrs[0] > 0 > llrs[-1]  # closer = more support for genuine
    m = lr.measure(cal, _scores(seed=1))  # other trials of the same populations
    assert (m["lr_n_genuine"], m["lr_n_forgery"]) == (200, 200)
    for k in ("lr_cllr", "lr_cllr_min", "lr_calibration_loss"):
        assert math.isfinite(m[k]) and m[k] >= -1e-9, k
    assert m["lr_cllr_min"] <= m["lr_cllr"] + 1e-9 and m["lr_cllr"] < 1.0
    assert m["lr_calibration_loss"] == pytest.approx(m["lr_cllr"] - m["lr_cllr_min"])
    assert m["lr_log10_lower"] < 0 < m["lr_log10_upper"]
    assert lr.log10_lr(None, 1.0) is None and lr.support(None) is None
    assert "support for genuine" in lr.support(2.5) and "skilled forgery" in lr.support(-2.5)


def test_without_skilled_forgeries_there_is_no_calibration():
    s = _scores(n_skilled=0)
    assert not lr.can_fit(s)
    with pytest.raises(HwError, match="skilled"):
        lr.fit_calibration(s)


def test_save_and_find_the_calibration_beside_the_verifier_folder(tmp_path, monkeypatch):
    from hwutils.runfolder import RUN_DIR_ENV

    cal = lr.fit_calibration(_scores())
    run = tmp_path / "run"
    (run / "artifacts" / "verifier").mkdir(parents=True)
    monkeypatch.setenv(RUN_DIR_ENV, str(run))
    path = lr.save_calibration(cal)
    assert path == run / "artifacts" / lr.LR_FILE and path.is_file()
    for folder in (run / "artifacts" / "verifier", run / "artifacts"):
        back = lr.find_calibration(folder)
        np.testing.assert_allclose(back.log10_lr([-0.5, -1.5, -3.0]), cal.log10_lr([-0.5, -1.5, -3.0]))
    assert lr.find_calibration(tmp_path / "elsewhere" / "verifier") is None


def test_sentence_says_in_words_when_the_lrs_carry_no_evidence():
    cal = lr.fit_calibration(_scores())
    good = dict(lr.measure(cal, _scores(seed=1)), lr_cllr=0.3, lr_cllr_min=0.28, lr_calibration_loss=0.02)
    text = lr.sentence(good, cal)
    assert "Cllr" in text and "no better than" not in text and "misses the goal" not in text
    bad = dict(good, lr_cllr=1.2, lr_cllr_min=0.9, lr_calibration_loss=0.3)
    text = lr.sentence(bad, cal)
    assert "at least 1" in text and "no better than reporting no evidence" in text
    assert "misses the goal" in text
    rows = {r.name: r for r in summary.results({}, {}, "wd", {}, 0, 0, 1.0, 1.0, good)}
    cllr = rows["Cllr"]
    assert cllr.yardstick_value == 1.0 and cllr.better == "lower" and cllr.beats is True
    assert rows["LR calibration loss (Cllr - Cllr_min)"].yardstick_value == lr.CALIBRATION_LOSS_GOAL
    assert "Cllr" not in {r.name for r in summary.results({}, {}, "wd", {}, 0, 0, 1.0, 1.0)}


def test_figures_and_the_examples_table_show_the_lrs():
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    cal = lr.fit_calibration(_scores())
    tippett, ece = lr.figures(cal, _scores(seed=1))
    assert tippett.axes and ece.axes
    plt.close(tippett)
    plt.close(ece)

    class Q:
        def __init__(self, name, kind):
            from pathlib import Path

            self.path, self.kind = Path(name), kind

    res = [{"decision": "genuine", "score": 0.4, "threshold": 1.0, "log10_lr": 1.234}]
    assert "+1.23" in summary.examples_table([Q("a.png", "genuine")], res)
    res[0]["log10_lr"] = None
    assert "log10 LR" not in summary.examples_table([Q("a.png", "genuine")], res)


def test_load_verifier_gives_log10_lr_only_when_the_run_saved_a_calibration(tmp_path):
    from hwutils.signatures import siamese, verify

    tower = siamese.build_tower(16, 32, embedding_dim=4, base_filters=4)
    folder = tmp_path / "run" / "artifacts" / "verifier"
    verify.Verifier(tower, 0.5, 16, 32).save(folder)
    rng = np.random.default_rng(0)
    refs = [rng.integers(0, 255, (16, 32), dtype=np.uint8) for _ in range(2)]
    q = rng.integers(0, 255, (16, 32), dtype=np.uint8)

    old = verify.load_verifier(tmp_path / "run")  # a run made before likelihood ratios
    assert old.calibrator is None
    out = old.enrol(refs).verify(q)
    assert out["log10_lr"] is None and "lr_support" not in out["details"]

    cal = lr.fit_calibration(_scores())
    lr.save_calibration(cal, tmp_path / "run" / "artifacts" / lr.LR_FILE)
    for where in (tmp_path / "run", folder):
        v = verify.load_verifier(where)
        out = v.enrol(refs).verify(q)
        assert out["log10_lr"] == pytest.approx(float(cal.log10_lr([-out["score"]])[0]))
        assert out["details"]["lr_support"] == lr.support(out["log10_lr"])
        assert v.verify(refs, q)["log10_lr"] == pytest.approx(out["log10_lr"])


def test_trial_rows_hold_each_genuine_and_skilled_trial_with_its_lr_and_pooling_one_run_is_measure():
    cal = lr.fit_calibration(_scores(seed=0))
    test = _scores(seed=1)
    rows = lr.trial_rows(cal, test)
    assert len(rows) == 400 and {r["type"] for r in rows} == {"genuine", "skilled"}  # no random forgeries
    for r, d in zip(rows[:3], test["distance"][:3]):
        assert r["collection"] == "test" and r["distance"] == pytest.approx(d)
        assert r["log10_lr"] == pytest.approx(lr.log10_lr(cal, d))
    m, p = lr.measure(cal, test), lr.pooled(rows)
    for k in ("lr_cllr", "lr_cllr_min", "lr_calibration_loss", "lr_rmep", "lr_rmed"):
        assert p[k] == pytest.approx(m[k]), k
    assert p["persons"] == 1 and lr.pooled(rows, "shifted")["lr_n_genuine"] == 0


def test_pooled_lrs_known_answer_two_runs_each_separated_alone():
    """Run A: genuine log10 LR 2, forgery 1; run B: genuine -1, forgery -2. Alone each is
    perfectly separated (Cllr_min 0), so its loss is its whole Cllr; pooled, the ranks
    overlap and Cllr_min is positive: Cllr is the mean of the two, the loss smaller."""

    def rows(run, gen, forg, n=4):
        return [
            {"collection": "test", "person": f"{run}:p", "type": t, "distance": 0.0, "log10_lr": v}
            for t, v in [("genuine", gen)] * n + [("skilled", forg)] * n
        ]

    def cllr(gen, forg):  # by hand: 0.5 * (log2(1 + 1/LR_genuine) + log2(1 + LR_forgery))
        return 0.5 * (math.log2(1 + 10.0**-gen) + math.log2(1 + 10.0**forg))

    a, b = rows("A", 2.0, 1.0), rows("B", -1.0, -2.0)
    pa, pb, both = lr.pooled(a), lr.pooled(b), lr.pooled(a + b)
    assert pa["lr_cllr"] == pytest.approx(cllr(2.0, 1.0)) and pa["lr_cllr_min"] == pytest.approx(
        0.0, abs=1e-9
    )
    assert both["lr_cllr"] == pytest.approx(0.5 * (cllr(2.0, 1.0) + cllr(-1.0, -2.0)))
    assert both["lr_cllr_min"] > 0.1 and both["persons"] == 2
    assert both["lr_calibration_loss"] < 0.5 * (pa["lr_calibration_loss"] + pb["lr_calibration_loss"])
    assert both["lr_rmep"] == pytest.approx(0.5) and both["lr_rmed"] == pytest.approx(0.5)


def test_fewer_references_than_the_calibration_was_fitted_with_get_no_lr(tmp_path):
    """A run calibrated on verifications against 3 references states no LR
    against 2 (it would overstate), states one against 3 or more, and says why."""
    from hwutils.calibration import LRCalibrator
    from hwutils.signatures import siamese, verify

    cal = lr.fit_calibration(_scores(), n_references=3)
    assert cal.conditions == {"n_references": 3}
    assert lr.lr_withheld(cal, 2) is not None and "3 references" in lr.lr_withheld(cal, 2)
    assert lr.lr_withheld(cal, 3) is None and lr.lr_withheld(cal, 8) is None
    assert lr.lr_withheld(lr.fit_calibration(_scores()), 1) is None  # older runs: nothing recorded
    assert lr.lr_withheld(None, 1) is None

    tower = siamese.build_tower(16, 32, embedding_dim=4, base_filters=4)
    folder = tmp_path / "run" / "artifacts" / "verifier"
    verify.Verifier(tower, 0.5, 16, 32).save(folder)
    path = lr.save_calibration(cal, tmp_path / "run" / "artifacts" / lr.LR_FILE)
    assert LRCalibrator.load(path).conditions == {"n_references": 3}
    v = verify.load_verifier(tmp_path / "run")
    rng = np.random.default_rng(0)
    refs = [rng.integers(0, 255, (16, 32), dtype=np.uint8) for _ in range(3)]
    q = rng.integers(0, 255, (16, 32), dtype=np.uint8)
    few = v.enrol(refs[:2]).verify(q)
    assert few["log10_lr"] is None and "lr_support" not in few["details"]
    assert "calibrated on verifications against 3 references" in few["details"]["lr_withheld"]
    enough = v.enrol(refs).verify(q)
    assert enough["log10_lr"] == pytest.approx(float(cal.log10_lr([-enough["score"]])[0]))
    assert "lr_withheld" not in enough["details"]
    assert few["score"] == pytest.approx(v.enrol(refs[:2]).verify(q)["score"])  # the score is still given
    # ... but no decision: the run's only threshold was fixed with 3 references (the calibration's count)
    assert few["decision"] is None and few["genuine"] is None and few["threshold"] is None
    assert "fixed for verifications against 3 references and 2 given" in few["details"]["decision_withheld"]
    assert enough["decision"] in ("genuine", "forgery") and "decision_withheld" not in enough["details"]


def test_fewer_references_get_the_calibration_of_their_own_count(tmp_path):
    """A run that also calibrated verifications against 2 references states the
    2-reference LR with 2, its own with 3 or more, none with 1 (and says which
    counts it has); the file round-trips and a count that does not match its
    calibrator is refused."""
    import json

    from hwutils.artifacts import ArtifactError
    from hwutils.signatures import siamese, verify

    cal = lr.fit_calibration(_scores(sep=2.0), n_references=3)
    fewer = lr.fit_fewer(
        {2: _scores(sep=1.0, seed=3), 1: {"type": np.array(["genuine"]), "distance": np.ones(1)}}
    )
    assert sorted(fewer) == [2] and fewer[2].conditions == {"n_references": 2}  # count 1: no skilled trials
    assert lr.calibrator_for(cal, fewer, 2) is fewer[2]
    assert lr.calibrator_for(cal, fewer, 3) is cal and lr.calibrator_for(cal, fewer, 7) is cal
    assert lr.calibrator_for(cal, fewer, 1) is None and lr.calibrator_for(None, fewer, 2) is None
    assert lr.lr_withheld(cal, 2, fewer) is None
    said = lr.lr_withheld(cal, 1, fewer)
    assert "against 3 references (and against 2) and 1 given" in said and "give at least 2" in said
    # less separated trials (fewer references) give weaker LRs for the same score
    assert abs(lr.log10_lr(fewer[2], 0.5)) < abs(lr.log10_lr(cal, 0.5))

    run = tmp_path / "run" / "artifacts"
    tower = siamese.build_tower(16, 32, embedding_dim=4, base_filters=4)
    verify.Verifier(tower, 0.5, 16, 32).save(run / "verifier")
    lr.save_calibration(cal, run / lr.LR_FILE)
    lr.save_fewer(fewer, run / lr.FEWER_FILE)
    assert lr.save_fewer({}, run / "none.json") is None and not (run / "none.json").exists()
    back = lr.find_fewer(run / "verifier")
    assert sorted(back) == [2] and back[2].coef == pytest.approx(fewer[2].coef)
    v = verify.load_verifier(tmp_path / "run")
    rng = np.random.default_rng(0)
    refs = [rng.integers(0, 255, (16, 32), dtype=np.uint8) for _ in range(3)]
    q = rng.integers(0, 255, (16, 32), dtype=np.uint8)
    two = v.enrol(refs[:2]).verify(q)
    assert two["log10_lr"] == pytest.approx(lr.log10_lr(fewer[2], two["score"]))
    assert two["details"]["lr_calibrated_references"] == 2
    three = v.enrol(refs).verify(q)
    assert three["log10_lr"] == pytest.approx(lr.log10_lr(cal, three["score"]))
    assert three["details"]["lr_calibrated_references"] == 3
    one = v.enrol(refs[:1]).verify(q)
    assert one["log10_lr"] is None and "and 1 given" in one["details"]["lr_withheld"]
    assert one["decision"] is None and two["decision"] is None  # no threshold fixed with 1 or 2 here

    path = run / lr.FEWER_FILE
    good = json.loads(path.read_text())
    for change, words in (
        (
            lambda d: d["by_references"].update({"4": d["by_references"]["2"]}),
            "calibrated with 2 references, not 4",
        ),
        (lambda d: d["by_references"].update({"x": d["by_references"]["2"]}), "by_references.x"),
        (lambda d: d["by_references"]["2"].update({"coef": float("nan")}), "by_references.2"),
        (lambda d: d.update({"by_references": [1]}), "'by_references' is not an object"),
    ):
        data = json.loads(json.dumps(good))
        change(data)
        path.write_text(json.dumps(data))
        with pytest.raises(ArtifactError, match=words):
            lr.find_fewer(run)
    path.unlink()
    assert lr.find_fewer(run) == {}


def test_a_calibration_whose_conditions_are_not_whole_numbers_is_refused(tmp_path):
    import json

    from hwutils.artifacts import ArtifactError
    from hwutils.calibration import LRCalibrator

    path = lr.save_calibration(lr.fit_calibration(_scores(), n_references=5), tmp_path / lr.LR_FILE)
    for bad in (0, -5, 2.5, "5", True):
        data = json.loads(path.read_text())
        data["conditions"] = {"n_references": bad}
        path.write_text(json.dumps(data))
        with pytest.raises(ArtifactError, match="conditions.n_references"):
            LRCalibrator.load(path)


def test_fewer_references_are_decided_at_the_threshold_fixed_with_as_many(tmp_path):
    import json

    from hwutils.artifacts import ArtifactError
    from hwutils.signatures import siamese, verify

    tower = siamese.build_tower(16, 32, embedding_dim=4, base_filters=4)
    run = tmp_path / "run" / "artifacts"
    verify.Verifier(tower, 0.5, 16, 32, fewer_thresholds={2: 9.0, 3: -9.0}).save(run / "verifier")
    v = verify.load_verifier(tmp_path / "run")
    assert v.fewer_thresholds == {2: 9.0, 3: -9.0}
    assert (v.threshold_for(2), v.threshold_for(3), v.threshold_for(5), v.threshold_for(1)) == (
        9.0,
        -9.0,
        0.5,
        0.5,
    )
    rng = np.random.default_rng(0)
    refs = [rng.integers(0, 255, (16, 32), dtype=np.uint8) for _ in range(4)]
    q = rng.integers(0, 255, (16, 32), dtype=np.uint8)
    two, three = v.enrol(refs[:2]).verify(q), v.enrol(refs[:3]).verify(q)
    assert two["threshold"] == 9.0 and two["decision"] == "genuine"  # every distance is below 9
    assert three["threshold"] == -9.0 and three["decision"] == "forgery"  # none below -9
    assert v.enrol(refs).verify(q)["threshold"] == 0.5
    path = run / "verifier" / "verifier.json"
    for bad in ({"0": 1.0}, {"2": "x"}, {"2": float("nan")}, [1.0]):
        data = json.loads(path.read_text())
        data["thresholds_by_references"] = bad
        path.write_text(json.dumps(data))
        with pytest.raises(ArtifactError, match="thresholds_by_references"):
            verify.load_verifier(tmp_path / "run")


def test_no_decision_below_the_reference_counts_the_run_fixed_thresholds_with(tmp_path):
    """A run that fixed its threshold with 4 references and others with 2 and 3
    decides with 2 or more (4 and above by its own threshold) and states no
    decision with 1; the count round-trips in verifier.json and a bad one is
    refused; a verifier of unknown count (older runs) decides with any."""
    import json

    from hwutils.artifacts import ArtifactError
    from hwutils.errors import ParamsError
    from hwutils.signatures import siamese, verify

    tower = siamese.build_tower(16, 32, embedding_dim=4, base_filters=4)
    run = tmp_path / "run" / "artifacts"
    verify.Verifier(tower, 0.5, 16, 32, fewer_thresholds={2: 9.0, 3: 9.0}, n_references=4).save(
        run / "verifier"
    )
    v = verify.load_verifier(tmp_path / "run")
    assert v.n_references == 4
    assert [v.threshold_for(n) for n in (1, 2, 3, 4, 7)] == [None, 9.0, 9.0, 0.5, 0.5]
    said = v.decision_withheld(1)
    assert said.startswith("no decision:") and "against 2, 3, 4 references and 1 given" in said
    assert "give at least 2" in said and v.decision_withheld(2) is None
    rng = np.random.default_rng(0)
    refs = [rng.integers(0, 255, (16, 32), dtype=np.uint8) for _ in range(4)]
    q = rng.integers(0, 255, (16, 32), dtype=np.uint8)
    one, two = v.enrol(refs[:1]).verify(q), v.enrol(refs[:2]).verify(q)
    assert (one["decision"], one["genuine"], one["threshold"]) == (None, None, None)
    assert one["details"]["decision_withheld"] == said and "margin" not in one["details"]
    assert np.isfinite(one["score"]) and two["decision"] == "genuine"  # every distance is below 9
    unknown = verify.Verifier(tower, 0.5, 16, 32, fewer_thresholds={2: 9.0})
    assert unknown.threshold_for(1) == 0.5 and unknown.decision_withheld(1) is None
    for bad in (0, 2.5, True):
        with pytest.raises(ParamsError, match="n_references"):
            verify.Verifier(tower, 0.5, 16, 32, n_references=bad)
    path = run / "verifier" / "verifier.json"
    for bad in (0, "4", 2.5, None):
        data = json.loads(path.read_text())
        data["n_references"] = bad
        path.write_text(json.dumps(data))
        with pytest.raises(ArtifactError, match="'n_references'"):
            verify.load_verifier(tmp_path / "run")


def test_the_fewer_references_tables_list_the_run_first_then_each_count():
    cal = lr.fit_calibration(_scores(), n_references=3)
    fewer = lr.fit_fewer({2: _scores(sep=1.0, seed=3)})
    m = {**lr.measure(cal, _scores(seed=1)), **lr.measure_fewer(fewer, {2: _scores(sep=1.0, seed=4)})}
    lines = lr.fewer_table(m, 3, [2]).splitlines()
    assert lines[2].startswith("| references | Cllr | Cllr_min |")
    assert lines[4].startswith("| 3 (the run) | ") and lines[5].startswith("| 2 | ")
    assert f"{100 * m['lr_rmed_refs2']:.1f}%" in lines[5]
    text = summary.fewer_references_table(
        3, {"eer_skilled": 0.06, "frr": 0.05, "far_skilled": 0.07}, {2: ({"frr": 0.2}, {"far_skilled": 0.43})}
    )
    assert (
        "| 3 (the run) | 6.0% | 3 | 5.0% | 7.0% | - |" in text
        and "| 2 | - | 2 | 20.0% | - | - / 43.0% |" in text
    )
    assert summary.fewer_references_metrics({2: ({"frr": 0.2}, {"far_skilled": 0.43})})[
        "test_far_skilled_refs2_run_threshold"
    ] == pytest.approx(0.43)


def test_fewer_operating_points_fix_each_count_as_the_run_fixes_its_own():
    from hwutils.signatures import verify

    fewer = {2: {"cal_scores": _scores(sep=1.0, seed=5), "test_scores": _scores(sep=1.0, seed=6)}}
    thresholds, evals = verify.fewer_operating_points(fewer, "eer", 0.5)
    assert thresholds[2] == pytest.approx(verify.calibrate_threshold(fewer[2]["cal_scores"], "eer"))
    own, run = evals[2]
    assert own == verify.evaluate(fewer[2]["test_scores"], thresholds[2])
    assert run == verify.evaluate(fewer[2]["test_scores"], 0.5)
    emb = np.random.default_rng(0).normal(size=(6, 3))
    protocol = {"references": {"p": [0, 1, 2]}, "trials": [("p", 3, "genuine"), ("p", 4, "skilled")]}
    scored = verify.distance_fewer(emb, emb, protocol, protocol, [2], "mean")
    assert np.allclose(
        scored[2]["cal_scores"]["distance"],
        verify.score_trials(emb, verify.with_references(protocol, 2), "mean")["distance"],
    )
