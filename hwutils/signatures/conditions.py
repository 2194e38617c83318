"""The image conditions a signatures run was developed under, and a check that
a verification's images lie within them.

A verifier's threshold and LR calibration are fixed on one collection's scans:
its scanner's resolution, its pens' stroke widths, its ink and paper tones.
On another collection they drift (a sign_data run on the same persons
re-rendered by :mod:`hwutils.signatures.collection` lets 2-3 times as many
skilled forgeries through at its threshold, and its LR calibration loss
doubles), so an examiner must be told when the images given lie outside what
the run was developed on, as ``writer_casework`` says of documents outside its
validated conditions.

Four numbers are measured on each scan as it is read (before any
normalisation): the paper's and the ink's grey levels (medians of the pixels
on either side of Otsu's threshold), the stroke width (twice the ink area over
its contour length, in pixels) and the signature's height (the 2nd to 98th
percentile of its ink rows, in pixels: the scanner's resolution times the
writer's size). :meth:`Conditions.fit` takes their ranges on the run's
development persons: for the references, the range of each person's median
over their genuine signatures; for a questioned signature, the 0.5-99.5th
percentiles over every development scan, genuine or forged. Each range is
widened by a tenth of its span (and at least a small floor), so that a
collection's own persons stay inside it (on sign_data, leaving each person
out of the ranges in turn, 2 of 43 persons' references fall outside on some
number, below); :meth:`Conditions.outside` names every number outside. It is a
warning, not a refusal: the score, decision and LR are still given.

On sign_data, each person left out of the ranges in turn (fitted on the other
42): 2 of 43 persons' first 5 references and 1.0% of 934 questioned scans are
flagged; the same persons re-rendered as :data:`hwutils.signatures.collection.OTHER`:
43 of 43 and 100%.
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
    "height_px": "signature height",
}
UNITS = {"paper": "", "ink": "", "stroke_px": " px", "height_px": " px"}
# the least a range is widened by on either side (grey levels, pixels)
FLOORS = {"paper": 4.0, "ink": 4.0, "stroke_px": 0.25, "height_px": 4.0}
MARGIN = 0.1  # each range widened by this share of its span on either side
QUESTIONED_PERCENTILES = (0.5, 99.5)


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


@dataclass
class Conditions:
    """The ranges of :data:`STATS` a run was developed under: ``references``
    (a person's median over their references) and ``questioned`` (one scan),
    each ``{stat: (low, high)}``; ``persons`` and ``scans`` they were fitted on."""

    references: dict
    questioned: dict
    persons: int
    scans: int

    @classmethod
    def fit(cls, by_person: dict, scans: np.ndarray, margin: float = MARGIN) -> Conditions:
        """``by_person``: person -> ``(n, 4)`` :func:`measure_many` of their genuine
        signatures; ``scans``: ``(m, 4)`` of every development scan (genuine and
        forged), the range a questioned signature is held to."""
        medians = np.array([np.nanmedian(v, axis=0) for v in by_person.values() if len(v)])
        scans = np.asarray(scans, np.float64).reshape(-1, len(STATS))
        if len(medians) < 2 or len(scans) < 2:
            raise ValueError("conditions: at least two development persons and scans are needed")
        r_lo, r_hi = _widen(np.nanmin(medians, 0), np.nanmax(medians, 0), margin)
        q_lo, q_hi = _widen(*np.nanpercentile(scans, QUESTIONED_PERCENTILES, axis=0), margin)
        return cls(
            {k: (float(a), float(b)) for k, a, b in zip(STATS, r_lo, r_hi)},
            {k: (float(a), float(b)) for k, a, b in zip(STATS, q_lo, q_hi)},
            len(medians),
            len(scans),
        )

    def outside(self, references: np.ndarray, questioned: np.ndarray | None = None) -> list[str]:
        """One sentence for the references' median (``references``: ``(n, 4)``)
        and one for the questioned scan (``(4,)``) when any of their numbers lies
        outside its range, naming each such number and its range."""
        said = []
        refs = np.asarray(references, np.float64).reshape(-1, len(STATS))
        if len(refs):
            med = np.nanmedian(refs, axis=0)
            what = f"the references (median of {len(refs)})"
            said += self._said(med, self.references, what, f"its {self.persons} development persons")
        if questioned is not None:
            q = np.asarray(questioned, np.float64).reshape(len(STATS))
            said += self._said(
                q, self.questioned, "the questioned signature", f"its {self.scans} development scans"
            )
        return said

    @staticmethod
    def _said(values, ranges, what: str, fitted_on: str) -> list[str]:
        parts = []
        for k, v in zip(STATS, values):
            lo, hi = ranges[k]
            if np.isfinite(v) and not lo <= v <= hi:
                u = UNITS[k]
                parts.append(f"{LABELS[k]} {v:.1f}{u} ({lo:.1f}-{hi:.1f}{u})")
        return [f"{what}: {', '.join(parts)}, outside the ranges of {fitted_on}"] if parts else []

    def caveat(self, said: list[str]) -> str | None:
        """The note a verification with images outside the conditions gets."""
        if not said:
            return None
        return (
            "outside the conditions this run was developed and validated under: "
            + "; ".join(said)
            + ". Its threshold and LRs are not validated for such scans (another scanner, pen or"
            " resolution can let several times as many forgeries through); validate the run on scans like"
            " these (hw run lr_validation) before relying on them"
        )

    def to_dict(self) -> dict:
        return {
            "stats": list(STATS),
            "references": {k: list(v) for k, v in self.references.items()},
            "questioned": {k: list(v) for k, v in self.questioned.items()},
            "persons": self.persons,
            "scans": self.scans,
        }

    @classmethod
    def from_dict(cls, d: dict) -> Conditions:
        """The inverse of :meth:`to_dict`; ``ValueError`` naming the key of a
        missing stat, a bound that is not a finite number or a low above its high."""
        out = {}
        for part in ("references", "questioned"):
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
        counts = [d.get("persons"), d.get("scans")]
        if not all(isinstance(c, int) and not isinstance(c, bool) and c >= 1 for c in counts):
            raise ValueError("keys 'persons' and 'scans' must be counts >= 1")
        return cls(out["references"], out["questioned"], counts[0], counts[1])

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


def find(folder) -> Conditions | None:
    """The conditions saved beside a verifier folder (in it or in the run's
    ``artifacts/``), None for runs made before they were measured."""
    folder = Path(folder)
    for path in (folder / FILE, folder.parent / FILE):
        if path.is_file():
            return load(path)
    return None


def flagged_share(conditions: Conditions, by_person_refs: dict, questioned: list) -> tuple[float, float]:
    """The share of persons whose references, and of questioned scans, that
    :meth:`Conditions.outside` flags: ``by_person_refs`` person -> ``(n, 4)``,
    ``questioned`` a list of ``(4,)``. NaN where there are none."""
    persons = [bool(conditions.outside(v)) for v in by_person_refs.values()]
    scans = [bool(conditions.outside(np.zeros((0, len(STATS))), q)) for q in questioned]
    return (
        float(np.mean(persons)) if persons else float("nan"),
        float(np.mean(scans)) if scans else float("nan"),
    )


def fit_records(records, measured: np.ndarray, genuine: str = "genuine") -> Conditions:
    """:meth:`Conditions.fit` on development records (``.person``, ``.kind``)
    and their :func:`measure_many` rows: each person's genuine scans for the
    references' range, every scan for the questioned one."""
    by_person: dict = {}
    for r, row in zip(records, np.asarray(measured)):
        if r.kind == genuine:
            by_person.setdefault(r.person, []).append(row)
    return Conditions.fit({p: np.array(v) for p, v in by_person.items()}, measured)


def protocol_flags(conditions: Conditions, protocol: dict, measured: np.ndarray, prefix: str) -> dict:
    """How often :meth:`Conditions.outside` warns on a protocol's verifications
    (:func:`hwutils.signatures.trials.make_trials`; ``measured`` the rows of
    its records): ``{prefix}_conditions_refs_flagged``, the share of persons
    whose references lie outside, and ``{prefix}_conditions_questioned_flagged``,
    the share of questioned scans (genuine and skilled) outside on their own."""
    measured = np.asarray(measured)
    refs = {p: measured[idx] for p, idx in protocol["references"].items()}
    scans = sorted({i for _, i, kind in protocol["trials"] if kind in ("genuine", "skilled")})
    persons, questioned = flagged_share(conditions, refs, [measured[i] for i in scans])
    return {
        f"{prefix}_conditions_refs_flagged": persons,
        f"{prefix}_conditions_questioned_flagged": questioned,
    }
