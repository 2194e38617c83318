"""lr_validation (hwutils.lr_validation): rates of misleading evidence, the
validation matrix, pass/fail and the bootstrap over writers on made-up
trials of known truth; which writers a validation may use; the conditions
(halves, truncation, resampling, subsets by file name); the stage end to
end on smoke params (one tiny notebook run)."""

from __future__ import annotations

import json
import math

import numpy as np
import pytest
from conftest import run_smoke

from hwutils import lr_validation as lrv
from hwutils.errors import ParamsError
from hwutils.lr_validation import conditions as C
from hwutils.lr_validation import matrix
from hwutils.lr_validation import summary as vsummary


def made_up(n_writers=10, h1=2.0, h2=-2.0, spread=0.5, seed=0):
    """Trials of a closed set of ``n_writers``: each writer's questioned document
    against every writer; log10 LRs around ``h1`` (same) and ``h2`` (different)."""
    rng = np.random.default_rng(seed)
    llr, same, group = [], [], []
    for q in range(n_writers):
        for p in range(n_writers):
            s = int(p == q)
            llr.append(rng.normal(h1 if s else h2, spread))
            same.append(s)
            group.append(f"w{q:02d}")
    return lrv.Trials(np.array(llr), np.array(same), np.array(group))


# --- rates of misleading evidence --------------------------------------------------------------


def test_misleading_rates_of_known_trials():
    # H1: 4 trials, one with LR < 1 and that one below 1/100; H2: 5 trials, two with LR > 1, one above 100
    llr = [1.0, 0.5, 3.0, -2.5, -1.0, 0.2, -3.0, 2.4, -0.5]
    same = [1, 1, 1, 1, 0, 0, 0, 0, 0]
    f = matrix.trial_metrics(llr, same)
    assert f["rmep"] == pytest.approx(1 / 4) and f["rmep_strong"] == pytest.approx(1 / 4)
    assert f["rmed"] == pytest.approx(2 / 5) and f["rmed_strong"] == pytest.approx(1 / 5)
    assert f["h2_log10_lr_max"] == pytest.approx(2.4) and f["h1_log10_lr_min"] == pytest.approx(-2.5)
    assert f["n_same"] == 4 and f["n_different"] == 5
    assert 0 <= f["cllr_min"] <= f["cllr"] and f["cllr_cal"] == pytest.approx(f["cllr"] - f["cllr_min"])
    assert 0 < f["eer"] < 0.5


def test_lr_exactly_one_misleads_neither_way():
    f = matrix.trial_metrics([0.0, 0.0, 1.0, -1.0], [1, 0, 1, 0])
    assert f["rmep"] == 0 and f["rmed"] == 0


def test_one_kind_of_trial_gives_none_not_nan():
    f = matrix.trial_metrics([1.0, 2.0], [1, 1])
    assert f["rmed"] is None and f["cllr"] is None and f["eer"] is None and f["h2_log10_lr_max"] is None
    assert f["rmep"] == 0.0
    json.dumps(f, allow_nan=False)  # strict JSON


def test_a_perfect_and_a_useless_method():
    good = made_up(h1=4, h2=-4, spread=0.3)
    f = matrix.trial_metrics(good.log10_lr, good.same)
    assert f["cllr"] < 0.05 and f["eer"] == 0 and f["rmep"] == 0 and f["rmed"] == 0
    assert matrix.passed(f, matrix.default_criteria())
    flat = matrix.trial_metrics(np.zeros(20), np.r_[np.ones(10), np.zeros(10)])
    assert flat["cllr"] == pytest.approx(1.0)
    assert not matrix.passed(flat, matrix.default_criteria())


# --- criteria, matrix, pass/fail ---------------------------------------------------------------


def test_criteria_pass_fail_and_their_defaults():
    crit = {c.metric: c for c in matrix.default_criteria()}
    assert crit["cllr_cal"].limit == 0.05 and crit["rmep"].limit == 0.02 and crit["rmed"].limit == 0.02
    assert crit["h2_log10_lr_max"].limit == 2.0 and crit["cllr"].limit < 1
    assert crit["rmed"].passes(0.02) is True and crit["rmed"].passes(0.0201) is False
    assert crit["rmed"].passes(None) is None and crit["rmed"].passes(math.nan) is None
    assert matrix.Criterion("cllr", 0.3, "<").passes(0.3) is False
    assert "100" in crit["h2_log10_lr_max"].text and "2.0%" in crit["rmep"].text
    with pytest.raises(ValueError, match="unknown metric"):
        matrix.Criterion("accuracy", 1)


