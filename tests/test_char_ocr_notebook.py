"""End to end: the notebook on smoke params through ``hw run``."""

import json

import pytest

from conftest import run_smoke


@pytest.mark.slow
def test_smoke_run(hw):
    run, metrics = run_smoke(hw, "char_ocr")
    for key in ("char_accuracy", "cer", "word_accuracy", "classes_real", "classes_synthetic_only"):
        assert key in metrics
    assert metrics["classes_real"] == "0123456789"
    assert metrics["classes_synthetic_only"] == "ABCDEFGHIJKLMNOPQRSTUVWXYZ"
    figures = {p.stem for p in (run / "artifacts/figures").glob("*.png")}
    assert {"training_curves", "confusion_matrix", "per_class_accuracy", "word_00"} <= figures
    from hwutils.ocr.read import load_reader
    reader = load_reader(run)
    assert reader.read_word(__import__("numpy").full((30, 80), 255, "uint8")).text == ""
