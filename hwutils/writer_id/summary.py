"""What a writer_id run found, in the words, tables and figures of its report.

The notebook calls these instead of printing numbers: the headline results
against their yardsticks (:func:`results`), what the run looked at
(:func:`data_record`), short sentences and Markdown tables for the
narrative, the example-lines figure and the groups of the final metrics
table. Nothing is displayed here.
"""

from __future__ import annotations

import numpy as np

from hwutils import report
from hwutils.calibration import calibration_loss_result, cllr_result
from hwutils.report import markdown_table, pct

SYSTEMS = {"fused": "CNN + texture (fused)", "cnn": "CNN alone", "texture": "texture alone"}

# the final metrics table, grouped by topic (keys absent from a run are left out)
GROUPS = {
    "data": [
        "n_writers",
        "n_train_lines",
        "n_test_lines",
        "skipped_images",
        "skipped_pages",
    ],
    "identification (test lines and pages)": [
        "chance_top1",
        "patch_top1",
        "patch_top5",
        "line_top1",
        "line_top5",
        "page_top1",
        "page_top5",
        "cnn_line_top1",
        "cnn_page_top1",
        "texture_line_top1",
        "texture_page_top1",
        "fused_line_top1",
        "fused_page_top1",
        "texture_weight",
    ],
    "image conditions (hw identify warns outside the development lines' ranges)": [
        "test_conditions_flagged",
        "new_conditions_flagged",
        "test_half_res_conditions_flagged",
        "test_quarter_res_conditions_flagged",
    ],
    "new writers": [
        "newwriter_auroc",
        "newwriter_threshold",
        "newwriter_false_accept_rate",
        "newwriter_false_reject_rate",
        "newwriter_n_known",
        "newwriter_n_unknown",
    ],
    "enrolment": [
        "enrolled_writers",
        "enrol_query_lines",
        "enrolled_top1",
        "gallery_size",
        "known_top1_after_enrolment",
    ],
    "likelihood ratios (test trials)": [
        f"lr_{p}{u}_{k}"
        for p in ("", "new_")
        for u in ("line", "page")
        for k in (
            "cllr",
            "cllr_min",
            "cllr_cal",
            "n_same",
            "n_different",
            "mean_log10_lr_same",
            "mean_log10_lr_different",
            "misleading_same",
            "misleading_different",
        )
    ]
    + [f"lr_{u}_lr_{w}_weight" for u in ("line", "page") for w in ("texture", "cnn")],
    "time": ["train_seconds", "epochs_run", "texture_seconds", "identify_ms", "total_seconds"],
}


# ------------------------------------------------------------------- data
def data_record(data_dir: str, data_format: str, records, writers, unknown, sets, new_set) -> dict:
    """The keyword arguments of :func:`hwutils.report.record_data`
    (``report.record_data(**data_record(...))``): which data, where, and the
    counts of writers, lines and pages of each side."""
    if not data_dir:
        description = "synthetic IAM-layout writers (generated in the run)"
    elif data_format == "iam":
        description = "IAM Handwriting Database lines"
    else:
        description = "writer-named pages, cut into lines"
    counts = {
        "writers": len(writers) + len(unknown),
        "known_writers": len(writers),
        "new_writers": len(unknown),
        "lines": len(records),
        **{f"{k}_lines": len(s) for k, s in sets.items()},
        "test_pages": len({r.page for r in sets["test"].records}),
    }
    if new_set is not None:
        counts["new_writer_lines"] = len(new_set)
    return {"description": description, "location": data_dir or None, **counts}


def split_sentence(sets: dict, what: str, unknown, new_set, n_skipped: int) -> str:
    """The split in one or two sentences: lines and groups per side, new writers."""
    sides = ", ".join(
        f"{k} {len(s):,} lines ({len({r.group for r in s.records}):,} {what}s)" for k, s in sets.items()
    )
    text = f"Known writers' lines by side: {sides}; no {what} is on two sides."
    if unknown:
        text += (
            f" {len(unknown)} writers ({', '.join(map(str, unknown))}) are held out of training as new writers"
            f" ({len(new_set) if new_set is not None else 0:,} lines)."
        )
    if n_skipped:
        text += f" {n_skipped:,} unreadable images were skipped."
    return text


def example_lines_figure(lines, writers, title: str = "one training line per writer"):
    """One line image per row, the writer as its y label, at the lines' own
    aspect ratio (width 10 in, 0.6 in per line)."""
    import matplotlib.pyplot as plt

    lines = [np.asarray(x) for x in lines]
    n = max(1, len(lines))
    widest = max((x.shape[1] for x in lines), default=1)
    fig, axes = plt.subplots(n, 1, figsize=(10, 0.6 * n + 0.8), squeeze=False)
    for ax, img, w in zip(axes[:, 0], lines, writers):
        vmin, vmax = (0, 255) if img.dtype == np.uint8 else (None, None)
        ax.imshow(img, cmap="gray", vmin=vmin, vmax=vmax, aspect="equal")
        ax.set_xlim(0, widest)
        ax.set_xticks([])
        ax.set_yticks([])
        ax.set_ylabel(str(w), rotation=0, ha="right", va="center", fontsize=9)
        for side in ax.spines.values():
            side.set_visible(False)
    for ax in axes[len(lines) :, 0]:
        ax.axis("off")
    axes[-1, 0].set_xlabel("line, resized to the model's height (pixels along the line)")
    fig.supylabel("writer", fontsize=10)
    fig.suptitle(title)
    fig.tight_layout()
    return fig


