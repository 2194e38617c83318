"""Small pieces of the signatures stage's measurement protocol that the
notebook used to write inline: the ROC series of scored trials and a
latency harness."""

from __future__ import annotations

import time

import numpy as np

NEGATIVES = ("skilled", "random")


def roc_series(scores: dict, negatives=NEGATIVES) -> dict:
    """``{negative type: (labels, scores)}`` for :func:`hwutils.plots.roc_det`:
    for each forgery type present, the genuine trials (label True) against
    that type's (False), scored ``-distance`` so higher means genuine."""
    t = np.asarray(scores["type"])
    d = np.asarray(scores["distance"], np.float64)
    out = {}
    for neg in negatives:
        if np.any(t == neg) and np.any(t == "genuine"):
            keep = (t == "genuine") | (t == neg)
            out[neg] = (t[keep] == "genuine", -d[keep])
    return out


def score_groups(scores: dict) -> dict:
    """The trials' distances by type (genuine, skilled, random), for histograms."""
    t = np.asarray(scores["type"])
    return {k: np.asarray(scores["distance"])[t == k] for k in ("genuine", *NEGATIVES)}


def time_per_call(fn, items, clock=time.perf_counter) -> tuple[list, float]:
    """Call ``fn`` on each of ``items``; return the results and the mean wall
    time per call in milliseconds (NaN for no items)."""
    items = list(items)
    t0 = clock()
    results = [fn(x) for x in items]
    elapsed = clock() - t0
    return results, (elapsed / len(items) * 1000 if items else float("nan"))
