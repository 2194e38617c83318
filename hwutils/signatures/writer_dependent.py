"""Writer-dependent decision on top of writer-independent features.

The standard ``sigver`` protocol (Hafemann et al.): a writer-independent
feature extractor (here the Siamese tower's pooled conv features, the layer
before its embedding, plus classic HOG
features of the preprocessed image) and, per claimed person, a small
classifier trained on that person's K genuine references (positives) against
genuine signatures of *other* persons from the development set (random
forgeries, negatives). The questioned signature's score is the classifier's
decision value (higher = more genuine).

With several feature sets the per-set decision values are fused by a
weighted sum, each divided by a scale (the spread of that set's scores on
validation trials, fixed after calibration), so no set dominates by its units.

Everything here works on NumPy arrays; nothing is pickled (the negatives are
saved as ``.npy`` beside the verifier and the per-person SVMs are refitted at
verification time -- a fraction of a second).
"""

from __future__ import annotations

import numpy as np
from sklearn.preprocessing import StandardScaler
from sklearn.svm import SVC

from hwutils.errors import ParamsError

FEATURES = ("cnn", "hog", "cnn+hog")


def hog_features(images, cell: int = 16, bins: int = 9) -> np.ndarray:
    """Histograms of oriented gradients of preprocessed signatures.

    ``images``: ``(n, h, w)`` uint8 (ink = 255) or float (ink = 1) ink maps.
    Unsigned gradient orientations in ``bins`` bins per ``cell`` x ``cell``
    cell, 2x2-cell blocks L2-Hys normalised (clipped at 0.2). Returns ``(n, d)``
    float32, ``d = (h // cell - 1) * (w // cell - 1) * 4 * bins``.
    """
    x = np.asarray(images)
    x = x.astype(np.float32) / 255.0 if x.dtype == np.uint8 else x.astype(np.float32)
    if x.ndim == 4:
        x = x[..., 0]
    n, h, w = x.shape
    ch, cw = h // cell, w // cell
    if ch < 2 or cw < 2:
        raise ParamsError(f"hog cell {cell}: images of {h}x{w} need at least 2x2 cells")
    gy = np.zeros_like(x)
    gx = np.zeros_like(x)
    gy[:, 1:-1] = x[:, 2:] - x[:, :-2]
    gx[:, :, 1:-1] = x[:, :, 2:] - x[:, :, :-2]
    mag = np.hypot(gx, gy)[:, : ch * cell, : cw * cell]
    ang = np.mod(np.arctan2(gy, gx), np.pi)[:, : ch * cell, : cw * cell]
    b = np.minimum((ang / np.pi * bins).astype(np.int64), bins - 1)
    hist = np.zeros((n, ch, cw, bins), np.float32)
    for k in range(bins):
        hist[..., k] = (mag * (b == k)).reshape(n, ch, cell, cw, cell).sum((2, 4))
    blocks = np.concatenate([hist[:, :-1, :-1], hist[:, 1:, :-1], hist[:, :-1, 1:], hist[:, 1:, 1:]], -1)
    blocks = blocks / (np.linalg.norm(blocks, axis=-1, keepdims=True) + 1e-6)
    blocks = np.minimum(blocks, 0.2)
    blocks = blocks / (np.linalg.norm(blocks, axis=-1, keepdims=True) + 1e-6)
    return blocks.reshape(n, -1).astype(np.float32)


def feature_sets(features: str, cnn_features: np.ndarray | None, images) -> dict:
    """``{"cnn": cnn_features, "hog": hog_features(images, hog_cell(h))}`` restricted to ``features``
    (``cnn_features``: e.g. :func:`siamese.pooled_features` of the same images)."""
    if features not in FEATURES:
        raise ParamsError(f"features: unknown value {features!r}; choose one of {', '.join(FEATURES)}")
    out = {}
    if "cnn" in features.split("+"):
        out["cnn"] = np.asarray(cnn_features, np.float32)
    if "hog" in features.split("+"):
        out["hog"] = hog_features(images, hog_cell(np.shape(images)[1]))
    return out


def hog_cell(height: int) -> int:
    """HOG cell size for an image height: a quarter of it, at most 16 pixels (16 at 64x128)."""
    return max(2, min(16, int(height) // 4))


def person_scorer(references: np.ndarray, negatives: np.ndarray, C: float = 1.0):
    """RBF SVM (balanced classes, standardised features) of K references vs
    negatives -> a function ``features (m, d) -> decision values (m,)``."""
    x = np.concatenate([references, negatives])
    y = np.r_[np.ones(len(references)), np.zeros(len(negatives))]
    scaler = StandardScaler().fit(x)
    clf = SVC(kernel="rbf", C=C, gamma="scale", class_weight="balanced").fit(scaler.transform(x), y)
    return lambda q: clf.decision_function(scaler.transform(np.atleast_2d(q)))


def score_trials(sets: dict, protocol: dict, negatives: dict, C: float = 1.0) -> dict:
    """Raw per-set WD scores of the trials of a :func:`verify.make_trials` protocol.

    ``sets``: name -> ``(n, d)`` features of the protocol's records;
    ``negatives``: name -> ``(m, d)`` features of other persons' genuine
    signatures (e.g. the training persons). Returns ``{"person", "index",
    "type", name: scores...}`` (higher = more genuine).
    """
    by_person: dict = {}
    for k, (p, i, t) in enumerate(protocol["trials"]):
        by_person.setdefault(p, []).append(k)
    n = len(protocol["trials"])
    out = {"person": np.array([t[0] for t in protocol["trials"]]),
           "index": np.array([t[1] for t in protocol["trials"]], int),
           "type": np.array([t[2] for t in protocol["trials"]])}
    for name, feats in sets.items():
        s = np.zeros(n, np.float64)
        for p, ks in by_person.items():
            score = person_scorer(feats[protocol["references"][p]], negatives[name], C)
            s[ks] = score(feats[out["index"][ks]])
        out[name] = s
    return out


def fit_scales(raw: dict, names) -> dict:
    """Per-set score spread (standard deviation over the given, validation, trials)."""
    return {k: float(np.std(raw[k]) or 1.0) for k in names}


def fuse(raw: dict, scales: dict) -> np.ndarray:
    """Fused score: sum over sets of ``score / scale`` (higher = more genuine)."""
    return sum(np.asarray(raw[k]) / scales[k] for k in scales)


def as_distance_scores(raw: dict, scales: dict) -> dict:
    """Trial dict in the shape of :func:`verify.score_trials` (``distance`` =
    minus the fused score, so lower is more genuine and the same evaluation
    and calibration code applies)."""
    return {"person": raw["person"], "index": raw["index"], "type": raw["type"],
            "distance": -fuse(raw, scales).astype(np.float64)}
