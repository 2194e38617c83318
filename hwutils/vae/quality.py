"""How good are the generated digits? Measured with a judge that never saw the user's digit.

The judge is a 10-class digit CNN trained on real digits only
(:mod:`hwutils.vae.data`). From it:

* ``recognized_share``: share of generated images the judge reads as the
  intended digit (also given for the augmentations, as the ceiling);
* ``frechet_distance``: Fréchet distance between the judge's ``features``
  activations of generated and augmented images
  (:func:`hwutils.metrics.frechet_distance`), with the distance between two
  independent sets of augmentations as the floor to compare it with;
* diversity: mean pairwise pixel distance
  (:func:`hwutils.metrics.mean_pairwise_distance`) of the generated images
  and of the augmentations; ``nearest_augmentation_distance`` (mean distance
  of a generated image to its closest augmentation) shows whether the VAE
  only copies its training images.
"""

from __future__ import annotations

from pathlib import Path

import keras
import numpy as np

from hwutils import metrics, training
from hwutils.vae import cnn

JUDGE_FILE = "digit_judge.keras"


def train_judge(data, *, epochs: int = 8, seed: int = 0, strategy: str = "default", batch_size: int = 64):
    """The 10-class judge trained on ``data.train_x/train_y`` (a :class:`~hwutils.vae.data.DigitData`).

    Returns ``(model, history, heldout_accuracy)``; the accuracy is on the
    held-out real digits.
    """
    n = len(data.train_y)
    val_n = max(10, n // 10)
    rng = np.random.default_rng(seed)
    order = rng.permutation(n)
    val, fit_idx = order[:val_n], order[val_n:]
    model, history = cnn.train_cnn(
        data.train_x[fit_idx],
        data.train_y[fit_idx],
        10,
        epochs=epochs,
        seed=seed,
        strategy=strategy,
        name="digit_judge",
        batch_size=batch_size,
        validation=(data.train_x[val], data.train_y[val]),
    )
    pred = cnn.predict_proba(model, data.test_x).argmax(1)
    return model, history, metrics.accuracy(data.test_y, pred)


def recognized_share(judge: keras.Model, imgs, digit: int) -> float:
    """Share of ``imgs`` (uint8 paper-white) the judge classifies as ``digit``."""
    return float(np.mean(cnn.predict_proba(judge, imgs).argmax(1) == digit))


def _nearest_distance(a, b) -> float:
    a = np.asarray(a, np.float64).reshape(len(a), -1) / 255.0
    b = np.asarray(b, np.float64).reshape(len(b), -1) / 255.0
    d2 = np.sum(a**2, 1)[:, None] + np.sum(b**2, 1)[None] - 2 * a @ b.T
    return float(np.mean(np.sqrt(np.maximum(d2.min(1), 0))))


def generation_quality(judge: keras.Model, generated, augmented, digit: int, augmented_other=None) -> dict:
    """All quality figures for generated vs augmented images (uint8 paper-white).

    ``augmented_other``: a second, independent set of augmentations; when
    given, ``frechet_distance_aug_vs_aug`` is the floor the generated
    images' distance should be judged against.
    """
    feats_gen, feats_aug = cnn.features(judge, generated), cnn.features(judge, augmented)
    to01 = lambda x: np.asarray(x, np.float64) / 255.0  # noqa: E731
    out = {
        "recognized_share": recognized_share(judge, generated, digit),
        "recognized_share_augmented": recognized_share(judge, augmented, digit),
        "frechet_distance": metrics.frechet_distance(feats_gen, feats_aug),
        "diversity_generated": metrics.mean_pairwise_distance(to01(generated)),
        "diversity_augmented": metrics.mean_pairwise_distance(to01(augmented)),
        "nearest_augmentation_distance": _nearest_distance(generated, augmented),
    }
    out["diversity_ratio"] = out["diversity_generated"] / max(out["diversity_augmented"], 1e-12)
    if augmented_other is not None:
        out["frechet_distance_aug_vs_aug"] = metrics.frechet_distance(
            cnn.features(judge, augmented_other), feats_aug
        )
        out["nearest_distance_aug_vs_aug"] = _nearest_distance(augmented_other, augmented)
    return out


def digit_probability(judge: keras.Model, imgs, digit: int) -> float:
    """The judge's mean probability of ``digit`` over ``imgs`` (uint8 paper-white)."""
    return float(np.mean(cnn.predict_proba(judge, imgs)[:, digit]))


def yardsticks(judge: keras.Model, source_image, generated, augmented, real_x, real_y, digit: int) -> dict:
    """What the generated images' figures are measured against, by the same judge.

    * the single source image: ``source_prediction`` (the digit the judge
      reads in it) and ``source_probability`` (its probability of ``digit``);
    * the real held-out digits equal to ``digit`` (other writers' hands):
      ``recognized_share_real_digit`` (the judge's own recall for the digit)
      and the Fréchet distance from the augmentations of as many real digits
      as generated ones, ``frechet_distance_real_digit``, beside
      ``frechet_distance_generated_same_n``, the generated images' distance
      with the same count (Fréchet estimates grow as sets shrink, so both use
      ``n_compared`` images). Samples closer to the augmentations than the
      real digits show that the VAE learned the hand in the image, not
      just "a ``digit``".
    * ``judge_probability_generated`` / ``_augmented``: the mean probability of
      ``digit`` over each set.
    """
    source = np.asarray(source_image)[None]
    probs = cnn.predict_proba(judge, source)[0]
    real = np.asarray(real_x)[np.asarray(real_y) == digit]
    out = {
        "source_prediction": int(np.argmax(probs)),
        "source_probability": float(probs[digit]),
        "judge_probability_generated": digit_probability(judge, generated, digit),
        "judge_probability_augmented": digit_probability(judge, augmented, digit),
        "real_digit_heldout": int(len(real)),
    }
    if len(real):
        out["recognized_share_real_digit"] = recognized_share(judge, real, digit)
    n = min(len(real), len(generated))
    if n >= 2:
        feats_aug = cnn.features(judge, augmented)
        out["n_compared"] = int(n)
        out["frechet_distance_real_digit"] = metrics.frechet_distance(
            cnn.features(judge, real[:n]), feats_aug
        )
        out["frechet_distance_generated_same_n"] = metrics.frechet_distance(
            cnn.features(judge, np.asarray(generated)[:n]), feats_aug
        )
    return out


def load_judge(run_dir: str | Path) -> keras.Model:
    """The judge of a finished run: ``<run_dir>/artifacts/digit_judge.keras``."""
    from hwutils.runfolder import artifacts_folder

    return training.load_model(artifacts_folder(run_dir, JUDGE_FILE, "single_image_vae") / JUDGE_FILE)