def test_validation_matrix_rows_in_criteria_order_with_ci_and_verdict():
    crit = matrix.default_criteria(cllr=0.3, rmed=0.0)
    figures = {"cllr": 0.2, "cllr_min": 0.1, "eer": 0.01, "cllr_cal": 0.1, "rmep": 0.0, "rmed": 0.1}
    figures["h2_log10_lr_max"] = None
    ci = {"cllr": (0.15, 0.25)}
    rows = matrix.validation_matrix(figures, ci, crit)
    assert [r["characteristic"] for r in rows][:4] == [
        "accuracy",
        "discriminating power",
        "discriminating power",
        "calibration",
    ]
    by = {r["metric"].split(":")[0]: r for r in rows}
    assert by["Cllr"]["pass/fail"] == "pass" and by["Cllr"]["95% CI"] == "0.150 to 0.250"
    assert by["Cllr_cal = Cllr - Cllr_min"]["pass/fail"] == "fail"
    assert by["RMED"]["pass/fail"] == "fail" and by["RMED"]["result"] == "10.0%"
    assert by["largest log10 LR of a wrong person (H2 true)"]["pass/fail"] == "-"
    assert list(rows[0]) == ["characteristic", "metric", "criterion", "result", "95% CI", "pass/fail"]
    v = matrix.verdicts(figures, crit)
    assert v["cllr"] is True and v["rmed"] is False and v["h2_log10_lr_max"] is None
    assert not matrix.passed(figures, crit)
    assert "fails 2 of 7" in vsummary.verdict_sentence(figures, crit)
    text = vsummary.verdict_sentence(figures, crit, intervals={"cllr": (0.15, 0.35)})
    assert "reaching beyond the criterion: Cllr (up to 0.350)" in text


def test_results_carry_the_criterion_as_yardstick():
    crit = matrix.default_criteria()
    figures = {"cllr": 0.1, "rmed": 0.05}
    res = {r.name.split(":")[0]: r for r in matrix.results(figures, crit)}
    assert res["Cllr"].beats is True and res["Cllr"].yardstick_value == 0.3 and res["Cllr"].note == "pass"
    assert res["RMED"].beats is False and res["RMED"].kind == "percent" and res["RMED"].note == "FAIL"
    assert res["EER (threshold on log10 LR)"].value is None


# --- bootstrap over writers --------------------------------------------------------------------


def test_bootstrap_intervals_contain_the_estimate_and_resample_writers():
    t = made_up(n_writers=12, h1=1.5, h2=-1.5, spread=1.0)
    f = matrix.trial_metrics(t.log10_lr, t.same)
    ci = matrix.bootstrap(t.log10_lr, t.same, t.group, n_boot=200, seed=1)
    for key in ("cllr", "cllr_min", "rmed", "h2_log10_lr_max"):
        lo, hi = ci[key]
        assert lo <= f[key] <= hi, key
    assert ci["cllr"][0] < ci["cllr"][1]
    assert ci == matrix.bootstrap(t.log10_lr, t.same, t.group, n_boot=200, seed=1)  # seeded


def test_bootstrap_keeps_a_writers_trials_together():
    # every trial of writer a is misleading, none of b's: a replicate's RMED is 0, 1/2 or 1 (whole writers)
    llr = np.array([1.0, 1.0, -1.0, -1.0, 2.0, 2.0])
    same = np.array([0, 0, 0, 0, 1, 1])
    group = np.array(["a", "a", "b", "b", "c", "c"])
    ci = matrix.bootstrap(llr, same, group, n_boot=300, seed=0)
    lo, hi = ci["rmed"]
    assert lo == 0.0 and hi == 1.0
    with pytest.raises(ValueError, match="differ in length"):
        matrix.bootstrap(llr, same, group[:3])


def test_bootstrap_with_too_few_usable_replicates_gives_none():
    ci = matrix.bootstrap([1.0, -1.0], [1, 0], ["a", "a"], n_boot=5)
    assert ci["cllr"] == (None, None)


