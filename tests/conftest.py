"""Shared fixtures: real data location, and running the ``hw`` command in a
subprocess against a temporary outputs folder."""

from __future__ import annotations

import gzip
import os
import struct
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]


def write_idx(path, arr) -> None:
    """Write ``arr`` (uint8) as a gzipped MNIST-format IDX file."""
    import numpy as np

    arr = np.asarray(arr, np.uint8)
    with gzip.open(path, "wb") as fh:
        fh.write(bytes([0, 0, 8, arr.ndim]) + struct.pack(f">{arr.ndim}I", *arr.shape) + arr.tobytes())


def hw_data() -> Path | None:
    """The real-data folder from ``HW_DATA`` (None when unset or missing)."""
    value = os.environ.get("HW_DATA")
    return Path(value) if value and Path(value).is_dir() else None


@pytest.fixture
def real_data() -> Path:
    """``HW_DATA`` as a Path; skips the test when the real data is absent."""
    path = hw_data()
    if path is None:
        pytest.skip("HW_DATA is not set (real data absent)")
    return path


def run_hw(
    *args,
    outputs: Path,
    project: Path | None = None,
    env: dict | None = None,
    timeout: float = 600,
    check: bool = False,
) -> subprocess.CompletedProcess:
    """Run ``python -m hwutils ARGS`` with ``HW_OUTPUTS=outputs`` (and
    ``HW_PROJECT=project`` when given); returns the completed process."""
    full_env = dict(os.environ)
    full_env["HW_OUTPUTS"] = str(outputs)
    full_env.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    if project is not None:
        full_env["HW_PROJECT"] = str(project)
    full_env.update(env or {})
    proc = subprocess.run(
        [sys.executable, "-m", "hwutils", *map(str, args)],
        cwd=ROOT,
        env=full_env,
        capture_output=True,
        text=True,
        timeout=timeout,
    )
    if check and proc.returncode != 0:
        raise AssertionError(
            f"hw {' '.join(map(str, args))} exited {proc.returncode}\n"
            f"stdout:\n{proc.stdout[-3000:]}\nstderr:\n{proc.stderr[-3000:]}"
        )
    return proc


@pytest.fixture
def hw(tmp_path):
    """``hw(*args, **kw)`` runs the command with outputs in a temporary folder;
    ``hw.outputs`` is that folder."""
    outputs = tmp_path / "outputs"

    def _run(*args, **kw):
        kw.setdefault("outputs", outputs)
        return run_hw(*args, **kw)

    _run.outputs = outputs
    return _run


def only_run_dir(outputs: Path, stage: str) -> Path:
    """The single run folder of ``stage`` under ``outputs`` (asserts there is exactly one)."""
    runs = [p for p in (outputs / stage).iterdir() if p.is_dir()]
    assert len(runs) == 1, runs
    return runs[0]


_SMOKE: dict[str, tuple[Path, dict]] = {}


def smoke_outputs() -> Path:
    """The outputs folder the session's smoke runs share (made on first use)."""
    import tempfile

    if "_outputs" not in _SMOKE:
        _SMOKE["_outputs"] = Path(tempfile.mkdtemp(prefix="hw-smoke-")) / "outputs"
    return _SMOKE["_outputs"]


def run_smoke(hw, stage: str) -> tuple[Path, dict]:
    """The run of ``stage`` on ``params/<stage>/smoke.yaml`` through ``hw run``,
    made once per test session and shared by every test that asks (the
    stage's own test, the report checks, the apply commands); asserts it
    succeeded and returns its run folder and metrics. Tests must not change it."""
    import json

    if stage not in _SMOKE:
        outputs = smoke_outputs()
        extra = []
        if stage == "lr_validation":  # validate the session's writer_id smoke run rather than train another
            extra = ["-p", "writer_run", str(run_smoke(hw, "writer_id")[0])]
        proc = run_hw("run", stage, "-f", f"params/{stage}/smoke.yaml", *extra, outputs=outputs)
        assert proc.returncode == 0, proc.stderr[-3000:]
        run = only_run_dir(outputs, stage)
        _SMOKE[stage] = (run, json.loads((run / "metrics.json").read_text()))
    run, metrics = _SMOKE[stage]
    return run, dict(metrics)
