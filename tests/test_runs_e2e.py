"""End to end: small notebooks from tests/project run through ``hw``."""

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import nbformat
import pytest
import yaml
from conftest import ROOT, only_run_dir, run_hw

PROJECT = Path(__file__).parent / "project"
pytestmark = pytest.mark.slow


def hw_p(hw, *args, **kw):
    return hw(*args, project=PROJECT, **kw)


def test_run_writes_every_output_file(hw):
    proc = hw_p(hw, "run", "tiny", "-f", "smoke", "-p", "lr", "0.02", "--label", "first try")
    assert proc.returncode == 0, proc.stderr
    run = only_run_dir(hw.outputs, "tiny")
    assert "Executing Cell" in proc.stderr  # progress is visible
    log = (run / "run.log").read_text()  # the per-epoch lines and TensorFlow's go to the run's log
    assert "epoch 2/2" in log and "Executing Cell" in log and "epoch 2/2" not in proc.stderr
    nb = nbformat.read(run / "notebook.ipynb", as_version=4)
    assert any(c.get("outputs") for c in nb.cells if c.cell_type == "code")
    html = (run / "report.html").read_text()
    assert "data:image/png;base64" in html and "repro.seed_everything" not in html  # figures in, code out
    params = yaml.safe_load((run / "params.yaml").read_text())
    assert params["n"] == 32 and params["lr"] == 0.02 and params["epochs"] == 2 and params["hidden"] == [8]
    metrics = json.loads((run / "metrics.json").read_text())
    assert 0 <= metrics["accuracy"] <= 1
    assert (run / "artifacts" / "model.keras").stat().st_size > 0
    assert (run / "artifacts" / "figures" / "curves.png").stat().st_size > 0
    m = json.loads((run / "manifest.json").read_text())
    assert m["status"] == "ok" and m["label"] == "first try" and m["stage"] == "tiny"
    assert m["run_id"] == run.name and m["duration_s"] > 0 and m["end"] >= m["start"]
    assert m["params"] == params and len(m["params_hash"]) == 16 and m["seed"] == 0
    assert m["command"][:3] == ["hw", "run", "tiny"] and "devices" in m and m["devices"]
    assert m["packages"]["tensorflow"] and m["python"].startswith("3.")
    assert set(m["git"]) == {"commit", "dirty"}
    assert m["headline"] == {"accuracy": metrics["accuracy"], "loss": metrics["loss"]}
    index = (hw.outputs / "index.html").read_text()
    assert run.name in index and "report.html" in index
    listing = hw_p(hw, "runs")
    assert run.name in listing.stdout and "accuracy=" in listing.stdout


