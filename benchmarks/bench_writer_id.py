"""Writer-id benchmarks; prints figures and saves them to benchmarks/results/writer_id.json.

1. Patches per second: the tf.data pipeline the notebook trains with
   (``data.raw_patches``: decode and resize once, the random crops of a whole
   batch gathered in one TensorFlow op, handed over as uint8 in the gather's
   layout; the model's first layer does cast, rescale, transpose and ink
   jitter) against a faithful re-implementation of the seed notebook's
   generator (PIL open, LANCZOS resize to height 113 and random crops of
   every image, every batch, float patches), on the same synthetic IAM-layout
   images, same batch size. Also the float variant (``data.training_patches``:
   the conversion and ink jitter done in the pipeline, float patches out like
   the seed's) and, with it, the zoom/slant/shift augmentation.
   Each generator is timed on a fresh iterator in every round (no background
   prefetching while another one is timed), in interleaved rounds; medians
   are reported, because the machine is shared and its load changes.
2. Training throughput of the notebook's training model (``models.training_model``)
   fed by the real pipeline and by the same uint8 batches held in memory; and
   of the bare network fed float patches held in memory (interleaved rounds, medians).
3. Latency to identify the writer of one IAM-sized line (about 1700 x 120 px).

Usage: .venv/bin/python benchmarks/bench_writer_id.py [--quick]
"""

from __future__ import annotations

import argparse
import os
import random
import sys
import tempfile
import time
from pathlib import Path

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import numpy as np  # noqa: E402
from PIL import Image  # noqa: E402

from hwutils import report, repro  # noqa: E402
from hwutils.datasets import iam  # noqa: E402
from hwutils.synth import handwriting  # noqa: E402
from hwutils.writer_id import data, enrol, identify, models  # noqa: E402

CROP = 113


def seed_generator(files, labels, batch_size=16, sample_ratio=0.1, rng=random.Random(0)):
    """The seed's approach: every batch re-opens images with PIL, resizes them
    to height 113 (LANCZOS) and takes ``sample_ratio`` of all crop positions."""
    order = list(range(len(files)))
    while True:
        rng.shuffle(order)
        xs, ys = [], []
        for i in order:
            img = Image.open(files[i])
            w, h = img.size
            img = img.resize((int(w * CROP / h), CROP), Image.LANCZOS)
            xs_all = list(range(0, img.size[0] - CROP))
            for x in rng.sample(xs_all, int(len(xs_all) * sample_ratio)):
                xs.append(np.asarray(img.crop((x, 0, x + CROP, CROP))))
                ys.append(labels[i])
                if len(xs) == batch_size:
                    yield np.stack(xs)[..., None] / 255.0, np.array(ys)
                    xs, ys = [], []


