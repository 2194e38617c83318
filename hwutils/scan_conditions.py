"""The image conditions a model was developed under, and a check that new
scans lie within them.

A threshold or an LR calibration is fixed on one collection's scans: its
scanner's resolution, its pens' stroke widths, its ink and paper tones. On
another collection they drift (a signatures run on its test persons
re-rendered as another scanner and pen would give them lets 2-3 times as many
skilled forgeries through; a writer_id run's texture LRs on pages resampled to
75 dpi mislead several times as often), so a user must be told when the scans
given lie outside what the run was developed on, as ``writer_casework`` says
of documents outside its validated conditions.

Four numbers are measured on each scan (a signature, a line of handwriting)
as it is read, before any normalisation (:func:`measure`): the paper's and the
ink's grey levels (medians of the pixels on either side of Otsu's threshold),
the stroke width (twice the ink area over its contour length, in pixels) and
the height of the writing (the 2nd to 98th percentile of its ink rows, in
pixels: the scanner's resolution times the writer's size).
:meth:`Conditions.fit` takes their ranges on a run's development data: the
range of each *source's* median (a person's references, a writer's lines) and
the 0.5-99.5th percentiles of single *scans*; each widened by a tenth of its
span and at least a floor (:data:`FLOORS`), so that a collection's own sources
stay inside it. :meth:`Conditions.outside_median` (a document of several
scans, a set of references) and :meth:`Conditions.outside_scan` (one scan)
name every number outside. It is a warning, not a refusal.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np
from scipy import ndimage

from hwutils import images
from hwutils.errors import ArtifactError

FILE = "conditions.json"
STATS = ("paper", "ink", "stroke_px", "height_px")
LABELS = {
    "paper": "paper grey level",
    "ink": "ink grey level",
    "stroke_px": "stroke width",
    "height_px": "writing height",
}
UNITS = {"paper": "", "ink": "", "stroke_px": " px", "height_px": " px"}
# the least a range is widened by on either side (grey levels, pixels)
FLOORS = {"paper": 12.0, "ink": 8.0, "stroke_px": 0.25, "height_px": 4.0}
MARGIN = 0.1  # each range widened by this share of its span on either side
SCAN_PERCENTILES = (0.5, 99.5)


def measure(image) -> np.ndarray:
    """The four numbers of one scan (path, PIL image or array, paper white), in
    the order of :data:`STATS`; NaN for a scan without ink."""
    gray = images.as_gray(image)
    ink = images.binarize(gray)
    if not ink.any() or ink.all():
        return np.full(len(STATS), np.nan)
    g = gray.astype(np.float32)
    edge = int((ink & ~ndimage.binary_erosion(ink)).sum())
    rows = np.nonzero(ink)[0]
    return np.array(
        [
            float(np.median(g[~ink])),
            float(np.median(g[ink])),
            2.0 * float(ink.sum()) / max(edge, 1),
            float(np.percentile(rows, 98) - np.percentile(rows, 2)),
        ]
    )


def measure_many(items) -> np.ndarray:
    """:func:`measure` of each scan: ``(n, 4)``."""
    return np.array([measure(x) for x in items], np.float64).reshape(-1, len(STATS))


def _widen(lo: np.ndarray, hi: np.ndarray, margin: float) -> tuple[np.ndarray, np.ndarray]:
    floors = np.array([FLOORS[k] for k in STATS])
    pad = np.maximum(margin * (hi - lo), floors)
    return lo - pad, hi + pad


def _ranges(lo, hi) -> dict:
    return {k: (float(a), float(b)) for k, a, b in zip(STATS, lo, hi)}


@dataclass
class Conditions:
    """The ranges of :data:`STATS` a run was developed under: ``sources`` (a
    source's median over its scans) and ``scans`` (one scan), each ``{stat:
    (low, high)}``; how many sources and scans they were fitted on, and what
    the stage calls them (``persons``/``writers``, ``scans``/``lines``)."""

    sources: dict
    scans: dict
    n_sources: int
    n_scans: int
    source_word: str = "sources"
    scan_word: str = "scans"

    @classmethod
    def fit(
        cls,
        by_source: dict,
        scans: np.ndarray,
        source_word: str = "sources",
        scan_word: str = "scans",
        margin: float = MARGIN,
    ) -> Conditions:
        """``by_source``: source -> ``(n, 4)`` :func:`measure_many` of its scans
        (their median is a source's value); ``scans``: ``(m, 4)`` of every
        development scan, the range one scan is held to."""
        medians = np.array([np.nanmedian(v, axis=0) for v in by_source.values() if len(v)])
        scans = np.asarray(scans, np.float64).reshape(-1, len(STATS))
        if len(medians) < 2 or len(scans) < 2:
            raise ValueError(f"conditions: at least two development {source_word} and {scan_word} are needed")
        s_lo, s_hi = _widen(np.nanmin(medians, 0), np.nanmax(medians, 0), margin)
        q_lo, q_hi = _widen(*np.nanpercentile(scans, SCAN_PERCENTILES, axis=0), margin)
        return cls(_ranges(s_lo, s_hi), _ranges(q_lo, q_hi), len(medians), len(scans), source_word, scan_word)

    def outside_median(self, rows: np.ndarray, what: str) -> list[str]:
        """One sentence when the median of ``rows`` (``(n, 4)``: the scans of one
        source, e.g. a page's lines or a person's references) lies outside the
        sources' ranges, naming each number and its range; ``[]`` inside."""
        rows = np.asarray(rows, np.float64).reshape(-1, len(STATS))
        if not len(rows):
            return []
        on = f"its {self.n_sources} development {self.source_word}"
        return self._said(np.nanmedian(rows, axis=0), self.sources, what, on)

    def outside_scan(self, row: np.ndarray, what: str) -> list[str]:
        """The same for one scan (``(4,)``) against the single scans' ranges."""
        row = np.asarray(row, np.float64).reshape(len(STATS))
        return self._said(row, self.scans, what, f"its {self.n_scans} development {self.scan_word}")

    @staticmethod
    def _said(values, ranges, what: str, fitted_on: str) -> list[str]:
        parts = []
        for k, v in zip(STATS, values):
            lo, hi = ranges[k]
            if np.isfinite(v) and not lo <= v <= hi:
                u = UNITS[k]
                parts.append(f"{LABELS[k]} {v:.1f}{u} ({lo:.1f}-{hi:.1f}{u})")
        return [f"{what}: {', '.join(parts)}, outside the ranges of {fitted_on}"] if parts else []

    @staticmethod
    def caveat(said: list[str], consequence: str) -> str | None:
        """The note a result whose scans lie outside the conditions gets:
        ``said`` (:meth:`outside_median`, :meth:`outside_scan`) and what is not
        validated for them (``consequence``)."""
        if not said:
            return None
        return (
            "outside the conditions this run was developed and validated under: "
            + "; ".join(said)
            + f". {consequence}; validate the run on scans like these (hw run lr_validation) before relying on"
            " them"
        )

    def to_dict(self) -> dict:
        return {
            "stats": list(STATS),
            "sources": {k: list(v) for k, v in self.sources.items()},
            "scans": {k: list(v) for k, v in self.scans.items()},
            "n_sources": self.n_sources,
            "n_scans": self.n_scans,
            "source_word": self.source_word,
            "scan_word": self.scan_word,
        }

    @classmethod
    def from_dict(cls, d: dict) -> Conditions:
        """The inverse of :meth:`to_dict`; ``ValueError`` naming the key of a
        missing number, a bound that is not a finite number or a low above its high."""
        out = {}
        for part in ("sources", "scans"):
            table = d.get(part)
            if not isinstance(table, dict):
                raise ValueError(f"key '{part}' is not an object")
            ranges = {}
            for k in STATS:
                pair = table.get(k)
                ok = isinstance(pair, list) and len(pair) == 2
                ok = ok and all(isinstance(x, (int, float)) and not isinstance(x, bool) for x in pair)
                ok = ok and all(np.isfinite(x) for x in pair) and pair[0] <= pair[1]
                if not ok:
                    raise ValueError(f"key '{part}.{k}' is not a finite [low, high] range")
                ranges[k] = (float(pair[0]), float(pair[1]))
            out[part] = ranges
        counts = [d.get("n_sources"), d.get("n_scans")]
        if not all(isinstance(c, int) and not isinstance(c, bool) and c >= 1 for c in counts):
            raise ValueError("keys 'n_sources' and 'n_scans' must be counts >= 1")
        words = [d.get("source_word", "sources"), d.get("scan_word", "scans")]
        if not all(isinstance(w, str) and w for w in words):
            raise ValueError("keys 'source_word' and 'scan_word' must be words")
        return cls(out["sources"], out["scans"], counts[0], counts[1], *words)

    def save(self, path) -> Path:
        from hwutils.report import write_json_atomic

        return write_json_atomic(Path(path), self.to_dict())


def save(conditions: Conditions, path=None) -> Path:
    """Write ``conditions`` as the current run's ``artifacts/conditions.json`` or at ``path``."""
    if path is None:
        from hwutils import report

        path = report.artifact_path(FILE)
    return conditions.save(path)


def load(path) -> Conditions:
    """Read a conditions file; anything it cannot hold is an
    :class:`~hwutils.errors.ArtifactError` naming the file and key."""
    from hwutils import artifacts

    data = artifacts.load_json(path)
    try:
        return Conditions.from_dict(data)
    except ValueError as exc:
        raise ArtifactError(f"{path}: {exc}") from None


def find(*folders) -> Conditions | None:
    """The conditions file in the first of ``folders`` that has one, None when
    none has (runs made before they were measured)."""
    for folder in folders:
        path = Path(folder) / FILE
        if path.is_file():
            return load(path)
    return None


def flagged_share(flags) -> float:
    """The share of true values in ``flags``; NaN when empty (strict JSON writes null)."""
    flags = [bool(f) for f in flags]
    return float(np.mean(flags)) if flags else float("nan")