def test_worst_trials_most_misleading_first():
    t = lrv.Trials([3.0, -2.0, 1.5, -0.5], [0, 1, 0, 1], ["a", "b", "c", "d"], ["q1", "q2", "q3", "q4"])
    rows = t.worst(1)
    assert rows[0]["log10 LR"] == 3.0 and rows[0]["truth"].startswith("H2")
    assert rows[1]["log10 LR"] == -2.0 and rows[1]["truth"].startswith("H1")


def test_suffixed_metrics_keys_and_strict_json():
    t = made_up(n_writers=6)
    base = lrv.measure("", "baseline", t, n_boot=20, seed=0)
    cond = lrv.measure("known2", "known 2", t.subset(t.group != "w00"), n_boot=20, seed=0)
    m = lrv.all_metrics([base, cond])
    for key in ("cllr", "cllr_min", "cllr_cal", "eer", "rmep", "rmed", "h2_log10_lr_max", "h1_log10_lr_min"):
        assert key in m and f"{key}_known2" in m
    assert len(m["ci"]["cllr"]) == 2 and "rmed_known2" in m["ci"] and m["n_writers_known2"] == 5
    crit = lrv.criteria_record(base.figures, matrix.default_criteria())
    assert crit["rmed"]["criterion"] == "<= 0.02" and crit["rmed"]["pass"] in (True, False)
    json.dumps(m, allow_nan=False)


# --- coherence ---------------------------------------------------------------------------------


def test_coherence_flags_more_writing_giving_worse_cllr():
    rows = [
        {"series": "known lines", "amount": 1, "cllr": 0.5},
        {"series": "known lines", "amount": 2, "cllr": 0.3},
        {"series": "known lines", "amount": math.inf, "cllr": 0.35},
        {"series": "questioned lines", "amount": 1, "cllr": 0.6},
        {"series": "questioned lines", "amount": math.inf, "cllr": 0.35},
    ]
    bad = matrix.coherence(rows)
    assert bad == [
        {
            "series": "known lines",
            "fewer": 2,
            "more": math.inf,
            "value_fewer": 0.3,
            "value_more": 0.35,
            "beyond_ci": None,
        }
    ]
    assert "Not coherent" in vsummary.coherence_sentence(
        bad, rows
    ) and "all lines" in vsummary.coherence_sentence(bad, rows)
    assert matrix.coherence(rows, tolerance=0.1) == []
    assert "Coherent" in vsummary.coherence_sentence([], rows)
    rows[1]["ci_high"] = 0.4
    assert matrix.coherence(rows)[0]["beyond_ci"] is False
    assert "sampling noise" in vsummary.coherence_sentence(matrix.coherence(rows), rows)
    rows[1]["ci_high"] = 0.32
    assert matrix.coherence(rows)[0]["beyond_ci"] is True


# --- which writers a validation may use --------------------------------------------------------


def test_validation_writers_exclude_training_and_calibration():
    listing = [(f"p{w}.png", w) for w in ("01", "02", "03", "04")]
    sets = {"train": ["01"], "calibration": ["02"], "heldout": ["03"]}
    kept, excluded = lrv.validation_listing(listing, sets, own_data=False)
    assert [w for _, w in kept] == ["03", "04"]
    assert excluded == {"01": "trained on by the run", "02": "used to calibrate the run's LRs"}
    kept, excluded = lrv.validation_listing(listing, sets, own_data=True)  # the run's data: held out only
    assert [w for _, w in kept] == ["03"] and "not held out" in excluded["04"]
    kept, _ = lrv.validation_listing(listing, dict(sets, heldout=None), own_data=True)
    assert [w for _, w in kept] == ["03", "04"]
    with pytest.raises(ParamsError, match="data_dir: no validation writer left"):
        lrv.validation_listing(listing[:2], sets, own_data=False)
    text = lrv.exclusion_sentence(excluded, 2, "writers", "test")
    assert "01" in text and "trained on" in text


