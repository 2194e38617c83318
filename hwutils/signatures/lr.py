"""Likelihood ratios of the signatures stage: the verifier's score as the
strength of the evidence.

H1: the questioned signature is a genuine signature of the reference person;
H2: it is a skilled forgery of that person's signature. The verifier's score
is distance-shaped (lower = more genuine, :mod:`hwutils.signatures.verify`),
so its negative is what :class:`hwutils.calibration.LRCalibrator` fits.

The calibrator is fitted on the genuine and skilled-forgery trials that
choose the threshold (the out-of-fold scores of all development persons, or
the *validation* persons'), saved with the
run as ``artifacts/lr_calibration.json`` (:func:`save_calibration`) and read
back by :func:`hwutils.signatures.verify.load_verifier`; :func:`measure` gives
Cllr, Cllr_min and the calibration loss on the test persons, who never took
part in training or calibration. Random forgeries are not H2 here: an LR for
"someone else's own signature" is a different (much easier) question.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from hwutils.calibration import (
    CALIBRATION_LOSS_GOAL,
    NO_EVIDENCE_CLLR,
    LRCalibrator,
    ece_figure,
    lr_metrics,
    misleading_rates,
    tippett_figure,
    verbal_scale,
    writer_sources,
)
from hwutils.errors import HwError

LR_FILE = "lr_calibration.json"
# calibrations of verifications against fewer references than the run's (2 .. n_references - 1)
FEWER_FILE = "lr_calibration_fewer_references.json"
H1 = "genuine"
H2 = "skilled forgery"
NO_CALIBRATION = (
    "**No likelihood ratios in this run:** the validation persons have no skilled forgeries to calibrate"
    " the score against, so results carry `log10_lr` None."
)


def lr_trials(scores: dict) -> tuple[np.ndarray, np.ndarray]:
    """``(similarity, genuine)`` of the genuine and skilled-forgery trials of
    scored trials (``type`` and ``distance`` arrays, as
    :func:`hwutils.signatures.verify.score_trials`): similarity is minus the
    distance (higher = more genuine), ``genuine`` 1 for genuine, 0 for skilled."""
    t = np.asarray(scores["type"])
    d = np.asarray(scores["distance"], np.float64)
    keep = (t == "genuine") | (t == "skilled")
    return -d[keep], (t[keep] == "genuine").astype(int)


def can_fit(scores: dict) -> bool:
    """Whether the trials have both genuine and skilled-forgery ones."""
    t = np.asarray(scores["type"])
    return bool(np.any(t == "genuine") and np.any(t == "skilled"))


def fit_calibration(
    val_scores: dict, method: str = "logistic", persons: int = 0, n_references: int = 0
) -> LRCalibrator:
    """The score -> log10 LR calibrator fitted on the calibration persons'
    genuine vs skilled-forgery trials (the validation persons, or all development
    persons' out-of-fold scores). ``persons`` > 0: the LRs are also bounded by
    what that many persons support (:meth:`LRCalibrator.limit_to_sources` with
    :func:`hwutils.calibration.writer_sources`, as the writer_id stage does).
    ``n_references`` > 0: the references per person in those trials, recorded in
    the calibration (``conditions``): a verification with fewer references gets no
    LR (:func:`lr_withheld`). Raises :class:`HwError` when either kind is missing
    (no skilled forgeries in the data: no LR for H2)."""
    if not can_fit(val_scores):
        raise HwError(
            "cannot calibrate likelihood ratios: the validation persons need genuine and skilled-forgery trials"
        )
    cal = LRCalibrator(method).fit(*lr_trials(val_scores))
    if n_references > 0:
        cal.conditions["n_references"] = int(n_references)
    return cal.limit_to_sources(*writer_sources(persons)) if persons > 0 else cal


def calibrator_for(
    calibrator: LRCalibrator | None, fewer: dict | None, n_references: int
) -> LRCalibrator | None:
    """The calibration for a verification against ``n_references`` references:
    the run's own (``calibrator``, fitted with its ``n_references``) at or above
    its count, the one fitted with exactly that many below it (``fewer``:
    count -> calibrator, :func:`fit_fewer`), else None (no LR may be stated)."""
    if calibrator is None:
        return None
    needed = calibrator.conditions.get("n_references", 0)
    if n_references >= needed:
        return calibrator
    return (fewer or {}).get(int(n_references))


def lr_withheld(calibrator: LRCalibrator | None, n_references: int, fewer: dict | None = None) -> str | None:
    """Why no LR may be stated for a verification against ``n_references``
    references, or None: the calibration was fitted on trials with more
    references per person, and with fewer the scores spread wider than those
    trials show, so the calibrated LRs overstate (on sign_data test persons, a
    run calibrated with 5 references gave Cllr 1.05 and LR > 1 for half the skilled
    forgeries with 2; ``docs/results/lr_validation.md``), unless the run also
    calibrated verifications with that many (``fewer``, :func:`fit_fewer`).
    More references than calibrated are allowed (validated with 8 against 5: Cllr 0.20)."""
    if calibrator is None or calibrator_for(calibrator, fewer, n_references) is not None:
        return None
    needed = calibrator.conditions.get("n_references", 0)
    counts = sorted(fewer or {})
    also = f" (and against {', '.join(map(str, counts))})" if counts else ""
    return (
        f"no LR: this run's LRs are calibrated on verifications against {needed} references{also} and "
        f"{n_references} given; with fewer references they overstate (give at least {min([needed, *counts])})"
    )


def fit_fewer(scores_by_count: dict, persons: int = 0, method: str = "logistic") -> dict:
    """One calibrator per reference count: ``scores_by_count`` maps a count to
    the calibration persons' scored trials verified against that many of their
    references (:func:`hwutils.signatures.trials.with_references`), each fitted
    as :func:`fit_calibration` (recording its count). Counts whose trials lack
    genuine or skilled ones are left out."""
    return {
        int(k): fit_calibration(s, method, persons, int(k))
        for k, s in sorted(scores_by_count.items())
        if can_fit(s)
    }


def save_fewer(calibrators: dict, path=None) -> Path | None:
    """Write the fewer-references calibrators (JSON, atomically) as the current
    run's ``artifacts/lr_calibration_fewer_references.json`` or at ``path``;
    nothing when there are none."""
    from hwutils.report import write_json_atomic

    if not calibrators:
        return None
    if path is None:
        from hwutils import report

        path = report.artifact_path(FEWER_FILE)
    return write_json_atomic(
        path, {"by_references": {str(k): c.to_dict() for k, c in sorted(calibrators.items())}}
    )


def find_fewer(folder) -> dict:
    """The fewer-references calibrators saved beside a verifier (as
    :func:`find_calibration` looks): count -> :class:`LRCalibrator`; ``{}``
    when the run has none. A count that is not a whole number >= 1, a
    calibrator whose recorded ``n_references`` differs from its key, or any
    value a calibration cannot hold is an :class:`~hwutils.errors.ArtifactError`
    naming the file and key."""
    from hwutils import artifacts
    from hwutils.errors import ArtifactError

    folder = Path(folder)
    for path in (folder / FEWER_FILE, folder.parent / FEWER_FILE):
        if not path.is_file():
            continue
        data = artifacts.load_json(path, required=("by_references",))
        table = data["by_references"]
        if not isinstance(table, dict):
            raise ArtifactError(f"{path}: key 'by_references' is not an object")
        out = {}
        for key, d in table.items():
            if not (isinstance(key, str) and key.isdigit() and int(key) >= 1):
                raise ArtifactError(f"{path}: key 'by_references.{key}' is not a reference count")
            try:
                cal = LRCalibrator.from_dict(d if isinstance(d, dict) else {})
            except ValueError as exc:
                raise ArtifactError(f"{path}: by_references.{key}: {exc}") from None
            if cal.conditions.get("n_references") != int(key):
                raise ArtifactError(
                    f"{path}: by_references.{key}: calibrated with "
                    f"{cal.conditions.get('n_references')} references, not {key}"
                )
            out[int(key)] = cal
        return out
    return {}


def measure_fewer(calibrators: dict, scores_by_count: dict) -> dict:
    """Each fewer-references calibrator measured on the test persons' trials
    against that many references: the :func:`measure` figures with the suffix
    ``_refs<k>`` (e.g. ``lr_cllr_refs2``, ``lr_rmed_refs3``)."""
    out = {}
    for k, cal in sorted(calibrators.items()):
        if k in scores_by_count and can_fit(scores_by_count[k]):
            out.update({f"{name}_refs{k}": v for name, v in measure(cal, scores_by_count[k]).items()})
    return out


def save_calibration(calibrator: LRCalibrator, path=None) -> Path:
    """Write the calibrator (JSON, atomically) as the current run's
    ``artifacts/lr_calibration.json``, or at ``path``."""
    if path is None:
        from hwutils import report

        path = report.artifact_path(LR_FILE)
    return calibrator.save(path)


def find_calibration(folder) -> LRCalibrator | None:
    """The calibrator saved for a verifier folder: ``lr_calibration.json`` in
    it or beside it (the run's ``artifacts/``); None when there is none (runs
    made before likelihood ratios existed)."""
    folder = Path(folder)
    for cand in (folder / LR_FILE, folder.parent / LR_FILE):
        if cand.is_file():
            return LRCalibrator.load(cand)
    return None


def log10_lr(calibrator: LRCalibrator | None, distance: float) -> float | None:
    """The log10 LR of one distance-shaped score (None without a calibrator)."""
    if calibrator is None:
        return None
    return float(calibrator.log10_lr([-float(distance)])[0])


def support(value: float | None) -> str | None:
    """The verbal equivalent of a log10 LR for genuine vs skilled forgery."""
    return None if value is None else verbal_scale(value, H1, H2)


def trial_lrs(calibrator: LRCalibrator, scores: dict) -> tuple[np.ndarray, np.ndarray]:
    """``(log10_lrs, genuine)`` of the genuine and skilled-forgery trials of ``scores``."""
    sim, same = lr_trials(scores)
    return calibrator.log10_lr(sim), same


def measure(calibrator: LRCalibrator, scores: dict) -> dict:
    """The LR figures of the calibrator on scored trials (the test persons):
    ``lr_cllr``, ``lr_cllr_min``, ``lr_calibration_loss`` (Cllr - Cllr_min),
    ``lr_n_genuine``, ``lr_n_forgery``, the calibrator's bounds
    ``lr_log10_lower`` / ``lr_log10_upper`` (no LR beyond them is claimed) and
    the rates of misleading evidence (:func:`hwutils.calibration.misleading_rates`):
    ``lr_rmep`` (genuine trials with LR < 1), ``lr_rmed`` (skilled forgeries with
    LR > 1), ``lr_max_forgery_log10`` and ``lr_min_genuine_log10`` (the worst
    single trial of each kind; None without trials of that kind)."""
    llr, same = trial_lrs(calibrator, scores)
    lo, hi = calibrator.bounds or (float("nan"), float("nan"))
    return {**_figures(llr, same), "lr_log10_lower": float(lo), "lr_log10_upper": float(hi)}


def _figures(llr, same) -> dict:
    """Cllr, Cllr_min, the calibration loss, trial counts and the rates of misleading evidence of LRs."""
    m = lr_metrics(llr, same)
    wrong = misleading_rates(llr, same)
    return {
        "lr_cllr": m["cllr"],
        "lr_cllr_min": m["cllr_min"],
        "lr_calibration_loss": m["cllr_cal"],
        "lr_n_genuine": m["n_same"],
        "lr_n_forgery": m["n_different"],
        "lr_rmep": wrong["rmep"],
        "lr_rmed": wrong["rmed"],
        "lr_max_forgery_log10": wrong["h2_log10_lr_max"],
        "lr_min_genuine_log10": wrong["h1_log10_lr_min"],
    }


def figures(calibrator: LRCalibrator, scores: dict, title: str = "test persons, genuine vs skilled forgery"):
    """lir's Tippett and ECE figures of the test trials' LRs: ``(tippett, ece)``."""
    llr, same = trial_lrs(calibrator, scores)
    return tippett_figure(llr, same, title=title), ece_figure(llr, same, title=title)


def sentence(m: dict, calibrator: LRCalibrator) -> str:
    """The test persons' LR figures in words, saying plainly when the LRs are
    worse than no evidence (Cllr >= 1) or miss the calibration goal."""
    cllr, cmin, loss = m["lr_cllr"], m["lr_cllr_min"], m["lr_calibration_loss"]
    text = (
        f"Fitted on {calibrator.n_same} genuine and {calibrator.n_different} skilled-forgery trials of the"
        f" calibration persons; on the {m['lr_n_genuine']} genuine and {m['lr_n_forgery']} skilled-forgery"
        f" trials of the test persons: Cllr {cllr:.3f} (1 = no evidence), Cllr_min {cmin:.3f} (the"
        f" discrimination alone), calibration loss {loss:.3f} (goal at most {CALIBRATION_LOSS_GOAL})."
        f" The LRs are bounded to log10 LR {m['lr_log10_lower']:+.2f} .. {m['lr_log10_upper']:+.2f}"
        " (ELUB: no stronger claim than the calibration trials support)."
    )
    if m.get("lr_rmep") is not None and m.get("lr_rmed") is not None:
        text += (
            f" Misleading evidence: {100 * m['lr_rmep']:.1f}% of the genuine signatures get LR < 1 (RMEP),"
            f" {100 * m['lr_rmed']:.1f}% of the skilled forgeries LR > 1 (RMED); the strongest forgery reaches"
            f" log10 LR {m['lr_max_forgery_log10']:+.2f}, the weakest genuine signature {m['lr_min_genuine_log10']:+.2f}."
        )
    if not np.isfinite(cllr):
        return text + " **Cllr could not be measured (the test persons lack genuine or skilled trials).**"
    if cllr >= NO_EVIDENCE_CLLR:
        text += (
            f" **Cllr is {cllr:.3f}, at least 1: these likelihood ratios are no better than reporting no"
            " evidence (LR = 1) for every signature, and can mislead; do not use them as evidence.**"
        )
    if loss > CALIBRATION_LOSS_GOAL:
        text += (
            f" **The calibration loss {loss:.3f} misses the goal of {CALIBRATION_LOSS_GOAL}:** the LRs fitted"
            " on the calibration persons over- or understate the evidence for the test persons."
        )
    return text


def fewer_table(m: dict, n_references: int, counts) -> str:
    """The test persons' LR figures per reference count (the run's own count
    first, then ``counts`` from :func:`measure_fewer`'s ``_refs<k>`` keys) as a
    Markdown table, with a sentence on what it says."""
    from hwutils.report import format_number, markdown_table, pct

    rows = []
    for k, sfx in [(n_references, "")] + [(k, f"_refs{k}") for k in sorted(counts, reverse=True)]:
        if f"lr_cllr{sfx}" not in m:
            continue
        mx = m.get(f"lr_max_forgery_log10{sfx}")
        rows.append(
            {
                "refs": f"{k}{'' if sfx else ' (the run)'}",
                "cllr": format_number(m[f"lr_cllr{sfx}"]),
                "cllr_min": format_number(m[f"lr_cllr_min{sfx}"]),
                "loss": format_number(m[f"lr_calibration_loss{sfx}"]),
                "rmep": pct(m.get(f"lr_rmep{sfx}")),
                "rmed": pct(m.get(f"lr_rmed{sfx}")),
                "max": "-" if mx is None else f"{mx:+.2f}",
                "n": f"{m[f'lr_n_genuine{sfx}']} / {m[f'lr_n_forgery{sfx}']}",
            }
        )
    columns = {
        "refs": "references",
        "cllr": "Cllr",
        "cllr_min": "Cllr_min",
        "loss": "calibration loss",
        "rmep": "RMEP",
        "rmed": "RMED",
        "max": "strongest forgery log10 LR",
        "n": "genuine / forgery trials",
    }
    return (
        "Verifications against fewer references, each count with its own calibration (the calibration"
        " persons' trials against that many references), measured on the test persons against as many:"
        " `hw verify` uses the calibration of the number of references it is given (at least"
        f" {min(counts)}).\n\n" + markdown_table(rows, columns)
    )


TRIALS_FILE = "lr_trials"  # artifacts/lr_trials.csv: every test trial's log10 LR, for pooling over splits


def trial_rows(calibrator: LRCalibrator, scores: dict, collection: str = "test") -> list[dict]:
    """One row per genuine or skilled-forgery trial of ``scores``: ``collection``
    (e.g. ``test`` or ``shifted``), ``person``, ``type``, ``distance`` and
    ``log10_lr``; saved by the notebook (``artifacts/lr_trials.csv``) so the LRs
    of several runs (a sweep's splits) can be measured together (:func:`pooled`)."""
    t = np.asarray(scores["type"])
    keep = (t == "genuine") | (t == "skilled")
    d = np.asarray(scores["distance"], np.float64)[keep]
    llr = calibrator.log10_lr(-d)
    persons = np.asarray(scores["person"])[keep]
    return [
        {
            "collection": collection,
            "person": str(p),
            "type": str(k),
            "distance": float(x),
            "log10_lr": float(v),
        }
        for p, k, x, v in zip(persons, t[keep], d, llr)
    ]


def pooled(rows, collection: str = "test") -> dict:
    """Cllr, Cllr_min, calibration loss and the rates of misleading evidence of the
    trial rows (:func:`trial_rows`, e.g. read back from several runs' ``lr_trials.csv``)
    of one ``collection``, all trials together: each row keeps the LR its own run's
    calibrator gave, so only the measurement is pooled. Cllr_min (lir's PAV) on
    the trials of a few persons is optimistic (it fits them), so a run's own
    calibration loss is larger than the same LRs measured on more persons."""
    rows = [r for r in rows if r["collection"] == collection]
    llr = np.array([float(r["log10_lr"]) for r in rows])
    same = np.array([r["type"] == "genuine" for r in rows], int)
    return {**_figures(llr, same), "persons": len({r["person"] for r in rows})}
