"""Skilled-forgery EER of a signatures params file over several person splits
(repeated hold-out): one figure on one set of 10 held-out persons moves by
points from split to split, so the goal is read on several.

A thin wrapper around one sweep over seeds: the seed draws other test and
validation persons and other random starts, and each seed is one normal,
versioned run folder of the sweep::

    hw sweep signatures -f params/signatures/sign_data.yaml --seeds 0-4 -j 1

(``--print`` prints that line and exits.) The sweep's folder
(``outputs/sweeps/<ID>/``: ``sweep.json``, ``report.html`` with the mean and
standard deviation over seeds) is then read back: one row per split and the
mean, s.d. (sample) and range of the global and per-user EER, as the sweep's
report has them. ``--sweep ID`` reads a finished sweep instead of starting one;
``--runs`` summarises finished run folders. Writes
``benchmarks/results/signatures_splits.json`` and ``signatures_splits.png``.

    HW_DATA=../shared/data .venv/bin/python benchmarks/splits_signatures.py --seeds 0 1 2   # ~4 min a run
    HW_DATA=../shared/data .venv/bin/python benchmarks/splits_signatures.py --seeds 0-4 --print
    .venv/bin/python benchmarks/splits_signatures.py --sweep signatures-20261203-...
    .venv/bin/python benchmarks/splits_signatures.py --runs outputs/signatures/<RUN_A> outputs/signatures/<RUN_B>

Recorded (``benchmarks/signatures_experiments.md``, session 7, commit f9e8d7a,
2 CPU cores): five splits (seeds 0-4) of ``sign_data.yaml`` give a skilled EER
of 7.0% on average with a global threshold (s.d. 3.1; 4.9-12.4%; at most 5% in
2 of 5 splits) and 4.5% with per-user thresholds (3.5-5.1%; at most 5% in 4 of 5),
about 4 min a run.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import shlex
import subprocess
import sys
from pathlib import Path

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from hwutils import plots  # noqa: E402
from hwutils.errors import HwError  # noqa: E402
from hwutils.runs.project import outputs_root  # noqa: E402
from hwutils.runs.sweep_record import read_sweep  # noqa: E402
from hwutils.runs.sweep_report import mean_std  # noqa: E402

KEYS = ("test_eer_skilled", "test_eer_skilled_per_user", "test_eer_random", "test_frr", "test_far_skilled")
SUMMARISED = ("test_eer_skilled", "test_eer_skilled_per_user")
STARTED = re.compile(r"^hw: sweep (\S+): \d+ runs -> ")


def read_run(run_dir: Path) -> dict:
    """Seed, test persons and the test metrics of one finished signatures run."""
    run_dir = Path(run_dir)
    try:
        metrics = json.loads((run_dir / "metrics.json").read_text())
        split = json.loads((run_dir / "artifacts" / "split.json").read_text())
        params = (run_dir / "params.yaml").read_text()
    except (OSError, ValueError) as exc:
        raise HwError(f"{run_dir}: not a finished signatures run ({exc})") from None
    seed = next(
        (line.split(":", 1)[1].strip() for line in params.splitlines() if line.startswith("seed:")), "?"
    )
    return {
        "run": str(run_dir),
        "seed": seed,
        "test_persons": split["test"],
        **{k: metrics.get(k) for k in KEYS},
        "seconds": metrics.get("total_seconds"),
    }


def summary(rows: list[dict], key: str) -> dict:
    """Mean and sample s.d. over the splits (``hw sweep``'s ``mean_std``, as in its report), and the range."""
    values = [r[key] for r in rows if r[key] is not None]
    mean, sd = mean_std(values)
    return {"mean": mean, "sd": sd or 0.0, "min": min(values), "max": max(values)}


def seeds_text(tokens: list[str]) -> str:
    """``0 1 2`` (the former form), ``0-4`` or ``0,3``: one ``--seeds`` value for ``hw sweep``."""
    return ",".join(t.strip() for tok in tokens for t in tok.split(",") if t.strip())


def sweep_command(file: str, seeds: str, jobs: int) -> list[str]:
    return ["hw", "sweep", "signatures", "-f", file, "--seeds", seeds, "-j", str(jobs)]


def run_sweep(cmd: list[str]) -> str:
    """Run the sweep (its lines shown as they come); its id."""
    hw = ROOT / ".venv" / "bin" / "hw"
    exe = [str(hw)] if hw.exists() else [sys.executable, "-m", "hwutils"]
    proc = subprocess.Popen(
        exe + cmd[1:], cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, bufsize=1
    )
    sweep_id = ""
    for line in proc.stdout:
        sys.stdout.write(line)
        sys.stdout.flush()
        m = STARTED.match(line)
        if m and not sweep_id:
            sweep_id = m.group(1)
    code = proc.wait()
    if not sweep_id:
        raise SystemExit(code or 1)
    if code:
        print(f"splits_signatures: the sweep exited {code}; summarising its finished runs", file=sys.stderr)
    return sweep_id


def sweep_run_dirs(sweep_id: str) -> tuple[str, list[Path]]:
    """The sweep's id and its finished runs' folders, from its ``sweep.json``."""
    outputs = outputs_root()
    record = read_sweep(outputs, sweep_id)
    dirs = [outputs / p["run"] for p in record["points"] if p.get("run") and p.get("status") == "ok"]
    if not dirs:
        raise HwError(f"sweep {record['sweep_id']}: no finished run")
    return record["sweep_id"], dirs


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--file", default="params/signatures/sign_data.yaml", help="params file of each run")
    ap.add_argument("--seeds", nargs="*", default=["0-4"], help="0 1 2, 0-4 or 0,3 (default 0-4)")
    ap.add_argument("-j", "--jobs", type=int, default=1, help="runs at a time (hw sweep -j)")
    ap.add_argument("--print", action="store_true", help="print the hw sweep command and exit")
    ap.add_argument("--sweep", metavar="ID", help="a finished sweep to summarise (no new runs)")
    ap.add_argument("--runs", nargs="*", help="finished run folders to summarise (no new runs)")
    ap.add_argument("--goal", type=float, default=0.05, help="skilled EER goal, drawn on the figure")
    args = ap.parse_args()
    cmd = sweep_command(args.file, seeds_text(args.seeds), args.jobs)
    if args.print:
        print(shlex.join(cmd))
        return
    sweep_id = None
    if args.runs:
        run_dirs = [Path(r) for r in args.runs]
    else:
        sweep_id, run_dirs = sweep_run_dirs(args.sweep or run_sweep(cmd))
    rows = [read_run(d) for d in run_dirs]
    print(
        f"{'seed':>4s}  {'EER skilled':>11s}  {'per-user':>8s}  {'random':>6s}  {'FRR':>5s}  {'FAR sk':>6s}  test persons"
    )
    for r in rows:
        print(
            f"{r['seed']:>4s}  {100 * r['test_eer_skilled']:10.1f}%  {100 * r['test_eer_skilled_per_user']:7.1f}%  "
            f"{100 * r['test_eer_random']:5.1f}%  {100 * r['test_frr']:4.1f}%  {100 * r['test_far_skilled']:5.1f}%  "
            f"{','.join(r['test_persons'])}"
        )
    stats = {k: summary(rows, k) for k in SUMMARISED}
    for k, s in stats.items():
        print(
            f"{k}: mean {100 * s['mean']:.1f}%, s.d. {100 * s['sd']:.1f}, range {100 * s['min']:.1f}-{100 * s['max']:.1f}%; "
            f"at most {100 * args.goal:.0f}% in {sum(r[k] <= args.goal for r in rows)} of {len(rows)} splits"
        )
    if sweep_id:
        print(f"sweep {sweep_id}: report {outputs_root() / 'sweeps' / sweep_id / 'report.html'}")
    out = ROOT / "benchmarks" / "results"
    out.mkdir(parents=True, exist_ok=True)
    record = {
        "file": args.file,
        "goal": args.goal,
        "sweep": sweep_id,
        "command": shlex.join(cmd) if sweep_id and not args.sweep else None,
        "runs": rows,
        "summary": stats,
    }
    (out / "signatures_splits.json").write_text(json.dumps(record, indent=2) + "\n")
    values = {
        f"seed {r['seed']}\n{name}": 100 * r[key]
        for r in rows
        for name, key in (("global", "test_eer_skilled"), ("per-user", "test_eer_skilled_per_user"))
    }
    fig = plots.bar(values, title="Skilled-forgery EER on held-out persons, per split", ylabel="EER (%)")
    fig.axes[0].axhline(100 * args.goal, color="tab:red", linestyle="--")
    fig.savefig(out / "signatures_splits.png", dpi=110, bbox_inches="tight")
    print("wrote", out / "signatures_splits.json", "and signatures_splits.png")


if __name__ == "__main__":
    try:
        main()
    except HwError as exc:  # a bad run folder, sweep id or params file: one line, not a traceback
        raise SystemExit(f"splits_signatures: {exc}") from None
