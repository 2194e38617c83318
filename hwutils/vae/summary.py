"""What a single_image_vae run found, in the words and tables of its report.

The notebook calls these instead of printing numbers: the headline results
against their yardsticks (:func:`results`), what the run looked at
(:func:`data_record`) and the sentences of the narrative. Everything returns
text (Markdown) or :class:`hwutils.report.Result` objects; nothing is
displayed here.
"""

from __future__ import annotations

from pathlib import Path

from hwutils import report
from hwutils.report import pct


def errors(n: int) -> str:
    return f"{n:,} error" + ("" if n == 1 else "s")


def num(value) -> str:
    return report.format_number(value, "number")


# ------------------------------------------------------------------- data
def input_sentence(path, original_shape, digit: int) -> str:
    """The input image in one sentence."""
    h, w = original_shape[:2]
    return (
        f"Input: `{Path(path).name}` ({w}x{h} pixels), a handwritten **{digit}**, "
        "prepared as a 28x28 MNIST-like digit."
    )


def digits_sentence(digits) -> str:
    """The real digits (a :class:`hwutils.vae.data.DigitData`) in one sentence."""
    return (
        f"Real digits: {digits.source}; {len(digits.train_y):,} train the classifiers, "
        f"{len(digits.test_y):,} are held out for every accuracy below ({digits.split})."
    )


def data_record(path, digit: int, digits, n_augment: int, n_generate: int, n_threeway_test: int) -> dict:
    """The keyword arguments of :func:`hwutils.report.record_data`
    (``report.record_data(**data_record(...))``). The image's path goes in
    the description, beside the image it names (a location after the
    description would read as the real digits')."""
    return {
        "description": (
            f"one image of a handwritten {digit} ({path}) and its augmentations; real digits: {digits.source}"
        ),
        "location": None,
        "source_image": 1,
        "augmentations": n_augment,
        "generated": n_generate,
        "real_digits_train": int(len(digits.train_y)),
        "real_digits_heldout": int(len(digits.test_y)),
        "threeway_test_images": n_threeway_test,
    }


# ------------------------------------------------------------------- training
def training_sentence(what: str, history: dict, seconds: float | None, epochs: int, monitor: str) -> str:
    """One line on a model's training (:func:`hwutils.training.summary_line`)."""
    from hwutils.training import summary_line

    return f"{what}: {summary_line(history, seconds, epochs=epochs, monitor=monitor)}."


# ------------------------------------------------------------------- quality
def quality_sentences(q: dict, digit: int, n_generate: int, n_augment: int) -> str:
    """What the judge says about the samples, against the augmentations, the
    source image and real digits (``q``: :func:`hwutils.vae.quality.generation_quality`
    merged with :func:`hwutils.vae.quality.yardsticks`). Says so in bold when
    the samples fall short of the augmentations or of real digits."""
    gen, aug = q["recognized_share"], q["recognized_share_augmented"]
    read = (
        f"The judge reads **{pct(gen)}** of the {n_generate:,} samples as a {digit}, "
        f"against {pct(aug)} of the {n_augment:,} augmentations the VAE learned from"
    )
    if gen < aug:
        read = f"{read}: **fewer samples than augmentations are recognized**"
    source = (
        f"the source image itself is read as a {q['source_prediction']}"
        + ("" if q["source_prediction"] == digit else f" (**not** as a {digit})")
        + f" (probability of a {digit}: {q['source_probability']:.2f})"
    )
    sentences = [f"{read}; {source}."]
    if "recognized_share_real_digit" in q:
        sentences.append(
            f"Of the {q['real_digit_heldout']:,} held-out real {digit}s the judge recognizes "
            f"{pct(q['recognized_share_real_digit'])} (its own ceiling on other writers' hands)."
        )
    if "frechet_distance_real_digit" in q:
        fd_gen, fd_real = q["frechet_distance_generated_same_n"], q["frechet_distance_real_digit"]
        floor = q.get("frechet_distance_aug_vs_aug")
        fd = (
            f"In the judge's feature space, {q['n_compared']:,} samples lie at Fréchet distance "
            f"{num(fd_gen)} from the augmentations, {q['n_compared']:,} real {digit}s of other writers at "
            f"{num(fd_real)}"
            + (f" (floor, two augmentation sets: {num(floor)})" if floor is not None else "")
        )
        if fd_gen < fd_real:
            fd += f": the samples are closer to this hand than real {digit}s are."
        else:
            fd += f": **the samples are no closer to this hand than real {digit}s of other writers are**."
        sentences.append(fd)
    diversity = (
        f"Diversity: the samples vary {pct(q['diversity_ratio'])} as much as the augmentations "
        f"(mean pairwise distance {num(q['diversity_generated'])} vs {num(q['diversity_augmented'])}); "
        f"a sample lies at {num(q['nearest_augmentation_distance'])} from its nearest augmentation"
    )
    if "nearest_distance_aug_vs_aug" in q:
        other = q["nearest_distance_aug_vs_aug"]
        side = "nearer than" if q["nearest_augmentation_distance"] < other else "no nearer than"
        diversity += f", {side} a fresh augmentation of the source image ({num(other)})"
    sentences.append(diversity + ".")
    return " ".join(sentences)


