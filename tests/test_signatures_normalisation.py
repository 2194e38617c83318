"""Scores relative to the claimed person's own references (issue 27): the
normalisation uses the references only, puts persons on one scale, follows a
collection's shift, and the operating point's figures on known-truth cases;
the other collection built from our own images."""

from __future__ import annotations

import numpy as np
import pytest

from hwutils.signatures import collection, summary, verify
from hwutils.signatures import writer_dependent as wd


def test_relative_score_known_values():
    loo = [1.0, 2.0, 3.0]  # mean 2, variance (ddof 1) 1
    assert wd.relative_score(5.0, loo) == pytest.approx(5.0)  # nothing asked, nothing done
    assert wd.relative_score(5.0, loo, norm=1.0) == pytest.approx(3.0)
    assert wd.relative_score(5.0, loo, norm=0.5) == pytest.approx(4.0)
    # z-norm: (5 - 2) / own spread 1, in the prior's units (x 2)
    assert wd.relative_score(5.0, loo, 1.0, spread=1.0, prior=2.0) == pytest.approx(6.0)
    # shrunk halfway: spread sqrt(0.5 * 1 + 0.5 * 4)
    assert wd.relative_score(5.0, loo, 1.0, 0.5, 2.0) == pytest.approx(3.0 / np.sqrt(2.5) * 2.0)
    # spread 0 with any prior is the level alone; one reference: nothing to normalise by
    assert wd.relative_score(5.0, loo, 1.0, 0.0, 7.0) == pytest.approx(3.0)
    assert wd.relative_score(np.array([5.0, 1.0]), [4.0], 1.0, 1.0) == pytest.approx([5.0, 1.0])


def _protocol_and_sets(seed=0, n_persons=4, n_gen=9, n_skilled=4, dim=6):
    """Feature sets of a few persons (genuine near the person's centre, skilled farther)
    and the evaluation protocol over them (5 references each)."""
    from hwutils.datasets.sign_data import SignatureRecord

    rng = np.random.default_rng(seed)
    recs, rows = [], []
    for p in range(n_persons):
        centre = rng.normal(0, 3, dim)
        for k in range(n_gen + n_skilled):
            kind = "genuine" if k < n_gen else "skilled"
            recs.append(SignatureRecord(path=f"{p}_{k}.png", person=f"{p:03d}", kind=kind, forger=None))
            rows.append(centre + rng.normal(0, 1.0 if kind == "genuine" else 2.0, dim))
    x = np.array(rows, np.float32)
    sets = {"a": x, "b": x[:, ::-1] ** 2}
    protocol = verify.make_trials(recs, [f"{p:03d}" for p in range(n_persons)], 5, seed)
    negatives = {k: rng.normal(0, 3, (40, v.shape[1])).astype(np.float32) for k, v in sets.items()}
    return recs, sets, protocol, negatives


def test_normalisation_uses_only_the_claimed_persons_references():
    recs, sets, protocol, negatives = _protocol_and_sets()
    raw = wd.raw_trials(sets, protocol, negatives)
    scales = wd.fit_scales(raw, sets)
    before = wd.as_distance_scores(raw, scales, norm=1.0, spread=0.5, prior=1.3)
    # other persons' data changed beyond recognition: person 000's own trials score the same
    others = np.array([r.person != "000" for r in recs])
    rng = np.random.default_rng(9)
    moved = {
        k: np.where(others[:, None], v * 3 + rng.normal(0, 5, v.shape), v).astype(v.dtype)
        for k, v in sets.items()
    }
    after = wd.as_distance_scores(wd.raw_trials(moved, protocol, negatives), scales, 1.0, 0.5, 1.3)
    mine = (before["person"] == "000") & (before["type"] != "random")  # random forgeries ARE other persons
    np.testing.assert_allclose(after["distance"][mine], before["distance"][mine], atol=1e-9)
    assert not np.allclose(after["distance"][~mine], before["distance"][~mine])
    # and person 000's other questioned signatures play no part in one questioned signature's score
    refs = set(protocol["references"]["000"])
    questioned = [i for p, i, _t in protocol["trials"] if p == "000"]
    one = questioned[0]
    changed = {k: v.copy() for k, v in sets.items()}
    for k in changed:
        changed[k][[i for i in questioned[1:] if i not in refs]] += 10.0
    again = wd.as_distance_scores(wd.raw_trials(changed, protocol, negatives), scales, 1.0, 0.5, 1.3)
    first = np.flatnonzero((before["person"] == "000") & (before["index"] == one))[0]
    assert again["distance"][first] == pytest.approx(before["distance"][first], abs=1e-9)
    # the references' leave-one-out scores are what the level and spread are taken from
    loo = wd.fused_references(raw, scales)["000"]
    assert loo.shape == (5,)
    m = before["person"] == "000"
    fused = wd.fuse(raw, scales)[m]
    np.testing.assert_allclose(-before["distance"][m], wd.relative_score(fused, loo, 1.0, 0.5, 1.3))


