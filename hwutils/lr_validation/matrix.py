"""The validation matrix of a likelihood-ratio method (ENFSI 2015 guideline;
Meuwly, Ramos and Haraksim 2017): per performance characteristic its metric,
the validation criterion, the result with a bootstrap confidence interval
over the writers (or persons) of the validation data, and pass or fail.

Trials are ``(log10 LR, same)`` pairs of known truth (``same`` = 1: H1 true)
together with the *group* each belongs to (the questioned writer or person),
so the bootstrap resamples writers with replacement and keeps every trial of
a drawn writer, as many times as it was drawn: trials of one writer are not
independent, writers are.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

# metric key -> (performance characteristic, what it measures)
METRICS = {
    "cllr": ("accuracy", "Cllr"),
    "cllr_min": ("discriminating power", "Cllr_min"),
    "eer": ("discriminating power", "EER (threshold on log10 LR)"),
    "cllr_cal": ("calibration", "Cllr_cal = Cllr - Cllr_min"),
    "rmep": ("misleading evidence", "RMEP: H1 true, LR < 1"),
    "rmed": ("misleading evidence", "RMED: H2 true, LR > 1"),
    "rmep_strong": ("misleading evidence", "strongly misleading under H1: LR < 1/100"),
    "rmed_strong": ("misleading evidence", "strongly misleading under H2: LR > 100"),
    "h2_log10_lr_max": ("misleading evidence", "largest log10 LR of a wrong person (H2 true)"),
    "h1_log10_lr_min": ("misleading evidence", "smallest log10 LR of the true source (H1 true)"),
}
PERCENT_METRICS = frozenset({"eer", "rmep", "rmed", "rmep_strong", "rmed_strong"})
CI_LEVEL = 0.95


@dataclass(frozen=True)
class Criterion:
    """A validation criterion: ``metric`` must be ``op`` (``<=`` or ``<``) ``limit``."""

    metric: str
    limit: float
    op: str = "<="
    why: str = ""

    def __post_init__(self):
        if self.metric not in METRICS:
            raise ValueError(f"criterion on unknown metric {self.metric!r}; known: {', '.join(METRICS)}")
        if self.op not in ("<=", "<"):
            raise ValueError(f"criterion {self.metric}: op must be '<=' or '<', got {self.op!r}")

    @property
    def characteristic(self) -> str:
        return METRICS[self.metric][0]

    @property
    def text(self) -> str:
        """The criterion as people read it (``<= 2.0%``, ``<= 0.050``, ``LR <= 100``)."""
        if self.metric == "h2_log10_lr_max":
            return f"LR {self.op} {10**self.limit:g} (log10 {self.op} {self.limit:g})"
        return f"{self.op} {format_value(self.metric, self.limit)}"

    def passes(self, value) -> bool | None:
        """Whether ``value`` meets the criterion (None when there is no value)."""
        if value is None or not np.isfinite(value):
            return None
        return bool(value <= self.limit if self.op == "<=" else value < self.limit)


def default_criteria(
    cllr: float = 0.3,
    cllr_min: float = 0.2,
    cllr_cal: float = 0.05,
    eer: float = 0.05,
    rmep: float = 0.02,
    rmed: float = 0.02,
    h2_log10_lr_max: float = 2.0,
) -> list[Criterion]:
    """The criteria of the validation matrix, in its order. Defaults: issue 26's
    targets on writers never used in training or calibration (Cllr_cal <= 0.05,
    RMEP and RMED <= 2%, no wrong-person LR above 100) and, for accuracy and
    discrimination, Cllr <= 0.3 (well below the 1 of saying nothing),
    Cllr_min <= 0.2 and EER <= 5%."""
    return [
        Criterion("cllr", cllr, why="accuracy: well below 1, the cost of saying nothing (LR = 1)"),
        Criterion("cllr_min", cllr_min, why="discrimination after the best monotone recalibration"),
        Criterion("eer", eer, why="discrimination as an error rate"),
        Criterion("cllr_cal", cllr_cal, why="calibration loss"),
        Criterion("rmep", rmep, why="misleading evidence against the true source"),
        Criterion("rmed", rmed, why="misleading evidence for a wrong source"),
        Criterion("h2_log10_lr_max", h2_log10_lr_max, why="no wrong-person LR above 100"),
    ]


def format_value(metric: str, value) -> str:
    """A metric's value as people read it (percent for rates, 3 decimals otherwise)."""
    if value is None or not np.isfinite(value):
        return "-"
    if metric in PERCENT_METRICS:
        return f"{100 * value:.1f}%"
    if metric.startswith(("h1_", "h2_")):
        return f"{value:+.2f}"
    return f"{value:.3f}"


# --- the figures of a set of trials -----------------------------------------------------------


def trial_metrics(log10_lrs, same) -> dict:
    """Every figure of the matrix for trials of known truth: Cllr, Cllr_min and
    Cllr_cal (:func:`hwutils.calibration.lr_metrics`), the rates of misleading
    evidence (:func:`hwutils.calibration.misleading_rates`) and the EER of the
    log10 LRs as scores (:func:`hwutils.metrics.eer`). A figure that needs
    trials of a kind that is missing is None (strict JSON, never NaN)."""
    from hwutils import calibration, metrics

    llr = np.asarray(log10_lrs, float).reshape(-1)
    y = np.asarray(same, int).reshape(-1)
    out = dict(calibration.misleading_rates(llr, y))
    both = 0 < y.sum() < len(y)
    if both:
        out.update(calibration.lr_metrics(llr, y))
        out["eer"] = metrics.eer(y, llr)[0]
    else:
        out.update({"cllr": None, "cllr_min": None, "cllr_cal": None, "eer": None})
    return {k: _finite_or_none(v) for k, v in out.items()}


