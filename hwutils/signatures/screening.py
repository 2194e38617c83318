"""Validity screening: is an image a signature at all?

Three detectors, each with its threshold chosen on a *validation* split
(never on the training images), and a combined decision:

1. a convolutional autoencoder trained on valid signatures with a BCE + SSIM
   loss; a high reconstruction error means "not like a signature";
2. an IsolationForest on the autoencoder's latent codes of the training
   signatures; a low ``score_samples`` value means an outlier;
3. a small CNN classifier trained on valid vs invalid images.

The combined decision is one of :data:`RULES`, chosen on the validation
split by balanced accuracy (the mean of the valid and invalid recalls, which
does not depend on how many images of each kind there are): ``vote`` (at least
``votes`` of the three accept, default 2), ``all`` (all three accept), or one
detector alone. A 2-of-3 vote lets two weak detectors outvote a good one: on
the synthetic default the autoencoder and the forest accept most invalid
images (they only ever saw signatures), so the vote passed 38 of 60 invalid
test images. The classifier's BatchNormalization uses momentum 0.9: at
Keras' 0.99 its moving statistics had not settled after the few hundred steps
a screener trains, and its inference-mode scores were close to chance. Inputs are preprocessed like the verifier's
(:func:`hwutils.signatures.preprocess.preprocess`, ink = 1).

The whole screener saves into one folder (three ``.keras`` models loaded with
``safe_mode``, the training latent codes as ``.npy`` and ``screener.json``);
the IsolationForest is refitted from the saved codes with its saved seed on
load, so nothing is pickled.
"""

from __future__ import annotations

from pathlib import Path

import keras
import numpy as np
import tensorflow as tf
from keras import layers

from hwutils import artifacts, images, metrics, pipelines, report, repro, training
from hwutils.errors import HwError
from hwutils.signatures.preprocess import preprocess

DETECTORS = ("autoencoder", "isolation_forest", "classifier")
RULES = ("vote", "all", *DETECTORS)


def split_invalid(n: int, seed: int = 0, train: float = 0.6, val: float = 0.2) -> dict[str, np.ndarray]:
    """Indices of ``n`` invalid images for the screener's ``train``, ``val``
    and ``test`` sides (60/20/20 by default), one seeded permutation."""
    if n < 3:
        raise HwError(f"screening needs at least 3 invalid images (one per side), got {n}")
    order = np.random.default_rng(seed).permutation(n)
    a, b = int(train * n), int((train + val) * n)
    return {"train": order[:a], "val": order[a:b], "test": order[b:]}


def balanced_accuracy(labels, accepted) -> float:
    """Mean of the recall of valid images (accepted) and of invalid images (rejected)."""
    labels, accepted = np.asarray(labels).astype(bool), np.asarray(accepted).astype(bool)
    rates = [np.mean(accepted[labels]) if labels.any() else np.nan]
    rates.append(np.mean(~accepted[~labels]) if (~labels).any() else np.nan)
    return float(np.nanmean(rates))


def combine(accepts: dict, rule: str, votes: int = 2) -> np.ndarray:
    """The combined accept decision of the detectors' ``accepts`` under ``rule`` (:data:`RULES`)."""
    if rule not in RULES:
        raise HwError(f"screening rule {rule!r}: choose one of {', '.join(RULES)}")
    stacked = np.array([np.asarray(accepts[k], bool) for k in DETECTORS])
    if rule == "vote":
        return stacked.sum(axis=0) >= votes
    if rule == "all":
        return stacked.all(axis=0)
    return stacked[DETECTORS.index(rule)]


def choose_rule(accepts: dict, labels, votes: int = 2) -> tuple[str, dict]:
    """The rule of :data:`RULES` with the best balanced accuracy on validation
    ``accepts`` (ties go to the earlier rule), and every rule's score."""
    scores = {rule: balanced_accuracy(labels, combine(accepts, rule, votes)) for rule in RULES}
    best = max(RULES, key=lambda r: (scores[r], -RULES.index(r)))
    return best, scores


def all_valid_f1(n_valid: int, n_invalid: int) -> float:
    """F1 (valid class) of the trivial screener that calls every image valid."""
    precision = n_valid / max(1, n_valid + n_invalid)
    return 2 * precision / (1 + precision) if n_valid else 0.0


