"""hw batch on Dask: the embedded LocalCluster, an existing cluster through --scheduler,
a worker killed mid-run, the job-queue dry run, and bad input refused before anything runs."""

import json
import os
import subprocess
import sys
import time
from pathlib import Path

import psutil
import pytest
from conftest import ROOT, run_hw

PROJECT = Path(__file__).parent / "project"
QUICK_CONNECT = {"HW_DASK_CONNECT_TIMEOUT": "2"}  # an unreachable scheduler is named after 2 s, not 10
pytestmark = pytest.mark.slow


def _params(tmp_path, stage, name, text) -> Path:
    path = tmp_path / "params" / stage / f"{name}.yaml"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)
    return path


def _items(tmp_path):
    return [
        _params(tmp_path, "sleepy", "zero", "seconds: 0\n"),
        _params(tmp_path, "sleepy", "short", "seconds: 0.5\n"),
        "failing:default",
    ]


def _statuses(outputs):
    found = {}
    for m in outputs.glob("*/*/manifest.json"):
        data = json.loads(m.read_text())
        found.setdefault(data["stage"], []).append(data["status"])
    return found


def _check_batch(proc, outputs):
    assert proc.returncode == 1, proc.stderr[-3000:]
    found = _statuses(outputs)
    assert sorted(found["sleepy"]) == ["ok", "ok"] and found["failing"] == ["failed"]
    assert "Batch summary" in proc.stdout and "2 of 3 runs ok" in proc.stdout
    assert "boom on purpose" in proc.stdout  # the failure's reason, from the child's last lines
    index = (outputs / "index.html").read_text()
    for m in outputs.glob("*/*/manifest.json"):
        assert m.parent.name in index  # rebuilt by the client after the last run
    assert "batch: " in proc.stderr and "queued" in proc.stderr  # the progress line


def test_batch_on_the_embedded_local_cluster(tmp_path):
    outputs = tmp_path / "outputs"
    proc = run_hw("batch", *_items(tmp_path), "-j", "2", outputs=outputs, project=PROJECT, timeout=300)
    _check_batch(proc, outputs)


def test_batch_through_scheduler_of_an_existing_cluster(tmp_path):
    from distributed import LocalCluster

    outputs = tmp_path / "outputs"
    with LocalCluster(n_workers=2, threads_per_worker=1, processes=True, dashboard_address=None) as cluster:
        proc = run_hw(
            "batch",
            *_items(tmp_path),
            "--scheduler",
            cluster.scheduler_address,
            outputs=outputs,
            project=PROJECT,
            timeout=300,
        )
    _check_batch(proc, outputs)


def test_a_killed_worker_leaves_its_run_lost_once_and_no_orphan(tmp_path):
    outputs = tmp_path / "outputs"
    long = _params(tmp_path, "sleepy", "long", "seconds: 60\n")
    env = dict(
        os.environ,
        HW_OUTPUTS=str(outputs),
        HW_PROJECT=str(PROJECT),
        HW_HEARTBEAT_S="0.5",
        TF_CPP_MIN_LOG_LEVEL="2",
    )
    batch = subprocess.Popen(
        [sys.executable, "-m", "hwutils", "batch", str(long), "-j", "1"],
        cwd=ROOT,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    deadline = time.time() + 120
    while time.time() < deadline and not list(outputs.glob("sleepy/*/started")):
        time.sleep(0.3)
    run_dir = next(outputs.glob("sleepy/*/started")).parent
    manifest = json.loads((run_dir / "manifest.json").read_text())
    child = psutil.Process(manifest["pid"])  # the hw run process
    worker = child.parent()  # the Dask worker that started it
    tree = [child, *child.children(recursive=True)]
    assert len(tree) >= 2  # hw run and its kernel
    worker.kill()
    _, alive = psutil.wait_procs(tree, timeout=30)
    assert not alive, f"orphaned: {alive}"
    out, err = batch.communicate(timeout=120)
    assert batch.returncode == 1, err[-3000:]
    assert len(list(outputs.glob("sleepy/*/manifest.json"))) == 1  # not resubmitted
    listing = run_hw("runs", outputs=outputs, project=PROJECT)
    assert "lost" in listing.stdout
    assert "lost" in out and "worker died" in out


def test_slurm_dry_run_prints_the_job_script(tmp_path):
    config = tmp_path / "slurm.yaml"
    config.write_text(
        "queue: short-q\ncores: 3\nmemory: 7GB\nwalltime: '01:30:00'\n"
        "job_extra_directives: ['--gres=gpu:1']\nworkers: 2\n"
    )
    proc = run_hw(
        "batch", "--cluster", "slurm", "--cluster-config", config, "--dry-run", outputs=tmp_path / "outputs"
    )
    assert proc.returncode == 0, proc.stderr
    script = proc.stdout
    assert "#SBATCH -p short-q" in script and "--cpus-per-task=3" in script
    assert "#SBATCH -t 01:30:00" in script and "--mem=" in script and "--gres=gpu:1" in script
    assert "dask_worker" in script or "dask-worker" in script
    assert not (tmp_path / "outputs").exists()


def test_the_example_slurm_config_is_valid(tmp_path):
    proc = run_hw(
        "batch",
        "--cluster",
        "slurm",
        "--cluster-config",
        ROOT / "docs" / "cluster" / "slurm.yaml",
        "--dry-run",
        outputs=tmp_path / "outputs",
    )
    assert proc.returncode == 0 and "#SBATCH" in proc.stdout, proc.stderr


@pytest.mark.parametrize(
    "args, words",
    [
        (["--scheduler", "tcp://127.0.0.1:9"], ["unreachable", "tcp://127.0.0.1:9"]),
        (["--scheduler", "no-such-file.json"], ["no such scheduler file"]),
        (["--cluster", "slurm", "--cluster-config", "missing.yaml"], ["cluster config file not found"]),
        (["--cluster", "slurm", "--cluster-config", "missing.yaml", "--dry-run"], ["not found"]),
    ],
)
def test_bad_cluster_input_is_one_line_exit_2(tmp_path, args, words):
    outputs = tmp_path / "outputs"
    proc = run_hw(
        "batch", "tiny:smoke", *args, outputs=outputs, project=PROJECT, timeout=120, env=QUICK_CONNECT
    )
    assert proc.returncode == 2, proc.stderr[-2000:]
    lines = [line for line in proc.stderr.splitlines() if line.strip()]
    assert len(lines) == 1 and all(w in lines[0] for w in words), proc.stderr
    assert not list(outputs.glob("*/*/manifest.json"))
