"""Contour-hinge texture features of handwriting (Bulacu and Schomaker 2007)
and a linear writer classifier on them, fused with the CNN's scores.

For every point of every ink contour of a binarised line, the two contour
fragments ("legs") of ``leg`` pixels leaving it in either direction make a
hinge; the joint histogram of the two leg directions (``bins`` x ``bins`` over
the full circle) and the histogram of single leg directions (``2 * bins``)
describe the writer's stroke curvature, slant and roundness independently of
the text. Features are computed on the line at its own resolution (not
resized), so they keep pen width and letter size; lines of a collection should
be scanned at the same resolution (CSAFE and IAM: 300 dpi).

The classifier standardises the square roots of the histograms (the Hellinger
map) and fits a multinomial logistic regression. :func:`fuse` combines its
probabilities with the CNN's by a weighted geometric mean, the weight chosen
on validation lines (:func:`choose_weight`).
"""

from __future__ import annotations

from pathlib import Path

import cv2
import numpy as np

from hwutils.errors import DataError
from hwutils.images import as_gray, binarize, crop_to_ink


def hinge_features(image, leg: int = 12, bins: int = 16) -> np.ndarray:
    """Contour-hinge (``bins * bins``) and contour-direction (``2 * bins``)
    histograms of a line image (path, array or PIL image; paper white),
    each normalised to sum 1 (zeros when the line has no contour long enough)."""
    if leg < 1 or bins < 2:
        raise DataError(f"hinge features need leg >= 1 and bins >= 2, got leg={leg}, bins={bins}")
    gray = crop_to_ink(as_gray(image), margin=2)
    mask = np.ascontiguousarray(binarize(gray).astype(np.uint8))
    contours, _ = cv2.findContours(mask, cv2.RETR_LIST, cv2.CHAIN_APPROX_NONE)
    hinge = np.zeros((bins, bins))
    direction = np.zeros(2 * bins)
    for c in contours:
        p = c[:, 0, :].astype(np.float64)
        if len(p) < 2 * leg + 1:
            continue
        a = np.roll(p, -leg, axis=0) - p
        b = np.roll(p, leg, axis=0) - p
        phi1 = np.arctan2(-a[:, 1], a[:, 0]) % (2 * np.pi)  # image rows grow downwards
        phi2 = np.arctan2(-b[:, 1], b[:, 0]) % (2 * np.pi)
        i1 = np.minimum((phi1 * bins / (2 * np.pi)).astype(int), bins - 1)
        i2 = np.minimum((phi2 * bins / (2 * np.pi)).astype(int), bins - 1)
        np.add.at(hinge, (i1, i2), 1)
        np.add.at(direction, np.minimum((phi1 * bins / np.pi).astype(int), 2 * bins - 1), 1)
    return np.concatenate([hinge.ravel() / max(hinge.sum(), 1.0), direction / max(direction.sum(), 1.0)])


def line_features(images, leg: int = 12, bins: int = 16) -> np.ndarray:
    """``(n, bins * bins + 2 * bins)`` features of ``n`` line images."""
    images = list(images)
    if not images:
        raise DataError("no line images to compute texture features of")
    return np.stack([hinge_features(im, leg, bins) for im in images]).astype(np.float32)


class TextureClassifier:
    """Standardised Hellinger-mapped hinge features -> multinomial logistic regression.

    Plain arrays only (``mean``, ``scale``, ``coef``, ``intercept``), so it saves
    to ``.npz`` without pickled code."""

    def __init__(self, mean, scale, coef, intercept, leg: int, bins: int):
        self.mean, self.scale = np.asarray(mean, np.float64), np.asarray(scale, np.float64)
        self.coef, self.intercept = np.asarray(coef, np.float64), np.asarray(intercept, np.float64)
        self.leg, self.bins = int(leg), int(bins)

    @classmethod
    def fit(
        cls, features, labels, n_classes: int, leg: int = 12, bins: int = 16, C: float = 1.0
    ) -> TextureClassifier:
        """Fit on ``features`` (from :func:`line_features` with the same ``leg``
        and ``bins``) of lines labelled ``0 .. n_classes - 1``; every class needs
        at least one line."""
        from sklearn.linear_model import LogisticRegression

        labels = np.asarray(labels, int)
        missing = sorted(set(range(n_classes)) - set(labels.tolist()))
        if missing:
            raise DataError(f"texture classifier: no training line for class(es) {missing[:5]}")
        x = np.sqrt(np.asarray(features, np.float64))
        mean, scale = x.mean(0), x.std(0)
        scale[scale < 1e-8] = 1.0
        lr = LogisticRegression(C=C, max_iter=5000).fit((x - mean) / scale, labels)
        return cls(mean, scale, lr.coef_, lr.intercept_, leg, bins)

    def predict_proba(self, features) -> np.ndarray:
        """Writer probabilities of lines' features; wider features (the texture
        evidence, :func:`~hwutils.writer_id.texture_distance.evidence_features`,
        which starts with these histograms) are read up to the classifier's width."""
        x = np.asarray(features, np.float64)[:, : len(self.mean)]
        z = ((np.sqrt(x) - self.mean) / self.scale) @ self.coef.T + self.intercept
        z -= z.max(axis=1, keepdims=True)
        p = np.exp(z)
        return (p / p.sum(axis=1, keepdims=True)).astype(np.float32)

    def predict_images(self, images) -> np.ndarray:
        return self.predict_proba(line_features(images, self.leg, self.bins))

    def save(self, path) -> Path:
        from hwutils import artifacts

        return artifacts.save_npz(
            path,
            mean=self.mean,
            scale=self.scale,
            coef=self.coef,
            intercept=self.intercept,
            leg=self.leg,
            bins=self.bins,
        )

    @classmethod
    def load(cls, path) -> TextureClassifier:
        """Read a classifier saved by :meth:`save` (``allow_pickle=False``); a missing or
        corrupt file, or a missing array, is an :class:`~hwutils.errors.ArtifactError` naming it."""
        from hwutils import artifacts

        z = artifacts.load_npz(path, keys=("mean", "scale", "coef", "intercept", "leg", "bins"))
        artifacts.check_finite(path, z, ("mean", "scale", "coef", "intercept"))
        return cls(z["mean"], z["scale"], z["coef"], z["intercept"], int(z["leg"]), int(z["bins"]))


def fuse(p_cnn, p_texture, weight: float) -> np.ndarray:
    """Weighted geometric mean of two probability arrays, renormalised per row
    (``weight`` 0: CNN only, 1: texture only)."""
    logp = (1 - weight) * np.log(np.clip(p_cnn, 1e-7, 1)) + weight * np.log(np.clip(p_texture, 1e-7, 1))
    logp -= logp.max(axis=-1, keepdims=True)
    p = np.exp(logp)
    return (p / p.sum(axis=-1, keepdims=True)).astype(np.float32)


def choose_weight(
    p_cnn, p_texture, labels, weights=tuple(np.round(np.linspace(0, 1, 11), 2))
) -> tuple[float, dict]:
    """The fusion weight with the lowest mean negative log-likelihood of the true
    writer on (validation) lines; returns it and ``{weight: nll}`` (0.5 and ``{}``
    without lines)."""
    labels = np.asarray(labels, int)
    if not len(labels):
        return 0.5, {}
    nll = {}
    for w in weights:
        p = fuse(p_cnn, p_texture, float(w))
        nll[float(w)] = float(-np.mean(np.log(np.clip(p[np.arange(len(labels)), labels], 1e-7, 1))))
    best = min(nll, key=nll.get)
    return best, nll
