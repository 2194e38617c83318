"""How the SVMs' C and the score normalisation were chosen in issue 27's third
pass, on the development persons only, without training anything: the writer
networks a sweep of ``sign_data.yaml`` saved (each run's ``signet.keras``) and
the run's own code recompute every split's trials (the test EER, FAR and LR
calibration loss of a run come out to the digit at the run's C).

For each seed's run and each C: the out-of-fold trials of the 33 development
persons (:func:`wd_fitting.cross_fitted_trials`, the run's 5 person folds), the
same persons re-rendered as another collection (references and questioned;
SVM negatives the other folds' original signatures), the test persons and the
test persons re-rendered. Then a nested person-fold CV over the development
persons: the fusion scales, the threshold (EER) and the LR calibration fitted
on four folds' trials, measured on the fifth; the held-out folds pooled. The
test persons' figures (threshold and LRs fixed on all development persons, as
the run does) are printed beside them for the record, not for choosing.

    HW_DATA=/work/shared/data .venv/bin/python benchmarks/cv_signatures_variants.py \\
        outputs/sweeps/signatures-<ID> --C 1 0.3

About 1 min a seed and C on 2 CPU cores. Writes
``benchmarks/results/cv_signatures_variants.json``.
"""

from __future__ import annotations

import argparse
import json
import os
from pathlib import Path

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import numpy as np  # noqa: E402
import yaml  # noqa: E402

from hwutils import training  # noqa: E402
from hwutils.calibration import lr_metrics, misleading_rates  # noqa: E402
from hwutils.datasets.sign_data import GENUINE, select  # noqa: E402
from hwutils.signatures import collection, data, lr, siamese, verify, wd_fitting  # noqa: E402
from hwutils.signatures import writer_dependent as wd  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]
HAND = "hog+dir+geom+pressure+glcm"
VARIANTS = {"raw": (0.0, 0.0), "the reference level": (1.0, 0.0), "z-norm, spread shrunk halfway": (1.0, 0.5)}


def subset(raw: dict, keep) -> dict:
    m = np.isin(raw["person"], list(keep))
    out = {k: v[m] for k, v in raw.items() if k != "loo"}
    out["loo"] = {n: {p: v for p, v in d.items() if p in keep} for n, d in raw["loo"].items()}
    return out


def scored(raw: dict, fit: dict, norm: float, spread: float) -> dict:
    scales = wd.fit_scales(fit, [k for k in raw["loo"]])
    return wd.as_distance_scores(raw, scales, norm, spread, wd.spread_prior(fit, scales))


def figures(cal: dict, parts: dict, norm: float, spread: float) -> dict:
    """Threshold and LR calibration on ``cal``; FRR/FAR, LR trials of each of ``parts``."""
    dc = scored(cal, cal, norm, spread)
    thr = verify.calibrate_threshold(dc)
    calibrator = lr.fit_calibration(dc, persons=len(set(cal["person"].tolist())))
    out = {}
    for name, raw in parts.items():
        d = scored(raw, cal, norm, spread)
        t, acc = d["type"], d["distance"] <= thr
        llr, same = lr.trial_lrs(calibrator, d)
        out[name] = {
            "scores": d,
            "llr": llr,
            "same": same,
            "false_reject": (~acc & (t == "genuine")).sum(),
            "genuine": (t == "genuine").sum(),
            "false_accept": (acc & (t == "skilled")).sum(),
            "skilled": (t == "skilled").sum(),
        }
    return out


def summarise(parts: list[dict]) -> dict:
    cat = {k: np.concatenate([p["scores"][k] for p in parts]) for k in ("person", "type", "distance")}
    e = verify.evaluate(cat, 0.0)
    llr, same = np.concatenate([p["llr"] for p in parts]), np.concatenate([p["same"] for p in parts])
    m, w = lr_metrics(llr, same), misleading_rates(llr, same)
    return {
        "eer_skilled": e["eer_skilled"],
        "eer_skilled_per_user": e["eer_skilled_per_user"],
        "frr": sum(p["false_reject"] for p in parts) / max(1, sum(p["genuine"] for p in parts)),
        "far_skilled": sum(p["false_accept"] for p in parts) / max(1, sum(p["skilled"] for p in parts)),
        "lr_calibration_loss": m["cllr_cal"],
        "lr_rmep": w["rmep"],
        "lr_rmed": w["rmed"],
    }


