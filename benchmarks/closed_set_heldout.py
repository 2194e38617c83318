"""A writer_id run's LRs in a closed set larger than its validation: every
writer the run held out of training and calibration is enrolled from the top
half of their page (``WriterIdentifier.enrol``, as a user adds a person of
interest), and the bottom half of every held-out page is identified against
all references: the run's known (training) writers and the enrolled writers.

Same-writer trials: each held-out writer's bottom half against their own
enrolled top half. Different-writer trials: against every other reference,
known writers included. ``lr_validation`` compares the held-out writers only
with each other; here they also meet the writers the run trained on, whose
references are the run's own. Prints Cllr, RMEP, RMED, the shares of wrong
LRs above 10 and 100 and the largest, and the worst pairs; writes
``benchmarks/results/closed_set_heldout.json``.

    HW_DATA=../shared/data hw run writer_id -f params/writer_id/csafe.yaml -p unknown_writers 15
    HW_DATA=../shared/data .venv/bin/python benchmarks/closed_set_heldout.py outputs/writer_id/<RUN_ID>
"""

from __future__ import annotations

import argparse
import json
import os
from pathlib import Path

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import numpy as np  # noqa: E402

from hwutils.calibration import lr_metrics, misleading_rates  # noqa: E402
from hwutils.datasets.pages import segment_lines  # noqa: E402
from hwutils.images import read_gray  # noqa: E402
from hwutils.writer_id.identify import WriterIdentifier  # noqa: E402
from hwutils.writer_id.roles import run_writers  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("run", help="a writer_id run with held-out writers (unknown_writers > 0)")
    ap.add_argument(
        "--pages", default=os.path.join(os.environ.get("HW_DATA", "../shared/data"), "csafe_pages")
    )
    ap.add_argument("--out", default=str(ROOT / "benchmarks" / "results" / "closed_set_heldout.json"))
    args = ap.parse_args()
    held = run_writers(args.run)["heldout"]
    if not held:
        raise SystemExit(f"{args.run}: the run held no writer out (train it with unknown_writers > 0)")
    wid = WriterIdentifier.load(args.run)
    known = [n for n in wid.lr_model.refs.names if n not in held]  # the writers the run trained on
    halves = {}
    for w in held:
        page = next(Path(args.pages).glob(f"w{w}_*.png"))
        lines = [lb.image for lb in segment_lines(read_gray(page))]
        cut = len(lines) // 2
        halves[w] = (lines[:cut], lines[cut:])
    for w, (top, _) in halves.items():
        wid.enrol(f"enrolled-{w}", top)
    llrs, same, pairs = [], [], []
    for w, (_, bottom) in halves.items():
        res = wid.identify_lines(bottom)
        for name, v in res.log10_lr:
            truth = int(name in (f"enrolled-{w}", w))  # the run may hold an enrolment of its own
            llrs.append(v)
            same.append(truth)
            pairs.append((w, name, float(v), len(bottom)))
    llr, same = np.array(llrs), np.array(same)
    m, r = lr_metrics(llr, same), misleading_rates(llr, same)
    wrong = llr[same == 0]
    out = {
        "run": str(args.run),
        "known_writers": len(known),
        "heldout_writers": len(held),
        "n_same": int(same.sum()),
        "n_different": int((1 - same).sum()),
        "cllr": m["cllr"],
        "cllr_min": m["cllr_min"],
        "rmep": r["rmep"],
        "rmed": r["rmed"],
        "wrong_over_10": float(np.mean(wrong > 1)),
        "wrong_over_100": float(np.mean(wrong > 2)),
        "h2_log10_lr_max": float(wrong.max()),
        "h1_log10_lr_min": float(llr[same == 1].min()),
        "against_known": float(np.mean([v > 0 for w, n, v, _ in pairs if n in known])),
        "against_enrolled": float(
            np.mean([v > 0 for w, n, v, _ in pairs if n not in known and not n.endswith(w)])
        ),
        "worst": sorted(
            (
                {"questioned": w, "reference": n, "log10_lr": v, "lines": k}
                for w, n, v, k in pairs
                if not n.endswith(w)
            ),
            key=lambda d: -d["log10_lr"],
        )[:8],
    }
    print(
        f"{len(held)} held-out writers enrolled from half a page, {len(known)} known writers;"
        f" {out['n_same']} same / {out['n_different']} different trials"
    )
    print(
        f"Cllr {out['cllr']:.3f} (min {out['cllr_min']:.3f}), RMEP {100 * out['rmep']:.1f}%, RMED"
        f" {100 * out['rmed']:.1f}% (against known writers {100 * out['against_known']:.1f}%, against enrolled"
        f" {100 * out['against_enrolled']:.1f}%), wrong LR > 10: {100 * out['wrong_over_10']:.1f}%, > 100:"
        f" {100 * out['wrong_over_100']:.1f}%, largest wrong log10 LR {out['h2_log10_lr_max']:+.2f}, smallest"
        f" right {out['h1_log10_lr_min']:+.2f}"
    )
    for d in out["worst"]:
        print(
            f"  w{d['questioned']} ({d['lines']} lines) against {d['reference']}: log10 LR {d['log10_lr']:+.2f}"
        )
    path = Path(args.out)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(out, indent=1))
    print(f"wrote {path}")


if __name__ == "__main__":
    main()
