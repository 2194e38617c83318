"""Scores to likelihood ratios, and how well they are calibrated, with `lir`
(the Netherlands Forensic Institute's LR toolkit).

An LR says how much more probable the evidence (a score) is if H1 is true
(same writer; genuine signature of the reference person) than if H2 is (a
different writer; a skilled forgery). :class:`LRCalibrator` fits lir's
logistic calibrator (class-balanced, so the fitted prior is removed) on
trials with known truth and bounds the result by lir's empirical lower and
upper bounds (ELUB, Vergeer et al. 2016), so no LR claims more than the
calibration data can support. It saves as JSON (two coefficients and two
bounds), never pickled.

:func:`lr_metrics` reports Cllr (the cost of the LRs: 0 perfect, 1 no better
than saying nothing, above 1 misleading), Cllr_min (the cost after the best
monotone recalibration: the discrimination alone) and their difference, the
calibration loss. :func:`tippett_figure` and :func:`ece_figure` draw lir's
Tippett and empirical-cross-entropy plots.
"""

from __future__ import annotations

import json
import math
from pathlib import Path

import numpy as np

from hwutils.errors import ArtifactError

METHODS = ("logistic",)
NO_EVIDENCE_CLLR = 1.0  # Cllr of a system that says LR = 1 for every trial
CALIBRATION_LOSS_GOAL = 0.05  # Cllr - Cllr_min at most this on trials calibration never saw
MAX_ABS_LOG10_LR = 12.0  # no calibration may claim more than 10^12 either way: a larger bound is corrupt
STRONG_LOG10_LR = 2.0  # "strongly misleading": LR beyond 100 (or below 1/100) for the wrong proposition


def cllr_result(name: str, value, group: str, yardstick: str = "no evidence (LR = 1 always)", note: str = ""):
    """A report headline: Cllr against stating no evidence (lower is better)."""
    from hwutils.report import Result

    return Result(
        name,
        value,
        kind="number",
        group=group,
        yardstick=yardstick,
        yardstick_value=NO_EVIDENCE_CLLR,
        better="lower",
        note=note,
    )


def calibration_loss_result(name: str, value, group: str, yardstick: str = "goal (README)", note: str = ""):
    """A report headline: the calibration loss against :data:`CALIBRATION_LOSS_GOAL` (lower is better)."""
    from hwutils.report import Result

    return Result(
        name,
        value,
        kind="number",
        group=group,
        yardstick=yardstick,
        yardstick_value=CALIBRATION_LOSS_GOAL,
        better="lower",
        note=note,
    )


def _llr_data(log10_lrs, same):
    from lir.data.models import LLRData

    return LLRData(
        features=np.asarray(log10_lrs, float).reshape(-1), labels=np.asarray(same, int).reshape(-1)
    )