# ------------------------------------------------------------------- identification
def levels_table(m: dict) -> str:
    """CNN alone at patch, line and page level (top-1, top-5, count) as Markdown."""
    rows = []
    for level, n_key in (("patch", "n_patches"), ("line", "n_lines"), ("page", "n_pages")):
        key = "cnn_" if f"cnn_{level}_top1" in m else ""
        rows.append(
            {
                "level": level,
                "top1": pct(m.get(f"{key}{level}_top1", m.get(f"{level}_top1"))),
                "top5": pct(m.get(f"{key}{level}_top5", m.get(f"{level}_top5"))),
                "n": f"{int(m[n_key]):,}" if n_key in m else "",
            }
        )
    return markdown_table(rows, {"level": "level", "top1": "top-1", "top5": "top-5", "n": "test items"})


def systems_table(texture_metrics: dict) -> str:
    """CNN alone, texture alone and the fusion, on validation and test lines and
    on test pages, as Markdown."""
    rows = []
    for name, label in SYSTEMS.items():
        rows.append(
            {
                "system": label,
                "val": pct(texture_metrics.get(f"val_{name}_line_top1")),
                "line": pct(texture_metrics.get(f"{name}_line_top1")),
                "line5": pct(texture_metrics.get(f"{name}_line_top5")),
                "page": pct(texture_metrics.get(f"{name}_page_top1")),
            }
        )
    return markdown_table(
        rows,
        {
            "system": "system",
            "val": "validation line top-1",
            "line": "test line top-1",
            "line5": "test line top-5",
            "page": "test page top-1",
        },
    )


def fusion_sentence(weight: float, val_nll: dict, n_val: int) -> str:
    """Which texture weight validation chose and what it means."""
    best = min(val_nll.values()) if val_nll else float("nan")
    return (
        f"The texture classifier's weight in the fusion, chosen on {n_val:,} validation lines"
        f" (lowest log-loss, {best:.3f}, among {len(val_nll)} candidate weights), is **{weight:g}**"
        + (" (0: the CNN alone)." if weight == 0 else " (1: texture alone)." if weight == 1 else ".")
    )


def confusion_sentence(confused: list[dict], n_test: int) -> str:
    """The most confused writer pairs, or that there were none."""
    if not confused:
        return f"No test line of the {n_test:,} was given to the wrong writer."
    shown = "; ".join(f"writer {r['true']} taken for {r['predicted']} ({r['count']}x)" for r in confused[:5])
    wrong = sum(r["count"] for r in confused)
    return (
        f"Most confused pairs ({wrong:,} of {n_test:,} test lines in the top {len(confused)} pairs): {shown}."
    )


# ------------------------------------------------------------------- new writers and enrolment
def open_set_sentence(open_metrics: dict, target_frr: float) -> str:
    """New-writer detection in two sentences."""
    if not open_metrics:
        return "No writer was held out (`unknown_writers: 0`): new-writer detection is not measured."
    m = open_metrics
    return (
        f"AUROC known vs new writers: **{pct(m['auroc'])}** (chance: 50.0%). At the threshold set on validation"
        f" lines to reject {pct(target_frr)} of known writers, {m['false_rejects']:,} of {m['n_known']:,} known"
        f" writers' test lines are rejected ({pct(m['false_reject_rate'])}) and {m['false_accepts']:,} of"
        f" {m['n_unknown']:,} new writers' lines are taken for a known writer ({pct(m['false_accept_rate'])})."
    )


def enrol_sentence(enrol_metrics: dict, enrol_lines: int) -> str:
    """Enrolment of the new writers in one or two sentences."""
    if not enrol_metrics:
        return "No writer was held out: enrolment is not measured."
    m = enrol_metrics
    text = (
        f"{m['enrolled_writers']} new writers enrolled from {enrol_lines} lines each; of their other"
        f" {m['enrol_query_lines']:,} lines, **{pct(m['enrolled_top1'])}** are named as their writer among"
        f" the {m['gallery_size']} writers of the gallery (chance {pct(1 / m['gallery_size'])})."
    )
    if "known_top1_after_enrolment" in m:
        text += f" Known writers' test lines are still named right {pct(m['known_top1_after_enrolment'])} of the time."
    return text