def _person_offsets(n_persons=30, seed=0, shift=0.0, skilled_gap=2.0):
    """Raw single-set trials where each person's scores (questioned and the
    references' leave-one-out ones alike) sit at the person's own offset, plus
    ``shift`` (a collection that scores everything higher)."""
    rng = np.random.default_rng(seed)
    person, kind, score, loo = [], [], [], {}
    for p in range(n_persons):
        offset = rng.normal(0, 3) + shift
        loo[f"p{p}"] = offset + rng.normal(0, 0.3, 5)
        for t, mu in (("genuine", 0.0), ("skilled", -skilled_gap)):
            person += [f"p{p}"] * 10
            kind += [t] * 10
            score += list(offset + mu + rng.normal(0, 0.5, 10))
    return {
        "person": np.array(person),
        "index": np.arange(len(person)),
        "type": np.array(kind),
        "s": np.array(score),
        "loo": {"s": loo},
    }


def test_the_reference_level_puts_persons_on_one_scale_and_follows_a_collection_shift():
    val, test = _person_offsets(seed=0), _person_offsets(seed=1)
    scales = {"s": 1.0}
    raw_eval = verify.evaluate(wd.as_distance_scores(test, scales), 0.0)
    normed = wd.as_distance_scores(test, scales, norm=1.0)
    norm_eval = verify.evaluate(normed, 0.0)
    assert raw_eval["eer_skilled"] > 0.2 and norm_eval["eer_skilled"] < 0.05  # one global threshold now fits
    assert norm_eval["eer_skilled_per_user"] == pytest.approx(raw_eval["eer_skilled_per_user"])  # same order
    # a collection that scores everyone 4 higher: the raw threshold lets its forgeries through,
    # the normalised one does not move
    shifted = _person_offsets(seed=1, shift=4.0)
    fitted = {
        "raw_val": val,
        "raw_test": test,
        "raw_shifted": shifted,
        "scales": scales,
        "prior": wd.spread_prior(val, scales),
    }
    rows = {r["normalisation"]: r for r in verify.compare_normalisations(fitted, "eer", (1.0, 0.0))}
    assert set(rows) == set(verify.NORMALISATIONS)
    raw_row, level = rows["raw"], rows["the reference level"]
    assert level["used"] and not raw_row["used"]
    assert (
        raw_row["shifted_far_skilled"] > 0.5 and raw_row["shifted_far_skilled"] > raw_row["far_skilled"] + 0.3
    )
    assert level["shifted_far_skilled"] == pytest.approx(level["far_skilled"], abs=0.05)
    assert level["shifted_eer_skilled"] < 0.05 and level["eer_skilled"] < 0.05
    assert "**(used)**" in summary.normalisation_table(list(rows.values()))


def test_operating_point_at_known_truth():
    """A threshold fixed on validation trials, its FRR and FAR on test trials and on another
    collection, counted by hand."""

    def trials(genuine, skilled):
        d = np.r_[genuine, skilled]
        t = np.array(["genuine"] * len(genuine) + ["skilled"] * len(skilled))
        return {"type": t, "distance": d, "person": np.array(["p"] * len(t))}

    val = trials([0.1, 0.2, 0.3, 0.4], [0.6, 0.7, 0.8, 0.9])  # separable: the EER threshold in [0.4, 0.6)
    thr = verify.calibrate_threshold(val)
    assert 0.4 <= thr < 0.6
    test = verify.evaluate(trials([0.2, 0.3, 0.7], [0.35, 0.8, 0.9, 0.95]), thr)
    assert test["frr"] == pytest.approx(1 / 3) and test["far_skilled"] == pytest.approx(1 / 4)
    # most accepting threshold letting at most a quarter of the validation forgeries through: 0.6
    assert verify.calibrate_threshold(val, "far_skilled=0.25") == pytest.approx(0.6)
    # a collection where everything scores lower: most forgeries pass, most genuine are refused
    other = verify.evaluate(trials([0.2, 0.65, 0.9, 0.95], [0.3, 0.35, 0.38, 0.7]), thr)
    assert other["far_skilled"] == pytest.approx(0.75) and other["frr"] == pytest.approx(0.75)
    ratios = summary.operating_point_ratios(test, other)
    assert ratios["test_far_skilled_over_eer"] == pytest.approx(test["far_skilled"] / test["eer_skilled"])
    assert ratios["shifted_frr_over_eer"] == pytest.approx(other["frr"] / other["eer_skilled"])


def test_the_other_collection_is_resampled_broader_and_toned():
    gray = np.full((60, 120), 250, np.uint8)
    gray[28:31, 10:110] = 20  # a 3-pixel stroke
    out = collection.recollect(gray)
    assert out.dtype == np.uint8 and out.shape == (42, 84)  # x 0.7
    assert np.array_equal(out, collection.recollect(gray))  # fixed, no randomness
    assert out.max() <= collection.OTHER.paper and out.min() >= collection.OTHER.ink  # other tones
    ink_rows = np.flatnonzero((out < 150).any(axis=1))
    assert len(ink_rows) >= 3 + 1  # 3 px x 0.7, widened by one pixel on each side
    bilevel = collection.recollect(gray, collection.Collection(binarize=True, stroke=0, scale=1.0))
    assert set(np.unique(bilevel)) == {70, 225}
    thinner = collection.recollect(gray, collection.Collection(stroke=-1, scale=1.0))
    assert (thinner < 150).sum() < (gray < 150).sum()
    assert "resampled x0.7" in collection.OTHER.describe() and collection.OTHER.to_dict()["scale"] == 0.7
