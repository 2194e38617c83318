"""Dask benchmarks of ``hw batch`` and ``hw sweep``; prints figures and saves them to
benchmarks/results/dask.json (``--out`` elsewhere).

1. Overhead of the Dask path: the same N runs of the tiny test notebook
   (``tests/project/notebooks/tiny.ipynb``, ``n: 32, epochs: 2``, one params file
   per seed, ``HW_PROJECT=tests/project``) once with ``hw batch --local -j 1`` (the
   former thread pool of local processes) and once with ``hw batch -j 1`` (an
   embedded Dask ``LocalCluster`` of one worker), the order alternating from one
   repetition to the next. Targets: at most 10% more wall time and at most 2 s
   more per run; PASS/FAIL is printed against each. The start and stop of a bare
   one-worker ``LocalCluster`` (``cluster.open_cluster``) is timed too, to tell the
   fixed cost from the per-run cost, and so is each mode's wall time outside its
   runs' own durations (wall minus the manifests' ``duration_s``): on a loaded
   machine the runs themselves slow down by more than the overhead being measured.
2. A 2-point x 2-seed sweep of a smoke stage on a 2-worker ``LocalCluster``
   (``hw sweep writer_id -f smoke -g learning_rate=0.001,0.002 --seeds 0-1 -j 2``;
   writer_id's smoke run is the cheapest smoke run of the project, about 20 s, and the
   learning rate does not change its cost) against the same 4 runs one after another
   (``hw run writer_id -f smoke -p learning_rate X -p seed S``), order alternating.
   Reports both wall times and the speed-up. Each run's TensorFlow already uses
   both cores of a 2-core machine, so expect well below 2x there.

Every command is the venv's ``hw`` in a subprocess, each with its own outputs folder
under a temporary folder (``HW_OUTPUTS``; the repository's ``outputs/`` is not touched),
and every run is checked to have ended ``ok``. Both paths are measured in the same
script run, interleaved, so a shared machine's load weighs on both; the load average
(``os.getloadavg()``) before and after every measurement is saved with the figures.

Usage: .venv/bin/python benchmarks/bench_dask.py [--quick] [--reps N] [--only batch|sweep]
[--out PATH] [--keep]
(full: 4 runs x 2 repetitions and 2 sweep repetitions: 8 min (463 s) on a quiet 2-core machine,
18 min (1085 s) at a load average of 3-6; ``--quick``: 3 runs, 1 repetition of each).
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from datetime import datetime
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
PROJECT = ROOT / "tests" / "project"
VENV_BIN = ROOT / ".venv" / "bin"
HW = VENV_BIN / "hw" if (VENV_BIN / "hw").exists() else Path(sys.executable).parent / "hw"
PYTHON = VENV_BIN / "python" if (VENV_BIN / "python").exists() else Path(sys.executable)
OVERHEAD_PCT_TARGET = 10.0
OVERHEAD_S_PER_RUN_TARGET = 2.0


def load() -> list[float]:
    return [round(x, 2) for x in os.getloadavg()]


def manifests(outputs: Path) -> list[dict]:
    return [json.loads(m.read_text()) for m in sorted(outputs.glob("*/*/manifest.json"))]


def timed(cmd: list, outputs: Path, project: Path | None = None, expect_runs: int = 0) -> dict:
    """Run ``cmd`` with ``HW_OUTPUTS=outputs``; its wall time, the load around it and its runs'
    durations (from their manifests). Stops the benchmark when it fails or a run is not ok."""
    env = dict(os.environ, HW_OUTPUTS=str(outputs), TF_CPP_MIN_LOG_LEVEL="2")
    env.pop("HW_INDEX", None)
    if project is not None:
        env["HW_PROJECT"] = str(project)
    else:
        env.pop("HW_PROJECT", None)
    before = load()
    t0 = time.perf_counter()
    proc = subprocess.run(
        [str(c) for c in cmd], cwd=ROOT, env=env, capture_output=True, text=True, timeout=1800
    )
    wall = time.perf_counter() - t0
    runs = manifests(outputs)
    bad = [m for m in runs if m.get("status") != "ok"]
    if proc.returncode != 0 or bad or (expect_runs and len(runs) != expect_runs):
        raise SystemExit(
            f"bench_dask: {' '.join(map(str, cmd))} exited {proc.returncode} with {len(runs)} runs "
            f"({len(bad)} not ok)\nstdout:\n{proc.stdout[-3000:]}\nstderr:\n{proc.stderr[-3000:]}"
        )
    return {
        "wall_s": round(wall, 2),
        "runs_s": [round(m.get("duration_s") or 0.0, 2) for m in runs],
        "load_before": before,
        "load_after": load(),
        "stdout_tail": proc.stdout[-400:],
    }


def cluster_start_stop(workers: int = 1) -> float:
    """Seconds to start, connect to and close a bare ``LocalCluster`` as ``hw batch`` does."""
    code = (
        "import time; t = time.perf_counter()\n"
        "from hwutils.runs.cluster import open_cluster\n"
        f"with open_cluster({workers}) as c: c.wait_for_workers({workers})\n"
        "print(time.perf_counter() - t)"
    )
    proc = subprocess.run(
        [str(PYTHON), "-c", code], cwd=ROOT, capture_output=True, text=True, timeout=300, check=True
    )
    return round(float(proc.stdout.strip().splitlines()[-1]), 2)


def mean(xs):
    return statistics.fmean(xs) if xs else float("nan")


def bench_overhead(tmp: Path, n_runs: int, reps: int) -> dict:
    params = []
    for i in range(n_runs):
        p = tmp / "params" / "tiny" / f"seed{i}.yaml"
        p.parent.mkdir(parents=True, exist_ok=True)
        p.write_text(f"n: 32\nepochs: 2\nseed: {i}\n")
        params.append(p)
    cmds = {
        "local": [HW, "batch", *params, "--local", "-j", "1"],
        "dask": [HW, "batch", *params, "-j", "1"],
    }
    # one untimed run first: the first notebook start after a while pays for cold caches
    timed([HW, "run", "tiny", "-f", params[0]], tmp / "warmup-a", PROJECT, 1)
    reps_out = []
    for rep in range(reps):
        order = ["local", "dask"] if rep % 2 == 0 else ["dask", "local"]
        r = {"order": order}
        for mode in order:
            r[mode] = timed(cmds[mode], tmp / f"a-{mode}-{rep}", PROJECT, n_runs)
            print(
                f"  rep {rep + 1} {mode:5s}: {r[mode]['wall_s']:6.1f} s wall, runs "
                f"{sum(r[mode]['runs_s']):5.1f} s in all, load {r[mode]['load_before'][0]:.2f}"
                f"->{r[mode]['load_after'][0]:.2f}",
                flush=True,
            )
        r["cluster_start_stop_s"] = cluster_start_stop(1)
        reps_out.append(r)
    local = mean([r["local"]["wall_s"] for r in reps_out])
    dask = mean([r["dask"]["wall_s"] for r in reps_out])
    pct = 100 * (dask - local) / local
    per_run = (dask - local) / n_runs
    for r in reps_out:
        for mode in ("local", "dask"):
            r[mode]["outside_runs_s"] = round(r[mode]["wall_s"] - sum(r[mode]["runs_s"]), 2)
    per_rep = [
        {
            "overhead_pct": round(
                100 * (r["dask"]["wall_s"] - r["local"]["wall_s"]) / r["local"]["wall_s"], 1
            ),
            "overhead_s_per_run": round((r["dask"]["wall_s"] - r["local"]["wall_s"]) / n_runs, 2),
            "outside_runs_overhead_s_per_run": round(
                (r["dask"]["outside_runs_s"] - r["local"]["outside_runs_s"]) / n_runs, 2
            ),
        }
        for r in reps_out
    ]
    outside = {m: mean([r[m]["outside_runs_s"] for r in reps_out]) for m in ("local", "dask")}
    return {
        "notebook": "tests/project/notebooks/tiny.ipynb (n: 32, epochs: 2, one params file per seed)",
        "commands": {k: " ".join(["hw", *map(str, v[1:])]) for k, v in cmds.items()},
        "n_runs": n_runs,
        "repetitions": reps_out,
        "per_repetition": per_rep,
        "local_wall_s_mean": round(local, 2),
        "dask_wall_s_mean": round(dask, 2),
        "overhead_pct": round(pct, 1),
        "overhead_s_per_run": round(per_run, 2),
        "outside_runs_s_mean": {m: round(v, 2) for m, v in outside.items()},
        "outside_runs_overhead_s_per_run": round((outside["dask"] - outside["local"]) / n_runs, 2),
        "cluster_start_stop_s_mean": round(mean([r["cluster_start_stop_s"] for r in reps_out]), 2),
        "target_pct": OVERHEAD_PCT_TARGET,
        "target_s_per_run": OVERHEAD_S_PER_RUN_TARGET,
        "pass_pct": pct <= OVERHEAD_PCT_TARGET,
        "pass_s_per_run": per_run <= OVERHEAD_S_PER_RUN_TARGET,
    }


def bench_sweep(tmp: Path, reps: int, stage: str, param: str, values: list[str], seeds: list[int]) -> dict:
    sweep_cmd = [
        HW,
        "sweep",
        stage,
        "-f",
        "smoke",
        "-g",
        f"{param}={','.join(values)}",
        "--seeds",
        ",".join(map(str, seeds)),
        "-j",
        "2",
    ]
    serial_cmds = [
        [HW, "run", stage, "-f", "smoke", "-p", param, v, "-p", "seed", str(s)] for v in values for s in seeds
    ]
    n = len(serial_cmds)
    timed(serial_cmds[0], tmp / "warmup-b", None, 1)
    reps_out = []
    for rep in range(reps):
        order = ["serial", "sweep"] if rep % 2 == 0 else ["sweep", "serial"]
        r = {"order": order}
        for mode in order:
            if mode == "sweep":
                r["sweep"] = timed(sweep_cmd, tmp / f"b-sweep-{rep}", None, n)
                folder = next((tmp / f"b-sweep-{rep}" / "sweeps").iterdir())
                record = json.loads((folder / "sweep.json").read_text())
                r["sweep"]["sweep_status"] = record.get("status")
                r["sweep"]["report_written"] = (folder / "report.html").is_file()
            else:
                out = tmp / f"b-serial-{rep}"
                before, t0, parts = load(), time.perf_counter(), []
                for cmd in serial_cmds:
                    parts.append(timed(cmd, out, None, 0))
                r["serial"] = {
                    "wall_s": round(time.perf_counter() - t0, 2),
                    "runs_s": [round(m.get("duration_s") or 0.0, 2) for m in manifests(out)],
                    "each_wall_s": [p["wall_s"] for p in parts],
                    "load_before": before,
                    "load_after": load(),
                }
                if len(r["serial"]["runs_s"]) != n:
                    raise SystemExit(f"bench_dask: {len(r['serial']['runs_s'])} serial runs, expected {n}")
            print(
                f"  rep {rep + 1} {mode:6s}: {r[mode]['wall_s']:6.1f} s wall, runs "
                f"{', '.join(f'{x:.0f}' for x in r[mode]['runs_s'])} s, load {r[mode]['load_before'][0]:.2f}"
                f"->{r[mode]['load_after'][0]:.2f}",
                flush=True,
            )
        r["speedup"] = round(r["serial"]["wall_s"] / r["sweep"]["wall_s"], 2)
        reps_out.append(r)
    serial = mean([r["serial"]["wall_s"] for r in reps_out])
    sweep = mean([r["sweep"]["wall_s"] for r in reps_out])
    return {
        "commands": {
            "sweep": " ".join(["hw", *map(str, sweep_cmd[1:])]),
            "serial": [" ".join(["hw", *map(str, c[1:])]) for c in serial_cmds],
        },
        "n_runs": n,
        "repetitions": reps_out,
        "serial_wall_s_mean": round(serial, 2),
        "sweep_wall_s_mean": round(sweep, 2),
        "speedup": round(serial / sweep, 2),
        "speedup_per_repetition": [r["speedup"] for r in reps_out],
        "cpu_count": os.cpu_count(),
        "note": "2 workers on a machine of os.cpu_count() cores; each run's TensorFlow already uses "
        "every core, so the speed-up is bounded well below 2x on 2 cores",
    }


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--quick", action="store_true", help="3 runs, one repetition of each measurement")
    ap.add_argument("--reps", type=int, help="repetitions of each measurement (default 2; --quick 1)")
    ap.add_argument("--only", choices=("batch", "sweep"), help="only measurement 1 (batch) or 2 (sweep)")
    ap.add_argument("--out", type=Path, default=ROOT / "benchmarks" / "results" / "dask.json")
    ap.add_argument("--keep", action="store_true", help="keep the temporary outputs folders")
    ap.add_argument("--stage", default="writer_id", help="the smoke stage of the sweep")
    ap.add_argument("--param", default="learning_rate", help="the swept parameter")
    ap.add_argument("--values", default="0.001,0.002", help="its two values")
    args = ap.parse_args()
    if not HW.exists():
        raise SystemExit(f"bench_dask: no {HW} (make setup)")
    n_runs, reps = (3, 1) if args.quick else (4, 2)
    reps = args.reps or reps
    tmp = Path(tempfile.mkdtemp(prefix="bench_out_dask_"))
    out = {
        "date": datetime.now().astimezone().isoformat(timespec="seconds"),
        "quick": args.quick,
        "only": args.only,
        "machine": {
            "cpu_count": os.cpu_count(),
            "platform": platform.platform(),
            "python": platform.python_version(),
        },
        "load_average_at_start": load(),
    }
    try:
        out["git_commit"] = subprocess.run(
            ["git", "rev-parse", "--short", "HEAD"], cwd=ROOT, capture_output=True, text=True
        ).stdout.strip()
        import dask
        import distributed

        out["versions"] = {"dask": dask.__version__, "distributed": distributed.__version__}
    except Exception:
        pass
    t_start = time.perf_counter()
    print(f"outputs under {tmp}; load average {out['load_average_at_start']}, {os.cpu_count()} CPUs")
    try:
        if args.only != "sweep":
            print(f"1. hw batch --local -j 1 against hw batch -j 1 (Dask), {n_runs} tiny runs x {reps}")
            a = bench_overhead(tmp, n_runs, reps)
            out["batch_overhead"] = a
            print(
                f"local {a['local_wall_s_mean']:.1f} s, Dask {a['dask_wall_s_mean']:.1f} s (mean of {reps}): "
                f"overhead {a['overhead_pct']:+.1f}% [{'PASS' if a['pass_pct'] else 'FAIL'} "
                f"<= {OVERHEAD_PCT_TARGET:.0f}%], {a['overhead_s_per_run']:+.2f} s per run "
                f"[{'PASS' if a['pass_s_per_run'] else 'FAIL'} <= {OVERHEAD_S_PER_RUN_TARGET:.0f} s]"
            )
            print(
                f"wall time outside the runs' own durations (the manifests' duration_s, which move with "
                f"the load): local {a['outside_runs_s_mean']['local']:.1f} s, Dask "
                f"{a['outside_runs_s_mean']['dask']:.1f} s, {a['outside_runs_overhead_s_per_run']:+.2f} s "
                f"per run; a bare 1-worker LocalCluster starts and stops in "
                f"{a['cluster_start_stop_s_mean']:.1f} s",
                flush=True,
            )
        if args.only != "batch":
            values = [v.strip() for v in args.values.split(",")]
            print(
                f"2. hw sweep {args.stage} -f smoke -g {args.param}={args.values} --seeds 0-1 -j 2 against "
                f"the same {2 * len(values)} runs one after another, x {reps}",
                flush=True,
            )
            b = bench_sweep(tmp, reps, args.stage, args.param, values, [0, 1])
            out["sweep_vs_serial"] = b
            print(
                f"serial {b['serial_wall_s_mean']:.1f} s, sweep on 2 workers {b['sweep_wall_s_mean']:.1f} s "
                f"(mean of {reps}): speed-up {b['speedup']:.2f}x on {os.cpu_count()} cores (each "
                f"repetition: {', '.join(f'{x:.2f}x' for x in b['speedup_per_repetition'])}). Below 2x "
                f"expected on 2 cores, each run's TensorFlow already using both; near or above 2x there "
                f"means the machine's load changed between the two",
                flush=True,
            )
    finally:
        out["load_average_at_end"] = load()
        out["total_s"] = round(time.perf_counter() - t_start, 1)
        if not args.keep:
            shutil.rmtree(tmp, ignore_errors=True)
    from hwutils import report

    report.write_json_atomic(args.out, out)
    print(f"load average at end {out['load_average_at_end']}; total {out['total_s']:.0f} s; saved {args.out}")


if __name__ == "__main__":
    main()
