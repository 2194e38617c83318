"""What the validation report shows: the matrix, sentences with the numbers,
the per-condition table and figure, the coherence and generalisation checks."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from hwutils.lr_validation import matrix

WRITER_METHOD = (
    "the casework method of a `writer_id` run: persons enrolled from their known writing (CNN embedding and "
    "texture histograms: contour hinge, direction, ink run lengths), a questioned document compared with each "
    "of them (texture by the chi-square distance, CNN by the cosine; which of the two are fused is chosen by "
    "cross-validation over the calibration writers), the comparison scored and calibrated per case into "
    "log10 LR for H1 (this person wrote the questioned document) against H2 (someone else did)"
)
SIGNATURE_METHOD = (
    "the verifier of a `signatures` run: a questioned signature against a person's genuine references, its "
    "score mapped to log10 LR for H1 (a genuine signature of the reference person) against H2 (a skilled forgery)"
)


def train_writer_run(
    folder, train_params: str, overrides: dict, seed: int = 0, timeout: float = 3600
) -> Path:
    """Train the writer_id run to validate (:func:`hwutils.casework.train_writer_run`)
    on ``params/writer_id/<train_params>.yaml`` with ``overrides`` on top (written
    beside it as one params file)."""
    import yaml

    from hwutils import casework
    from hwutils.lr_validation import train_params_file
    from hwutils.report import write_text_atomic

    path = train_params_file(train_params)
    if overrides:
        data = dict(yaml.safe_load(path.read_text(encoding="utf-8")) or {}, **overrides)
        path = write_text_atomic(
            Path(folder) / "writer_id_params.yaml", yaml.safe_dump(data, sort_keys=False)
        )
    return casework.train_writer_run(folder, str(path), seed=seed, timeout=timeout)


def matrix_table(figures: dict, intervals: dict, criteria):
    """The validation matrix as a table for the notebook."""
    from hwutils.report import rows_table

    return rows_table(
        matrix.validation_matrix(figures, intervals, criteria),
        "Validation matrix (95% CI: bootstrap over the validation writers or persons)",
    )


def verdict_sentence(figures: dict, criteria, what: str = "writers", intervals: dict | None = None) -> str:
    """The matrix's conclusion in words: passed, or which criteria failed; and
    the criteria met whose 95% interval reaches beyond the criterion (a pass
    that other validation writers could turn into a fail)."""
    v = matrix.verdicts(figures, criteria)
    failed = [matrix.METRICS[k][1].split(":")[0] for k, ok in v.items() if ok is False]
    missing = [matrix.METRICS[k][1].split(":")[0] for k, ok in v.items() if ok is None]
    if not failed and not missing:
        text = f"**The method passes every validation criterion** on {what} it never saw"
    else:
        text = (
            f"**The method fails {len(failed)} of {len(v)} criteria** ({', '.join(failed)})" if failed else ""
        )
        if missing:
            text += ("; " if text else "") + f"not measurable: {', '.join(missing)}"
        text += f", on {what} it never saw"
    marginal = []
    for c in criteria:
        hi = (intervals or {}).get(c.metric, (None, None))[1]
        if v[c.metric] and hi is not None and c.passes(hi) is False:
            marginal.append(
                f"{matrix.METRICS[c.metric][1].split(':')[0]} (up to {matrix.format_value(c.metric, hi)})"
            )
    if marginal:
        text += "; met, but with a 95% interval reaching beyond the criterion: " + ", ".join(marginal)
    return text + "."


def figures_sentence(m, what: str = "writers") -> str:
    """The baseline's figures with their intervals, in a sentence."""
    f, ci = m.figures, m.intervals

    def with_ci(key):
        lo, hi = ci.get(key, (None, None))
        value = matrix.format_value(key, f.get(key))
        return (
            value
            if lo is None
            else f"{value} (95% CI {matrix.format_value(key, lo)} to {matrix.format_value(key, hi)})"
        )

    return (
        f"{m.trials.n_groups} {what}, {f.get('n_same')} same-source and {f.get('n_different')} "
        f"different-source trials: Cllr {with_ci('cllr')}, Cllr_min {with_ci('cllr_min')}, "
        f"EER {with_ci('eer')}, Cllr_cal {with_ci('cllr_cal')}."
    )