def test_run_sets_fall_back_to_the_runs_training_writers(tmp_path):
    (tmp_path / "artifacts").mkdir()
    (tmp_path / "artifacts" / "writer_id.json").write_text(json.dumps({"writers": ["000", "001"]}))
    sets = lrv.run_sets(tmp_path)  # a run made before the writers' roles were saved
    assert sets["train"] == ["000", "001"] and sets["heldout"] is None
    (tmp_path / "artifacts" / "writers.json").write_text(
        json.dumps({"train": ["000"], "calibration": ["001"], "heldout": ["002"]})
    )
    sets = lrv.run_sets(tmp_path)
    assert (sets["train"], sets["calibration"], sets["heldout"]) == (["000"], ["001"], ["002"])
    (tmp_path / "artifacts" / "split.json").write_text(
        json.dumps({"train": ["1"], "val": ["2"], "test": ["3"]})
    )
    assert lrv.run_sets(tmp_path, "signatures") == {
        "train": ["1"],
        "calibration": ["2"],
        "heldout": ["3"],
        "source": "the run's artifacts/split.json",
    }


def test_bad_runs_refused_naming_them(tmp_path):
    with pytest.raises(ParamsError, match="no run"):
        lrv.resolve_signatures_run("20990101-nope", outputs=tmp_path)
    lrv.check_signatures_run("")
    lrv.check_train_params("smoke")
    with pytest.raises(ParamsError, match="params file not found"):
        lrv.check_train_params("no_such_file")


# --- conditions ---------------------------------------------------------------------------------


def _page(n_lines=6, height=24, width=300):
    page = np.full((n_lines * height * 2 + 40, width + 40), 250, np.uint8)
    for i in range(n_lines):
        y = 20 + i * 2 * height
        for x in range(20, 20 + width, 12):
            page[y : y + height, x : x + 5] = 20
    return page


def test_plan_conditions():
    plan = lrv.plan([2, 1], [1], [150, 300, 75], scan_dpi=300)
    assert [c.name for c in plan] == ["", "known1", "known2", "questioned1", "dpi150", "dpi75"]
    assert plan[1].series == "known lines" and plan[4].dpi == 150
    with pytest.raises(ParamsError, match="dpis"):
        lrv.plan(dpis=[600], scan_dpi=300)


def test_pages_split_into_halves_truncated_and_resampled(tmp_path):
    from hwutils.images import save_gray

    for w in ("0001", "0002"):
        save_gray(_page(), tmp_path / f"w{w}_s01_pLND_r01.png")
    listing = [(tmp_path / f"w{w}_s01_pLND_r01.png", w) for w in ("0001", "0002")]
    pairs, skipped = lrv.load_pages(listing)
    assert not skipped and len(pairs) == 2
    known, questioned = pairs[0]
    assert len(known.lines) == 3 and len(questioned.lines) == 3 and known.part == "top"
    k, q = lrv.case_documents(pairs, lrv.Condition("known1", "", known_lines=1))
    assert [len(d.lines) for d in k] == [1, 1] and [len(d.lines) for d in q] == [3, 3]
    low, _ = lrv.load_pages(listing, dpi=150, scan_dpi=300, train_dpi=300)
    kl, _ = low[0]
    assert kl.scale == 2.0 and len(kl.lines) == 3  # resampled to half, brought back by the casework pipeline
    assert abs(kl.lines[0].shape[0] - known.lines[0].shape[0]) <= 10  # the segmentation margin doubled
    with pytest.raises(Exception, match="cannot cut it"):
        C.split_page(C.truncate([known], 1)[0])


def test_subsets_by_file_name():
    t = lrv.Trials(
        [1.0, -1.0, 1.0, -1.0],
        [1, 0, 1, 0],
        ["1", "1", "2", "2"],
        ["w0001_s01_pLND_r01", "w0001_s01_pLND_r01", "w0002_s01_pWOZ_r01", "w0002_s01_pWOZ_r01"],
    )
    pattern = r"w(?P<writer>\d+)_s(?P<session>\d+)_p(?P<prompt>[A-Za-z]+)_r(?P<rep>\d+)"
    subs = lrv.subsets(t, pattern, ["prompt", "session", "nothing"])
    assert [(s, len(tr)) for s, _, tr in subs] == [("prompt_LND", 2), ("prompt_WOZ", 2)]  # one session only


