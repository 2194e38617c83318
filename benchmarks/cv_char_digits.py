"""Cross-validated digit accuracy of char_ocr classifier settings, on the
training half of an MNIST-format file only: how the digit settings of
``params/char_ocr/real.yaml`` are chosen without its digit test set.

The first ``--train-fraction`` of the file (the part ``real.yaml`` trains on)
is cut into ``--folds`` folds by position; each fold is classified by a
classifier trained on the other folds (plus scikit-learn's digit scans and,
with ``--letters N``, N synthetic letters per class so the 36-way output
has its letter classes; ``--synthetic-digits N`` adds font digits, ``--pen-digits N``
pen-drawn ones, ``--no-sklearn`` drops the scans), with ``real.yaml``'s split shares
and schedule (one cosine decay over 40 epochs, the best validation epoch kept;
``--schedule plateau --epochs 32 --patience 6`` is the recipe before it).
Every variant sees the same folds and each fold starts from the same seeded
state. Prints, per variant, the accuracy among the digit classes over all
held-out digits (as they are, as ``real.yaml`` scores them since issue 29's
seventh pass, and with the 1-px test-time shifts it used before), the errors
of each and the training time; writes
``benchmarks/results/cv_char_digits.json``.

A variant is ``w<width>[:e<elastic>][:m<members>]``, e.g. ``w16`` (one CNN
of width 16), ``w32`` (measured in issue 29's sixth pass; ``real.yaml`` keeps
16), ``w16:e1`` or ``w32:e1.5:m3``.

    HW_DATA=../shared/data .venv/bin/python benchmarks/cv_char_digits.py --variants w16 w32
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
from hwutils.ocr import CLASSES, data  # noqa: E402
from hwutils.ocr import model as ocr_model  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]


def parse_variant(text: str) -> dict:
    """``"w32:e1.5:m3"`` -> ``{"width": 32, "elastic": 1.5, "members": 3}``."""
    out = {"width": 16, "elastic": 0.0, "members": 1}
    for part in text.split(":"):
        key, value = part[0], part[1:]
        if key == "w":
            out["width"] = int(value)
        elif key == "e":
            out["elastic"] = float(value)
        elif key == "m":
            out["members"] = int(value)
        else:
            raise SystemExit(f"variant {text!r}: parts are w<width>, e<elastic>, m<members>")
    return out


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    mnist = Path(os.environ.get("HW_DATA", "")) / "mnist"
    ap.add_argument("--images", default=str(mnist / "mnist-images-idx3-ubyte.gz"))
    ap.add_argument("--labels", default=str(mnist / "mnist-labels-idx1-ubyte.gz"))
    ap.add_argument(
        "--train-fraction", type=float, default=0.5, help="as digits_train_fraction; the rest is never read"
    )
    ap.add_argument("--folds", type=int, default=5)
    ap.add_argument("--only-folds", type=int, nargs="*", help="run these fold numbers only (0-based)")
    ap.add_argument("--letters", type=int, default=0, help="synthetic letters per class added to training")
    ap.add_argument(
        "--synthetic-digits", type=int, default=0, help="font-based synthetic digits per class added"
    )
    ap.add_argument("--pen-digits", type=int, default=0, help="pen-drawn synthetic digits per class added")
    ap.add_argument(
        "--no-sklearn", action="store_true", help="leave scikit-learn's digit scans out of training"
    )
    ap.add_argument("--variants", nargs="+", default=["w16", "w32"])
    ap.add_argument("--schedule", choices=ocr_model.SCHEDULES, default="cosine")
    ap.add_argument("--epochs", type=int, default=40)
    ap.add_argument("--patience", type=int, default=40)
    ap.add_argument("--lr-patience", type=int, default=3)
    ap.add_argument("--seed", type=int, default=0)
    args = ap.parse_args()
    repro.seed_everything(args.seed)
    digits = data.idx_digits(args.images, args.labels)
    half = digits.subset(np.arange(int(len(digits) * args.train_fraction)))
    fold_of = np.arange(len(half)) % args.folds
    extra = data.concat(
        data.empty_set() if args.no_sklearn else data.sklearn_digits(),
        data.synthetic_chars(CLASSES[10:], args.letters, seed=args.seed + 1),
        data.synthetic_chars(CLASSES[:10], args.synthetic_digits, seed=args.seed + 2),
        data.pen_chars(CLASSES[:10], args.pen_digits, seed=args.seed + 5),
    )
    folds = args.only_folds if args.only_folds else list(range(args.folds))
    results = {}
    for text in args.variants:
        v = parse_variant(text)
        t0 = time.perf_counter()
        labels, plain, shifted = [], [], []
        for k in folds:
            repro.seed_everything(args.seed)
            pool = data.concat(half.subset(np.flatnonzero(fold_of != k)), extra)
            parts = data.split(pool, {"val": 0.1}, seed=args.seed)
            model, _ = ocr_model.fit_classifiers(
                parts["train"].images,
                parts["train"].labels,
                parts["val"].images,
                parts["val"].labels,
                members=v["members"],
                width=v["width"],
                epochs=args.epochs,
                seed=args.seed,
                patience=args.patience,
                lr_patience=args.lr_patience,
                elastic=v["elastic"],
                schedule=args.schedule,
            )
            held = half.subset(np.flatnonzero(fold_of == k))
            labels.append(held.labels)
            plain.append(ocr_model.predict_probs(model, held.images)[:, :10].argmax(1))
            shifted.append(ocr_model.predict_probs(model, held.images, tta=True)[:, :10].argmax(1))
            print(
                f"{text} fold {k}: {np.mean(plain[-1] == held.labels):.4f} "
                f"(tta {np.mean(shifted[-1] == held.labels):.4f}) {time.perf_counter() - t0:.0f}s",
                flush=True,
            )
        y = np.concatenate(labels)
        acc = {
            name: float(np.mean(np.concatenate(p) == y)) for name, p in (("plain", plain), ("tta", shifted))
        }
        results[text] = {
            **v,
            "accuracy": acc["plain"],
            "accuracy_tta": acc["tta"],
            "digits": int(len(y)),
            "errors": int(np.sum(np.concatenate(plain) != y)),
            "errors_tta": int(np.sum(np.concatenate(shifted) != y)),
            "seconds": time.perf_counter() - t0,
        }
        print(
            f"{text:16s} accuracy {100 * acc['plain']:.2f}% ({results[text]['errors']} errors in {len(y)}), "
            f"with shifts {100 * acc['tta']:.2f}% ({results[text]['errors_tta']})  {results[text]['seconds']:.0f}s",
            flush=True,
        )
    out = ROOT / "benchmarks" / "results" / "cv_char_digits.json"
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(
        json.dumps(
            {
                "images": args.images,
                "folds": args.folds,
                "run_folds": folds,
                "letters": args.letters,
                "synthetic_digits": args.synthetic_digits,
                "pen_digits": args.pen_digits,
                "schedule": args.schedule,
                "sklearn": not args.no_sklearn,
                "epochs": args.epochs,
                "patience": args.patience,
                "results": results,
            },
            indent=2,
        )
        + "\n"
    )
    print("wrote", out)


if __name__ == "__main__":
    main()
