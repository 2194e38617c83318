"""Every evaluation metric of the project, each with its definition.

Conventions: ``y_true`` are integer class indices; ``probs`` are
``(n, n_classes)`` scores (softmax outputs); for verification and detection,
``scores`` are "higher means positive" (genuine signature, known writer).
Pass ``-distance`` for distance-based systems.
"""

from __future__ import annotations

import numpy as np


# ---------------------------------------------------------------- classification
def top_k_accuracy(y_true, probs, k: int = 1) -> float:
    """Share of samples whose true class is among the ``k`` highest scores."""
    y_true = np.asarray(y_true)
    probs = np.asarray(probs)
    if len(y_true) == 0:
        return float("nan")
    k = min(k, probs.shape[1])
    top = np.argsort(-probs, axis=1)[:, :k]
    return float(np.mean(np.any(top == y_true[:, None], axis=1)))


def accuracy(y_true, y_pred) -> float:
    """Share of exact matches between two label sequences."""
    y_true, y_pred = np.asarray(y_true), np.asarray(y_pred)
    return float(np.mean(y_true == y_pred)) if len(y_true) else float("nan")


def confusion_matrix(y_true, y_pred, n_classes: int) -> np.ndarray:
    """``(n_classes, n_classes)`` counts; row = true class, column = predicted."""
    cm = np.zeros((n_classes, n_classes), np.int64)
    np.add.at(cm, (np.asarray(y_true, int), np.asarray(y_pred, int)), 1)
    return cm


def per_class_accuracy(cm: np.ndarray) -> np.ndarray:
    """Recall of each class from a confusion matrix (NaN for classes never seen)."""
    support = cm.sum(axis=1)
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(support > 0, np.diag(cm) / np.maximum(support, 1), np.nan)


def most_confused_pairs(cm: np.ndarray, labels=None, top: int = 10) -> list[dict]:
    """The ``top`` off-diagonal cells of a confusion matrix, largest first."""
    off = cm.copy()
    np.fill_diagonal(off, 0)
    idx = np.dstack(np.unravel_index(np.argsort(-off, axis=None), off.shape))[0]
    out = []
    for i, j in idx[:top]:
        if off[i, j] == 0:
            break
        name = (lambda c: labels[c]) if labels is not None else (lambda c: int(c))
        out.append(
            {
                "true": name(i),
                "predicted": name(j),
                "count": int(off[i, j]),
                "share_of_true": float(off[i, j] / max(1, cm[i].sum())),
            }
        )
    return out


def precision_recall_f1(y_true, y_pred, positive=1) -> dict:
    """Precision, recall and F1 of the ``positive`` label, plus the counts."""
    y_true, y_pred = np.asarray(y_true), np.asarray(y_pred)
    tp = int(np.sum((y_pred == positive) & (y_true == positive)))
    fp = int(np.sum((y_pred == positive) & (y_true != positive)))
    fn = int(np.sum((y_pred != positive) & (y_true == positive)))
    tn = int(np.sum((y_pred != positive) & (y_true != positive)))
    precision = tp / (tp + fp) if tp + fp else 0.0
    recall = tp / (tp + fn) if tp + fn else 0.0
    f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
    return {"precision": precision, "recall": recall, "f1": f1, "tp": tp, "fp": fp, "fn": fn, "tn": tn}


# ---------------------------------------------------------- verification/detection
def _two_classes(labels, scores):
    labels = np.asarray(labels).astype(bool)
    scores = np.asarray(scores, np.float64)
    if labels.shape != scores.shape:
        raise ValueError(f"labels {labels.shape} and scores {scores.shape} differ in shape")
    return labels, scores