def _run_together(hw, *arg_lists):
    """``hw run`` of each argument list, all started at once (each its own process and kernel)."""
    env = dict(os.environ, HW_OUTPUTS=str(hw.outputs), HW_PROJECT=str(PROJECT))
    procs = [
        subprocess.Popen(
            [sys.executable, "-m", "hwutils", "run", *args],
            cwd=ROOT,
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for args in arg_lists
    ]
    for p in procs:
        _, err = p.communicate(timeout=300)
        assert p.returncode == 0, err[-2000:]


def test_same_params_same_metrics_and_compare(hw):
    # the same parameters twice and other epochs once, run at the same time: runs do not disturb each other
    _run_together(
        hw, ["tiny", "-f", "smoke"], ["tiny", "-f", "smoke"], ["tiny", "-f", "smoke", "-p", "epochs", "4"]
    )
    by_epochs = {}
    for r in sorted((hw.outputs / "tiny").iterdir()):
        by_epochs.setdefault(yaml.safe_load((r / "params.yaml").read_text())["epochs"], []).append(r)
    runs, (newest,) = by_epochs[2], by_epochs[4]
    a, b = (json.loads((r / "metrics.json").read_text()) for r in runs)
    assert a == b
    assert (
        json.loads((runs[0] / "manifest.json").read_text())["params_hash"]
        == json.loads((runs[1] / "manifest.json").read_text())["params_hash"]
    )
    out = hw_p(hw, "compare", runs[0].name, newest.name).stdout
    epochs_line = next(l for l in out.splitlines() if " epochs " in f" {l} ")
    assert epochs_line.startswith("*") and "2" in epochs_line and "4" in epochs_line


def test_failing_notebook(hw):
    proc = hw_p(hw, "run", "failing")
    assert proc.returncode == 1
    last = proc.stderr.strip().splitlines()[-1]
    assert "failed" in last and "cell [" in last and "ValueError: boom on purpose" in last
    run = only_run_dir(hw.outputs, "failing")
    m = json.loads((run / "manifest.json").read_text())
    assert m["status"] == "failed" and m["error"]["ename"] == "ValueError"
    nb = nbformat.read(run / "notebook.ipynb", as_version=4)
    assert any(
        o.get("ename") == "ValueError"
        for c in nb.cells
        if c.cell_type == "code"
        for o in c.get("outputs", [])
    )
    assert json.loads((run / "metrics.json").read_text()) == {"before_failure": 1}
    assert (run / "report.html").exists()


def test_sigterm_marks_run_interrupted(hw):
    env = dict(os.environ, HW_OUTPUTS=str(hw.outputs), HW_PROJECT=str(PROJECT))
    proc = subprocess.Popen(
        [sys.executable, "-m", "hwutils", "run", "sleepy", "-p", "seconds", "60"],
        cwd=ROOT,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    deadline = time.time() + 60
    while time.time() < deadline and not list(hw.outputs.glob("sleepy/*/started")):
        time.sleep(0.2)
    assert list(hw.outputs.glob("sleepy/*/started")), "notebook never started"
    running = json.loads(next(hw.outputs.glob("sleepy/*/manifest.json")).read_text())
    assert running["status"] == "running"
    proc.send_signal(signal.SIGTERM)
    out, err = proc.communicate(timeout=60)
    assert proc.returncode == 130, err
    run = only_run_dir(hw.outputs, "sleepy")
    m = json.loads((run / "manifest.json").read_text())
    assert m["status"] == "interrupted" and m["end"] and m["duration_s"] < 60
    assert (run / "notebook.ipynb").exists()
    assert not list(run.glob(".*.tmp"))


def test_two_concurrent_runs_keep_their_own_folders(hw):
    env = dict(os.environ, HW_OUTPUTS=str(hw.outputs), HW_PROJECT=str(PROJECT))
    procs = [
        subprocess.Popen(
            [sys.executable, "-m", "hwutils", "run", "tiny", "-f", "smoke", "-p", "n", str(n)],
            cwd=ROOT,
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for n in (16, 24)
    ]
    for p in procs:
        p.communicate(timeout=300)
        assert p.returncode == 0
    runs = sorted((hw.outputs / "tiny").iterdir())
    assert len(runs) == 2
    ns = sorted(yaml.safe_load((r / "params.yaml").read_text())["n"] for r in runs)
    assert ns == [16, 24]
    index = (hw.outputs / "index.html").read_text()
    assert all(r.name in index for r in runs)
    assert all(json.loads((r / "manifest.json").read_text())["status"] == "ok" for r in runs)


def test_batch_with_one_failure_runs_the_rest(hw):
    proc = hw_p(hw, "batch", "tiny:smoke", "params/failing/default.yaml", "-j", "2")
    assert proc.returncode == 1
    assert "Batch summary" in proc.stdout and "1 of 2 runs ok" in proc.stdout
    assert "tiny:smoke" in proc.stdout and "failing:default" in proc.stdout
    statuses = {
        d.parent.name: json.loads((d / "manifest.json").read_text())["status"]
        for d in hw.outputs.glob("*/*")
        if d.is_dir()
    }
    assert statuses == {"tiny": "ok", "failing": "failed"}


BAD_INPUTS = [
    (["run", "nope"], "unknown stage 'nope'"),
    (["run", "tiny", "-f", "missing.yaml"], "params file not found: missing.yaml"),
    (["run", "tiny", "-f", "broken"], "broken.yaml:3: YAML error"),
    (["run", "tiny", "-f", "unknown"], "unknown parameter 'epoch'"),
    (["run", "tiny", "-f", "wrongtype"], "parameter 'epochs' expects int, got str"),
    (["run", "tiny", "-f", "env"], "environment variable HW_TEST_DATA_DIR is not set"),
    (["run", "tiny", "-p", "epochs", "2.5"], "expects int, got float"),
    (["batch", "tiny:smoke", "tiny:unknown"], "unknown parameter 'epoch'"),
]


def test_bad_input_one_line_exit_2_and_no_run_touched(hw, tmp_path):
    assert hw_p(hw, "run", "tiny", "-f", "smoke").returncode == 0
    before = {
        p: p.stat().st_mtime_ns for p in hw.outputs.rglob("*") if p.is_file() and p.name != ".index.lock"
    }
    for args, expected in BAD_INPUTS:
        proc = hw_p(hw, *args)
        assert proc.returncode == 2, (args, proc.stderr)
        lines = proc.stderr.strip().splitlines()
        assert len(lines) == 1 and expected in lines[0] and "Traceback" not in proc.stderr, (
            args,
            proc.stderr,
        )
    after = {
        p: p.stat().st_mtime_ns for p in hw.outputs.rglob("*") if p.is_file() and p.name != ".index.lock"
    }
    assert after == before


def test_outputs_not_writable_is_a_clear_error(tmp_path):
    blocked = tmp_path / "file-not-folder"
    blocked.write_text("x")
    proc = run_hw("run", "tiny", outputs=blocked / "outputs", project=PROJECT)
    assert (
        proc.returncode == 2
        and "outputs folder" in proc.stderr
        and len(proc.stderr.strip().splitlines()) == 1
    )
    if os.geteuid() != 0:  # root ignores permission bits
        ro = tmp_path / "ro"
        ro.mkdir()
        ro.chmod(0o500)
        proc = run_hw("run", "tiny", outputs=ro, project=PROJECT)
        assert proc.returncode == 2 and "not writable" in proc.stderr


def test_stages_and_params_listing(hw):
    out = hw_p(hw, "stages").stdout
    assert "tiny" in out and "smoke.yaml" in out and "notebooks/tiny.ipynb" in out
    out = hw_p(hw, "params", "tiny").stdout
    assert "epochs" in out and "int" in out and "passes over the data" in out
