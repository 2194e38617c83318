"""Single-image VAE benchmarks; prints figures and saves them to
benchmarks/results/single_image_vae.json.

1. Input preparation: milliseconds to turn one image into the 28x28 digit,
   for a 160 px image and a 1600 px one (thin strokes thickened).
2. Augmentation: images per second (albumentations, the seed's list).
3. VAE training: steps per second at batch 32 (the default model, latent 4).
4. Sampling: images per second decoded from the prior, in batches of 256
   (``model.sample``) and one image per call.

Usage: .venv/bin/python benchmarks/bench_single_image_vae.py [--quick]
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from pathlib import Path

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import numpy as np  # noqa: E402
from PIL import Image  # noqa: E402

from hwutils import report, repro  # noqa: E402
from hwutils.synth.digits import render_digit  # noqa: E402
from hwutils.vae import augment  # noqa: E402
from hwutils.vae import input as vae_input
from hwutils.vae import model as vae_model


def timed(fn, repeat: int) -> float:
    """Best-of-3 mean seconds per call of ``fn`` over ``repeat`` calls."""
    best = float("inf")
    for _ in range(3):
        t0 = time.perf_counter()
        for _ in range(repeat):
            fn()
        best = min(best, (time.perf_counter() - t0) / repeat)
    return best


def main(argv=None) -> dict:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="fewer repetitions and steps")
    args = parser.parse_args(argv)
    repro.seed_everything(0)
    out: dict = {"cpu_count": os.cpu_count()}

    small = render_digit(2, seed=0, size=160)
    big = np.asarray(Image.fromarray(small).resize((1600, 1600), Image.Resampling.BILINEAR))
    out["prepare_ms_160px"] = 1000 * timed(lambda: vae_input.prepare_digit(small), 5 if args.quick else 20)
    out["prepare_ms_1600px"] = 1000 * timed(lambda: vae_input.prepare_digit(big), 1 if args.quick else 3)

    digit = vae_input.prepare_digit(small)
    n_aug = 100 if args.quick else 500
    out["augment_images_per_s"] = n_aug / timed(lambda: augment.augment_digit(digit, n_aug, seed=1), 1)

    aug = augment.augment_digit(digit, 100, seed=0)
    steps = 20 if args.quick else 100
    vae_model.train_vae(aug, latent_dim=4, epochs=1, batch_size=32, steps_per_epoch=5)  # warm-up (tracing)
    t0 = time.perf_counter()
    vae, _ = vae_model.train_vae(aug, latent_dim=4, epochs=1, batch_size=32, steps_per_epoch=steps)
    out["vae_train_steps_per_s_batch32"] = steps / (time.perf_counter() - t0)
    out["vae_train_steps_per_s_note"] = "includes building the model and tf.function tracing of one fit call"

    n = 1000 if args.quick else 5000
    vae_model.sample(vae, 256, seed=0)
    out["sample_images_per_s_batched"] = n / timed(lambda: vae_model.sample(vae, n, seed=1), 1)
    z = np.zeros((1, vae.latent_dim), np.float32)
    vae.decoder(z)
    out["sample_images_per_s_one_per_call"] = 1.0 / timed(lambda: vae.decoder(z), 20 if args.quick else 100)

    for k, v in out.items():
        print(f"{k}: {v:.4g}" if isinstance(v, float) else f"{k}: {v}")
    path = Path(__file__).resolve().parent / "results" / "single_image_vae.json"
    report.write_json_atomic(path, out)
    print(f"saved {path}")
    return out


if __name__ == "__main__":
    main()