def build_autoencoder(height: int, width: int, latent_dim: int = 32, filters: int = 16):
    """(encoder, decoder): three stride-2 conv blocks to a dense latent code and back; sigmoid output."""
    if height % 8 or width % 8:
        raise HwError(f"screening image size {height}x{width}: both sides must be multiples of 8")
    inp = keras.Input((height, width, 1))
    x = inp
    for f in (filters, filters * 2, filters * 4):
        x = layers.Conv2D(f, 3, strides=2, padding="same", activation="relu")(x)
    code = layers.Dense(latent_dim, name="code")(layers.Flatten()(x))
    encoder = keras.Model(inp, code, name="encoder")
    z = keras.Input((latent_dim,))
    y = layers.Dense((height // 8) * (width // 8) * filters * 4, activation="relu")(z)
    y = layers.Reshape((height // 8, width // 8, filters * 4))(y)
    for f in (filters * 4, filters * 2, filters):
        y = layers.Conv2DTranspose(f, 3, strides=2, padding="same", activation="relu")(y)
    out = layers.Conv2D(1, 3, padding="same", activation="sigmoid")(y)
    return encoder, keras.Model(z, out, name="decoder")


def build_classifier(
    height: int, width: int, filters: int = 16, dropout: float = 0.3, bn_momentum: float = 0.9
) -> keras.Model:
    """Small CNN: three conv-BN-ReLU-pool blocks, global average pooling, valid (1) vs invalid (0) probability.
    ``bn_momentum`` 0.9 lets BatchNormalization's moving statistics settle in a few hundred steps."""
    inp = keras.Input((height, width, 1))
    x = inp
    for f in (filters, filters * 2, filters * 4):
        x = layers.Conv2D(f, 3, padding="same", use_bias=False)(x)
        x = layers.BatchNormalization(momentum=bn_momentum)(x)
        x = layers.ReLU()(x)
        x = layers.MaxPooling2D()(x)
    x = layers.GlobalAveragePooling2D()(x)
    x = layers.Dropout(dropout)(x)
    return keras.Model(inp, layers.Dense(1, activation="sigmoid")(x), name="classifier")


def bce_ssim_loss(ssim_weight: float = 0.3):
    """``(1 - w) * BCE + w * (1 - SSIM)`` between target and reconstruction."""

    def loss(y_true, y_pred):
        bce = tf.reduce_mean(keras.losses.binary_crossentropy(y_true, y_pred))
        ssim = tf.reduce_mean(tf.image.ssim(y_true, y_pred, max_val=1.0, filter_size=7))
        return (1 - ssim_weight) * bce + ssim_weight * (1 - ssim)

    return loss


def _fit_forest(codes: np.ndarray, seed: int):
    from sklearn.ensemble import IsolationForest

    return IsolationForest(n_estimators=200, random_state=seed).fit(codes)


class Screener:
    """Autoencoder + IsolationForest + classifier with validation-chosen thresholds.
    The networks' random start depends only on ``seed`` (:func:`repro.seed_model`)."""

    def __init__(
        self, height: int = 64, width: int = 128, latent_dim: int = 32, votes: int = 2, seed: int = 0
    ):
        repro.seed_model(seed, "screener")
        self.height, self.width, self.latent_dim, self.votes, self.seed = (
            height,
            width,
            latent_dim,
            votes,
            seed,
        )
        self.encoder, self.decoder = build_autoencoder(height, width, latent_dim)
        self.classifier = build_classifier(height, width)
        self.forest = None
        self.train_codes = None
        self.thresholds: dict = {}
        self.rule = "vote"
        self.rule_scores: dict = {}
        self.history: dict = {}

    # -------------------------------------------------------------- inputs
    def prepare(self, images) -> np.ndarray:
        """Paths/arrays -> ``(n, h, w, 1)`` float ink maps (a blank image gives zeros, not an error)."""
        return np.stack([preprocess(im, self.height, self.width, require_ink=False) for im in images])[
            ..., None
        ]

    # -------------------------------------------------------------- training
    def fit(
        self,
        valid_train,
        invalid_train,
        valid_val,
        invalid_val,
        epochs: int = 10,
        batch_size: int = 32,
        valid_reject_rate: float = 0.05,
        patience: int = 3,
    ) -> dict:
        """Train the three detectors and choose every threshold on the validation split.

        Arrays are ``(n, h, w, 1)`` ink maps. ``valid_reject_rate`` is the share
        of *validation* signatures the autoencoder and the forest may each reject.
        Returns the training histories.
        """
        inp = keras.Input((self.height, self.width, 1))
        auto = keras.Model(inp, self.decoder(self.encoder(inp)), name="autoencoder")
        auto.compile(optimizer=keras.optimizers.Adam(2e-3), loss=bce_ssim_loss())
        train = pipelines.training_dataset(
            pipelines.from_arrays(valid_train, valid_train), batch_size, self.seed
        )
        val = pipelines.eval_dataset(pipelines.from_arrays(valid_val, valid_val), batch_size)
        self.history["autoencoder"] = training.fit(
            auto,
            train,
            val,
            epochs=epochs,
            patience=patience,
            steps_per_epoch=pipelines.steps_for(len(valid_train), batch_size),
        )
        self.train_codes = self._codes(valid_train)
        self.forest = _fit_forest(self.train_codes, self.seed)

        x = np.concatenate([valid_train, invalid_train])
        y = np.r_[np.ones(len(valid_train)), np.zeros(len(invalid_train))].astype(np.float32)
        xv = np.concatenate([valid_val, invalid_val])
        yv = np.r_[np.ones(len(valid_val)), np.zeros(len(invalid_val))].astype(np.float32)

        def augment(seed, img, label):
            return pipelines.stateless_shift_scale(img, seed, 0.05, 0.1, 0.05), label

        self.classifier.compile(
            optimizer=keras.optimizers.Adam(2e-3), loss="binary_crossentropy", metrics=["accuracy"]
        )
        ctrain = pipelines.training_dataset(
            pipelines.from_arrays(x, y), batch_size, self.seed + 1, augment=augment
        )
        cval = pipelines.eval_dataset(pipelines.from_arrays(xv, yv), batch_size)
        self.history["classifier"] = training.fit(
            self.classifier,
            ctrain,
            cval,
            epochs=epochs,
            patience=patience,
            steps_per_epoch=pipelines.steps_for(len(x), batch_size),
        )

        s_valid, s_all = self.scores(valid_val), self.scores(xv)
        self.thresholds = {
            "reconstruction_error": float(
                np.quantile(s_valid["reconstruction_error"], 1 - valid_reject_rate)
            ),
            "isolation_score": float(np.quantile(s_valid["isolation_score"], valid_reject_rate)),
            "classifier_probability": _best_balanced_threshold(yv, s_all["classifier_probability"]),
        }
        self.rule, self.rule_scores = choose_rule(self._accepts(s_all), yv, self.votes)
        return self.history

    def _codes(self, x) -> np.ndarray:
        return np.concatenate(
            [np.asarray(self.encoder(x[i : i + 128], training=False)) for i in range(0, len(x), 128)]
        )

    # -------------------------------------------------------------- scoring
    def scores(self, x: np.ndarray) -> dict:
        """Raw scores of ink-map arrays: reconstruction error (MSE), isolation
        score (higher = more normal), classifier probability of "valid"."""
        codes = self._codes(x)
        recon = np.concatenate(
            [np.asarray(self.decoder(codes[i : i + 128], training=False)) for i in range(0, len(codes), 128)]
        )
        prob = np.concatenate(
            [np.asarray(self.classifier(x[i : i + 128], training=False))[:, 0] for i in range(0, len(x), 128)]
        )
        return {
            "reconstruction_error": np.mean((recon - x) ** 2, axis=(1, 2, 3)),
            "isolation_score": self.forest.score_samples(codes),
            "classifier_probability": prob,
        }

    def decide(self, x: np.ndarray) -> dict:
        """Per-detector accept (True = looks like a signature) and the combined vote."""
        if not self.thresholds:
            raise HwError("the screener has no thresholds: fit or load it first")
        s = self.scores(x)
        out = self._accepts(s)
        out["combined"] = combine(out, self.rule, self.votes)
        out["scores"] = s
        return out

    def _accepts(self, s: dict) -> dict:
        t = self.thresholds
        return {
            "autoencoder": s["reconstruction_error"] <= t["reconstruction_error"],
            "isolation_forest": s["isolation_score"] >= t["isolation_score"],
            "classifier": s["classifier_probability"] >= t["classifier_probability"],
        }

    def check(self, image) -> dict:
        """One image (path or array): ``{"valid": bool, "votes": {...}, "scores": {...}}``.

        A blank or near-blank image (:func:`hwutils.images.has_ink`) is an
        :class:`~hwutils.errors.ImageError` naming it: there is nothing to screen
        (its all-zero ink map would look like a perfectly reconstructed signature)."""
        gray = images.gray_with_ink(image)
        d = self.decide(self.prepare([gray]))
        return {
            "valid": bool(d["combined"][0]),
            "votes": {k: bool(d[k][0]) for k in DETECTORS},
            "scores": {k: float(v[0]) for k, v in d["scores"].items()},
            "thresholds": dict(self.thresholds),
        }

    def evaluate(self, valid: np.ndarray, invalid: np.ndarray) -> dict:
        """Precision, recall, F1 (positive = valid signature), balanced
        accuracy, the share of invalid images that pass and the 2x2 confusion
        matrix (rows true invalid/valid) of each detector and the combination."""
        d = self.decide(np.concatenate([valid, invalid]))
        y = np.r_[np.ones(len(valid), int), np.zeros(len(invalid), int)]
        out = {}
        for k in (*DETECTORS, "combined"):
            pred = d[k].astype(int)
            out[k] = metrics.precision_recall_f1(y, pred) | {
                "balanced_accuracy": balanced_accuracy(y, pred),
                "invalid_pass_rate": float(np.mean(pred[y == 0])) if len(invalid) else float("nan"),
                "confusion": metrics.confusion_matrix(y, pred, 2).tolist(),
            }
        return out

    # -------------------------------------------------------------- persistence
    def save(self, folder) -> Path:
        """Write the whole screener into ``folder``."""
        folder = Path(folder)
        for name, model in (
            ("encoder", self.encoder),
            ("decoder", self.decoder),
            ("classifier", self.classifier),
        ):
            training.save_model(model, folder / f"{name}.keras")
        artifacts.save_npy(folder / "train_codes.npy", self.train_codes)
        report.write_json_atomic(
            folder / "screener.json",
            {
                "height": self.height,
                "width": self.width,
                "latent_dim": self.latent_dim,
                "votes": self.votes,
                "rule": self.rule,
                "seed": self.seed,
                "thresholds": self.thresholds,
            },
        )
        return folder

    @classmethod
    def load(cls, folder) -> Screener:
        """Load a screener saved by :meth:`save` (``folder`` or a run folder with ``artifacts/screener``)."""
        from hwutils.runfolder import artifacts_folder

        folder = Path(folder)
        if not (folder / "screener.json").is_file():
            folder = artifacts_folder(folder, "screener/screener.json", "signatures (with screening)")
        cfg_path = folder / "screener.json"
        cfg = artifacts.load_json(
            cfg_path, required=("height", "width", "latent_dim", "votes", "seed", "thresholds")
        )
        artifacts.require_keys(
            cfg["thresholds"],
            ("reconstruction_error", "isolation_score", "classifier_probability"),
            f"{cfg_path} (thresholds)",
        )
        self = cls.__new__(cls)
        self.height, self.width, self.latent_dim = cfg["height"], cfg["width"], cfg["latent_dim"]
        self.votes, self.seed, self.thresholds, self.history = (
            cfg["votes"],
            cfg["seed"],
            cfg["thresholds"],
            {},
        )
        self.rule = cfg.get("rule", "vote")  # screeners saved before the rule was chosen voted
        if self.rule not in RULES:
            raise HwError(f"{cfg_path}: rule {self.rule!r} is not one of {', '.join(RULES)}")
        self.rule_scores = {}
        self.encoder = training.load_model(folder / "encoder.keras")
        self.decoder = training.load_model(folder / "decoder.keras")
        self.classifier = training.load_model(folder / "classifier.keras")
        codes_path = folder / "train_codes.npy"
        if not codes_path.is_file():
            raise HwError(f"{codes_path}: missing (the IsolationForest is refitted from it)")
        self.train_codes = artifacts.load_npy(codes_path)
        self.forest = _fit_forest(self.train_codes, self.seed)
        return self


def _best_f1_threshold(labels, probs) -> float:
    """The probability threshold with the best F1 of the positive class (validation data)."""
    best_t, best_f = 0.5, -1.0
    for t in np.unique(np.r_[np.asarray(probs), 0.5]):
        f = metrics.precision_recall_f1(labels, (probs >= t).astype(int))["f1"]
        if f > best_f:
            best_t, best_f = float(t), f
    return best_t


def _best_balanced_threshold(labels, probs) -> float:
    """The probability threshold with the best balanced accuracy on validation
    data (Youden's J; the lowest such threshold on ties), so the number of
    valid and invalid validation images does not tilt it."""
    probs = np.asarray(probs, np.float64)
    best_t, best_b = 0.5, -1.0
    for t in np.unique(np.r_[probs, 0.5]):
        b = balanced_accuracy(labels, probs >= t)
        if b > best_b:
            best_t, best_b = float(t), b
    return best_t