def rate(batches, n_batches):
    """Patches per second over ``n_batches`` (after one warm-up batch)."""
    next(batches)
    t0 = time.perf_counter()
    n = 0
    for _ in range(n_batches):
        x, _ = next(batches)
        n += len(x)
    return n / (time.perf_counter() - t0)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--quick", action="store_true", help="fewer batches and steps")
    args = ap.parse_args()
    repro.seed_everything(0)
    out: dict = {
        "note": "2 shared CPU cores, measured while other jobs ran",
        "load_average_at_start": os.getloadavg()[0],
    }
    tmp = Path(tempfile.mkdtemp(prefix="bench_writer_id_"))
    root = handwriting.write_iam_dataset(
        tmp, n_writers=10, forms_per_writer=3, lines_per_form=6, chars_per_line=48, seed=0
    )
    recs = iam.load_iam(root)
    files = [str(r.path) for r in recs]
    writers = sorted({r.writer for r in recs})
    labels = [writers.index(r.writer) for r in recs]
    n_batches = 20 if args.quick else 60

    # 1. patches per second, measured in interleaved rounds (the machine is shared: each round
    #    times every generator back to back, and the medians over rounds are reported)
    t0 = time.perf_counter()
    lines = data.load_lines(recs, CROP)
    decode_s = time.perf_counter() - t0
    ink = data.to_ink(lines.lines)
    ds = data.raw_patches(ink, labels, CROP, CROP, batch_size=64, seed=0)
    gens = {
        "seed_generator": (lambda: seed_generator(files, labels, batch_size=64), n_batches),
        "tfdata": (lambda: iter(ds), 10 * n_batches),
        "tfdata_batch256": (
            lambda: iter(data.raw_patches(ink, labels, CROP, CROP, batch_size=256, seed=0)),
            3 * n_batches,
        ),
        "tfdata_float": (
            lambda: iter(data.training_patches(ink, labels, CROP, CROP, batch_size=64, seed=0)),
            3 * n_batches,
        ),
        "tfdata_float_augmented": (
            lambda: iter(data.training_patches(ink, labels, CROP, CROP, batch_size=64, seed=0, augment=True)),
            n_batches,
        ),
    }
    rounds = {k: [] for k in gens}
    for _ in range(3 if args.quick else 7):
        for k, (make, n) in gens.items():
            it = (
                make()
            )  # a fresh iterator, dropped after timing: no prefetching in the background of the others
            rounds[k].append(rate(it, n))
            del it
    med = {k: float(np.median(v)) for k, v in rounds.items()}
    seed_rate, tf_rate = med["seed_generator"], med["tfdata"]
    out.update(
        {
            "images": len(files),
            "batch_size": 64,
            "rounds": len(rounds["tfdata"]),
            "seed_generator_patches_per_s": seed_rate,
            "tfdata_patches_per_s": tf_rate,
            "speedup": tf_rate / seed_rate,
            "speedup_per_round": [a / b for a, b in zip(rounds["tfdata"], rounds["seed_generator"])],
            "tfdata_patches_per_s_batch256": med["tfdata_batch256"],
            "tfdata_float_patches_per_s": med["tfdata_float"],
            "float_speedup": med["tfdata_float"] / seed_rate,
            "tfdata_float_augmented_patches_per_s": med["tfdata_float_augmented"],
            "float_augmented_speedup": med["tfdata_float_augmented"] / seed_rate,
            "tfdata_one_time_decode_s": decode_s,
        }
    )
    print(
        f"patches/s at batch 64 (median of {len(rounds['tfdata'])} rounds): seed generator {seed_rate:.0f}; tf.data "
        f"uint8 (the training pipeline) {tf_rate:.0f} -> {tf_rate / seed_rate:.1f}x (batch 256: "
        f"{med['tfdata_batch256']:.0f}); float patches from the pipeline {med['tfdata_float']:.0f} -> "
        f"{med['tfdata_float'] / seed_rate:.1f}x, with zoom/slant/shift {med['tfdata_float_augmented']:.0f} -> "
        f"{med['tfdata_float_augmented'] / seed_rate:.1f}x (one-time decode+resize of {len(files)} images: {decode_s:.1f}s)"
    )

    # 2. training throughput: pipeline vs in-memory tensors, same model and batch
    steps = 10 if args.quick else 30
    net = models.build_model("half_deepwriter", len(writers), CROP, width=0.25)
    trainer = models.compile_model(models.training_model(net, seed=0))
    mem_x, mem_y = [], []
    it = iter(ds)
    for _ in range(steps):
        x, y = next(it)
        mem_x.append(x.numpy())
        mem_y.append(y.numpy())
    mem_x, mem_y = np.concatenate(mem_x), np.concatenate(mem_y)
    mem_f = (
        mem_x.transpose(0, 2, 1)[..., None].astype(np.float32) / 255.0
    )  # the same patches as float (B, H, W, 1)

    cpu = {"pipe": [], "mem": [], "bare": []}  # patches per CPU-second of this process (all its threads)

    def timed_fit(model, x, y=None, key="pipe"):
        t0, c0 = time.perf_counter(), time.process_time()
        if y is None:
            model.fit(x, steps_per_epoch=steps, epochs=1, verbose=0)
        else:
            model.fit(x, y, batch_size=64, epochs=1, verbose=0, shuffle=False)
        cpu[key].append(steps * 64 / (time.process_time() - c0))
        return steps * 64 / (time.perf_counter() - t0)

    trainer.fit(ds, steps_per_epoch=3, epochs=1, verbose=0)  # build and warm up
    trainer.fit(mem_x[:192], mem_y[:192], batch_size=64, epochs=1, verbose=0)
    bare = models.compile_model(models.build_model("half_deepwriter", len(writers), CROP, width=0.25))
    bare.fit(mem_f[:192], mem_y[:192], batch_size=64, epochs=1, verbose=0)
    fits = {"pipe": [], "mem": [], "bare": []}
    for _ in range(3 if args.quick else 5):  # interleaved rounds, medians (shared machine)
        fits["pipe"].append(timed_fit(trainer, ds, key="pipe"))
        fits["mem"].append(timed_fit(trainer, mem_x, mem_y, key="mem"))
        fits["bare"].append(timed_fit(bare, mem_f, mem_y, key="bare"))
    pipe_rate, mem_rate, bare_rate = (float(np.median(fits[k])) for k in ("pipe", "mem", "bare"))
    out.update(
        {
            "train_pipeline_patches_per_s": pipe_rate,
            "train_in_memory_patches_per_s": mem_rate,
            "train_pipeline_vs_memory": pipe_rate / mem_rate,
            "train_bare_network_float_in_memory_patches_per_s": bare_rate,
            "train_pipeline_vs_bare_float_in_memory": pipe_rate / bare_rate,
            "train_patches_per_s_per_round": fits,
            "train_patches_per_cpu_s": {k: float(np.median(v)) for k, v in cpu.items()},
            "train_pipeline_vs_memory_cpu": float(np.median(cpu["pipe"]) / np.median(cpu["mem"])),
        }
    )
    print(
        f"training patches/s: pipeline {pipe_rate:.0f}, same uint8 batches in memory {mem_rate:.0f} "
        f"-> {100 * pipe_rate / mem_rate:.0f}% of in-memory; bare network fed float patches in memory "
        f"{bare_rate:.0f} -> pipeline at {100 * pipe_rate / bare_rate:.0f}% of it; per CPU-second of this process: "
        f"pipeline {np.median(cpu['pipe']):.0f}, in memory {np.median(cpu['mem']):.0f} "
        f"({100 * np.median(cpu['pipe']) / np.median(cpu['mem']):.0f}%)"
    )

    # 3. latency to identify one IAM-sized line (iam.yaml's model: DeepWriter, width 0.5, height 113)
    m = models.build_model("deepwriter", 50, CROP, width=0.5)
    gal = enrol.Gallery.from_embeddings(
        np.random.default_rng(0).random((50, m.get_layer("embedding").units)), [f"{i:03d}" for i in range(50)]
    )
    identify.save_for_identification(tmp / "run" / "artifacts", m, gal.names, CROP, 2 * CROP, 0, 0.5, gal)
    wid = identify.WriterIdentifier.load(tmp / "run")
    style = handwriting.random_style(np.random.default_rng(1))
    line = handwriting.render_line(
        handwriting.random_text(np.random.default_rng(2), 60), style, np.random.default_rng(3)
    )
    line = np.asarray(Image.fromarray(line).resize((1700, int(1700 * line.shape[0] / line.shape[1]))))
    wid.identify_line(line)
    times = []
    for _ in range(5 if args.quick else 15):
        t0 = time.perf_counter()
        wid.identify_line(line)
        times.append(time.perf_counter() - t0)
    out.update(
        {"identify_line_ms_median": 1000 * float(np.median(times)), "identify_line_shape": list(line.shape)}
    )
    print(f"identify one {line.shape[1]}x{line.shape[0]} line: median {1000 * np.median(times):.0f} ms")

    out["load_average_at_end"] = os.getloadavg()[0]
    path = Path(__file__).resolve().parent / "results" / "writer_id.json"
    report.write_json_atomic(path, out)
    print(f"saved {path}")


if __name__ == "__main__":
    main()
