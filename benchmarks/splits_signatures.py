"""Skilled-forgery EER of a signatures params file over several person splits
(repeated hold-out): one figure on one set of 10 held-out persons moves by
points from split to split, so the goal is read on several.

Each seed is one ``hw run signatures -f FILE -p seed S`` (a normal, versioned
run folder): the seed draws other test and validation persons and other random
starts. ``--runs`` summarises finished runs instead of starting new ones.
Prints one row per split and the mean, s.d. and range of the global and
per-user EER; writes ``benchmarks/results/signatures_splits.json`` and
``signatures_splits.png``.

    HW_DATA=../shared/data .venv/bin/python benchmarks/splits_signatures.py --seeds 0 1 2   # ~4 min a run
    .venv/bin/python benchmarks/splits_signatures.py --runs outputs/signatures/<RUN_A> outputs/signatures/<RUN_B>
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
from pathlib import Path

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

from hwutils import plots  # noqa: E402
from hwutils.errors import HwError  # noqa: E402
from hwutils.runs.execute import RunRequest, execute  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]
KEYS = ("test_eer_skilled", "test_eer_skilled_per_user", "test_eer_random", "test_frr", "test_far_skilled")


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
    values = [r[key] for r in rows if r[key] is not None]
    return {
        "mean": statistics.fmean(values),
        "sd": statistics.stdev(values) if len(values) > 1 else 0.0,
        "min": min(values),
        "max": max(values),
    }


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--file", default="params/signatures/sign_data.yaml", help="params file of each run")
    ap.add_argument("--seeds", type=int, nargs="*", default=[0, 1, 2])
    ap.add_argument("--runs", nargs="*", help="finished run folders to summarise (no new runs)")
    ap.add_argument("--goal", type=float, default=0.05, help="skilled EER goal, drawn on the figure")
    args = ap.parse_args()
    if args.runs:
        run_dirs = [Path(r) for r in args.runs]
    else:
        run_dirs = []
        for seed in args.seeds:
            result = execute(
                RunRequest("signatures", [args.file], [("seed", str(seed))], f"splits seed {seed}")
            )
            print(f"hw: {result.message}", flush=True)
            if result.exit_code:
                raise SystemExit(result.exit_code)
            run_dirs.append(result.run_dir)
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
    stats = {k: summary(rows, k) for k in ("test_eer_skilled", "test_eer_skilled_per_user")}
    for k, s in stats.items():
        print(
            f"{k}: mean {100 * s['mean']:.1f}%, s.d. {100 * s['sd']:.1f}, range {100 * s['min']:.1f}-{100 * s['max']:.1f}%; "
            f"at most {100 * args.goal:.0f}% in {sum(r[k] <= args.goal for r in rows)} of {len(rows)} splits"
        )
    out = ROOT / "benchmarks" / "results"
    out.mkdir(parents=True, exist_ok=True)
    (out / "signatures_splits.json").write_text(
        json.dumps({"file": args.file, "goal": args.goal, "runs": rows, "summary": stats}, indent=2) + "\n"
    )
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
    except HwError as exc:  # a bad run folder or params file: one line, not a traceback
        raise SystemExit(f"splits_signatures: {exc}") from None