def test_one_page_per_writer_and_max_writers():
    listing = [("b.png", "1"), ("a.png", "1"), ("c.png", "2"), ("d.png", None), ("e.png", "3")]
    kept, dropped = lrv.one_page_per_writer(listing)
    assert kept == [("a.png", "1"), ("c.png", "2"), ("e.png", "3")] and set(dropped) == {"b.png", "d.png"}
    assert [w for _, w in lrv.check_max_writers(kept, 2)] == ["1", "3"]
    with pytest.raises(ParamsError, match="max_writers"):
        lrv.check_max_writers(kept, 1)


# --- the stage ------------------------------------------------------------------------------------


@pytest.mark.slow
def test_smoke_run_reads_as_a_validation_report(hw):
    run, m = run_smoke(hw, "lr_validation")
    for key in ("cllr", "cllr_min", "cllr_cal", "eer", "rmep", "rmed", "h2_log10_lr_max", "h1_log10_lr_min"):
        assert key in m and f"{key}_known1" in m and f"{key}_dpi150" in m
    assert m["n_writers"] == 4 and isinstance(m["passed"], bool)
    json.loads(
        (run / "metrics.json").read_text(), parse_constant=lambda c: pytest.fail(f"{c} in metrics.json")
    )
    results = {r["name"].split(":")[0]: r for r in m["_results"]}
    assert results["Cllr"]["yardstick_value"] == 0.3 and results["RMED"]["yardstick_value"] == 0.02
    html = (run / "report.html").read_text(encoding="utf-8")
    first_table = html.find("Validation matrix (95% CI")
    assert 0 < first_table < html.find("The method and the validation data")
    assert "pass/fail" in html and "Tippett" in html and "figures per condition" in html
    assert (run / "artifacts" / "figures" / "robustness.png").is_file()


def test_signature_trials_per_number_of_references(tmp_path):
    from hwutils.datasets.sign_data import GENUINE, SKILLED, SignatureRecord

    records = [
        SignatureRecord(tmp_path / f"{p}_{k:02d}.png", p, GENUINE) for p in ("001", "002") for k in range(6)
    ]
    records += [
        SignatureRecord(tmp_path / f"f{p}_{k:02d}.png", p, SKILLED) for p in ("001", "002") for k in range(2)
    ]
    protocol = lrv.signature_protocol(records, ["001", "002"], [2, 4], seed=0)
    assert all(
        len(v["references"]) == 4 and len(v["genuine"]) == 2 and len(v["skilled"]) == 2
        for v in protocol.values()
    )

    class Verifier:  # a made-up verifier: more references, stronger LRs
        calibrator = object()  # it has one, for 4 references
        fewer = {}  # count -> divisor of its own calibration

        def log10_lr(self, score, n_references=None):  # log10 LR = minus the score, as calibrated
            if n_references is None or n_references >= 4:
                return -score
            return -score / self.fewer[n_references] if n_references in self.fewer else None

        def enrol(self, refs):
            n = len(refs)

            class Person:  # the LR is never taken from the result (hw verify withholds it with few refs)
                def verify(self, path):
                    return {"score": -n / 2 if path.name[0] != "f" else n / 2, "log10_lr": None}

            return Person()

    measured = lrv.signature_conditions(Verifier(), protocol, [2, 4], seed=0, n_boot=20)
    assert [m.name for m in measured] == ["", "refs2"] and measured[0].info["references"] == 4
    assert measured[0].figures["h1_log10_lr_min"] == 2.0 and measured[1].figures["h1_log10_lr_min"] == 1.0
    # no calibration of 2 references: measured by the run's own (what hw verify withholds), and said so
    assert "no calibration of this count" in measured[1].label and "no calibration" not in measured[0].label
    v = Verifier()
    v.fewer = {2: 4.0}  # a run that calibrated 2 references: its LRs there are what hw verify states
    again = lrv.signature_conditions(v, protocol, [2, 4], seed=0, n_boot=20)
    assert again[1].figures["h1_log10_lr_min"] == 0.25 and "no calibration" not in again[1].label
    assert len(measured[0].trials) == 8 and measured[0].trials.n_groups == 2
    rows = lrv.coherence_rows(measured)
    assert {r["amount"] for r in rows} == {2, 4} and lrv.coherence(rows) == []
    with pytest.raises(Exception, match="more than 6 genuine"):
        lrv.signature_protocol(records, ["001"], [6])


