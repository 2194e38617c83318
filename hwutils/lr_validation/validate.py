"""The validation run end to end: runs and data checked before any work, the
method scored under each condition, every condition's figures with their
bootstrap intervals."""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from hwutils.errors import DataError, ParamsError
from hwutils.lr_validation import conditions as C
from hwutils.lr_validation import matrix
from hwutils.lr_validation.sources import Trials, signature_trials, trials_from_verdicts


@dataclass
class Measured:
    """One condition measured: its trials, figures (:func:`matrix.trial_metrics`),
    bootstrap intervals, and what it looked at."""

    name: str
    label: str
    trials: Trials
    figures: dict
    intervals: dict
    series: str = ""
    amount: float | None = None
    info: dict = field(default_factory=dict)

    def row(self) -> dict:
        """The robustness table's row (formatted for people)."""
        f, ci = self.figures, self.intervals
        lo, hi = ci.get("cllr", (None, None))
        return {
            "condition": self.label,
            **{k: v for k, v in self.info.items() if k in INFO_COLUMNS},
            "writers": self.trials.n_groups,
            "H1 / H2 trials": f"{int(self.trials.same.sum())} / {int(len(self.trials) - self.trials.same.sum())}",
            "Cllr": matrix.format_value("cllr", f.get("cllr")),
            "Cllr 95% CI": "-" if lo is None else f"{lo:.3f} to {hi:.3f}",
            "Cllr_min": matrix.format_value("cllr_min", f.get("cllr_min")),
            "Cllr_cal": matrix.format_value("cllr_cal", f.get("cllr_cal")),
            "EER": matrix.format_value("eer", f.get("eer")),
            "RMEP": matrix.format_value("rmep", f.get("rmep")),
            "RMED": matrix.format_value("rmed", f.get("rmed")),
            "largest wrong log10 LR": matrix.format_value("h2_log10_lr_max", f.get("h2_log10_lr_max")),
        }


INFO_COLUMNS = ("known lines (mean)", "questioned lines (mean)", "references")


def measure(
    name, label, trials: Trials, n_boot: int, seed: int, series="", amount=None, info=None
) -> Measured:
    """:class:`Measured` of ``trials``: the figures and their bootstrap over the trials' groups."""
    figures = matrix.trial_metrics(trials.log10_lr, trials.same)
    intervals = matrix.bootstrap(trials.log10_lr, trials.same, trials.group, n_boot, seed)
    return Measured(name, label, trials, figures, intervals, series, amount, dict(info or {}))


def spread(items, n: int) -> list:
    """At most ``n`` of ``items`` (sorted), spread evenly over them; all when ``n`` is 0."""
    items = sorted(items)
    if not n or n >= len(items):
        return items
    pick = np.linspace(0, len(items) - 1, n).round().astype(int)
    return [items[i] for i in pick]


def one_page_per_writer(listing) -> tuple[list, dict]:
    """The first page of each writer (a validation writer contributes one page,
    cut into known and questioned halves); ``(kept, {file: reason})``."""
    seen, kept, dropped = set(), [], {}
    for path, writer in sorted(listing, key=lambda x: str(x[0])):
        if writer is None:
            dropped[Path(path).name] = "file name names no writer"
        elif writer in seen:
            dropped[Path(path).name] = f"another page of writer {writer} (one page per writer)"
        else:
            seen.add(writer)
            kept.append((path, writer))
    return kept, dropped


# --- writer_id: the casework method -------------------------------------------------------------


