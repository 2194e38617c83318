"""The writer-independent evaluation protocol of the signature verifier: its trials, their
distance scores, the threshold calibrated on them and the figures at that threshold.

Lower distance is more genuine; a threshold is calibrated on validation
persons (:func:`calibrate_threshold`), never on the persons that are measured
(:func:`evaluate`, :func:`per_user_table`).
"""

from __future__ import annotations

import numpy as np

from hwutils import metrics
from hwutils.datasets.sign_data import GENUINE, SignatureRecord
from hwutils.errors import HwError, check_choice
from hwutils.signatures.thresholds import parse_operating_point

REDUCERS = ("mean", "min")


def make_trials(
    records: list[SignatureRecord], persons, n_references: int = 5, seed: int = 0, random_per_person: int = 1
) -> dict:
    """The evaluation protocol for ``persons`` (indices into ``records``).

    For each person: ``n_references`` genuine signatures (seeded choice) are
    the references; the remaining genuine ones are questioned genuine; every
    skilled forgery is questioned skilled; ``random_per_person`` non-reference
    genuine signatures of each other person are random forgeries.
    Returns ``{"references": {person: [idx]}, "trials": [(person, idx, type)]}``;
    persons with no questioned genuine signature left are skipped.
    """
    rng = np.random.default_rng(seed)
    keep = set(persons)
    genuine, skilled = {}, {}
    for i, r in enumerate(records):
        if r.person in keep:
            (genuine if r.kind == GENUINE else skilled).setdefault(r.person, []).append(i)
    refs, questioned = {}, {}
    for p in sorted(genuine):
        g = list(rng.permutation(genuine[p]))
        if len(g) <= n_references:
            continue
        refs[p] = [int(i) for i in g[:n_references]]
        questioned[p] = [int(i) for i in g[n_references:]]
    trials = []
    for p in sorted(refs):
        trials += [(p, i, "genuine") for i in questioned[p]]
        trials += [(p, int(i), "skilled") for i in skilled.get(p, [])]
        for q in sorted(refs):
            if q != p:
                trials += [(p, int(i), "random") for i in questioned[q][:random_per_person]]
    return {"references": refs, "trials": trials}


def with_references(protocol: dict, n_references: int) -> dict:
    """The same trials against each person's first ``n_references`` references
    (a verification with fewer references; the questioned signatures are
    unchanged, the other references simply unused)."""
    if n_references < 1:
        raise HwError(f"n_references: at least 1, got {n_references}")
    return {
        "references": {p: list(r[:n_references]) for p, r in protocol["references"].items()},
        "trials": list(protocol["trials"]),
    }


def distance_fewer(
    emb, emb_test, val_protocol: dict, test_protocol: dict, counts, reducer: str = "mean"
) -> dict:
    """The distance rule's calibration (``val_protocol``) and test trials scored
    again against only the first ``k`` references of each person, for each
    ``k`` of ``counts``: ``{k: {"cal_scores", "test_scores"}}`` (as
    :func:`~hwutils.signatures.wd_fitting.fit_writer_dependent`'s ``fewer``)."""
    return {
        int(k): {
            "cal_scores": score_trials(emb, with_references(val_protocol, k), reducer),
            "test_scores": score_trials(emb_test, with_references(test_protocol, k), reducer),
        }
        for k in counts
    }


def fewer_operating_points(fewer: dict, operating_point: str, threshold: float) -> tuple[dict, dict]:
    """For each reference count of ``fewer`` (``{k: {"cal_scores", "test_scores"}}``):
    its threshold, fixed at ``operating_point`` on its calibration trials as the
    run's is, and its test figures at that threshold and at the run's
    ``threshold``. Returns ``(thresholds, {k: (at its own, at the run's)})``."""
    thresholds = {k: calibrate_threshold(f["cal_scores"], operating_point) for k, f in fewer.items()}
    evals = {
        k: (evaluate(f["test_scores"], thresholds[k]), evaluate(f["test_scores"], threshold))
        for k, f in fewer.items()
    }
    return thresholds, evals


def reference_distances(emb_q: np.ndarray, emb_refs: np.ndarray) -> np.ndarray:
    """Euclidean distances of one questioned embedding to each reference."""
    return np.sqrt(np.maximum(np.sum((emb_refs - emb_q[None]) ** 2, axis=1), 0.0))


def reduce_distances(d: np.ndarray, reducer: str = "mean") -> float:
    """``mean`` or ``min`` of the distances to the references."""
    check_choice("reducer", reducer, REDUCERS)
    return float(np.mean(d) if reducer == "mean" else np.min(d))