def misleading_sentence(m) -> str:
    f = m.figures
    return (
        f"RMEP (H1 true, LR < 1) {matrix.format_value('rmep', f.get('rmep'))} of {f.get('n_same')} trials, "
        f"strongly (LR < 1/100) {matrix.format_value('rmep_strong', f.get('rmep_strong'))}; "
        f"RMED (H2 true, LR > 1) {matrix.format_value('rmed', f.get('rmed'))} of {f.get('n_different')}, "
        f"strongly (LR > 100) {matrix.format_value('rmed_strong', f.get('rmed_strong'))}. "
        f"The largest LR a wrong person got: log10 {matrix.format_value('h2_log10_lr_max', f.get('h2_log10_lr_max'))}; "
        f"the smallest the true source got: log10 {matrix.format_value('h1_log10_lr_min', f.get('h1_log10_lr_min'))}."
    )


def coherence_sentence(violations: list[dict], rows: list[dict]) -> str:
    if not rows:
        return "Coherence not checked: no series of writing amounts among the conditions."
    if not violations:
        series = sorted({r["series"] for r in rows})
        return f"**Coherent**: along {' and '.join(series)}, more material never gave a worse Cllr."

    def noise(v):
        if v["beyond_ci"] is None:
            return ""
        return (
            ", beyond"
            if v["beyond_ci"]
            else ", within the 95% interval of the smaller amount (sampling noise)"
        )

    parts = [
        f"{v['series']}: {_amount(v['more'])} gave Cllr {v['value_more']:.3f} against {v['value_fewer']:.3f} "
        f"with {_amount(v['fewer'])}{noise(v)}"
        for v in violations
    ]
    return "**Not coherent**: more material gave a worse Cllr (" + "; ".join(parts) + ")."


def _amount(value) -> str:
    return "all lines" if value == float("inf") else f"{value:g}"


def robustness_figure(measured: list):
    """Cllr (with its 95% interval) and the two rates of misleading evidence per condition."""
    import matplotlib.pyplot as plt

    labels = [m.label.replace(" (baseline)", "").split(" (")[0] for m in measured]
    y = np.arange(len(measured))
    fig, axes = plt.subplots(1, 2, figsize=(10, 0.45 * len(measured) + 1.6), sharey=True)
    cllr = [m.figures.get("cllr") for m in measured]
    lo = [m.intervals.get("cllr", (None, None))[0] for m in measured]
    hi = [m.intervals.get("cllr", (None, None))[1] for m in measured]
    for i, (c, a, b) in enumerate(zip(cllr, lo, hi)):
        if c is None:
            continue
        axes[0].plot([a if a is not None else c, b if b is not None else c], [i, i], color="0.5")
        axes[0].plot(c, i, "o", color="C0")
    axes[0].axvline(1.0, color="C3", ls="--", lw=1, label="no evidence (Cllr 1)")
    axes[0].set_xlabel("Cllr (95% CI over writers)")
    axes[0].legend(loc="lower right", fontsize=8)
    for key, off, colour in (("rmep", -0.15, "C1"), ("rmed", 0.15, "C2")):
        vals = [100 * (m.figures.get(key) or 0.0) for m in measured]
        axes[1].barh(y + off, vals, height=0.3, color=colour, label=key.upper())
    axes[1].set_xlabel("rate of misleading evidence (%)")
    axes[1].legend(loc="lower right", fontsize=8)
    axes[0].set_yticks(y, labels)
    axes[0].invert_yaxis()
    fig.suptitle("robustness: the figures per condition")
    fig.tight_layout()
    return fig


