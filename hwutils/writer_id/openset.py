"""New-writer detection from penultimate-layer embeddings.

A line's embedding is the mean of its windows' ``embedding`` outputs, L2
normalised. Each known writer gets a centroid (mean of its training lines'
embeddings, normalised). A line's score is its cosine similarity to the
nearest centroid: high = looks like a known writer. The acceptance threshold
is calibrated on validation lines of known writers only (the score below
which ``target_frr`` of them fall), so no unknown writer and no test line
is used to set it; it is then evaluated on test lines of known writers
against lines of writers held out of training.
"""

from __future__ import annotations

import numpy as np

from hwutils import metrics


def normalize(x: np.ndarray) -> np.ndarray:
    """Rows scaled to unit L2 norm."""
    x = np.asarray(x, np.float32)
    return x / np.maximum(np.linalg.norm(x, axis=-1, keepdims=True), 1e-12)


def centroids(embeddings: np.ndarray, labels, n_classes: int) -> np.ndarray:
    """``(n_classes, d)`` normalised mean embedding of each class (zeros where a class has none)."""
    emb = normalize(embeddings)
    labels = np.asarray(labels, int)
    out = np.zeros((n_classes, emb.shape[1]), np.float32)
    for c in range(n_classes):
        if (labels == c).any():
            out[c] = emb[labels == c].mean(axis=0)
    return normalize(out)


def similarities(embeddings: np.ndarray, cents: np.ndarray) -> np.ndarray:
    """Cosine similarity of every embedding to every centroid, ``(n, n_classes)``."""
    return normalize(embeddings) @ cents.T


def known_score(embeddings: np.ndarray, cents: np.ndarray) -> np.ndarray:
    """Similarity to the nearest centroid (higher = more like a known writer)."""
    return similarities(embeddings, cents).max(axis=1)


def calibrate_threshold(known_val_scores, target_frr: float = 0.05) -> float:
    """The score below which ``target_frr`` of known writers' validation lines fall."""
    return float(np.quantile(np.asarray(known_val_scores, np.float64), target_frr))


def evaluate(known_scores, unknown_scores, threshold: float) -> dict:
    """AUROC of known-vs-new, and false accepts (new writers' lines accepted) and
    false rejects (known writers' lines rejected) at ``threshold``."""
    known_scores, unknown_scores = np.asarray(known_scores), np.asarray(unknown_scores)
    labels = np.r_[np.ones(len(known_scores)), np.zeros(len(unknown_scores))]
    scores = np.r_[known_scores, unknown_scores]
    far, frr = metrics.far_frr(labels, scores, threshold)
    return {
        "auroc": metrics.auroc(labels, scores),
        "threshold": float(threshold),
        "false_accepts": int((unknown_scores >= threshold).sum()),
        "false_accept_rate": far,
        "false_rejects": int((known_scores < threshold).sum()),
        "false_reject_rate": frr,
        "n_known": int(len(known_scores)),
        "n_unknown": int(len(unknown_scores)),
    }
