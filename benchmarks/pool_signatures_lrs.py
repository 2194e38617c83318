"""The signature runs of a sweep (or any runs) summarised together, and their
likelihood ratios measured on all their test persons at once (issue 27).

A run measures its LRs on its own 10 test persons (~100 trials of each kind);
lir's Cllr_min fits those few trials (PAV), so the run's calibration loss
(Cllr - Cllr_min) is inflated by the small sample. Here every run's test trials
keep the LR that run's own calibrator gave them (``artifacts/lr_trials.csv``,
written by the notebook) and Cllr, Cllr_min, the calibration loss, RMEP and
RMED are measured on all of them together, beside the runs' own figures (mean
± s.d.). Nothing is refitted.

    .venv/bin/python benchmarks/pool_signatures_lrs.py outputs/sweeps/signatures-<ID>
    .venv/bin/python benchmarks/pool_signatures_lrs.py outputs/signatures/<RUN1> outputs/signatures/<RUN2> ...
"""

from __future__ import annotations

import argparse
import csv
import json
from pathlib import Path

import numpy as np
import yaml

from hwutils.signatures import lr

FIGURES = [
    ("test_eer_skilled", "skilled EER, global", 100),
    ("test_eer_skilled_per_user", "skilled EER, per person", 100),
    ("test_frr", "FRR at the calibration threshold", 100),
    ("test_far_skilled", "FAR skilled at the calibration threshold", 100),
    ("shifted_eer_skilled", "other collection: skilled EER", 100),
    ("shifted_far_skilled", "other collection: FAR skilled", 100),
    ("test_eer_random", "random-forgery EER", 100),
    ("lr_cllr", "LR Cllr", 1),
    ("lr_cllr_min", "LR Cllr_min", 1),
    ("lr_calibration_loss", "LR calibration loss", 1),
    ("lr_rmep", "LR RMEP", 100),
    ("lr_rmed", "LR RMED", 100),
    ("shifted_lr_calibration_loss", "other collection: LR calibration loss", 1),
]


def run_dirs(paths) -> list[Path]:
    """Run folders named directly, or the runs of a sweep folder (its ``sweep.json``)."""
    out = []
    for p in map(Path, paths):
        if (p / "sweep.json").is_file():
            sweep = json.loads((p / "sweep.json").read_text())
            root = p.parents[1]  # <outputs>/sweeps/<id> -> <outputs>
            out += [root / pt["run"] for pt in sweep["points"] if pt.get("status") == "ok"]
        else:
            out.append(p)
    return out


def read_rows(run: Path) -> list[dict]:
    path = run / "artifacts" / f"{lr.TRIALS_FILE}.csv"
    if not path.is_file():
        raise SystemExit(f"{path}: missing (runs before issue 27's third pass do not save their trials' LRs)")
    with open(path, newline="") as fh:
        return [{**r, "person": f"{run.name}:{r['person']}"} for r in csv.DictReader(fh)]


def main(argv=None) -> dict:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("paths", nargs="+", help="a sweep folder, or run folders")
    args = ap.parse_args(argv)
    runs = run_dirs(args.paths)
    metrics = [json.loads((r / "metrics.json").read_text()) for r in runs]
    seeds = [yaml.safe_load((r / "params.yaml").read_text()).get("seed", "?") for r in runs]
    print(f"{len(runs)} runs: " + ", ".join(f"{r.name} (seed {s})" for r, s in zip(runs, seeds)))
    summary = {}
    for key, name, unit in FIGURES:
        v = np.array([float(m[key]) for m in metrics if m.get(key) is not None], float)
        if not len(v):
            continue
        sd = float(np.std(v, ddof=1)) if len(v) > 1 else float("nan")
        summary[key] = {"mean": float(np.mean(v)), "sd": sd, "values": v.tolist()}
        each = " ".join(f"{unit * x:.3g}" for x in v)
        print(f"  {name:42s} {unit * np.mean(v):7.3f} ± {unit * sd:.3f}   ({each})")
    rows = [row for r in runs for row in read_rows(r)]
    for collection in ("test", "shifted"):
        p = lr.pooled(rows, collection)
        if not p["lr_n_genuine"]:
            continue
        summary[f"pooled_{collection}"] = p
        print(
            f"  pooled {collection} trials ({p['persons']} person-runs, {p['lr_n_genuine']} genuine /"
            f" {p['lr_n_forgery']} skilled): Cllr {p['lr_cllr']:.3f}, Cllr_min {p['lr_cllr_min']:.3f},"
            f" calibration loss {p['lr_calibration_loss']:.3f}, RMEP {100 * p['lr_rmep']:.1f}%,"
            f" RMED {100 * p['lr_rmed']:.1f}%"
        )
    return summary


if __name__ == "__main__":
    main()
