"""The image conditions a signatures run was developed under
(:mod:`hwutils.scan_conditions`), and how often its check warns.

A run measures its development persons' scans: the range of each person's
median over their genuine signatures (a verification's references are held to
it) and of single scans, genuine or forged (a questioned signature is held to
it). ``hw verify`` names every number outside (:func:`outside`); a warning,
not a refusal: the score, decision and LR are still given.

On sign_data, each person left out of the ranges in turn (fitted on the other
42): 1 of 43 persons' first 5 references (stroke width 4.7 px, height 210 px)
and 1.0% of 934 questioned scans are flagged; the same persons re-rendered as :data:`hwutils.signatures.collection.OTHER`:
43 of 43 and 100%.
"""

from __future__ import annotations

import numpy as np

from hwutils.scan_conditions import FILE, Conditions, find, flagged_share, measure, measure_many, save

__all__ = [
    "CONSEQUENCE",
    "FILE",
    "Conditions",
    "find",
    "fit_records",
    "measure",
    "measure_many",
    "outside",
    "protocol_flags",
    "save",
]

CONSEQUENCE = (
    "Its threshold and LRs are not validated for such scans (another scanner, pen or resolution can let"
    " several times as many forgeries through)"
)


def fit_records(records, measured: np.ndarray, genuine: str = "genuine") -> Conditions:
    """:meth:`Conditions.fit` on development records (``.person``, ``.kind``)
    and their :func:`measure_many` rows: each person's genuine scans for the
    references' range, every scan for the questioned one."""
    by_person: dict = {}
    for r, row in zip(records, np.asarray(measured)):
        if r.kind == genuine:
            by_person.setdefault(r.person, []).append(row)
    return Conditions.fit({p: np.array(v) for p, v in by_person.items()}, measured, "persons", "scans")


def outside(
    conditions: Conditions, references: np.ndarray, questioned: np.ndarray | None = None
) -> list[str]:
    """A sentence for the references' median (``references``: ``(n, 4)``) and
    one for the questioned scan (``(4,)``) where they lie outside ``conditions``."""
    n = len(np.asarray(references).reshape(-1, 4))
    said = conditions.outside_median(references, f"the references (median of {n})") if n else []
    if questioned is not None:
        said += conditions.outside_scan(questioned, "the questioned signature")
    return said


def protocol_flags(conditions: Conditions, protocol: dict, measured: np.ndarray, prefix: str) -> dict:
    """How often :func:`outside` warns on a protocol's verifications
    (:func:`hwutils.signatures.trials.make_trials`; ``measured`` the rows of
    its records): ``{prefix}_conditions_refs_flagged``, the share of persons
    whose references lie outside, and ``{prefix}_conditions_questioned_flagged``,
    the share of questioned scans (genuine and skilled) outside on their own."""
    measured = np.asarray(measured)
    scans = sorted({i for _, i, kind in protocol["trials"] if kind in ("genuine", "skilled")})
    return {
        f"{prefix}_conditions_refs_flagged": flagged_share(
            outside(conditions, measured[idx]) for idx in protocol["references"].values()
        ),
        f"{prefix}_conditions_questioned_flagged": flagged_share(
            conditions.outside_scan(measured[i], "q") for i in scans
        ),
    }
