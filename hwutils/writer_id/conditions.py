"""The image conditions a writer_id run was developed under
(:mod:`hwutils.scan_conditions`), and how often its check warns.

A run measures the lines of every writer it trained or calibrated on: the
range of each writer's median over their lines (a page is held to it, by the
median over its lines) and of single lines (a single line is held to it).
``hw identify`` names every number outside: at another resolution (the
writing's height and stroke width in pixels), with another pen or on another
paper the texture features and the LRs change, and the run was not validated
there. A warning, not a refusal.
"""

from __future__ import annotations

import numpy as np

from hwutils import images
from hwutils.scan_conditions import FILE, Conditions, find, flagged_share, measure, measure_many, save

__all__ = [
    "CONSEQUENCE",
    "FILE",
    "Conditions",
    "document_flags",
    "document_flags_at",
    "find",
    "fit_lines",
    "outside",
    "resampled",
    "save",
]

CONSEQUENCE = (
    "Its identifications and LRs are not validated for such writing (at another resolution, pen or paper the"
    " texture features change: on CSAFE pages resampled to 75 dpi the largest wrong-writer log10 LR rose from"
    " -0.05 to +1.11)"
)


def _gray(record) -> np.ndarray:
    return record.image if record.image is not None else images.read_gray(record.path)


def fit_lines(records, measured: np.ndarray | None = None) -> Conditions:
    """:meth:`Conditions.fit` on line records (``.writer``, ``.image`` or
    ``.path``): each writer's lines for a document's range, every line for a
    single line's. ``measured``: their :func:`measure_many` rows, if known."""
    rows = measure_many([_gray(r) for r in records]) if measured is None else np.asarray(measured)
    by_writer: dict = {}
    for r, row in zip(records, rows):
        by_writer.setdefault(r.writer, []).append(row)
    return Conditions.fit({w: np.array(v) for w, v in by_writer.items()}, rows, "writers", "lines")


def outside(conditions: Conditions, rows: np.ndarray) -> list[str]:
    """Where the lines of one document (``rows``: ``(n, 4)``) lie outside:
    their median against the writers' ranges, or one line against the lines'."""
    rows = np.asarray(rows, np.float64).reshape(-1, 4)
    if len(rows) == 1:
        return conditions.outside_scan(rows[0], "the line")
    return conditions.outside_median(rows, f"the document (median of {len(rows)} lines)")


def resampled(gray: np.ndarray, scale: float) -> np.ndarray:
    """A line scanned at ``scale`` times the resolution (:func:`hwutils.images.scale_by`)."""
    return images.scale_by(gray, scale)


def document_flags(conditions: Conditions, records, scale: float = 1.0) -> float:
    """The share of documents (records grouped by ``.page``, or ``.group``)
    that :func:`outside` warns on, each line resampled by ``scale`` first."""
    return document_flags_at(conditions, records, (scale,))[scale]


def document_flags_at(conditions: Conditions, records, scales) -> dict:
    """:func:`document_flags` at each of ``scales`` (``{scale: share}``), every
    line read once."""
    docs: dict = {s: {} for s in scales}
    for r in records:
        g = _gray(r)
        for s in scales:
            docs[s].setdefault(r.page or r.group, []).append(measure(g if s == 1.0 else resampled(g, s)))
    return {
        s: flagged_share(outside(conditions, np.array(rows)) for rows in by_doc.values())
        for s, by_doc in docs.items()
    }