def threeway_sentence(m: dict, digit: int, n: int) -> str:
    """The 3-class CNN's held-out figures in words, against always answering
    the largest class."""
    acc, base = m["threeway_accuracy"], m["threeway_majority_baseline"]
    text = (
        f"On {n:,} held-out images the 3-class CNN is right {pct(acc)} of the time "
        f"({errors(m['threeway_errors'])}; always answering the largest class: {pct(base)}); "
        f"per class: your {digit} {pct(m['threeway_accuracy_yours'])}, real {digit} "
        f"{pct(m['threeway_accuracy_real'])}, other digits {pct(m['threeway_accuracy_other'])}."
    )
    if acc <= base:
        text += " **It does not beat always answering the largest class.**"
    return text


def results(
    q: dict, judge_accuracy: float, threeway: dict, digit: int, vae_seconds: float
) -> list[report.Result]:
    """The headline figures against their yardsticks: the samples against
    the augmentations (recognized share) and against real digits (Fréchet
    distance from the augmentations), the classifiers against chance and the
    largest-class baseline, and the VAE's training time."""
    out = [
        report.Result(
            f"samples read as a {digit} by the judge",
            q["recognized_share"],
            group="generated samples",
            yardstick="the augmentations, same judge",
            yardstick_value=q["recognized_share_augmented"],
            note=f"the source image: read as a {q['source_prediction']} (p = {q['source_probability']:.2f})",
        )
    ]
    if "frechet_distance_real_digit" in q:
        floor = q.get("frechet_distance_aug_vs_aug")
        out.append(
            report.Result(
                "Fréchet distance of the samples to the augmentations",
                q["frechet_distance_generated_same_n"],
                kind="number",
                group="generated samples",
                yardstick=f"real {digit}s of other writers",
                yardstick_value=q["frechet_distance_real_digit"],
                better="lower",
                note=f"{q['n_compared']:,} images each"
                + (f"; floor (two augmentation sets) {num(floor)}" if floor is not None else ""),
            )
        )
    out += [
        report.Result(
            "judge accuracy, held-out real digits",
            judge_accuracy,
            group="classifiers",
            yardstick="chance (1 of 10 digits)",
            yardstick_value=0.1,
        ),
        report.Result(
            "3-class accuracy, held-out",
            threeway["threeway_accuracy"],
            group="classifiers",
            yardstick="always the largest class",
            yardstick_value=threeway["threeway_majority_baseline"],
            note=errors(threeway["threeway_errors"]),
        ),
        report.Result(
            "3-class balanced accuracy, held-out",
            threeway["threeway_balanced_accuracy"],
            group="classifiers",
            yardstick="chance (1 of 3 classes)",
            yardstick_value=1 / 3,
        ),
        report.Result("VAE training time", vae_seconds, kind="seconds", group="training"),
    ]
    return out