def test_defaults_and_params_files_satisfy_the_declarations(monkeypatch):
    from pathlib import Path

    from conftest import hw_data

    from hwutils.runs import params as P

    root = Path(__file__).resolve().parents[1]
    specs = P.notebook_parameters(root / "notebooks" / "lr_validation.ipynb")
    for name, spec in specs.items():
        if spec.check is not None:
            assert P.check_value("lr_validation", specs, name, spec.default, "default") == spec.default
    files = [root / "params" / "lr_validation" / f for f in ("default.yaml", "smoke.yaml")]
    if hw_data() is not None:
        files.append(root / "params" / "lr_validation" / "csafe.yaml")  # sign_data.yaml needs a run
    for path in files:
        P.resolve("lr_validation", specs, [path], [])


def test_trials_of_a_case_keep_the_questioned_writer():
    from hwutils import casework as cw

    def verdict(doc, truth, llr):
        persons = ["a", "b"]
        n = len(persons)
        return cw.Verdict(
            doc, persons, np.zeros((n, 2)), np.zeros(n), np.array(llr), np.ones(n) / n, "a", truth
        )

    verdicts = [
        verdict("qa", "a", [2.0, -1.0]),
        verdict("qx", None, [0.5, 0.1]),
        verdict("qb", "b", [-0.5, 1.5]),
    ]
    t = lrv.trials_from_verdicts(verdicts)
    llr, same = cw.case_trials(verdicts)
    assert np.array_equal(t.log10_lr, llr) and np.array_equal(t.same, same)
    assert t.group.tolist() == ["a", "a", "b", "b"] and t.candidate.tolist() == ["a", "b", "a", "b"]
    assert t.questioned.tolist() == ["qa", "qa", "qb", "qb"] and t.same.tolist() == [1, 0, 0, 1]


def test_report_pieces_on_made_up_conditions():
    import matplotlib

    matplotlib.use("Agg")
    t = made_up(n_writers=6, h1=1.0, h2=-1.0, spread=1.0)
    base = lrv.measure("", "baseline (all lines)", t, n_boot=20, seed=0)
    one = lrv.measure("known1", "known writing: 1 line", t, n_boot=20, seed=0, series="known lines", amount=1)
    crit = matrix.default_criteria()
    table = vsummary.matrix_table(base.figures, base.intervals, crit)
    assert "pass/fail" in table._repr_html_() and len(table.rows) == len(crit)
    assert "6 writers" in vsummary.figures_sentence(base) and "RMED" in vsummary.misleading_sentence(base)
    fig = vsummary.robustness_figure([base, one])
    assert len(fig.axes) == 2
    assert "Generalisation not measured" in vsummary.generalisation_sentence([], crit)
    gen = lrv.measure("generalisation", "generalisation: /elsewhere", t, n_boot=20, seed=0)
    assert vsummary.generalisation_sentence([gen], crit).startswith("On /elsewhere")
    text = vsummary.data_sentence(False, True, "/runs/abc", {"source": "x"}, {}, base, "writers", "", 12.0)
    assert "abc" in text and "6 synthetic writers" in text and "12 s" in text and "Baseline LRs" not in text
    base.info.update(calibration="35 writers on texture alone", fused="texture only")
    text = vsummary.data_sentence(False, True, "/runs/abc", {"source": "x"}, {}, base, "writers", "", 12.0)
    assert text.endswith("Baseline LRs: texture only fused, calibrated on 35 writers on texture alone.")
    rec = vsummary.data_record(False, False, "/data", base, {"001": "trained on by the run"}, "writers")
    assert rec["writers"] == 6 and rec["excluded"] == 1 and rec["location"] == "/data"
    shown = vsummary.metrics_shown({**lrv.all_metrics([base, one]), "method": "m", "run": "r"})
    assert "cllr" in shown and "cllr_known1" not in shown and "ci" not in shown


def test_a_figure_equal_to_its_criterion_passes_despite_float_noise():
    from hwutils.lr_validation import matrix

    llr = np.r_[np.linspace(1, 3, 19), -0.5, np.linspace(-3, -1, 19), 0.5]  # one error of each kind in 20
    same = np.r_[[1] * 20, [0] * 20]
    figures = matrix.trial_metrics(llr, same)
    assert figures["eer"] == 0.05
    eer = next(c for c in matrix.default_criteria() if c.metric == "eer")
    assert eer.passes(figures["eer"]) is True