def score_trials(embeddings: np.ndarray, protocol: dict, reducer: str = "mean") -> dict:
    """Distance score per trial: arrays ``person``, ``index``, ``type``, ``distance``."""
    persons, idx, types, dist = [], [], [], []
    for p, i, t in protocol["trials"]:
        refs = embeddings[protocol["references"][p]]
        persons.append(p)
        idx.append(i)
        types.append(t)
        dist.append(reduce_distances(reference_distances(embeddings[i], refs), reducer))
    return {
        "person": np.array(persons),
        "index": np.array(idx, int),
        "type": np.array(types),
        "distance": np.array(dist, np.float64),
    }


def calibrate_threshold(scores: dict, operating_point: str = "eer") -> float:
    """Distance threshold chosen on the given (validation) scores.

    ``operating_point``: ``eer`` (the default), the EER of genuine vs skilled
    forgeries (vs random forgeries when there are no skilled ones);
    ``far_skilled=R`` / ``far_random=R``, the most accepting threshold whose
    FAR on that forgery type is at most R; ``frr=R``, the strictest threshold
    whose FRR is at most R (against skilled forgeries, or random ones when
    there are none). A rate set on a few validation persons is only as exact as
    their trial count allows: the test FAR/FRR is reported beside it.
    """
    kind, rate = parse_operating_point(operating_point)
    neg_type = (
        kind[4:]
        if kind.startswith("far_")
        else ("skilled" if np.any(scores["type"] == "skilled") else "random")
    )
    m = (scores["type"] == "genuine") | (scores["type"] == neg_type)
    if not np.any(scores["type"][m] == "genuine") or not np.any(scores["type"][m] == neg_type):
        raise HwError(
            f"cannot calibrate a threshold: the validation persons need genuine and {neg_type} trials"
        )
    labels, similarity = scores["type"][m] == "genuine", -scores["distance"][m]
    if kind == "eer":
        thr = metrics.eer(labels, similarity)[1]
    elif kind == "frr":
        thr = metrics.threshold_at_frr(labels, similarity, rate)
    else:
        thr = metrics.threshold_at_far(labels, similarity, rate)
    return float(-thr)


def evaluate(scores: dict, threshold: float) -> dict:
    """The sigver-style figures of a set of scored trials at a distance threshold.

    EER (global threshold) and mean per-user EER, genuine vs skilled and vs
    random; AUROC; FRR, FAR on skilled and FAR on random forgeries at
    ``threshold`` (accept when distance <= threshold).
    """
    t, d, users = scores["type"], scores["distance"], scores["person"]
    out = {}
    for neg in ("skilled", "random"):
        m = (t == "genuine") | (t == neg)
        if np.any(t == neg) and np.any(t == "genuine"):
            labels, s = t[m] == "genuine", -d[m]
            out[f"eer_{neg}"] = metrics.eer(labels, s)[0]
            out[f"eer_{neg}_per_user"] = metrics.per_user_eer(labels, s, users[m])
            out[f"auroc_{neg}"] = metrics.auroc(labels, s)
    accepted = d <= threshold
    out["frr"] = float(np.mean(~accepted[t == "genuine"])) if np.any(t == "genuine") else float("nan")
    for neg in ("skilled", "random"):
        out[f"far_{neg}"] = float(np.mean(accepted[t == neg])) if np.any(t == neg) else float("nan")
    out["threshold"] = float(threshold)
    out["n_persons"] = int(len(np.unique(users)))
    out["n_genuine"], out["n_skilled"], out["n_random"] = (
        int(np.sum(t == k)) for k in ("genuine", "skilled", "random")
    )
    return out


def per_user_table(scores: dict, threshold: float) -> list[dict]:
    """One row per person: EER vs skilled, FRR and FAR skilled at ``threshold``."""
    rows = []
    for p in np.unique(scores["person"]):
        m = scores["person"] == p
        t, d = scores["type"][m], scores["distance"][m]
        gm, sm = t == "genuine", t == "skilled"
        row = {"person": str(p), "n_genuine": int(gm.sum()), "n_skilled": int(sm.sum())}
        if gm.any() and sm.any():
            sel = gm | sm
            row["eer_skilled"] = metrics.eer(gm[sel], -d[sel])[0]
        row["frr"] = float(np.mean(d[gm] > threshold)) if gm.any() else float("nan")
        row["far_skilled"] = float(np.mean(d[sm] <= threshold)) if sm.any() else float("nan")
        rows.append(row)
    return rows