def one_run(run: Path, records, images, scan, shifted, C: float) -> dict:
    seed = int(yaml.safe_load((run / "params.yaml").read_text())["seed"])
    split = data.split_for_verification(records, 6, 10, seed)
    signet = training.load_model(run / "artifacts" / "verifier" / "signet.keras")
    pos = {id(r): i for i, r in enumerate(records)}
    dev = select(records, split["train"] + split["val"])
    di = np.array([pos[id(r)] for r in dev])
    ti = np.array([pos[id(r)] for r in split["test_records"]])
    sets = dict(wd.feature_sets(HAND, images, None, scan), signet=siamese.embed(signet, images))
    sets_sh = dict(
        wd.feature_sets(HAND, shifted[0], None, shifted[1]), signet=siamese.embed(signet, shifted[0])
    )
    extra, extra_sh = wd.shifted_copies(list(sets), images, 3), wd.shifted_copies(list(sets), shifted[0], 3)

    def rows(s, ix):
        return {k: v[ix] for k, v in s.items()}

    def cols(e, ix):
        return {k: v[:, ix] for k, v in e.items()}

    train = set(split["train"])
    negatives = {
        k: v[[i for i, r in enumerate(dev) if r.person in train and r.kind == GENUINE]]
        for k, v in rows(sets, di).items()
    }
    protocol = verify.make_trials(split["test_records"], split["test"], 5, seed)
    test = wd.raw_trials(rows(sets, ti), protocol, negatives, C, cols(extra, ti))
    test_sh = wd.raw_trials(rows(sets_sh, ti), protocol, negatives, C, cols(extra_sh, ti))
    folds = wd_fitting.person_folds(split["train"] + split["val"], 5, seed)
    everyone = set(split["train"] + split["val"])
    raws, raws_sh = [], []
    for fold in folds:
        neg = [i for i, r in enumerate(dev) if r.kind == GENUINE and r.person in everyone - set(fold)]
        fold_negatives = {k: v[neg] for k, v in rows(sets, di).items()}
        fold_protocol = verify.make_trials(dev, fold, 5, seed)
        raws.append(wd.raw_trials(rows(sets, di), fold_protocol, fold_negatives, C, cols(extra, di)))
        raws_sh.append(wd.raw_trials(rows(sets_sh, di), fold_protocol, fold_negatives, C, cols(extra_sh, di)))
    dev_raw, dev_sh = wd_fitting.merge_raw(raws), wd_fitting.merge_raw(raws_sh)
    out = {"seed": seed}
    for name, (norm, spread) in VARIANTS.items():
        held, held_sh = [], []
        for fold in folds:
            f = figures(
                subset(dev_raw, everyone - set(fold)),
                {"in": subset(dev_raw, set(fold)), "sh": subset(dev_sh, set(fold))},
                norm,
                spread,
            )
            held.append(f["in"])
            held_sh.append(f["sh"])
        t = figures(dev_raw, {"in": test, "sh": test_sh}, norm, spread)
        out[name] = {
            "dev_cv": summarise(held),
            "dev_cv_shifted": summarise(held_sh),
            "test": summarise([t["in"]]),
            "test_shifted": summarise([t["sh"]]),
        }
    return out


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument(
        "sweep", help="a sweep folder of sign_data.yaml runs (their saved writer networks are used)"
    )
    ap.add_argument("--data", default=os.path.join(os.environ.get("HW_DATA", ""), "sign_data"))
    ap.add_argument("--C", type=float, nargs="+", default=[1.0, 0.3])
    args = ap.parse_args()
    sweep = Path(args.sweep)
    points = json.loads((sweep / "sweep.json").read_text())["points"]
    runs = [sweep.parents[1] / p["run"] for p in points if p.get("status") == "ok"]
    records = data.load_records(args.data)
    images, scan = data.load_images_with_scan(records, 64, 128, scan_names=wd.SCAN_SETS)
    shifted = data.load_images_with_scan(
        records, 64, 128, scan_names=wd.SCAN_SETS, transform=collection.recollect
    )
    results = {}
    for C in args.C:
        results[C] = [one_run(run, records, images, scan, shifted, C) for run in runs]
        for name in VARIANTS:
            for part in ("dev_cv", "test"):
                r = [x[name][part] for x in results[C]]
                sh = [x[name][part + "_shifted"] for x in results[C]]
                mean = {k: float(np.mean([x[k] for x in r])) for k in r[0]}
                far_sh = float(np.mean([x["far_skilled"] for x in sh]))
                ratio = float(np.mean([x["far_skilled"] / max(x["eer_skilled"], 1e-9) for x in sh]))
                print(
                    f"C {C:<4g} {name:30s} {part:7s} EER {100 * mean['eer_skilled']:4.1f} / {100 * mean['eer_skilled_per_user']:4.1f}"
                    f"  FRR {100 * mean['frr']:4.1f} FAR {100 * mean['far_skilled']:4.1f}  LR loss {mean['lr_calibration_loss']:.3f}"
                    f" | other collection FAR {100 * far_sh:4.1f} ({ratio:.2f}x its EER)",
                    flush=True,
                )
    out = ROOT / "benchmarks" / "results" / "cv_signatures_variants.json"
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(
        json.dumps(
            {"sweep": str(sweep), "results": {str(k): v for k, v in results.items()}}, indent=2, default=float
        )
        + "\n"
    )
    print("wrote", out)


if __name__ == "__main__":
    main()
