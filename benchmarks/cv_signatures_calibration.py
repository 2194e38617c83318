"""Where to fix the operating point and the LR calibration of the signature
verifier (issue 27): on the 6 validation persons, or on the out-of-fold
scores of all development persons (``wd_folds``), and with equal or learned
fusion weights (``wd_weights``). Test persons only measure.

For each seed, the split of ``sign_data.yaml`` (10 test, 6 validation persons)
is drawn as the run draws it; the writer network is trained on the training
persons as in the run (30 epochs), so its features of the training persons are
in-sample, as in the run. Every development person (training and validation)
is scored out of fold (:func:`hwutils.signatures.wd_fitting.cross_fitted_trials`,
5 person folds), the test persons and the test persons re-rendered as another
collection (:mod:`hwutils.signatures.collection`) with SVMs whose negatives
are the training persons' genuine signatures. Then, for each choice of the
calibration persons (the validation persons' out-of-fold trials, the training
persons', all of them) and each weighting: the test persons' skilled EER
(global / per person), FRR and FAR skilled at the calibration EER threshold,
the LR calibration loss, RMEP and RMED, and the other collection's EER, FAR
skilled and calibration loss. Prints a table; writes
``benchmarks/results/cv_signatures_calibration.json``. About 3-6 min a seed
on 2 shared CPU cores (mostly the writer network).

    HW_DATA=../shared/data .venv/bin/python benchmarks/cv_signatures_calibration.py --seeds 0 2 4
"""

from __future__ import annotations

import argparse
import json
import os
import time
from pathlib import Path

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import numpy as np  # noqa: E402

from hwutils import repro  # noqa: E402
from hwutils.datasets.sign_data import GENUINE, load_sign_data, persons, split_persons  # noqa: E402
from hwutils.signatures import collection, data, lr, siamese, verify, wd_fitting, writer_net  # noqa: E402
from hwutils.signatures import writer_dependent as wd  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]
HAND = "hog+dir+geom+pressure+glcm"


def subset(raw: dict, keep) -> dict:
    """Raw trials of the persons in ``keep`` only."""
    m = np.isin(raw["person"], list(keep))
    out = {k: v[m] for k, v in raw.items() if k != "loo"}
    out["loo"] = {n: {p: v for p, v in d.items() if p in keep} for n, d in raw["loo"].items()}
    return out


def measure(cal: dict, test: dict, shifted: dict, names, weights: str, norm: float = 1.0) -> dict:
    scales = wd.fit_scales(cal, names)
    if weights == "learned":
        scales = wd.weighted_scales(scales, wd.fit_weights(cal, scales, norm))
    prior = wd.spread_prior(cal, scales)
    dc, dt, ds = (wd.as_distance_scores(r, scales, norm, 0.0, prior) for r in (cal, test, shifted))
    thr = verify.calibrate_threshold(dc)
    calibrator = lr.fit_calibration(dc, persons=len(set(cal["person"].tolist())))
    et, es = verify.evaluate(dt, thr), verify.evaluate(ds, thr)
    mt, ms = lr.measure(calibrator, dt), lr.measure(calibrator, ds)
    return {
        "eer_skilled": et["eer_skilled"],
        "eer_skilled_per_user": et["eer_skilled_per_user"],
        "frr": et["frr"],
        "far_skilled": et["far_skilled"],
        "lr_calibration_loss": mt["lr_calibration_loss"],
        "lr_rmep": mt["lr_rmep"],
        "lr_rmed": mt["lr_rmed"],
        "shifted_eer_skilled": es["eer_skilled"],
        "shifted_far_skilled": es["far_skilled"],
        "shifted_lr_calibration_loss": ms["lr_calibration_loss"],
    }