def roc_curve(labels, scores):
    """False-accept rate, true-accept rate and thresholds, scores descending
    (scikit-learn's ``roc_curve`` with every threshold kept).

    ``labels`` are 1 for positives (genuine/known), 0 for negatives. At
    threshold ``t`` a sample is accepted when ``score >= t``; the first point
    is ``(0, 0)`` at an infinite threshold. With no positives (or no
    negatives) the missing rate stays 0 instead of NaN.
    """
    from sklearn.metrics import roc_curve as sk_roc_curve

    labels, scores = _two_classes(labels, scores)
    if labels.all() or not labels.any():  # one class only: scikit-learn warns and gives NaN
        order = np.argsort(-scores, kind="mergesort")
        s, lab = scores[order], labels[order]
        distinct = np.r_[np.flatnonzero(np.diff(s)), len(s) - 1] if len(s) else np.array([], int)
        tps, fps = np.cumsum(lab)[distinct], np.cumsum(~lab)[distinct]
        n_pos, n_neg = max(1, lab.sum()), max(1, (~lab).sum())
        return np.r_[0.0, fps / n_neg], np.r_[0.0, tps / n_pos], np.r_[np.inf, s[distinct]]
    far, tar, thresholds = sk_roc_curve(labels, scores, drop_intermediate=False)
    return far, tar, thresholds


def auroc(labels, scores) -> float:
    """Area under the ROC curve (scikit-learn's ``roc_auc_score``): the
    probability that a random positive scores above a random negative (ties
    count half); NaN when either class is missing."""
    from sklearn.metrics import roc_auc_score

    labels, scores = _two_classes(labels, scores)
    if labels.all() or not labels.any():
        return float("nan")
    return float(roc_auc_score(labels, scores))


def far_frr(labels, scores, threshold: float) -> tuple[float, float]:
    """At ``threshold`` (accept when score >= threshold): FAR = share of
    negatives accepted, FRR = share of positives rejected."""
    labels = np.asarray(labels).astype(bool)
    scores = np.asarray(scores, np.float64)
    accepted = scores >= threshold
    far = float(np.mean(accepted[~labels])) if (~labels).any() else float("nan")
    frr = float(np.mean(~accepted[labels])) if labels.any() else float("nan")
    return far, frr


def eer(labels, scores) -> tuple[float, float]:
    """Equal error rate and the threshold where FAR and FRR meet.

    The EER is read where the FAR and FRR curves cross, averaging the two
    rates at the closest threshold (the usual convention, as in sigver).
    """
    far, tar, thr = roc_curve(labels, scores)
    frr = 1.0 - tar
    i = int(np.argmin(np.abs(far - frr)))
    threshold = float(thr[i]) if np.isfinite(thr[i]) else float(np.max(scores)) + 1e-9
    return float((far[i] + frr[i]) / 2), threshold


def per_user_eer(labels, scores, users) -> float:
    """EER with a threshold per user: the mean over users of each user's EER
    (users lacking positives or negatives are skipped)."""
    labels, scores, users = np.asarray(labels).astype(bool), np.asarray(scores), np.asarray(users)
    values = []
    for u in np.unique(users):
        m = users == u
        if labels[m].any() and (~labels[m]).any():
            values.append(eer(labels[m], scores[m])[0])
    return float(np.mean(values)) if values else float("nan")


def det_curve(labels, scores):
    """(FAR, FRR) pairs over all thresholds: the detection error trade-off."""
    far, tar, _ = roc_curve(labels, scores)
    return far, 1.0 - tar


def threshold_at_far(labels, scores, target_far: float) -> float:
    """The lowest threshold whose false-accept rate does not exceed ``target_far``."""
    far, _, thr = roc_curve(labels, scores)
    ok = np.flatnonzero(far <= target_far + 1e-12)  # rates are ratios of counts: no rounding loss
    t = thr[ok[-1]]
    return float(t) if np.isfinite(t) else float(np.max(scores)) + 1e-9


def threshold_at_frr(labels, scores, target_frr: float) -> float:
    """The highest threshold whose false-reject rate does not exceed ``target_frr``."""
    _, tar, thr = roc_curve(labels, scores)
    t = thr[np.flatnonzero(1.0 - tar <= target_frr + 1e-12)[0]]
    return float(t) if np.isfinite(t) else float(np.max(scores)) + 1e-9


