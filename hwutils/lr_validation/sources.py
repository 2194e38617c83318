"""Where the trials come from: a finished ``writer_id`` run applied as the
casework method (:func:`hwutils.casework.run_case`), or a finished
``signatures`` run's verifier (:func:`hwutils.signatures.verify.load_verifier`).
Both give :class:`Trials`: log10 LR, truth and the writer or person each
trial's questioned material belongs to (the unit of the bootstrap).

Validation data must never have been used to train or calibrate the run:
:func:`run_sets` says which writers (persons) the run used, and
:func:`validation_listing` keeps the others, saying why each was left out."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from hwutils.errors import DataError, HwError, ParamsError


@dataclass
class Trials:
    """Trials of known truth: ``log10_lr``, ``same`` (1: H1 true), ``group``
    (the questioned writer or person), ``questioned`` (the questioned
    document or signature) and ``candidate`` (the person it is compared with)."""

    log10_lr: np.ndarray
    same: np.ndarray
    group: np.ndarray
    questioned: np.ndarray = field(default_factory=lambda: np.array([], str))
    candidate: np.ndarray = field(default_factory=lambda: np.array([], str))

    def __post_init__(self):
        self.log10_lr = np.asarray(self.log10_lr, float).reshape(-1)
        self.same = np.asarray(self.same, int).reshape(-1)
        self.group = np.asarray(self.group, str).reshape(-1)
        n = len(self.log10_lr)
        self.questioned = (
            np.asarray(self.questioned, str).reshape(-1) if len(self.questioned) else np.full(n, "")
        )
        self.candidate = (
            np.asarray(self.candidate, str).reshape(-1) if len(self.candidate) else np.full(n, "")
        )
        if not all(len(a) == n for a in (self.same, self.group, self.questioned, self.candidate)):
            raise ValueError("Trials: every field needs one entry per trial")

    def __len__(self) -> int:
        return len(self.log10_lr)

    def subset(self, mask) -> Trials:
        m = np.asarray(mask, bool)
        return Trials(self.log10_lr[m], self.same[m], self.group[m], self.questioned[m], self.candidate[m])

    @property
    def n_groups(self) -> int:
        return len(set(self.group.tolist()))

    def worst(self, k: int = 5) -> list[dict]:
        """The ``k`` most misleading trials: the largest log10 LRs under H2 and
        the smallest under H1 (most misleading first)."""
        rows = []
        for kind, sign in ((0, -1.0), (1, 1.0)):
            idx = np.flatnonzero(self.same == kind)
            for i in idx[np.argsort(sign * self.log10_lr[idx])][:k]:
                rows.append(
                    {
                        "truth": "H1 (same)" if kind else "H2 (different)",
                        "questioned": self.questioned[i],
                        "compared with": self.candidate[i],
                        "log10 LR": float(self.log10_lr[i]),
                    }
                )
        return rows


def trials_from_verdicts(verdicts) -> Trials:
    """:class:`Trials` of a scored case (:class:`hwutils.casework.Verdict` list):
    the pairs of :func:`hwutils.casework.case_trials` (every questioned document
    whose truth is known against every person, in order), each with the
    questioned document's writer as its group."""
    from hwutils.casework import case_trials

    llr, same = case_trials(verdicts)
    scored = [v for v in verdicts if v.truth is not None]
    return Trials(
        llr,
        same,
        [v.truth for v in scored for _ in v.persons],
        [v.document for v in scored for _ in v.persons],
        [p for v in scored for p in v.persons],
    )


# --- who the run used ---------------------------------------------------------------------------


def run_sets(run_dir, stage: str = "writer_id") -> dict:
    """The writers (persons) a run used: ``{"train": [...], "calibration":
    [...], "heldout": [...] or None, "source": where this was read}``.

    writer_id: :func:`hwutils.writer_id.run_writers` when the stage offers it
    (an empty held-out list is read as unknown: on the run's own data every
    writer it did not train or calibrate on is then used), else the run's
    ``artifacts/writer_id.json`` ``writers`` (its training writers; the LR
    calibration of such a run is fitted on their validation lines, so they are
    the calibration writers too). signatures: the run's ``artifacts/split.json`` (train,
    validation persons, who also calibrate the LR, and test persons)."""
    run_dir = Path(run_dir)
    if stage == "signatures":
        split = _json(run_dir / "artifacts" / "split.json")
        return {
            "train": list(map(str, split.get("train", []))),
            "calibration": list(map(str, split.get("val", []))),
            "heldout": list(map(str, split.get("test", []))),
            "source": "the run's artifacts/split.json",
        }
    import hwutils.writer_id as wid

    run_writers = getattr(wid, "run_writers", None)
    if run_writers is not None:
        sets = dict(run_writers(run_dir))
        return {
            "train": list(map(str, sets.get("train") or [])),
            "calibration": list(map(str, sets.get("calibration") or [])),
            # empty: a run that held nobody out, or one made before roles were saved (unknown)
            "heldout": list(map(str, sets["heldout"])) if sets.get("heldout") else None,
            "source": "hwutils.writer_id.run_writers",
        }
    writers = list(map(str, _json(run_dir / "artifacts" / "writer_id.json").get("writers", [])))
    return {
        "train": writers,
        "calibration": writers,
        "heldout": None,
        "source": "the run's artifacts/writer_id.json (its training writers, whose validation lines calibrate its LRs)",
    }