# ------------------------------------------------------------------- headline
def results(
    m: dict,
    n_writers: int,
    open_metrics: dict,
    enrol_metrics: dict,
    train_seconds: float,
    texture_metrics: dict | None = None,
    lr_metrics: dict | None = None,
) -> list[report.Result]:
    """The headline results, each beside its yardstick: line and page top-1 of
    the system used (fused, or the CNN) against the CNN alone, texture alone
    (measured in the same run) and chance; new-writer AUROC against 0.5;
    enrolled-writer top-1 against chance over the gallery; the likelihood
    ratios' Cllr against 1 (stating no evidence) and their calibration loss
    against the 0.05 goal; training time."""
    R = report.Result
    tm = texture_metrics or {}
    chance = 1 / n_writers
    fused = bool(tm)
    out = []
    for level in ("line", "page"):
        group = f"{level} identification (test {level}s)"
        value = m.get(f"{level}_top1")
        if not fused:
            out.append(
                R(f"{level} top-1, CNN", value, group=group, yardstick="chance", yardstick_value=chance)
            )
            continue
        singles = {name: tm.get(f"{name}_{level}_top1") for name in ("cnn", "texture")}
        best = max(singles, key=lambda k: -1 if singles[k] is None else singles[k])
        tie = value is not None and value == singles[best]
        out.append(
            R(
                f"{level} top-1, fused",
                value,
                group=group,
                yardstick=f"the better single system ({SYSTEMS[best]}), same run",
                yardstick_value=singles[best],
                note=("a tie at 100%: nothing left for the fusion to gain" if tie and value >= 1 else "a tie")
                if tie
                else "",
            )
        )
        for name in ("cnn", "texture"):
            out.append(
                R(
                    f"{level} top-1, {SYSTEMS[name]}",
                    singles[name],
                    group=group,
                    yardstick="chance",
                    yardstick_value=chance,
                )
            )
    if open_metrics:
        out.append(
            R(
                "new-writer AUROC",
                open_metrics.get("auroc"),
                group="new writers",
                yardstick="chance",
                yardstick_value=0.5,
            )
        )
    if enrol_metrics and enrol_metrics.get("gallery_size"):
        out.append(
            R(
                "enrolled writers' top-1",
                enrol_metrics.get("enrolled_top1"),
                group="new writers",
                yardstick=f"chance over the {enrol_metrics['gallery_size']}-writer gallery",
                yardstick_value=1 / enrol_metrics["gallery_size"],
            )
        )
    lm = lr_metrics or {}
    if enrol_metrics and lm.get("new_line_evidence_top1") is not None:
        out.append(
            R(
                "enrolled writers' top-1, texture + CNN evidence",
                lm["new_line_evidence_top1"],
                group="new writers",
                yardstick="the CNN gallery alone, same lines",
                yardstick_value=enrol_metrics.get("enrolled_top1"),
                note="the writer with the largest likelihood ratio",
            )
        )
    for who, prefix in (("known writers", ""), ("new writers", "new_")):
        if lm.get(f"{prefix}page_cllr") is None:
            continue
        group = f"likelihood ratios, {who} (test trials)"
        for unit in ("line", "page"):
            out.append(cllr_result(f"Cllr per {unit}, {who}", lm.get(f"{prefix}{unit}_cllr"), group))
        out.append(
            calibration_loss_result(
                f"calibration loss per page, {who}", lm.get(f"{prefix}page_cllr_cal"), group
            )
        )
    out.append(R("training time", train_seconds, kind="seconds", group="cost"))
    return out


def shortfalls(results_list) -> str:
    """A sentence naming every headline that does not beat its yardstick, and
    whether it ties or falls below it ("" when all beat theirs)."""
    rows = [r for r in results_list if r.beats is False]
    if not rows:
        return ""
    parts = []
    for r in rows:
        how = "ties with" if r.verdict == "tie" else "is below"
        parts.append(
            f"{r.name} ({report.format_number(r.value, r.kind)}) {how} {r.yardstick}"
            f" ({report.format_number(r.yardstick_value, r.kind)})" + (f": {r.note}" if r.note else "")
        )
    return "**Does not beat its yardstick:** " + "; ".join(parts) + "."


def conditions_sentence(m: dict, n_writers: int, n_lines: int) -> str:
    """How often the conditions check warns: on test and new writers' documents
    as scanned (false alarms) and resampled to a half and a quarter of their
    resolution (warnings due)."""
    text = (
        f"The ranges come from {n_writers} writers' {n_lines} lines (training, validation and calibration"
        f" writers; not the test documents). It warns on {pct(m.get('test_conditions_flagged'))} of the test"
        " documents"
    )
    if "new_conditions_flagged" in m:
        text += f" and {pct(m['new_conditions_flagged'])} of the new writers' documents"
    return text + (
        f" as scanned (each a false alarm), and on {pct(m.get('test_half_res_conditions_flagged'))} and"
        f" {pct(m.get('test_quarter_res_conditions_flagged'))} of the test documents resampled to a half and a"
        " quarter of their resolution (each warning due)."
    )