def one_seed(recs, images, scan, shifted, seed: int, folds: int, epochs: int) -> dict:
    repro.seed_everything(seed)
    train, val, test = split_persons(persons(recs), 6, 10, seed)
    dev = sorted(train + val)
    sets = wd.feature_sets(HAND, images, None, scan)
    sets_shifted = wd.feature_sets(HAND, shifted[0], None, shifted[1])
    net = writer_net.train_writer_net(images, recs, train, epochs=epochs, seed=seed)
    sets["signet"] = siamese.embed(net["features"], images)
    sets_shifted["signet"] = siamese.embed(net["features"], shifted[0])
    extra = wd.shifted_copies(list(sets), images, 3)
    extra_shifted = wd.shifted_copies(list(sets_shifted), shifted[0], 3)
    raw_dev, _ = wd_fitting.cross_fitted_trials(sets, recs, dev, 5, folds, seed, 1.0, extra)
    neg = [i for i, r in enumerate(recs) if r.kind == GENUINE and r.person in train]
    negatives = {k: v[neg] for k, v in sets.items()}
    protocol = verify.make_trials(recs, test, 5, seed)
    raw_test = wd.raw_trials(sets, protocol, negatives, 1.0, extra)
    raw_shifted = wd.raw_trials(sets_shifted, protocol, negatives, 1.0, extra_shifted)
    names = list(sets)
    out = {}
    for cal_name, keep in (
        ("validation persons", val),
        ("training persons", train),
        ("all development", dev),
    ):
        for weights in ("equal", "learned"):
            out[f"{cal_name}, {weights}"] = measure(
                subset(raw_dev, set(keep)), raw_test, raw_shifted, names, weights
            )
    return out


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--data", default=os.path.join(os.environ.get("HW_DATA", ""), "sign_data"))
    ap.add_argument("--seeds", type=int, nargs="+", default=[0, 2, 4])
    ap.add_argument("--folds", type=int, default=5)
    ap.add_argument("--signet-epochs", type=int, default=30)
    args = ap.parse_args()
    t0 = time.perf_counter()
    recs = load_sign_data(args.data)
    images, scan = data.load_images_with_scan(recs, 64, 128, scan_names=wd.SCAN_SETS)
    shifted = data.load_images_with_scan(
        recs, 64, 128, scan_names=wd.SCAN_SETS, transform=collection.recollect
    )
    results = {}
    for seed in args.seeds:
        results[seed] = one_seed(recs, images, scan, shifted, seed, args.folds, args.signet_epochs)
        print(f"seed {seed} ({time.perf_counter() - t0:.0f} s)")
        for name, m in results[seed].items():
            print(
                f"  {name:32s} EER {100 * m['eer_skilled']:4.1f} / {100 * m['eer_skilled_per_user']:4.1f}"
                f"  FRR {100 * m['frr']:4.1f}  FAR {100 * m['far_skilled']:4.1f}"
                f"  LR loss {m['lr_calibration_loss']:.3f} RMEP {100 * m['lr_rmep']:4.1f} RMED {100 * m['lr_rmed']:4.1f}"
                f" | other collection EER {100 * m['shifted_eer_skilled']:4.1f}"
                f" FAR {100 * m['shifted_far_skilled']:4.1f} LR loss {m['shifted_lr_calibration_loss']:.3f}",
                flush=True,
            )
    names = list(next(iter(results.values())))
    print("mean over seeds")
    for name in names:
        rows = [results[s][name] for s in results]
        mean = {k: float(np.mean([r[k] for r in rows])) for k in rows[0]}
        print(
            f"  {name:32s} EER {100 * mean['eer_skilled']:4.1f}  FRR {100 * mean['frr']:4.1f}"
            f"  FAR {100 * mean['far_skilled']:4.1f}  LR loss {mean['lr_calibration_loss']:.3f}"
            f" | other collection EER {100 * mean['shifted_eer_skilled']:4.1f} FAR {100 * mean['shifted_far_skilled']:4.1f}"
        )
    out = ROOT / "benchmarks" / "results" / "cv_signatures_calibration.json"
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(
        json.dumps({"data": str(args.data), "seeds": args.seeds, "results": results}, indent=2) + "\n"
    )
    print("wrote", out, f"({time.perf_counter() - t0:.0f} s)")


if __name__ == "__main__":
    main()
