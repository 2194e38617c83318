"""Training-loop settings shared by the stages: distribution strategy, compact
progress, early stopping with best-weight restore, checkpoints, saving."""

from __future__ import annotations

import logging
import time
from pathlib import Path

import keras
import numpy as np
import tensorflow as tf

from hwutils.errors import check_choice

STRATEGIES = ("default", "mirrored")


def get_strategy(name: str = "default") -> tf.distribute.Strategy:
    """``default``: one device (TensorFlow's default strategy).
    ``mirrored``: every GPU of this machine (``MirroredStrategy``); on a
    machine without GPUs it runs on the CPU alone."""
    check_choice("strategy", name, STRATEGIES)
    if name == "default":
        return tf.distribute.get_strategy()
    gpus = tf.config.list_logical_devices("GPU")  # mirrored
    return tf.distribute.MirroredStrategy() if gpus else tf.distribute.MirroredStrategy(["/cpu:0"])


log = logging.getLogger("hwutils.training")


class EpochLog(keras.callbacks.Callback):
    """One short line per epoch in the run's log (``run.log`` under ``hw
    run``), not in the notebook: the report shows the curves and one
    :func:`summary_line` instead."""

    def __init__(self, every: int = 1):
        super().__init__()
        self.every = max(1, every)
        self._t0 = 0.0

    def on_epoch_begin(self, epoch, logs=None):
        self._t0 = time.perf_counter()

    def on_epoch_end(self, epoch, logs=None):
        total = self.params.get("epochs", "?")
        if (epoch + 1) % self.every and epoch + 1 != total:
            return
        parts = [f"{k} {v:.4g}" for k, v in (logs or {}).items() if isinstance(v, (int, float))]
        log.info(
            "epoch %s/%s  %s  (%.1fs)", epoch + 1, total, "  ".join(parts), time.perf_counter() - self._t0
        )


def summary_line(
    history: dict, seconds: float | None = None, epochs: int | None = None, monitor: str = "val_loss"
) -> str:
    """Training in one line: ``15 epochs of 30 (early stop), best epoch 11 (val_loss 0.412), 42 s``
    (``epochs``: the most that were allowed, when known)."""
    if not history:
        return "no training"
    planned, epochs = epochs, max(len(v) for v in history.values())
    key = monitor if monitor in history else ("loss" if "loss" in history else next(iter(history)))
    series = np.asarray(history[key], float)
    mode_max = any(w in key for w in ("acc", "auc", "precision", "recall"))
    best = int(np.nanargmax(series) if mode_max else np.nanargmin(series)) if len(series) else -1
    ran = f"{epochs} epoch{'s' if epochs != 1 else ''}" + (
        f" of {planned} (early stop)" if planned and planned > epochs else ""
    )
    line = f"{ran}, best epoch {best + 1} ({key} {series[best]:.4g})" if best >= 0 else ran
    return line + (f", {seconds:.0f} s" if seconds is not None else "")


def fit(
    model: keras.Model,
    train,
    validation=None,
    *,
    epochs: int,
    steps_per_epoch: int | None = None,
    validation_steps: int | None = None,
    patience: int = 5,
    monitor: str = "val_loss",
    checkpoint: str | Path | None = None,
    callbacks: list | None = None,
    log_every: int = 1,
) -> dict:
    """Fit with early stopping (best weights restored) and a compact log.

    ``monitor`` falls back to the training loss when there is no validation
    data. ``checkpoint`` saves the best model as ``.keras`` while training.
    ``train`` and ``validation`` are datasets or ``(x, y)`` array tuples.
    Returns the history dict (``{metric: [value per epoch]}``).
    """
    if validation is None and monitor.startswith("val_"):
        monitor = monitor[4:]
    mode = "max" if any(w in monitor for w in ("acc", "auc", "precision", "recall")) else "min"
    cbs = [
        EpochLog(log_every),
        keras.callbacks.EarlyStopping(
            monitor=monitor, mode=mode, patience=patience, restore_best_weights=True
        ),
    ]
    if checkpoint is not None:
        Path(checkpoint).parent.mkdir(parents=True, exist_ok=True)
        cbs.append(
            keras.callbacks.ModelCheckpoint(str(checkpoint), monitor=monitor, mode=mode, save_best_only=True)
        )
    cbs += list(callbacks or [])
    x, y = train if isinstance(train, tuple) else (train, None)
    history = model.fit(
        x,
        y,
        validation_data=validation,
        epochs=epochs,
        steps_per_epoch=steps_per_epoch,
        validation_steps=validation_steps,
        callbacks=cbs,
        verbose=0,
    )
    return {k: [float(v) for v in vals] for k, vals in history.history.items()}


def save_model(model: keras.Model, path: str | Path) -> Path:
    """Save as a ``.keras`` file (parents created), atomically: written under a
    temporary name and renamed, so a full disk never leaves half a model at
    ``path`` (:func:`hwutils.artifacts.save_keras`)."""
    from hwutils import artifacts

    return artifacts.save_keras(model, path)


def load_model(path: str | Path, custom_objects: dict | None = None) -> keras.Model:
    """Load a ``.keras`` model with ``safe_mode=True`` (no Lambda layers, no pickled code).

    Custom layers must be registered with
    ``keras.saving.register_keras_serializable(package="hwutils")``.
    A missing, corrupt or unsafe file is an :class:`~hwutils.errors.ArtifactError`
    naming it (:func:`hwutils.artifacts.load_keras`).
    """
    from hwutils import artifacts

    return artifacts.load_keras(path, custom_objects=custom_objects)