class LRCalibrator:
    """Score -> log10 LR for H1 (``same`` = 1) against H2 (``same`` = 0)."""

    def __init__(self, method: str = "logistic"):
        if method not in METHODS:
            raise ValueError(f"method must be one of {', '.join(METHODS)}, got {method!r}")
        self.method = method
        self.coef: float | None = None
        self.intercept: float | None = None
        self.bounds: tuple[float, float] | None = None
        self.source_bounds: tuple[float, float] | None = None
        self.n_same = self.n_different = 0
        # what the calibration trials were made of, where it bounds the LRs' use (e.g. the
        # signatures' ``n_references``: fewer references than this and the LRs overstate)
        self.conditions: dict[str, int] = {}

    def fit(self, scores, same) -> LRCalibrator:
        from lir.algorithms.bayeserror import elub
        from lir.algorithms.logistic_regression import LogitCalibrator

        x = np.asarray(scores, float).reshape(-1)
        y = np.asarray(same, int).reshape(-1)
        if x.shape != y.shape or not len(x):
            raise ValueError(
                f"scores and labels must be the same non-empty length, got {x.shape} and {y.shape}"
            )
        if not np.all(np.isfinite(x)):
            raise ValueError("scores must be finite")
        if y.min() == y.max():
            raise ValueError("calibration needs trials of both kinds (same and different source)")
        cal = LogitCalibrator().fit(x, y)
        self.coef = float(cal._logit.coef_[0, 0])
        self.intercept = float(cal._logit.intercept_[0])
        lo, hi = elub(self._raw(x), y)
        self.bounds = (float(lo), float(hi))
        self.n_same, self.n_different = int(y.sum()), int((1 - y).sum())
        return self

    def limit_to_sources(self, n_same_sources: int, n_different_pairs: int) -> LRCalibrator:
        """Narrow the bounds to what the number of *sources* behind the trials
        supports: trials are many but come from few writers (persons), and no
        trial set of N distinct different-source pairs can show a probability
        under H2 below about 1/N, so no log10 LR above log10(N); likewise no
        log10 LR below -log10(n_same_sources). Keeps the tighter of these and
        ELUB's bounds."""
        if self.bounds is None:
            raise ValueError("LRCalibrator is not fitted")
        lo = -math.log10(max(2, int(n_same_sources)))
        hi = math.log10(max(2, int(n_different_pairs)))
        self.bounds = (max(self.bounds[0], lo), min(self.bounds[1], hi))
        self.source_bounds = (lo, hi)
        return self

    def _raw(self, scores) -> np.ndarray:
        return (self.intercept + self.coef * np.asarray(scores, float)) / math.log(10)

    def log10_lr(self, scores) -> np.ndarray:
        """The bounded log10 LR of each score."""
        if self.coef is None:
            raise ValueError("LRCalibrator is not fitted")
        raw = self._raw(scores)
        return np.clip(raw, *self.bounds) if self.bounds else raw

    def to_dict(self) -> dict:
        return {
            "method": self.method,
            "coef": self.coef,
            "intercept": self.intercept,
            "bounds": list(self.bounds) if self.bounds else None,
            "n_same": self.n_same,
            "n_different": self.n_different,
            "source_bounds": list(self.source_bounds) if self.source_bounds else None,
            "conditions": dict(self.conditions),
            "library": "lir LogitCalibrator (balanced) + ELUB bounds"
            + (" narrowed to the number of sources" if self.source_bounds else ""),
        }

    @classmethod
    def from_dict(cls, d: dict) -> LRCalibrator:
        try:
            cal = cls(d.get("method", "logistic"))
            cal.coef, cal.intercept = float(d["coef"]), float(d["intercept"])
            cal.bounds = tuple(float(b) for b in d["bounds"]) if d.get("bounds") else None
            cal.n_same, cal.n_different = int(d.get("n_same", 0)), int(d.get("n_different", 0))
            cal.conditions = dict(d.get("conditions") or {})
        except (KeyError, TypeError, ValueError, AttributeError) as exc:
            raise ValueError(f"not an LR calibration ({type(exc).__name__}: {exc})") from None
        cal.check()
        return cal

    def check(self) -> LRCalibrator:
        """A ``ValueError`` naming the key when a value cannot be a calibration:
        coefficients and bounds not finite, bounds out of order or beyond
        :data:`MAX_ABS_LOG10_LR`, a negative trial count. Loading calls it, so
        a tampered or corrupt calibration never becomes an LR."""
        for key in ("coef", "intercept"):
            value = getattr(self, key)
            if value is None or not math.isfinite(value):
                raise ValueError(f"key {key!r} is {value!r}, not a finite number")
        if self.bounds is not None:
            if len(self.bounds) != 2 or not all(math.isfinite(b) for b in self.bounds):
                raise ValueError(f"key 'bounds' is {list(self.bounds)!r}, not two finite numbers")
            lo, hi = self.bounds
            if not lo <= 0 <= hi:
                raise ValueError(f"key 'bounds' is [{lo}, {hi}]; bounds must be ordered around 0")
            if max(-lo, hi) > MAX_ABS_LOG10_LR:
                raise ValueError(f"key 'bounds' is [{lo}, {hi}]; beyond +-{MAX_ABS_LOG10_LR} log10 units")
        if self.n_same < 0 or self.n_different < 0:
            raise ValueError("keys 'n_same' and 'n_different' must not be negative")
        for key, value in self.conditions.items():
            if isinstance(value, bool) or not isinstance(value, int) or value < 1:
                raise ValueError(f"key 'conditions.{key}' is {value!r}, not a whole number >= 1")
        return self

    def save(self, path) -> Path:
        from hwutils.report import write_json_atomic

        return write_json_atomic(path, self.to_dict())

    @classmethod
    def load(cls, path) -> LRCalibrator:
        path = Path(path)
        try:
            with open(path, encoding="utf-8") as fh:
                data = json.load(fh)
        except FileNotFoundError:
            raise ArtifactError(f"{path}: missing") from None
        except (OSError, ValueError) as exc:
            raise ArtifactError(f"{path}: not valid JSON ({exc})") from None
        if not isinstance(data, dict):
            raise ArtifactError(f"{path}: expected a JSON object, got {type(data).__name__}")
        try:
            return cls.from_dict(data)
        except ValueError as exc:
            raise ArtifactError(f"{path}: {exc}") from None


def writer_sources(n_writers: int) -> tuple[int, int]:
    """``(writers, ordered pairs of different writers)`` behind trials drawn from
    ``n_writers`` writers: what :meth:`LRCalibrator.limit_to_sources` takes."""
    n = int(n_writers)
    return n, n * (n - 1)