def _json(path: Path) -> dict:
    from hwutils.artifacts import load_json

    try:
        return load_json(path)
    except HwError as exc:
        raise ParamsError(str(exc)) from None


def same_folder(a, b) -> bool:
    """Whether two folder names are the same folder (both given and existing)."""
    try:
        return bool(a) and bool(b) and Path(a).resolve() == Path(b).resolve()
    except OSError:
        return False


def run_data_dir(run_dir) -> str:
    """The ``data_dir`` the run was trained on (its ``params.yaml``; "" for embedded data)."""
    import yaml

    try:
        params = yaml.safe_load((Path(run_dir) / "params.yaml").read_text()) or {}
    except (OSError, yaml.YAMLError):
        return ""
    return str(params.get("data_dir") or "")


def validation_listing(listing, sets: dict, own_data: bool, parameter: str = "data_dir") -> tuple[list, dict]:
    """Keep the ``(item, writer)`` entries whose writer the run never trained
    or calibrated on; on the run's own data (``own_data``) only its held-out
    writers when it names them. Returns ``(kept, excluded)`` where ``excluded``
    maps each left-out writer to the reason. :class:`ParamsError` naming
    ``parameter`` when nobody is left."""
    train, cal = set(sets["train"]), set(sets["calibration"])
    heldout = None if sets.get("heldout") is None else set(sets["heldout"])
    kept, excluded = [], {}
    for item, writer in listing:
        w = str(writer)
        if w in train:
            excluded[w] = "trained on by the run"
        elif w in cal:
            excluded[w] = "used to calibrate the run's LRs"
        elif own_data and heldout is not None and w not in heldout:
            excluded[w] = "in the run's own data and not held out by it"
        else:
            kept.append((item, writer))
    if not kept:
        raise ParamsError(
            f"{parameter}: no validation writer left: all {len(excluded)} writers were used to train or "
            "calibrate the run (validate on writers it never saw, or train it with some held out)"
        )
    return kept, excluded


def exclusion_sentence(excluded: dict, kept: int, what: str = "writers", source: str = "") -> str:
    """The report's sentence on which writers were left out and why."""
    if not excluded:
        return f"All {kept} {what} of the validation data are new to the run (none trained or calibrated on)."
    by_reason: dict = {}
    for w, why in sorted(excluded.items()):
        by_reason.setdefault(why, []).append(w)
    parts = [
        f"{len(ws)} {why} ({', '.join(ws[:12])}{', ...' if len(ws) > 12 else ''})"
        for why, ws in by_reason.items()
    ]
    return (
        f"Validated on {kept} {what} never used to train or calibrate the run; left out: "
        + "; ".join(parts)
        + (f" (from {source})." if source else ".")
    )


# --- signatures ---------------------------------------------------------------------------------


def signature_protocol(records, persons, n_references: list[int], seed: int = 0) -> dict:
    """For each person: a seeded order of their genuine signatures, the first
    ``max(n_references)`` of which are the reference pool (a condition with
    ``n`` references uses the first ``n``), the rest questioned genuine (H1);
    every skilled forgery of the person is questioned (H2). The questioned
    signatures are the same in every condition. Persons with no genuine
    signature beyond the pool are skipped. ``{person: {"references": [...],
    "genuine": [...], "skilled": [...]}}``."""
    from hwutils.datasets.sign_data import GENUINE

    pool = max(n_references)
    rng = np.random.default_rng(seed)
    out = {}
    for p in sorted(set(map(str, persons))):
        genuine = [r.path for r in records if r.person == p and r.kind == GENUINE]
        skilled = [r.path for r in records if r.person == p and r.kind != GENUINE]
        order = [genuine[i] for i in rng.permutation(len(genuine))]
        if len(order) <= pool:
            continue
        out[p] = {"references": order[:pool], "genuine": order[pool:], "skilled": skilled}
    if not out:
        raise DataError(f"no person has more than {pool} genuine signatures (max of n_references)")
    return out


def signature_trials(verifier, protocol: dict, n_references: int) -> Trials:
    """:class:`Trials` of a signatures run's verifier: each person's questioned
    genuine (H1) and skilled forgeries (H2) against their first
    ``n_references`` references, as ``log10_lr`` of "genuine signature of the
    reference person" against "skilled forgery": by the run's calibration of
    that many references where it has one (what ``hw verify`` states), else by
    its own calibration (where ``hw verify`` states none: measuring what that
    would say is what validation is for)."""
    if verifier.calibrator is None:
        raise HwError("the signatures run has no LR calibration (log10_lr is None)")
    llr, same, group, doc, cand = [], [], [], [], []
    for p, items in protocol.items():
        person = verifier.enrol(list(items["references"][:n_references]))
        for kind, paths in ((1, items["genuine"]), (0, items["skilled"])):
            for path in paths:
                score = person.verify(path)["score"]
                value = verifier.log10_lr(score, n_references)
                if value is None:  # withheld by hw verify: what the run's own calibration would say
                    value = verifier.log10_lr(score)
                llr.append(float(value))
                same.append(kind)
                group.append(p)
                doc.append(Path(path).name)
                cand.append(p)
    return Trials(
        np.array(llr), np.array(same, int), np.array(group, str), np.array(doc, str), np.array(cand, str)
    )
