"""End-to-end: the signatures notebook on smoke params through ``hw run``."""

from __future__ import annotations

import json

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
    for fig in ("roc_det", "score_histograms", "augmentations", "screening_confusion", "training_curves"):
        assert (art / "figures" / f"{fig}.png").is_file(), fig
    from hwutils.signatures.screening import Screener
    from hwutils.signatures.verify import load_verifier

    v = load_verifier(run)
    refs = sorted((art / "synthetic_signatures" / "001").glob("*.png"))
    out = v.verify(refs[:3], refs[3])
    assert out["decision"] in ("genuine", "forgery") and out["threshold"] == v.threshold
    assert Screener.load(run).check(refs[0])["valid"] in (True, False)