def _finite_or_none(value):
    if isinstance(value, (int, np.integer)) and not isinstance(value, bool):
        return int(value)
    if value is None:
        return None
    value = float(value)
    # 12 significant digits: an EER of 0.05 computed as 0.050000000000000024 is 0.05 against its criterion
    return float(f"{value:.12g}") if np.isfinite(value) else None


def bootstrap(log10_lrs, same, groups, n_boot: int = 500, seed: int = 0, level: float = CI_LEVEL) -> dict:
    """Percentile confidence intervals ``{metric: (low, high)}`` of
    :func:`trial_metrics` over the ``groups`` (writers or persons): each
    replicate draws as many groups as there are, with replacement, and takes
    every trial of each drawn group as often as it was drawn. Replicates that
    lack a kind of trial leave that metric out; a metric with fewer than 10
    usable replicates gets ``(None, None)``."""
    llr = np.asarray(log10_lrs, float).reshape(-1)
    y = np.asarray(same, int).reshape(-1)
    g = np.asarray(groups).reshape(-1)
    if not (len(llr) == len(y) == len(g)):
        raise ValueError(f"log10_lrs, same and groups differ in length: {len(llr)}, {len(y)}, {len(g)}")
    names = np.unique(g)
    members = [np.flatnonzero(g == name) for name in names]
    rng = np.random.default_rng(seed)
    draws: dict = {k: [] for k in METRICS}
    for _ in range(max(0, int(n_boot)) if len(names) else 0):
        pick = rng.integers(0, len(names), len(names))
        idx = np.concatenate([members[i] for i in pick])
        for k, v in trial_metrics(llr[idx], y[idx]).items():
            if k in draws and v is not None:
                draws[k].append(v)
    alpha = (1 - level) / 2
    return {
        k: (float(np.quantile(v, alpha)), float(np.quantile(v, 1 - alpha))) if len(v) >= 10 else (None, None)
        for k, v in draws.items()
    }


# --- the matrix --------------------------------------------------------------------------------


def validation_matrix(figures: dict, intervals: dict, criteria: list[Criterion]) -> list[dict]:
    """One row per criterion: characteristic, metric, criterion, result, 95%
    CI and ``pass``/``fail`` (``-`` where the result could not be measured)."""
    rows = []
    for c in criteria:
        value = figures.get(c.metric)
        lo, hi = intervals.get(c.metric, (None, None))
        ok = c.passes(value)
        rows.append(
            {
                "characteristic": c.characteristic,
                "metric": METRICS[c.metric][1],
                "criterion": c.text,
                "result": format_value(c.metric, value),
                f"{int(CI_LEVEL * 100)}% CI": "-"
                if lo is None
                else f"{format_value(c.metric, lo)} to {format_value(c.metric, hi)}",
                "pass/fail": "-" if ok is None else ("pass" if ok else "fail"),
            }
        )
    return rows


def verdicts(figures: dict, criteria: list[Criterion]) -> dict:
    """``{metric: True/False/None}``: each criterion met, missed, or not measurable."""
    return {c.metric: c.passes(figures.get(c.metric)) for c in criteria}


def passed(figures: dict, criteria: list[Criterion]) -> bool:
    """Whether every criterion is met (an unmeasurable one is not met)."""
    return all(v is True for v in verdicts(figures, criteria).values())


def results(figures: dict, criteria: list[Criterion], group: str = "validation criteria") -> list:
    """The matrix as :class:`hwutils.report.Result` lines for the report's summary
    block: each result beside its criterion as the yardstick (lower is better)."""
    from hwutils.report import Result

    out = []
    for c in criteria:
        value = figures.get(c.metric)
        kind = "percent" if c.metric in PERCENT_METRICS else "number"
        ok = c.passes(value)
        note = "" if ok is None else ("pass" if ok else "FAIL")
        out.append(
            Result(
                METRICS[c.metric][1],
                value,
                kind=kind,
                group=group,
                yardstick=f"validation criterion ({c.op})",
                yardstick_value=c.limit,
                better="lower",
                note=note,
            )
        )
    return out


def suffixed(figures: dict, suffix: str, keys=tuple(METRICS)) -> dict:
    """``{f"{key}_{suffix}": value}`` of the matrix figures (per-condition metrics keys)."""
    return {f"{k}_{suffix}": figures.get(k) for k in keys} if suffix else {k: figures.get(k) for k in keys}


def coherence(rows: list[dict], metric: str = "cllr", tolerance: float = 0.0) -> list[dict]:
    """The coherence check: along each series of conditions that add writing
    (``rows`` with ``series``, ``amount``, ``metric`` and optionally
    ``ci_high``, the upper end of its interval), more writing must not give a
    worse (larger) ``metric``. Returns one dict per violation (``series``,
    ``fewer``, ``more``, the two values, and ``beyond_ci``: whether the worse
    value lies above the interval of the smaller amount, i.e. beyond sampling
    noise; None without an interval); empty when coherent."""
    bad = []
    by_series: dict = {}
    for r in rows:
        if r.get("series") and r.get("amount") is not None and r.get(metric) is not None:
            by_series.setdefault(r["series"], []).append(r)
    for series, items in by_series.items():
        items = sorted(items, key=lambda r: r["amount"])
        for a, b in zip(items, items[1:]):
            if b[metric] > a[metric] + tolerance:
                high = a.get("ci_high")
                bad.append(
                    {
                        "series": series,
                        "fewer": a["amount"],
                        "more": b["amount"],
                        "value_fewer": a[metric],
                        "value_more": b[metric],
                        "beyond_ci": None if high is None else bool(b[metric] > high),
                    }
                )
    return bad
