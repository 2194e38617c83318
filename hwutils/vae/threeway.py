"""The 3-class CNN: the user's digit vs real examples of that digit vs other digits.

Class 0 "yours": augmentations of the user's image and VAE samples; class
1 "real <digit>": real digits equal to the user's digit; class 2 "other":
all other real digits. Training uses the real training digits and
augmentations/samples drawn with the run's seed; the held-out test set uses
the held-out real digits and *fresh* augmentations and VAE samples (other
seeds), so no test image was seen in training.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import keras
import numpy as np

from hwutils import metrics, training
from hwutils.vae import cnn

MODEL_FILE = "threeway.keras"
YOURS, REAL, OTHER = 0, 1, 2


def class_names(digit: int) -> list[str]:
    """Display names of the three classes."""
    return [f"your {digit}", f"real {digit}", "other digits"]


def labelled_set(yours, real_x, real_y, digit: int) -> tuple[np.ndarray, np.ndarray]:
    """Stack the user's images (label 0) and real digits (1 if ``digit`` else 2)."""
    yours = np.asarray(yours, np.uint8)
    real_labels = np.where(np.asarray(real_y) == digit, REAL, OTHER)
    x = np.concatenate([yours, np.asarray(real_x, np.uint8)])
    y = np.concatenate([np.full(len(yours), YOURS), real_labels]).astype(np.int64)
    return x, y


def train_threeway(x, y, *, epochs: int = 8, seed: int = 0, strategy: str = "default", batch_size: int = 64):
    """Train the 3-class CNN (classes resampled to equal size; 10% kept aside
    for early stopping). Returns ``(model, history)``."""
    order = np.random.default_rng(seed).permutation(len(y))
    val_n = max(10, len(y) // 10)
    val, fit_idx = order[:val_n], order[val_n:]
    return cnn.train_cnn(
        x[fit_idx],
        y[fit_idx],
        3,
        epochs=epochs,
        seed=seed,
        strategy=strategy,
        name="threeway",
        batch_size=batch_size,
        validation=(x[val], y[val]),
    )


@dataclass
class Evaluation:
    """Held-out results of the 3-class CNN."""

    accuracy: float
    per_class_accuracy: np.ndarray
    confusion: np.ndarray  # rows true, columns predicted
    predicted: np.ndarray
    probs: np.ndarray
    wrong: np.ndarray  # indices of misclassified test images

    def as_metrics(self, digit: int) -> dict:
        names = ["yours", "real", "other"]
        out = {"threeway_accuracy": self.accuracy, "threeway_errors": int(len(self.wrong))}
        out.update({f"threeway_accuracy_{n}": float(a) for n, a in zip(names, self.per_class_accuracy)})
        out["threeway_balanced_accuracy"] = float(np.mean(self.per_class_accuracy))
        out["threeway_majority_baseline"] = self.majority_share
        return out

    @property
    def majority_share(self) -> float:
        """Accuracy of always answering the largest class of the test set
        (the trivial baseline the accuracy must beat)."""
        rows = np.asarray(self.confusion).sum(axis=1)
        return float(rows.max() / max(rows.sum(), 1))


def evaluate(model: keras.Model, x, y) -> Evaluation:
    """Accuracy, per-class accuracy, confusion matrix and the wrong examples on ``(x, y)``."""
    probs = cnn.predict_proba(model, x)
    pred = probs.argmax(1)
    cm = metrics.confusion_matrix(y, pred, 3)
    return Evaluation(
        metrics.accuracy(y, pred),
        metrics.per_class_accuracy(cm),
        cm,
        pred,
        probs,
        np.flatnonzero(pred != np.asarray(y)),
    )


def load_threeway(run_dir: str | Path) -> keras.Model:
    """The 3-class CNN of a finished run: ``<run_dir>/artifacts/threeway.keras``."""
    from hwutils.runfolder import artifacts_folder

    return training.load_model(artifacts_folder(run_dir, MODEL_FILE, "single_image_vae") / MODEL_FILE)


def classify(run_dir: str | Path, imgs, digit: int = 2) -> list[str]:
    """Class names for uint8 paper-white 28x28 images, using a finished run's model."""
    pred = cnn.predict_proba(load_threeway(run_dir), imgs).argmax(1)
    names = class_names(digit)
    return [names[p] for p in pred]