def writer_conditions(
    identifier,
    run_dir,
    listing,
    plan: list,
    scan_dpi: int = 300,
    train_dpi: int = 300,
    reference_stroke=None,
    draws: int = 3,
    seed: int = 0,
    n_boot: int = 500,
) -> tuple[list[Measured], dict]:
    """Every condition of ``plan`` scored with the casework method
    (:func:`hwutils.casework.run_case`): the validation writers' known halves
    enrol them, their questioned halves are judged against every one of them.
    Returns ``(measured, skipped pages per resolution)``."""
    from hwutils import casework

    pages: dict = {}
    skipped: dict = {}
    out = []
    for cond in plan:
        dpi = cond.dpi or scan_dpi
        if dpi not in pages:
            pages[dpi], skipped[dpi] = C.load_pages(listing, dpi, scan_dpi, train_dpi, reference_stroke)
        pairs = pages[dpi]
        if len(pairs) < 2:
            raise DataError(
                f"{cond.label}: {len(pairs)} usable page(s); a validation needs at least two writers "
                f"(skipped: {', '.join(f'{k}: {v}' for k, v in list(skipped[dpi].items())[:3])})"
            )
        known, questioned = C.case_documents(pairs, cond)
        t0 = time.perf_counter()
        outcome = casework.run_case(identifier, run_dir, known, questioned, draws=draws, seed=seed)
        trials = trials_from_verdicts(outcome.verdicts)
        info = {
            "known lines (mean)": round(C.mean_lines(known), 1),
            "questioned lines (mean)": round(C.mean_lines(questioned), 1),
            "seconds": round(time.perf_counter() - t0, 1),
            "calibration": outcome.scorer.source,
            "fused": outcome.scorer.selection.get("features", "texture and CNN"),
        }
        out.append(measure(cond.name, cond.label, trials, n_boot, seed, cond.series, cond.amount, info))
    return out, skipped


# --- signatures ---------------------------------------------------------------------------------


def signature_conditions(verifier, protocol: dict, n_references: list[int], seed: int = 0, n_boot: int = 500):
    """One :class:`Measured` per number of references (the largest first: the baseline)."""
    out = []
    for i, n in enumerate(sorted(set(n_references), reverse=True)):
        trials = signature_trials(verifier, protocol, n)
        name = "" if i == 0 else f"refs{n}"
        own = verifier.log10_lr(0.0, n) is not None or i == 0  # calibrated at this count (hw verify's LR)
        label = (
            f"{n} reference{'s' if n != 1 else ''}"
            + (" (baseline)" if i == 0 else "")
            + ("" if own else " (no calibration of this count: hw verify states no LR)")
        )
        out.append(measure(name, label, trials, n_boot, seed, "references", n, {"references": n}))
    return out


# --- the report's figures and checks ------------------------------------------------------------


def coherence_rows(measured: list[Measured]) -> list[dict]:
    """Rows for :func:`matrix.coherence`: every condition of a series of amounts
    (resolution is not one), and the baseline as the largest amount of each
    series it is not itself a member of (all lines of each half)."""
    base = measured[0]
    series = {m.series for m in measured if m.series and m.series != "resolution"}

    def row(m, s, amount):
        return {
            "series": s,
            "amount": amount,
            "cllr": m.figures.get("cllr"),
            "ci_high": m.intervals["cllr"][1],
        }

    rows = [row(m, m.series, m.amount) for m in measured if m.series in series]
    return rows + [row(base, s, float("inf")) for s in series if s != base.series]


def all_metrics(measured: list[Measured], extra: list[Measured] = ()) -> dict:
    """metrics.json's figures: the baseline's plain keys (``cllr``, ``rmep``, ...),
    each other condition's with its suffix (``cllr_known2``), trial and writer
    counts, and under ``ci`` the bootstrap intervals ``{key: [low, high]}``
    (nested, so the report's metrics table leaves them out)."""
    out, ci = {}, {}
    for m in list(measured) + list(extra):
        out.update(matrix.suffixed(m.figures, m.name))
        for k in ("n_same", "n_different"):
            out[f"{k}_{m.name}" if m.name else k] = m.figures.get(k)
        out[f"n_writers_{m.name}" if m.name else "n_writers"] = m.trials.n_groups
        for k, (lo, hi) in m.intervals.items():
            ci[f"{k}_{m.name}" if m.name else k] = [lo, hi]
    out["ci"] = ci
    return out


def criteria_record(figures: dict, criteria) -> dict:
    """metrics.json's ``criteria``: each criterion's limit, result and verdict."""
    v = matrix.verdicts(figures, criteria)
    return {
        c.metric: {"criterion": f"{c.op} {c.limit:g}", "value": figures.get(c.metric), "pass": v[c.metric]}
        for c in criteria
    }


def check_max_writers(listing, max_writers: int, parameter: str = "max_writers"):
    """At most ``max_writers`` validation writers (0: all), spread over them."""
    writers = spread({w for _, w in listing}, max_writers)
    if len(writers) < 2:
        raise ParamsError(f"{parameter}: {len(writers)} validation writer; a validation needs at least two")
    keep = set(writers)
    return [(p, w) for p, w in listing if w in keep]
