"""The signatures parameters files: CEDAR runs the current recipe of sign_data.yaml."""

from __future__ import annotations

from pathlib import Path

import yaml

PARAMS = Path(__file__).resolve().parents[1] / "params" / "signatures"
# what a collection of its own may set differently: where and how it is laid out, how many persons it holds out
PER_COLLECTION = {"data_dir", "layout", "test_persons", "val_persons"}


def test_cedar_runs_the_sign_data_recipe():
    sign_data = yaml.safe_load((PARAMS / "sign_data.yaml").read_text())
    cedar = yaml.safe_load((PARAMS / "cedar.yaml").read_text())
    assert cedar["layout"] == "cedar" and cedar["data_dir"].endswith("/cedar")
    differ = {k for k in set(sign_data) | set(cedar) if sign_data.get(k) != cedar.get(k)}
    assert differ <= PER_COLLECTION, differ - PER_COLLECTION
    # the recipe the issue names: the writer network, the pen features, the reference normalisation
    assert "signet" in cedar["features"] and "pressure" in cedar["features"]
    assert cedar["wd_norm"] == 1.0 and cedar["siamese_init"] == "signet"
    assert cedar["wd_folds"] > 1  # threshold and LR calibration on all development persons, out of fold
