"""The conditions of the robustness figures: how much known writing, how much
questioned writing, at what resolution, and subsets named by the file names
(prompt, session). Each validation writer's page is cut into a *known* part
(its top half of lines) and a *questioned* part (the bottom half), as a case
an examiner would set up; a condition truncates the lines of either part, or
resamples the whole page down before it is cut into lines."""

from __future__ import annotations

import math
import re
import tempfile
from dataclasses import dataclass, replace
from pathlib import Path

import numpy as np

from hwutils.errors import DataError, ParamsError

ALL = 0  # keep every line of a part


@dataclass(frozen=True)
class Condition:
    """One setting of the method: ``known_lines`` / ``questioned_lines`` keep the
    first so many lines of each part (0: all), ``dpi`` resamples the pages (0:
    as scanned). ``name`` is the suffix of its metrics keys ("" for the
    baseline); ``series`` and ``amount`` place it in a coherence series."""

    name: str
    label: str
    series: str = ""
    amount: float | None = None
    known_lines: int = ALL
    questioned_lines: int = ALL
    dpi: int = 0


BASELINE = Condition("", "baseline (all lines of each half, as scanned)")


def plan(known_lines=(), questioned_lines=(), dpis=(), scan_dpi: int = 300, unit: str = "lines") -> list:
    """The baseline, then one condition per amount of known writing, of
    questioned writing and per resolution below the scan's."""
    out = [BASELINE]

    def amount(n: int) -> str:
        return f"{n} {unit.rstrip('s') if n == 1 else unit}"

    for n in sorted({int(n) for n in known_lines}):
        out.append(Condition(f"known{n}", f"known writing: {amount(n)}", f"known {unit}", n, known_lines=n))
    for n in sorted({int(n) for n in questioned_lines}):
        label = f"questioned writing: {amount(n)}"
        out.append(Condition(f"questioned{n}", label, f"questioned {unit}", n, questioned_lines=n))
    for d in sorted({int(d) for d in dpis}, reverse=True):
        if d <= 0 or d > scan_dpi:
            raise ParamsError(f"dpis: {d} is not a resolution from 1 to the scan's {scan_dpi} dpi")
        if d != scan_dpi:
            out.append(
                Condition(
                    f"dpi{d}", f"resolution: {d} dpi (resampled from {scan_dpi})", "resolution", d, dpi=d
                )
            )
    return out


def split_page(doc):
    """A page :class:`hwutils.casework.Document` as ``(known, questioned)``: its
    top half of lines (the first ceil(n/2)) and the rest, as ``load_document``'s
    ``part`` does."""
    if len(doc.lines) < 2:
        raise DataError(
            f"{doc.path}: {len(doc.lines)} text line, cannot cut it into a known and a questioned half"
        )
    half = (len(doc.lines) + 1) // 2
    top = replace(doc, lines=doc.lines[:half], boxes=doc.boxes[:half], part="top")
    bottom = replace(doc, lines=doc.lines[half:], boxes=doc.boxes[half:], part="bottom")
    return top, bottom


def truncate(docs, n: int) -> list:
    """Each document with only its first ``n`` lines (all when ``n`` is 0)."""
    if not n:
        return list(docs)
    return [replace(d, lines=d.lines[:n], boxes=d.boxes[:n]) for d in docs]


def load_pages(
    listing, dpi: int = 0, scan_dpi: int = 300, train_dpi: int = 300, reference_stroke=None
) -> tuple:
    """The pages of ``(path, writer)`` read and cut into lines by the casework
    pipeline (:func:`hwutils.casework.load_document`), each split into its known
    and questioned halves. With ``dpi`` below ``scan_dpi`` the page is first
    resampled down by ``dpi / scan_dpi`` (as if scanned at ``dpi``), then
    segmented and brought back to the run's scale with ``dpi=dpi``, as a
    document of that resolution would be. Returns ``(pairs, skipped)``:
    ``[(known, questioned)]`` and ``{file name: reason}`` of pages that could not
    be used (no or a single text line at that resolution)."""
    from hwutils import casework
    from hwutils.errors import HwError
    from hwutils.images import gray_with_ink, save_gray

    dpi = dpi or scan_dpi
    pairs, skipped = [], {}
    with tempfile.TemporaryDirectory(prefix="hw-lrv-") as tmp:
        for path, writer in listing:
            path = Path(path)
            source = path
            if dpi != scan_dpi:
                page = casework.rescale(gray_with_ink(path), dpi / scan_dpi)
                source = save_gray(page, Path(tmp) / f"{path.stem}.png")
            try:
                doc = casework.load_document(source, writer, reference_stroke, dpi=dpi, train_dpi=train_dpi)
                pairs.append(split_page(doc))
            except HwError as exc:
                skipped[path.name] = str(exc).split(": ", 1)[-1]
    return pairs, skipped


def case_documents(pairs, condition: Condition) -> tuple[list, list]:
    """The known and questioned documents of ``condition`` from split pages."""
    known = truncate([k for k, _ in pairs], condition.known_lines)
    questioned = truncate([q for _, q in pairs], condition.questioned_lines)
    return known, questioned


def mean_lines(docs) -> float:
    return float(np.mean([len(d.lines) for d in docs])) if docs else math.nan


# --- subsets named by the file names ------------------------------------------------------------


def name_fields(names, pattern: str, fields) -> dict:
    """``{field: {name: value}}`` of the named groups ``fields`` of ``pattern``
    (a regex) in each name; fields the pattern lacks, or that take fewer than
    two values, are left out (nothing to compare)."""
    rx = re.compile(pattern)
    out = {}
    for f in fields:
        if f not in rx.groupindex or f == "writer":
            continue
        values = {}
        for n in names:
            m = rx.search(str(n))
            if m and m.group(f) is not None:
                values[str(n)] = m.group(f)
        if len(set(values.values())) >= 2:
            out[f] = values
    return out


def subsets(trials, pattern: str, fields) -> list[tuple[str, str, object]]:
    """``(suffix, label, Trials)`` for each value of each field of the
    questioned documents' names (e.g. ``prompt_WOZ``): the baseline trials whose
    questioned document carries that value."""
    out = []
    for f, values in name_fields(sorted(set(trials.questioned.tolist())), pattern, fields).items():
        for v in sorted(set(values.values())):
            mask = np.array([values.get(q) == v for q in trials.questioned])
            out.append((f"{f}_{v}", f"questioned {f} {v}", trials.subset(mask)))
    return out