def lr_metrics(log10_lrs, same) -> dict:
    """Cllr, Cllr_min and the calibration loss (Cllr - Cllr_min) from lir, with the trial counts."""
    from lir import metrics

    data = _llr_data(log10_lrs, same)
    y = data.labels
    out = {"n_same": int(y.sum()), "n_different": int(len(y) - y.sum())}
    if out["n_same"] == 0 or out["n_different"] == 0:
        return {**out, "cllr": float("nan"), "cllr_min": float("nan"), "cllr_cal": float("nan")}
    cllr, cllr_min = metrics.cllr(data), metrics.cllr_min(data)
    return {**out, "cllr": float(cllr), "cllr_min": float(cllr_min), "cllr_cal": float(cllr - cllr_min)}


def misleading_rates(log10_lrs, same) -> dict:
    """Rates of misleading evidence of trials with known truth (``same`` = 1: H1 true).

    ``rmep``: share of H1 trials with LR < 1 (misleading evidence against the
    true H1; "P" as in prosecution's proposition); ``rmed``: share of H2 trials
    with LR > 1 ("D", defence); ``rmep_strong`` / ``rmed_strong``: the shares
    beyond :data:`STRONG_LOG10_LR` the wrong way (LR < 1/100 under H1, LR > 100
    under H2); ``h1_log10_lr_min`` and ``h2_log10_lr_max``: the worst single
    trial of each kind. A rate without trials of its kind is None (never NaN),
    so the result is strict JSON."""
    llr = np.asarray(log10_lrs, float).reshape(-1)
    y = np.asarray(same, int).reshape(-1)
    if llr.shape != y.shape:
        raise ValueError(f"log10_lrs and same differ in length: {llr.shape} and {y.shape}")
    if not np.all(np.isfinite(llr)):
        raise ValueError("log10 LRs must be finite")
    h1, h2 = llr[y == 1], llr[y == 0]

    def share(x, mask):
        return float(mask.mean()) if len(x) else None

    return {
        "n_same": int(len(h1)),
        "n_different": int(len(h2)),
        "rmep": share(h1, h1 < 0),
        "rmed": share(h2, h2 > 0),
        "rmep_strong": share(h1, h1 < -STRONG_LOG10_LR),
        "rmed_strong": share(h2, h2 > STRONG_LOG10_LR),
        "h1_log10_lr_min": float(h1.min()) if len(h1) else None,
        "h2_log10_lr_max": float(h2.max()) if len(h2) else None,
    }


def tippett_figure(log10_lrs, same, title: str = "Tippett plot"):
    """lir's Tippett plot: the share of LRs at least each value, for H1 and H2 trials."""
    import matplotlib.pyplot as plt
    from lir.plotting import tippett

    fig, ax = plt.subplots(figsize=(5.5, 3.6))
    tippett(_llr_data(log10_lrs, same), ax=ax)
    ax.set_title(f"{title}: Tippett plot")
    ax.set_xlabel("log10 LR")
    ax.set_ylabel("share of trials with LR at least x (%)")
    fig.tight_layout()
    return fig


def ece_figure(log10_lrs, same, title: str = "ECE plot"):
    """lir's empirical cross-entropy plot: the LRs against no evidence and the best recalibration."""
    import matplotlib.pyplot as plt
    from lir.plotting.expected_calibration_error import plot_ece

    fig, ax = plt.subplots(figsize=(5.5, 3.6))
    plot_ece(_llr_data(log10_lrs, same), ax=ax)
    ax.set_title(f"{title}: empirical cross-entropy")
    ax.set_xlabel("log10 prior odds of H1")
    ax.set_ylabel("empirical cross-entropy (bits)")
    fig.tight_layout()
    return fig


def posteriors_equal_priors(log10_lrs_per_candidate) -> np.ndarray:
    """Posterior probability of each candidate of a closed set with equal priors
    (each candidate's LR against the rest, normalised); the last axis is the candidates."""
    l = np.asarray(log10_lrs_per_candidate, float) * math.log(10)
    l = l - l.max(axis=-1, keepdims=True)
    p = np.exp(l)
    return p / p.sum(axis=-1, keepdims=True)


VERBAL = ((1, "weak"), (2, "moderate"), (3, "moderately strong"), (4, "strong"), (5, "very strong"))


def verbal_scale(log10_lr: float, h1: str = "H1", h2: str = "H2") -> str:
    """ENFSI-style verbal equivalent of a log10 LR (steps of one order of magnitude)."""
    v = float(log10_lr)
    if not math.isfinite(v):
        return "no valid likelihood ratio (not a finite number)"
    a = abs(v)
    if a < 0.3:
        return "no meaningful support for either proposition"
    word = next((w for limit, w in VERBAL if a < limit), "extremely strong")
    return f"{word} support for {h1 if v > 0 else h2}"
