"""What the writer_casework report says between its tables and figures: one
Markdown sentence per step (the case, the writer run, the scale, the
enrolment, the calibration, the outcome), numbers formatted for people
(:func:`hwutils.report.format_number`), for ``report.say``."""

from __future__ import annotations

from hwutils.report import format_number
from hwutils.report import pct as _pct


def case_sentence(n_known: int, persons: list, n_questioned: int) -> str:
    """The case as listed: known documents, persons of interest, questioned documents."""
    return (
        f"{n_known:,} known documents of {len(persons)} persons of interest ({', '.join(map(str, persons))});"
        f" {n_questioned:,} questioned documents."
    )


def writer_run_sentence(
    run_name: str, n_writers: int, height: int, texture: bool, line_top1, trained_s=None
) -> str:
    """The writer_id run the evidence comes from (trained here when ``trained_s`` is given)."""
    how = (
        f"trained here in {format_number(trained_s, 'seconds')}"
        if trained_s is not None
        else "a finished run"
    )
    return (
        f"Writer run `{run_name}` ({how}): {n_writers} training writers, line height {height} px,"
        f" {'with' if texture else 'without'} a texture classifier; its test-line top-1 {_pct(line_top1)}."
    )


def stroke_sentence(reference_stroke, where: str) -> str:
    """The stroke width documents are brought to (or why it is unknown)."""
    if reference_stroke:
        return f"The run's stroke width: {reference_stroke:.2f} px ({where})."
    return f"The run's stroke width is unknown ({where}): documents are scaled by resolution only."


def resolution_sentence(compare_dpi: int, dpi: int, questioned_dpi: int, train_dpi: int) -> str:
    """Why and to what the documents were resampled before comparing."""
    k = dpi if dpi and dpi > 0 else train_dpi
    q = questioned_dpi if questioned_dpi and questioned_dpi > 0 else k
    finer = "known" if k > q else "questioned"
    return (
        f"The known documents were scanned at {k} dpi and the questioned at {q} dpi: the {finer} documents are"
        f" resampled down to {compare_dpi} dpi before reading, so that both sides are compared at one"
        " resolution (the evidence is that of the coarser scan; `common_resolution`)."
    )


def enrolment_sentence(
    persons: list, n_documents: dict, n_lines: dict, leg: int, bins: int, n_evidence_lines: int, seconds
) -> str:
    """The persons as enrolled: documents and lines each, and the evidence computed."""
    each = "; ".join(f"{p}: {n_documents[p]} document(s), {n_lines[p]} lines" for p in persons)
    return (
        f"Enrolled {len(persons)} persons ({each}). Evidence (contour-hinge leg {leg} px, {bins} bins, and"
        f" the CNN embedding) of {n_evidence_lines:,} lines in {format_number(seconds, 'seconds')}."
    )


def calibration_sentence(source: str, weights, cal_metrics: dict, selection: dict | None = None) -> str:
    """Where the calibration trials came from, their numbers, the weights (and, when
    they were chosen across writers, which similarities and why) and the Cllr on them."""
    chosen = ""
    if selection and selection.get("cv_cllr"):
        cv = ", ".join(f"{k} {format_number(v)}" for k, v in selection["cv_cllr"].items())
        chosen = (
            f" {selection['features']} fused, chosen by cross-validation over the calibration writers"
            f" (Cllr on writers left out: {cv});"
        )
    return (
        f"Calibrated on {source}: {cal_metrics['n_same']:,} same-writer and {cal_metrics['n_different']:,}"
        f" different-writer trials;{chosen} weights texture {weights[0]:.2f}, CNN {weights[1]:.2f};"
        f" Cllr on these trials {format_number(cal_metrics['cllr'])} (1 states no evidence)."
    )


def outcome_sentence(m: dict) -> str:
    """How the case came out, when the file names carry the truth."""
    if not (m.get("case_questioned_known") or m.get("case_questioned_strangers")):
        return "The questioned file names carry no writer: there is nothing to check the answers against."
    parts = []
    if m.get("case_questioned_known"):
        parts.append(
            f"**{_pct(m['case_top1'])}** of the {m['case_questioned_known']} documents by persons of interest"
            " are named correctly"
        )
    if m.get("case_questioned_strangers"):
        parts.append(
            f"**{_pct(m['case_none_correct'])}** of the {m['case_questioned_strangers']} by other writers"
            ' get "none of them"'
        )
    text = "; ".join(parts) + "."
    if m.get("case_true_log10_lr_mean") is not None and m.get("case_questioned_known"):
        text += f" Mean log10 LR of the true writer: {m['case_true_log10_lr_mean']:+.2f}."
    return text


def misleading_sentence(m: dict) -> str:
    """The case's own rates of misleading evidence and calibration, when the file names carry the truth."""
    if m.get("case_rmep") is None and m.get("case_rmed") is None:
        return ""
    parts = []
    if m.get("case_rmep") is not None:
        parts.append(f"RMEP (true writer's LR below 1) {_pct(m['case_rmep'])}")
    if m.get("case_rmed") is not None:
        parts.append(
            f"RMED (another person's LR above 1) {_pct(m['case_rmed'])}, the largest log10 LR of a wrong"
            f" person {m['case_h2_log10_lr_max']:+.2f}"
        )
    if m.get("case_cllr_cal") is not None and m["case_cllr_cal"] == m["case_cllr_cal"]:
        parts.append(
            f"Cllr {format_number(m['case_cllr'])}, Cllr_min {format_number(m['case_cllr_min'])},"
            f" calibration loss {format_number(m['case_cllr_cal'])}"
        )
    return "Misleading evidence in this case: " + "; ".join(parts) + "."


def caveats_sentence(caveats: list, validation_dir) -> str:
    """The validation run named and the caveats, in words."""
    named = (
        f"Validated with the lr_validation run `{validation_dir.name}` ({validation_dir})."
        if validation_dir is not None
        else ""
    )
    if not caveats:
        return (
            named + " Every questioned document lies inside the conditions it was validated under."
        ).strip()
    return (named + " **Caveats** (also in the summary):\n\n" + "\n".join(f"- {c}" for c in caveats)).strip()


MISLEADING_GOAL = 0.02  # RMEP and RMED at most this on writers never used in training or calibration
WRONG_LOG10_LR_GOAL = 2.0  # no wrong person above LR 100


def misleading_results(m: dict) -> list:
    """The case's rates of misleading evidence as summary results against their goals
    (empty when the file names carry no truth)."""
    from hwutils.report import Result

    out = []
    for key, name in (
        ("case_rmep", "RMEP: the true writer's LR below 1"),
        ("case_rmed", "RMED: another person's LR above 1"),
    ):
        if m.get(key) is not None:
            out.append(
                Result(
                    name, m[key], "percent", "misleading evidence", "goal", MISLEADING_GOAL, better="lower"
                )
            )
    if (
        m.get("case_other_log10_lr_max") is not None
        and m["case_other_log10_lr_max"] == m["case_other_log10_lr_max"]
    ):
        out.append(
            Result(
                "largest log10 LR of a wrong person",
                m["case_other_log10_lr_max"],
                "number",
                "misleading evidence",
                "goal: below LR 100",
                WRONG_LOG10_LR_GOAL,
                better="lower",
            )
        )
    return out


__all__ = [
    "MISLEADING_GOAL",
    "WRONG_LOG10_LR_GOAL",
    "misleading_results",
    "caveats_sentence",
    "misleading_sentence",
    "calibration_sentence",
    "case_sentence",
    "enrolment_sentence",
    "outcome_sentence",
    "stroke_sentence",
    "writer_run_sentence",
]
