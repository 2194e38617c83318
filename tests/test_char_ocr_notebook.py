"""End to end: the notebook on smoke params through ``hw run``."""

import json

import pytest

from conftest import only_run_dir


@pytest.mark.slow
def test_smoke_run(hw):
    proc = hw("run", "char_ocr", "-f", "params/char_ocr/smoke.yaml")
    assert proc.returncode == 0, proc.stderr[-3000:]
    run = only_run_dir(hw.outputs, "char_ocr")
    metrics = json.loads((run / "metrics.json").read_text())
    for key in ("char_accuracy", "cer", "word_accuracy", "classes_real", "classes_synthetic_only"):
        assert key in metrics
    assert metrics["classes_real"] == "0123456789"
    assert metrics["classes_synthetic_only"] == "ABCDEFGHIJKLMNOPQRSTUVWXYZ"
    figures = {p.stem for p in (run / "artifacts/figures").glob("*.png")}
    assert {"training_curves", "confusion_matrix", "per_class_accuracy", "word_00"} <= figures
    from hwutils.ocr.read import load_reader
    reader = load_reader(run)
    assert reader.read_word(__import__("numpy").full((30, 80), 255, "uint8")).text == ""
