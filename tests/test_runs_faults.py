"""Fault injection on the small notebooks of tests/project: a killed ``hw run``,
a killed kernel, a stopped batch, a full disk. Each must leave runs whose
recorded or derived state tells the truth, and no half-written file at a
final name."""

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import nbformat
import psutil
import pytest
from conftest import ROOT, only_run_dir, run_hw

PROJECT = Path(__file__).parent / "project"
pytestmark = pytest.mark.slow


def _env(outputs, **extra):
    return dict(
        os.environ, HW_OUTPUTS=str(outputs), HW_PROJECT=str(PROJECT), TF_CPP_MIN_LOG_LEVEL="2", **extra
    )


def _wait_for(pattern_root: Path, pattern: str, count: int = 1, timeout: float = 90) -> list[Path]:
    deadline = time.time() + timeout
    while time.time() < deadline:
        found = list(pattern_root.glob(pattern))
        if len(found) >= count:
            return found
        time.sleep(0.2)
    raise AssertionError(f"{pattern} never appeared under {pattern_root}")


def _gone(procs, timeout=20) -> bool:
    _, alive = psutil.wait_procs(procs, timeout=timeout)
    return not alive


def test_sigkill_of_hw_run_leaves_a_lost_run_and_no_kernel(tmp_path):
    outputs = tmp_path / "outputs"
    proc = subprocess.Popen(
        [sys.executable, "-m", "hwutils", "run", "sleepy", "-p", "seconds", "60"],
        cwd=ROOT,
        env=_env(outputs, HW_HEARTBEAT_S="0.5"),
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    _wait_for(outputs, "sleepy/*/started")
    run = only_run_dir(outputs, "sleepy")
    first = json.loads((run / "manifest.json").read_text())
    assert first["pid"] == proc.pid and first["host"] and first["pid_start"]
    time.sleep(1.5)  # the heartbeat moves while a long cell runs
    second = json.loads((run / "manifest.json").read_text())
    assert second["heartbeat"] > first["heartbeat"] and second["status"] == "running"
    assert "running" in run_hw("runs", outputs=outputs, project=PROJECT).stdout
    kernels = psutil.Process(proc.pid).children(recursive=True)
    assert kernels
    proc.kill()
    proc.wait()
    listing = run_hw("runs", outputs=outputs, project=PROJECT)
    assert listing.returncode == 0
    assert "lost (its process" in listing.stdout and "last heartbeat" in listing.stdout
    assert json.loads((run / "manifest.json").read_text())["status"] == "running"  # nobody edited files
    assert _gone(kernels), "the kernel outlived its hw run"
    assert run_hw("index", outputs=outputs, project=PROJECT).returncode == 0
    assert ">lost<" in (outputs / "index.html").read_text()


def test_a_broken_manifest_does_not_stop_later_runs(tmp_path):
    outputs = tmp_path / "outputs"
    # an ok run that imports no TensorFlow (seconds, not tens of seconds)
    assert run_hw("run", "sleepy", "-p", "seconds", "0", outputs=outputs, project=PROJECT).returncode == 0
    run = only_run_dir(outputs, "sleepy")
    (run / "manifest.json").write_text('{"status": "ok"}')
    again = run_hw("run", "failing", outputs=outputs, project=PROJECT)
    assert again.returncode == 1 and "Traceback" not in again.stderr
    listing = run_hw("runs", outputs=outputs, project=PROJECT)
    assert listing.returncode == 0
    assert (
        "broken (manifest.json lacks run_id, stage, start)" in listing.stdout and "failed" in listing.stdout
    )


def test_a_killed_kernel_names_the_cell_it_was_running(tmp_path):
    outputs = tmp_path / "outputs"
    proc = run_hw("run", "dies", outputs=outputs, project=PROJECT)
    assert proc.returncode == 1
    last = proc.stderr.strip().splitlines()[-1]
    assert "the kernel died while running cell 3 `import os`" in last
    m = json.loads((only_run_dir(outputs, "dies") / "manifest.json").read_text())
    assert m["status"] == "failed" and m["error"]["ename"] == "DeadKernelError"
    assert m["error"]["cell_index"] == 3


def test_ctrl_c_prints_no_stray_tracebacks(tmp_path):
    outputs = tmp_path / "outputs"
    proc = subprocess.Popen(
        [sys.executable, "-m", "hwutils", "run", "sleepy", "-p", "seconds", "60"],
        cwd=ROOT,
        env=_env(outputs),
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    _wait_for(outputs, "sleepy/*/started")
    proc.send_signal(signal.SIGINT)
    out, err = proc.communicate(timeout=60)
    assert proc.returncode == 130
    assert "Traceback" not in err and "ZMQError" not in err and "IPKernelApp" not in err, err
    assert err.strip().splitlines()[-1].startswith("hw: run sleepy/") and "interrupted (Ctrl-C)" in err
    assert (
        json.loads((only_run_dir(outputs, "sleepy") / "manifest.json").read_text())["status"] == "interrupted"
    )


def test_sigterm_stops_a_batch_and_its_children(tmp_path):
    outputs = tmp_path / "outputs"
    proc = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "hwutils",
            "batch",
            "sleepy:default",
            "sleepy:default",
            "tiny:smoke",
            "-j",
            "2",
        ],
        cwd=ROOT,
        env=_env(outputs),
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    _wait_for(outputs, "sleepy/*/started", count=2, timeout=120)
    children = psutil.Process(proc.pid).children(recursive=True)
    proc.send_signal(signal.SIGTERM)
    out, err = proc.communicate(timeout=90)
    assert proc.returncode == 130, err
    assert "Batch summary (stopped by SIGTERM)" in out and "0 of 3 runs ok" in out and "not started" in out
    runs = [d for d in (outputs / "sleepy").iterdir() if d.is_dir()]
    assert len(runs) == 2 and not (outputs / "tiny").exists()
    assert all(json.loads((d / "manifest.json").read_text())["status"] == "interrupted" for d in runs)
    assert _gone(children), "a child of the batch outlived it"


def _mount_tmpfs(path: Path, size: str) -> bool:
    path.mkdir(parents=True)
    try:
        done = subprocess.run(
            ["mount", "-t", "tmpfs", "-o", f"size={size}", "tmpfs", str(path)],
            capture_output=True,
            timeout=20,
        )
    except (OSError, subprocess.SubprocessError):
        return False
    return done.returncode == 0


def test_a_full_disk_leaves_the_last_whole_notebook_and_no_corrupt_model(tmp_path):
    outputs = tmp_path / "small-disk"
    if not _mount_tmpfs(outputs, "3m"):
        pytest.skip(
            "cannot mount a size-limited tmpfs here (needs root); the ENOSPC paths are also covered "
            "by test_runs_states and test_shared_artifacts"
        )
    try:
        proc = run_hw("run", "diskfill", outputs=outputs, project=PROJECT)
        assert proc.returncode == 1, proc.stderr
        last = proc.stderr.strip().splitlines()[-1]
        assert (
            "No space left on device" in last and "notebook.ipynb" in last and "Traceback" not in proc.stderr
        )
        run = only_run_dir(outputs, "diskfill")
        m = json.loads((run / "manifest.json").read_text())
        assert m["status"] == "failed" and "No space left on device" in m["error"]["message"]
        nb = nbformat.read(run / "notebook.ipynb", as_version=4)  # the last complete save
        assert any("first.keras" in c.source for c in nb.cells)
        from hwutils import training

        training.load_model(run / "artifacts" / "first.keras")
        assert not (run / "artifacts" / "second.keras").exists()
        assert not [p for p in run.rglob("*") if p.name.endswith(".tmp") or ".keras." in p.name]
    finally:
        subprocess.run(["umount", str(outputs)], capture_output=True, timeout=20)
