"""Signature benchmarks: verification latency (one questioned signature
against 5 references, preprocessing included; the model part alone; and
enrolling the 5 references once, then one questioned signature) and
Siamese training throughput (pairs per second), at the default (64x128) and
the real-data (96x192) input sizes.

    .venv/bin/python benchmarks/bench_signatures.py [--run RUN_DIR] [--repeats 20] [--steps 10]

With ``--run`` the latency is measured with that run's saved verifier (and,
for a writer-dependent ``wd`` verifier, the same tower with the distance rule);
otherwise with freshly built towers (latency does not depend on the weights).
Always also a writer-dependent verifier shaped like ``sign_data.yaml``'s
(the six feature sets, untrained networks, 395 negatives per set as in a
sign_data run) with the score raw (no leave-one-out SVMs), with half and all of
the reference level (the former and the current default) and with the
z-norm by the references' spread: what normalising by the references costs.
Results are printed and written to ``benchmarks/results/signatures.json``.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import tempfile
import time
from pathlib import Path

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import numpy as np  # noqa: E402

from hwutils import repro  # noqa: E402
from hwutils.datasets.sign_data import load_sign_data, persons  # noqa: E402
from hwutils.images import read_gray  # noqa: E402
from hwutils.signatures import data, siamese, verify, writer_net  # noqa: E402
from hwutils.signatures.preprocess import preprocess  # noqa: E402
from hwutils.synth.signatures import write_dataset  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]


def latency(verifier, refs, questioned, repeats: int) -> dict:
    verifier.verify(refs, questioned)  # warm-up (tracing)
    full = []
    for _ in range(repeats):
        t0 = time.perf_counter()
        verifier.verify(refs, questioned)
        full.append((time.perf_counter() - t0) * 1000)
    person = verifier.enrol(refs)
    enrol, enrolled = [], []
    for _ in range(repeats):
        t0 = time.perf_counter()
        person = verifier.enrol(refs)
        enrol.append((time.perf_counter() - t0) * 1000)
        t0 = time.perf_counter()
        person.verify(questioned)
        enrolled.append((time.perf_counter() - t0) * 1000)
    batch = np.stack([preprocess(im, verifier.height, verifier.width) for im in refs + [questioned]])
    model = []
    for _ in range(repeats):
        t0 = time.perf_counter()
        siamese.embed(verifier.tower, batch)
        model.append((time.perf_counter() - t0) * 1000)
    return {
        "verify_ms_median": statistics.median(full),
        "verify_ms_p90": float(np.percentile(full, 90)),
        "model_only_ms_median": statistics.median(model),
        "enrol_ms_median": statistics.median(enrol),
        "verify_enrolled_ms_median": statistics.median(enrolled),
    }


SIGN_DATA_FEATURES = "signet+hog+dir+geom+pressure+glcm"
NORMALISATIONS = {"raw": (0.0, 0.0), "level 0.5": (0.5, 0.0), "level 1": (1.0, 0.0), "z-norm 0.5": (1.0, 0.5)}
C_VALUES = {
    "": 1.0,
    ", C 0.3": 0.3,
}  # the SVMs' C: 1 before issue 27's third pass, 0.3 in sign_data.yaml since


def sign_data_shaped(raw_images, size=(64, 128), n_negatives: int = 395) -> dict:
    """Writer-dependent verifiers with ``sign_data.yaml``'s feature sets and shift
    (untrained networks: latency does not depend on the weights), one per
    normalisation of :data:`NORMALISATIONS` (SVMs' C 1) and the reference level at
    C 0.3 (the default since issue 27's third pass); the negatives are the features of
    ``raw_images`` repeated with noise to ``n_negatives`` rows per set."""
    tower = siamese.build_tower(*size, embedding_dim=128, base_filters=32)
    signet = writer_net.build_writer_net(*size, n_writers=27)[1]
    probe = verify.Verifier(
        tower,
        0.0,
        *size,
        decision="wd",
        features=SIGN_DATA_FEATURES,
        negatives={"x": 0},
        scales={"x": 1.0},
        signet=signet,
    )
    _emb, sets, _batch = probe._encode(raw_images)
    rng = np.random.default_rng(0)
    negatives = {
        k: (np.resize(v, (n_negatives, v.shape[1])) + rng.normal(0, 0.05, (n_negatives, v.shape[1]))).astype(
            np.float32
        )
        for k, v in sets.items()
    }
    scales = {k: 1.0 for k in sets}
    return {
        name + suffix: verify.Verifier(
            tower,
            0.0,
            *size,
            decision="wd",
            features=SIGN_DATA_FEATURES,
            negatives=negatives,
            scales=scales,
            shift=3,
            norm=norm,
            signet=signet,
            spread=spread,
            C=C,
        )
        for name, (norm, spread) in NORMALISATIONS.items()
        for suffix, C in C_VALUES.items()
        if not suffix or name == "level 1"
    }


def throughput(images, recs, size, steps: int, batch_size: int = 32) -> float:
    tower = siamese.build_tower(*size, embedding_dim=128, base_filters=32)
    model = siamese.compile_model(tower)
    rows = siamese.make_pairs(recs, persons(recs), 40, seed=0)
    ds = siamese.pair_dataset(images, rows, batch_size, seed=0)
    return siamese.training_throughput(model, ds, batch_size, steps)


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--run", default="", help="run folder whose verifier to time")
    ap.add_argument("--repeats", type=int, default=20)
    ap.add_argument("--steps", type=int, default=10, help="training batches timed per size")
    args = ap.parse_args()
    repro.seed_everything(0)
    with tempfile.TemporaryDirectory() as tmp:
        root = write_dataset(Path(tmp) / "sig", n_persons=12, n_genuine=8, n_forgeries=4, seed=0)
        recs = load_sign_data(root)
        raw = [read_gray(r.path) for r in recs[:6]]
    results = {
        "machine": platform.platform(),
        "cpu_count": os.cpu_count(),
        "note": "CPU timings; the development machine is shared with other jobs (contention)",
        "latency": {},
        "training_pairs_per_second": {},
    }
    sizes = {"64x128": (64, 128), "96x192": (96, 192)}
    if args.run:
        v = verify.load_verifier(args.run)
        results["latency"][f"run {v.height}x{v.width} {v.decision}"] = latency(
            v, raw[:5], raw[5], args.repeats
        )
        if v.decision == "wd":  # the same run's tower with the plain distance rule, as a baseline
            plain = verify.Verifier(v.tower, v.threshold, v.height, v.width, v.reducer, v.ink)
            results["latency"][f"run {v.height}x{v.width} distance"] = latency(
                plain, raw[:5], raw[5], args.repeats
            )
    for name, v in sign_data_shaped(raw).items():
        results["latency"][f"sign_data-shaped wd, {name}"] = latency(v, raw[:5], raw[5], args.repeats)
    for name, size in sizes.items():
        tower = siamese.build_tower(*size, embedding_dim=128, base_filters=32)
        results["latency"][name] = latency(verify.Verifier(tower, 0.5, *size), raw[:5], raw[5], args.repeats)
    for name, size in sizes.items():
        with tempfile.TemporaryDirectory() as tmp:
            root = write_dataset(Path(tmp) / "sig", n_persons=12, n_genuine=8, n_forgeries=4, seed=0)
            recs = load_sign_data(root)
            images = data.load_images(recs, *size)
        results["training_pairs_per_second"][name] = throughput(images, recs, size, args.steps)
    for k, v in results["latency"].items():
        print(
            f"latency {k:34s} verify 1 vs 5 refs: median {v['verify_ms_median']:.1f} ms "
            f"(p90 {v['verify_ms_p90']:.1f}); model only {v['model_only_ms_median']:.1f} ms; "
            f"enrol once {v['enrol_ms_median']:.1f} ms, then {v['verify_enrolled_ms_median']:.1f} ms per signature"
        )
    for k, v in results["training_pairs_per_second"].items():
        print(f"training {k:8s} {v:.0f} pairs/s (batch 32, contrastive, augmentation on)")
    out = ROOT / "benchmarks" / "results" / "signatures.json"
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(results, indent=2) + "\n")
    print("wrote", out)


if __name__ == "__main__":
    main()
