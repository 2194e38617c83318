"""Person-fold cross-validation of the writer-dependent feature sets on a
signature collection, without its test persons: how the settings of
``params/signatures/sign_data.yaml`` were chosen.

The persons left after holding out the test and validation persons of the
run's split (same seed) are pooled with the validation persons and cut into
``--folds`` folds; each fold's persons are verified (5 references, the
protocol of :func:`verify.make_trials`) with per-person SVMs whose negatives
are the other folds' genuine signatures. ``signet`` is retrained on the other
folds' persons each time; with ``--cnn`` the Siamese tower is too, from scratch
(6 of the other persons stop its training early; about 2 minutes per fold on 2
CPU cores), and its pooled features are the ``cnn`` set. Prints the skilled EER (global / per-user) and the random EER
of each set alone and of each fusion, and writes ``benchmarks/results/cv_signatures.json``.

    HW_DATA=../shared/data .venv/bin/python benchmarks/cv_signatures.py [--signet] [--cnn] [--norm 0.5]
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
from hwutils.signatures import data, siamese, verify, writer_net  # noqa: E402
from hwutils.signatures import writer_dependent as wd  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]
HAND = ("hog", "dir", "geom", "pressure", "glcm")
FUSIONS = (
    ("hog", "dir", "geom"),
    HAND,
    ("hog", "dir", "geom", "signet"),
    HAND + ("signet",),
    HAND + ("cnn",),
    HAND + ("signet", "cnn"),
)


def siamese_features(images, recs, persons_, seed: int) -> np.ndarray:
    """Train the Siamese tower from scratch with ``sign_data.yaml``'s pair and epoch
    settings on ``persons_`` (6 of them, drawn with ``seed``, stop it early) and
    return its pooled features of ``images``. (``sign_data.yaml`` now warm-starts
    the tower from the writer network; this is the from-scratch tower it replaced.)"""
    rng = np.random.default_rng(seed)
    val = list(rng.choice(persons_, 6, replace=False))
    train = [p for p in persons_ if p not in val]
    repro.seed_model(seed, "siamese_tower")
    tower = siamese.build_tower(images.shape[1], images.shape[2], 128, 32)
    siamese.train(tower, images, recs, train, val, pairs_per_person=60, epochs=20, patience=4, seed=0)
    return siamese.pooled_features(tower, images)


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--data", default=os.path.join(os.environ.get("HW_DATA", ""), "sign_data"))
    ap.add_argument(
        "--test-persons", type=int, default=10, help="held out as in sign_data.yaml (never used here)"
    )
    ap.add_argument("--val-persons", type=int, default=6)
    ap.add_argument("--folds", type=int, default=5)
    ap.add_argument("--norm", type=float, default=0.5, help="wd_norm")
    ap.add_argument("--shift", type=int, default=3, help="wd_shift")
    ap.add_argument(
        "--signet", action="store_true", help="also retrain and score the writer network per fold"
    )
    ap.add_argument("--signet-epochs", type=int, default=30)
    ap.add_argument(
        "--cnn",
        action="store_true",
        help="also retrain the Siamese tower per fold (sign_data.yaml settings) and score its features",
    )
    ap.add_argument("--seed", type=int, default=0)
    args = ap.parse_args()
    repro.seed_everything(args.seed)
    t0 = time.perf_counter()
    recs = load_sign_data(args.data)
    train, val, test = split_persons(persons(recs), args.val_persons, args.test_persons, args.seed)
    dev = sorted(train + val)
    order = list(np.random.default_rng(args.seed + 1).permutation(dev))
    folds = [order[i :: args.folds] for i in range(args.folds)]
    images, scan = data.load_images_with_scan(recs, 64, 128, scan_names=wd.SCAN_SETS)
    sets = wd.feature_sets("+".join(HAND), images, None, scan)
    extra = wd.shifted_copies(list(sets), images, args.shift)
    raws = []
    for k, fold in enumerate(folds):
        fold_sets = dict(sets)
        others = [p for p in dev if p not in fold]
        if args.signet:
            net = writer_net.train_writer_net(images, recs, others, epochs=args.signet_epochs, seed=args.seed)
            fold_sets["signet"] = siamese.embed(net["features"], images)
        if args.cnn:
            fold_sets["cnn"] = siamese_features(images, recs, others, args.seed + k)
        protocol = verify.make_trials(recs, fold, 5, args.seed)
        neg = [
            i for i, r in enumerate(recs) if r.kind == GENUINE and r.person in dev and r.person not in fold
        ]
        raws.append(
            wd.score_trials(
                fold_sets, protocol, {n: v[neg] for n, v in fold_sets.items()}, 1.0, extra, args.norm
            )
        )
        print(f"fold {k + 1}/{len(folds)} done ({time.perf_counter() - t0:.0f}s)", flush=True)
    trials = {k: np.concatenate([r[k] for r in raws]) for k in ("person", "type", "index")}
    names = [n for n in raws[0] if n not in ("person", "type", "index")]
    combos = [(n,) for n in names] + [c for c in FUSIONS if set(c) <= set(names)]
    results = {}
    for combo in combos:
        # fusion scales from each fold's own trials, as the notebook takes them from its validation trials
        fused = np.concatenate([wd.fuse(r, wd.fit_scales(r, combo)) for r in raws])
        e = verify.evaluate({**trials, "distance": -fused}, 0.0)
        results["+".join(combo)] = {
            "eer_skilled": e["eer_skilled"],
            "eer_skilled_per_user": e["eer_skilled_per_user"],
            "eer_random": e["eer_random"],
        }
        print(
            f"{'+'.join(combo):36s} skilled {100 * e['eer_skilled']:5.1f}% / per-user "
            f"{100 * e['eer_skilled_per_user']:5.1f}%   random {100 * e['eer_random']:5.1f}%"
        )
    out = ROOT / "benchmarks" / "results" / "cv_signatures.json"
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(
        json.dumps(
            {
                "data": str(args.data),
                "persons": dev,
                "folds": folds,
                "norm": args.norm,
                "shift": args.shift,
                "signet": args.signet,
                "cnn": args.cnn,
                "results": results,
                "seconds": time.perf_counter() - t0,
            },
            indent=2,
        )
        + "\n"
    )
    print("wrote", out)


if __name__ == "__main__":
    main()