# ------------------------------------------------------------------------ text
def edit_distance(a, b) -> int:
    """Levenshtein distance: fewest insertions, deletions and substitutions
    turning sequence ``a`` into ``b``."""
    a, b = list(a), list(b)
    prev = list(range(len(b) + 1))
    for i, ca in enumerate(a, 1):
        cur = [i] + [0] * len(b)
        for j, cb in enumerate(b, 1):
            cur[j] = min(prev[j] + 1, cur[j - 1] + 1, prev[j - 1] + (ca != cb))
        prev = cur
    return prev[-1]


def cer(references, hypotheses) -> float:
    """Character error rate: total edit distance over total reference length."""
    errors = sum(edit_distance(r, h) for r, h in zip(references, hypotheses))
    total = sum(len(r) for r in references)
    return errors / total if total else float("nan")


def word_accuracy(references, hypotheses) -> float:
    """Share of words read exactly."""
    pairs = list(zip(references, hypotheses))
    return sum(r == h for r, h in pairs) / len(pairs) if pairs else float("nan")


def reading_intervals(references, hypotheses, n_boot: int = 2000, level: float = 0.95, seed: int = 0) -> dict:
    """Percentile bootstrap intervals over words of :func:`cer` and
    :func:`word_accuracy`: ``{"cer": [low, high], "word_accuracy": [low,
    high]}``. Each replicate draws as many words as there are, with
    replacement (words are the independent units: a word's characters share
    its writer and its image). Empty when there are no words."""
    pairs = list(zip(references, hypotheses))
    if not pairs:
        return {}
    errors = np.array([edit_distance(r, h) for r, h in pairs], np.float64)
    lengths = np.array([len(r) for r, _ in pairs], np.float64)
    right = np.array([r == h for r, h in pairs], np.float64)
    draws = np.random.default_rng(seed).integers(0, len(pairs), (n_boot, len(pairs)))
    chars = lengths[draws].sum(1)
    cers = np.divide(errors[draws].sum(1), chars, out=np.zeros(n_boot), where=chars > 0)
    tail = 100 * (1 - level) / 2
    return {
        name: [float(v) for v in np.percentile(values, [tail, 100 - tail])]
        for name, values in (("cer", cers), ("word_accuracy", right[draws].mean(1)))
    }


# -------------------------------------------------------------- generative models
def frechet_distance(feats_a, feats_b, eps: float = 1e-6) -> float:
    """Fréchet distance between Gaussians fitted to two feature sets (as in FID):
    ``|mu_a - mu_b|^2 + Tr(S_a + S_b - 2 (S_a S_b)^(1/2))``."""
    from scipy import linalg

    a, b = np.asarray(feats_a, np.float64), np.asarray(feats_b, np.float64)
    mu_a, mu_b = a.mean(0), b.mean(0)
    s_a, s_b = np.cov(a, rowvar=False), np.cov(b, rowvar=False)
    s_a, s_b = np.atleast_2d(s_a), np.atleast_2d(s_b)
    covmean = linalg.sqrtm(s_a @ s_b)
    if not np.isfinite(covmean).all():
        off = np.eye(s_a.shape[0]) * eps
        covmean = linalg.sqrtm((s_a + off) @ (s_b + off))
    covmean = np.real(covmean)
    return float(np.sum((mu_a - mu_b) ** 2) + np.trace(s_a + s_b - 2 * covmean))


def mean_pairwise_distance(x) -> float:
    """Mean Euclidean distance over all pairs of rows of ``x`` (flattened): a diversity measure."""
    x = np.asarray(x, np.float64).reshape(len(x), -1)
    if len(x) < 2:
        return 0.0
    sq = np.sum(x**2, axis=1)
    d2 = np.maximum(sq[:, None] + sq[None, :] - 2 * x @ x.T, 0)
    iu = np.triu_indices(len(x), 1)
    return float(np.mean(np.sqrt(d2[iu])))