# ------------------------------------------------------------------- the final table
METRIC_GROUPS = {
    "input": ["digit", "input_image", "n_augment", "n_generate"],
    "VAE": ["latent_dim", "beta", "vae_epochs_run", "vae_final_loss", "vae_train_seconds"],
    "generated samples (the judge)": [
        "recognized_share",
        "recognized_share_augmented",
        "recognized_share_real_digit",
        "judge_probability_generated",
        "judge_probability_augmented",
        "source_prediction",
        "source_probability",
        "frechet_distance",
        "frechet_distance_aug_vs_aug",
        "frechet_distance_generated_same_n",
        "frechet_distance_real_digit",
        "n_compared",
        "diversity_generated",
        "diversity_augmented",
        "diversity_ratio",
        "nearest_augmentation_distance",
        "nearest_distance_aug_vs_aug",
    ],
    "classifiers": [
        "judge_heldout_accuracy",
        "threeway_accuracy",
        "threeway_balanced_accuracy",
        "threeway_majority_baseline",
        "threeway_accuracy_yours",
        "threeway_accuracy_real",
        "threeway_accuracy_other",
        "threeway_errors",
        "threeway_test_size",
    ],
    "real digits": ["digits_source", "digits_split", "digits_train", "digits_heldout", "real_digit_heldout"],
    "time": ["run_seconds"],
}

METRIC_NAMES = {
    "input_image": "input image",
    "n_augment": "augmentations",
    "n_generate": "samples drawn",
    "latent_dim": "latent dimensions",
    "beta": "beta (KL weight)",
    "vae_epochs_run": "VAE epochs",
    "vae_final_loss": "VAE final loss",
    "vae_train_seconds": "VAE training time",
    "recognized_share": "samples recognized",
    "recognized_share_augmented": "augmentations recognized",
    "recognized_share_real_digit": "held-out real digits of the class recognized",
    "judge_probability_generated": "judge's mean probability, samples",
    "judge_probability_augmented": "judge's mean probability, augmentations",
    "source_prediction": "the source image read as",
    "source_probability": "the source image's probability",
    "frechet_distance": "Fréchet distance, all samples to augmentations",
    "frechet_distance_aug_vs_aug": "Fréchet distance, two augmentation sets (floor)",
    "frechet_distance_generated_same_n": "Fréchet distance, samples (same count as real)",
    "frechet_distance_real_digit": "Fréchet distance, real digits of the class",
    "n_compared": "images per set in those two",
    "diversity_generated": "diversity of the samples",
    "diversity_augmented": "diversity of the augmentations",
    "diversity_ratio": "diversity ratio (samples / augmentations)",
    "nearest_augmentation_distance": "distance to the nearest augmentation",
    "nearest_distance_aug_vs_aug": "the same for a second augmentation set",
    "judge_heldout_accuracy": "judge accuracy (held-out real digits)",
    "threeway_accuracy": "3-class accuracy",
    "threeway_balanced_accuracy": "3-class balanced accuracy",
    "threeway_majority_baseline": "always the largest class",
    "threeway_accuracy_yours": "3-class: your digit",
    "threeway_accuracy_real": "3-class: real digits of the class",
    "threeway_accuracy_other": "3-class: other digits",
    "threeway_errors": "3-class errors",
    "threeway_test_size": "3-class test images",
    "digits_source": "source",
    "digits_split": "split",
    "digits_train": "train",
    "digits_heldout": "held out",
    "real_digit_heldout": "held out, of the class",
    "run_seconds": "whole run",
}

PERCENT_KEYS = {
    "recognized_share",
    "recognized_share_augmented",
    "recognized_share_real_digit",
    "diversity_ratio",
    "judge_heldout_accuracy",
    "threeway_accuracy",
    "threeway_balanced_accuracy",
    "threeway_majority_baseline",
    "threeway_accuracy_yours",
    "threeway_accuracy_real",
    "threeway_accuracy_other",
}


SECONDS_KEYS = {"vae_train_seconds", "run_seconds"}


def table_metrics(metrics: dict) -> dict:
    """The metrics as shown in the final table, each formatted by what it is
    (shares as percentages, times in seconds, counts, other numbers with
    three decimals); the raw numbers stay in metrics.json."""
    out = {}
    for k, v in metrics.items():
        if isinstance(v, bool) or not isinstance(v, (int, float)):
            out[k] = ("yes" if v else "no") if isinstance(v, bool) else v
        elif k in PERCENT_KEYS:
            out[k] = pct(v)
        elif k in SECONDS_KEYS:
            out[k] = report.format_number(v, "seconds")
        elif isinstance(v, int):
            out[k] = report.format_number(v, "count")
        else:
            out[k] = num(v)
    return out