def worst_table(trials, k: int = 5):
    from hwutils.report import rows_table

    return rows_table(trials.worst(k), "the most misleading trials", {"log10 LR": "{:+.2f}"})


def data_sentence(
    signatures, synthetic, run_dir, sets, excluded, base, what, data_dir, train_seconds=None
) -> str:
    """What was validated, on what, and which writers were left out and why."""
    from hwutils.lr_validation.sources import exclusion_sentence

    method = SIGNATURE_METHOD if signatures else WRITER_METHOD
    if synthetic:
        data = (
            f"{base.trials.n_groups} synthetic writers drawn with another seed than the run's training "
            "writers (one page each; synthetic writers of one font family differ in little more than slant "
            "and size, so some pairs are near twins)"
        )
    else:
        data = f"{base.trials.n_groups} {what} of `{data_dir or 'the run' + chr(39) + 's own data'}`"
    trained = f", trained for this validation in {train_seconds:.0f} s" if train_seconds else ""
    calibrated = (
        f" Baseline LRs: {base.info['fused']} fused, calibrated on {base.info['calibration']}."
        if base.info.get("calibration")
        else ""
    )
    return (
        f"Validated: {method}. Run: `{Path(run_dir).name}`{trained}. Validation data: {data}. "
        + exclusion_sentence(excluded, base.trials.n_groups, what, sets.get("source", ""))
        + calibrated
    )


def generalisation_sentence(extra: list, criteria) -> str:
    gen = [m for m in extra if m.name == "generalisation"]
    if not gen:
        return "Generalisation not measured: no other collection given (`generalisation_dir`)."
    m = gen[0]
    return (
        f"On {m.label.split(': ', 1)[-1]} (never used to build the method): "
        + figures_sentence(m)
        + " "
        + misleading_sentence(m)
        + " "
        + verdict_sentence(m.figures, criteria)
    )


def data_record(signatures, synthetic, data_dir, base, excluded, what) -> dict:
    """Arguments of :func:`hwutils.report.record_data`."""
    if synthetic:
        description = "synthetic validation writers (hwutils.synth.handwriting, pages in CSAFE naming)"
    elif signatures:
        description = "signatures of persons the run never trained or calibrated on (sign_data layout)"
    else:
        description = "pages of writers the run never trained or calibrated on"
    return {
        "description": description,
        "location": None if synthetic else (data_dir or None),
        what: base.trials.n_groups,
        "excluded": len(excluded),
        "same_source_trials": int(base.trials.same.sum()),
        "different_source_trials": int(len(base.trials) - base.trials.same.sum()),
    }


def metric_groups(summary: dict) -> dict:
    """The metrics table's groups: the baseline's figures and the run (the
    figures per condition are in the robustness table; everything is in metrics.json)."""
    base_keys = list(matrix.METRICS) + ["n_same", "n_different", "n_writers"]
    return {
        "validation (baseline)": [k for k in base_keys if k in summary],
        "run": ["method", "run", "n_excluded_writers", "n_boot", "train_run_seconds", "score_seconds"]
        + ["total_seconds"],
    }


NAMES = {
    "cllr": "Cllr",
    "cllr_min": "Cllr_min",
    "cllr_cal": "Cllr_cal",
    "eer": "EER",
    "rmep": "RMEP (share)",
    "rmed": "RMED (share)",
    "rmep_strong": "RMEP, LR < 1/100 (share)",
    "rmed_strong": "RMED, LR > 100 (share)",
    "h2_log10_lr_max": "largest log10 LR, H2 true",
    "h1_log10_lr_min": "smallest log10 LR, H1 true",
}


def metrics_shown(summary: dict) -> dict:
    """The part of ``summary`` the report's metrics table shows."""
    keys = [k for keys in metric_groups(summary).values() for k in keys]
    return {k: summary[k] for k in keys if k in summary}
