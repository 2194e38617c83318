"""What the casework report shows of a case: tables of documents, verdicts
and answers, and the figure of a questioned page with its lines."""

from __future__ import annotations

import numpy as np

from hwutils.casework.case import Verdict
from hwutils.casework.documents import Document
from hwutils.report import HTMLTable, rows_table

# --- what the report shows ---------------------------------------------------------------------


VERDICT_FORMATS = {
    "texture similarity": "{:.3f}",
    "CNN similarity": "{:.3f}",
    "score": "{:.2f}",
    "log10 LR": "{:+.2f}",
    "posterior": "{:.4f}",
}


def verdict_table(verdict: Verdict) -> HTMLTable:
    """A questioned document against every person, strongest LR first."""
    truth = f"; true writer {verdict.truth}" if verdict.truth is not None else ""
    return rows_table(verdict.rows(), f"{verdict.document}: answer {verdict.answer}{truth}", VERDICT_FORMATS)


def summary_table(verdicts: list[Verdict]) -> HTMLTable:
    """One row per questioned document: the answer, its LR and posterior, the truth."""
    rows = []
    for v in verdicts:
        best = int(np.argmax(v.log10_lr))
        rows.append(
            {
                "questioned document": v.document,
                "answer": v.answer,
                "strongest person": v.persons[best],
                "log10 LR": float(v.log10_lr[best]),
                "posterior": float(v.posteriors[best]),
                "true writer": v.truth if v.truth is not None else "unknown",
                "correct": {True: "yes", False: "NO", None: ""}[v.correct],
            }
        )
    return rows_table(rows, "answers", VERDICT_FORMATS)


def documents_table(known: list[Document], questioned: list[Document] = ()) -> HTMLTable:
    """The case's documents as read, with their chain of custody: role (known
    or questioned), file, size and sha256 of the file's bytes, person, lines,
    stroke width and the scale applied."""
    from hwutils.custody import file_record

    rows = []
    for role, d in [("known", d) for d in known] + [("questioned", d) for d in questioned]:
        rec = file_record(d.path)
        rows.append(
            {
                "role": role,
                "document": d.path.name,
                "person": d.person if d.person is not None else "unknown",
                "part": d.part,
                "lines": len(d.lines),
                "stroke width (px)": round(d.stroke, 2),
                "scale applied": d.scale,
                "compared at (dpi)": d.compared_at or "as scanned",
                "bytes": rec["size"],
                "sha256": rec["sha256"],
            }
        )
    return rows_table(rows)


def document_figure(doc: Document, verdict: Verdict | None = None, max_lines: int = 8):
    """The questioned page with its segmented lines boxed, and the lines as scored."""
    import matplotlib.pyplot as plt
    from matplotlib.patches import Rectangle

    shown = doc.lines[:max_lines]
    fig = plt.figure(figsize=(11, 0.9 * max(4, len(shown)) + 0.5))
    grid = fig.add_gridspec(len(shown), 2, width_ratios=[1, 1.6])
    ax = fig.add_subplot(grid[:, 0])
    ax.imshow(doc.page, cmap="gray", vmin=0, vmax=255)
    for k, (top, bottom, left, right) in enumerate(doc.boxes):
        ax.add_patch(Rectangle((left, top), right - left, bottom - top, fill=False, color="tab:red", lw=1))
        ax.text(left, top, str(k + 1), color="tab:red", fontsize=7, va="bottom")
    ax.axis("off")
    title = doc.name if verdict is None else f"{doc.name}: {verdict.answer}"
    ax.set_title(title, fontsize=9)
    for k, line in enumerate(shown):
        a = fig.add_subplot(grid[k, 1])
        a.imshow(line, cmap="gray", vmin=0, vmax=255)
        a.set_title(f"line {k + 1}", fontsize=7, loc="left")
        a.axis("off")
    fig.tight_layout()
    return fig
