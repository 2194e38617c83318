"""Page LRs for pages shorter than the calibration pages, cross-validated over a
writer_id run's held-out calibration writers: each document size judged by the
page calibration (the calibration writers' page size), by the calibration of
its own size (``LRModel.unit_for``, issue 26) and by the line calibration.

The calibration writers are cut into ``--folds`` folds; a model is fitted on
the other folds' writers (and the run's training writers' texture, as the run
does) and tested on pages of n lines of the held-out writers against
references of ``--ref-lines`` other lines (``calibration_trials``, 20 draws).
Prints Cllr, Cllr_min, RMEP, RMED and the extreme LRs per size and scorer;
writes ``benchmarks/results/cv_writer_page_sizes.json``. With ``--shorter-scorers``
each size is also judged by the calibration of every shorter page size: the
stand-in for a document longer than the run's calibration pages (which the
calibration writers' own pages cannot show).

    HW_DATA=../shared/data hw run writer_id -f params/writer_id/csafe.yaml
    .venv/bin/python benchmarks/cv_writer_page_sizes.py outputs/writer_id/<RUN_ID> --ref-lines 5
"""

from __future__ import annotations

import argparse
import json
import os
from pathlib import Path

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import numpy as np  # noqa: E402

from hwutils.calibration import lr_metrics, misleading_rates  # noqa: E402
from hwutils.runfolder import artifacts_folder  # noqa: E402
from hwutils.writer_id import lr as wlr  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("run", help="a writer_id run folder with held-out calibration writers")
    ap.add_argument(
        "--ref-lines", type=int, default=0, help="lines per reference (0: the calibration page size)"
    )
    ap.add_argument("--folds", type=int, default=3)
    ap.add_argument(
        "--sizes", type=int, nargs="*", help="page sizes to test (default: 2, 3, 4, 6 and the page)"
    )
    ap.add_argument(
        "--shorter-scorers",
        action="store_true",
        help="also judge each size by every page scorer of a shorter page (page:2, page:3, ...): what a"
        " page longer than the run's calibration pages is exposed to",
    )
    ap.add_argument("--out", default=str(ROOT / "benchmarks" / "results" / "cv_writer_page_sizes.json"))
    args = ap.parse_args()
    art = artifacts_folder(Path(args.run), "writer_id.json", "writer_id")
    cal = wlr.load_calibration_lines(art)
    if cal is None:
        raise SystemExit(
            f"{args.run}: no calibration_lines.npz (a run with calibration_writers > 0 is needed)"
        )
    tex = wlr.load_texture_lines(art)
    pool = wlr.texture_only(tex, cal.embeddings.shape[1]) if tex is not None else None
    refs = wlr.References.load(art / wlr.EVIDENCE_FILE)
    page = cal.median_page_lines()
    ref_lines = args.ref_lines or page
    sizes = args.sizes or sorted({n for n in (2, 3, 4, 6) if n < page} | {page})
    writers = np.array(sorted(set(cal.writers.tolist())))
    folds = np.array_split(np.random.default_rng(0).permutation(writers), args.folds)
    print(f"{len(writers)} calibration writers, pages of {page} lines, references of {ref_lines} lines")
    kept = {}
    for k, test_writers in enumerate(folds):
        held = np.isin(cal.writers, test_writers)
        fit, test = cal.subset(np.flatnonzero(~held)), cal.subset(np.flatnonzero(held))
        model = wlr.LRModel.fit(refs, None, fit, ref_lines=ref_lines, texture_lines=pool)
        for n in sizes:
            unit = "line" if n == 1 else "page"
            sims, same = wlr.calibration_trials(
                test, refs, unit, draws=20, seed=100 + k, page_lines=n, reference_lines=ref_lines
            )
            scorers = [("page", "page"), ("own size", model.unit_for(n)), ("line", "line")]
            if args.shorter_scorers:  # sized scorers of shorter pages than n (page:k, k < n)
                scorers += [(k, k) for k in model.scorers if k.startswith("page:") and int(k[5:]) < n]
            for name, key in scorers:
                llr = model.scorers[key].log10_lr(sims)
                kept.setdefault((n, name), ([], [], key))
                kept[(n, name)][0].append(llr)
                kept[(n, name)][1].append(same)
    rows = []
    for (n, name), (llrs, sames, key) in sorted(kept.items()):
        llr, same = np.concatenate(llrs), np.concatenate(sames)
        m, r = lr_metrics(llr, same), misleading_rates(llr, same)
        row = {
            "lines": n,
            "scorer": name,
            "unit": key,
            "n_same": int(same.sum()),
            "n_different": int((1 - same).sum()),
            "cllr": m["cllr"],
            "cllr_min": m["cllr_min"],
            "rmep": r["rmep"],
            "rmed": r["rmed"],
            "h2_log10_lr_max": float(llr[same == 0].max()),
            "h1_log10_lr_min": float(llr[same == 1].min()),
        }
        rows.append(row)
        print(
            f"{n:>2} lines, {name:8s} ({key:6s}): Cllr {row['cllr']:.3f} (min {row['cllr_min']:.3f}), "
            f"RMEP {100 * row['rmep']:.1f}%, RMED {100 * row['rmed']:.1f}%, largest wrong log10 LR "
            f"{row['h2_log10_lr_max']:+.2f}, smallest right {row['h1_log10_lr_min']:+.2f} "
            f"({row['n_same']} same / {row['n_different']} different)"
        )
    out = Path(args.out)
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(
        json.dumps({"run": str(args.run), "page_lines": page, "ref_lines": ref_lines, "rows": rows}, indent=1)
    )
    print(f"wrote {out}")


if __name__ == "__main__":
    main()
