"""End-to-end: the signatures notebook on smoke params through ``hw run``."""

from __future__ import annotations

import json
import math

import pytest
from conftest import run_smoke


@pytest.mark.slow
def test_smoke_run(hw):
    run, m = run_smoke(hw, "signatures")
    for key in (
        "test_eer_skilled",
        "test_eer_skilled_per_user",
        "test_frr",
        "test_far_skilled",
        "test_far_random",
        "screen_combined_f1",
    ):
        assert key in m and 0.0 <= m[key] <= 1.0, key
    art = run / "artifacts"
    split = json.loads((art / "split.json").read_text())
    assert split["test"] == m["test_persons_ids"].split(",")
    assert not set(split["test"]) & set(split["train"] + split["val"])
    assert not set(split["train"]) & set(split["val"])
    for fig in (
        "roc_det",
        "score_histograms",
        "augmentations",
        "screening_confusion",
        "training_curves",
        "lr_tippett",
        "lr_ece",
    ):
        assert (art / "figures" / f"{fig}.png").is_file(), fig
    # likelihood ratios: fitted on the validation persons, measured on the test persons
    assert (art / "lr_calibration.json").is_file()
    for key in ("lr_cllr", "lr_cllr_min", "lr_calibration_loss"):
        assert isinstance(m.get(key), float) and math.isfinite(m[key]) and m[key] >= -1e-9, key
    assert m["lr_cllr_min"] <= m["lr_cllr"] + 1e-9
    assert m["lr_calibration_loss"] == pytest.approx(m["lr_cllr"] - m["lr_cllr_min"], abs=1e-9)
    assert m["lr_n_genuine"] == m["test_n_genuine"] and m["lr_n_forgery"] == m["test_n_skilled"]
    assert "Cllr" in {r["name"] for r in m["_results"]}
    from hwutils.signatures.screening import Screener
    from hwutils.signatures.verify import load_verifier

    v = load_verifier(run)
    refs = sorted((art / "synthetic_signatures" / "001").glob("*.png"))
    out = v.verify(refs[:3], refs[3])
    assert out["decision"] in ("genuine", "forgery") and out["threshold"] == v.threshold
    assert v.calibrator is not None and math.isfinite(out["log10_lr"])
    assert Screener.load(run).check(refs[0])["valid"] in (True, False)
