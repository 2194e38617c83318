"""Fitting the writer-dependent decision on a run's protocols, and comparing the
normalisations of its scores (for the notebook's measurement, not the verifier's use).

The decision itself (the per-person SVMs, their fusion and the reference
normalisation) is :mod:`hwutils.signatures.writer_dependent`; the verifier
that applies it to new signatures is :mod:`hwutils.signatures.verify`.
"""

from __future__ import annotations

import numpy as np

from hwutils.errors import ParamsError, check_choice, check_unit_interval
from hwutils.signatures import siamese, writer_dependent
from hwutils.signatures.trials import calibrate_threshold, evaluate, make_trials, with_references


def wd_feature_sets(models: dict, images, features: str, scan: dict | None = None) -> dict:
    """The writer-dependent feature sets named in ``features`` of preprocessed
    ``images``. ``models``: set name -> feature model for the learned sets
    (``cnn``: :func:`siamese.pooled_model` of the tower; ``signet``: the
    :mod:`writer_net` features); ``scan``: :func:`preprocess.scan_features_many`
    of the original images, for ``geom``, ``pressure`` and ``glcm``."""
    names = writer_dependent.parse_features(features)
    learned = {}
    for k in names:
        if k in writer_dependent.LEARNED_SETS:
            if models.get(k) is None:
                raise ParamsError(f"features: {k!r} needs its trained CNN (none was given)")
            learned[k] = siamese.embed(models[k], images)
    return writer_dependent.feature_sets(features, images, learned, scan)


def feature_models(tower, features: str, signet=None) -> dict:
    """The feature models of the learned sets named in ``features``: ``cnn`` (the
    tower's pooled features, built here) and ``signet`` (given)."""
    names = writer_dependent.parse_features(features)
    models = {}
    if "cnn" in names:
        models["cnn"] = siamese.pooled_model(tower)
    if "signet" in names:
        if signet is None:
            raise ParamsError("features: 'signet' needs the trained writer network (signet)")
        models["signet"] = signet
    return models


def person_folds(persons, folds: int, seed: int = 0) -> list[list]:
    """``persons`` cut into ``folds`` folds (seeded order; every fold non-empty:
    at most one fold per person)."""
    order = [str(p) for p in np.random.default_rng(seed).permutation(sorted(persons))]
    k = max(1, min(int(folds), len(order)))
    return [order[i::k] for i in range(k)]


def merge_raw(raws: list[dict]) -> dict:
    """Raw trials (:func:`writer_dependent.raw_trials`) of disjoint persons concatenated."""
    out = {k: np.concatenate([r[k] for r in raws]) for k in raws[0] if k != "loo"}
    out["loo"] = {n: {p: v for r in raws for p, v in r["loo"][n].items()} for n in raws[0]["loo"]}
    return out


def cross_fitted_trials(
    sets: dict,
    records,
    persons,
    n_references: int = 5,
    folds: int = 5,
    seed: int = 0,
    C: float = 1.0,
    extra: dict | None = None,
) -> tuple[dict, list[list]]:
    """Out-of-fold raw WD trials of every development person (person-fold
    cross-fitting): ``persons`` are cut into ``folds`` folds
    (:func:`person_folds`); each fold's persons are verified with the protocol of
    :func:`make_trials` (their own random forgeries come from the same fold), and
    the SVM negatives are the genuine signatures of the *other* folds' persons, so
    no person's signatures are ever negatives of their own SVMs (as for a person
    the verifier never saw). ``sets`` / ``extra``: features of ``records`` (as
    :func:`writer_dependent.raw_trials`). Returns ``(raw, folds)``. What is fitted
    on these trials (the threshold, the fusion scales, the LR calibration) then
    rests on all development persons instead of the few validation persons."""
    from hwutils.datasets.sign_data import GENUINE

    cut = person_folds(persons, folds, seed)
    everyone = {str(p) for p in persons}
    raws = []
    for fold in cut:
        inside = set(fold)
        neg = [i for i, r in enumerate(records) if r.kind == GENUINE and r.person in everyone - inside]
        protocol = make_trials(records, fold, n_references, seed)
        if not protocol["trials"]:
            continue
        raws.append(
            writer_dependent.raw_trials(sets, protocol, {k: v[neg] for k, v in sets.items()}, C, extra)
        )
    if not raws:
        raise ParamsError("wd_folds: no development person has trials to cross-fit")
    return merge_raw(raws), cut


def fit_writer_dependent(
    tower,
    images,
    scan,
    negative_idx,
    val_protocol,
    test_images,
    test_scan,
    test_protocol,
    features: str,
    C: float = 1.0,
    shift: int = 0,
    norm: float = 0.0,
    signet=None,
    spread: float = 0.0,
    shifted=None,
    dev_records=None,
    dev_persons=None,
    folds: int = 0,
    seed: int = 0,
    weights: str = "equal",
    fewer_references=(),
) -> dict:
    """The writer-dependent decision fitted and scored on both protocols.

    ``images``/``scan``: the development records (``val_protocol`` indexes
    them; ``negative_idx`` are the training persons' genuine signatures, the
    SVM negatives); ``test_*``: the test records and their protocol; ``norm``
    and ``spread``: how each person's fused score is made relative to their own
    references (:func:`writer_dependent.relative_score`; the spread prior is
    taken on the validation persons); ``signet``: the writer network's feature
    model, for the ``signet`` set; ``shifted``: ``(images, scan)`` of the test
    records re-rendered as another collection (:mod:`collection`), scored with
    the test protocol. The fusion scales come from the validation trials, or,
    with ``folds`` > 1 (and ``dev_records``, the records ``images`` holds, and
    ``dev_persons``, the training and validation persons), from the out-of-fold
    trials of every development person (:func:`cross_fitted_trials`, seeded by
    ``seed``): ``dev_scores`` / ``raw_dev``, the trials to fix the operating
    point and the LR calibration on (``cal_scores`` / ``raw_cal``: these, or the
    validation trials without folds). ``weights``: ``equal`` (each set divided
    by its spread) or ``learned`` (:func:`writer_dependent.fit_weights` on the
    calibration trials, folded into the scales; ``weights`` is returned, and
    ``other_weights``: ``(name, scales, learned weights)`` of the weighting not
    used, which :func:`compare_normalisations` scores too). Returns ``val_scores``, ``test_scores`` and ``shifted_scores`` (None without
    ``shifted``; distance-shaped, see :func:`writer_dependent.as_distance_scores`),
    the raw trials (``raw_val``, ``raw_test``, ``raw_shifted``: per set, with the
    references' leave-one-out scores, for :func:`compare_normalisations`),
    ``negatives``, ``scales``, ``prior`` and ``ablation``: per set, its skilled EER
    alone and the fusion's without it, on validation and test (for the report only).
    ``fewer_references``: reference counts below the protocols' for which the
    calibration and test trials are scored again against only that many of each
    person's references (cross-fitted like the calibration trials; the same
    scales): ``fewer`` maps each count to its ``cal_scores`` and ``test_scores``,
    for the threshold and the LR calibration of verifications with fewer references."""
    names = writer_dependent.parse_features(features)
    norm = check_unit_interval("wd_norm", norm)
    spread = check_unit_interval("wd_spread", spread)
    check_choice("wd_weights", weights, writer_dependent.WEIGHTS)
    models = feature_models(tower, features, signet)
    sets = wd_feature_sets(models, images, features, scan)
    negatives = {k: v[negative_idx] for k, v in sets.items()}

    def raw(feature_sets, imgs, protocol):
        copies = writer_dependent.shifted_copies(names, imgs, shift)
        return writer_dependent.raw_trials(feature_sets, protocol, negatives, C, copies)

    raw_val = raw(sets, images, val_protocol)
    test_sets = wd_feature_sets(models, test_images, features, test_scan)
    raw_test = raw(test_sets, test_images, test_protocol)
    raw_shifted = None
    if shifted is not None:
        raw_shifted = raw(
            wd_feature_sets(models, shifted[0], features, shifted[1]), shifted[0], test_protocol
        )
    raw_dev, dev_folds = None, []
    if folds and folds > 1:
        if dev_records is None or dev_persons is None:
            raise ParamsError("wd_folds: cross-fitting needs the development records and persons")
        raw_dev, dev_folds = cross_fitted_trials(
            sets,
            dev_records,
            dev_persons,
            len(next(iter(val_protocol["references"].values()), [])) or 5,
            folds,
            seed,
            C,
            writer_dependent.shifted_copies(names, images, shift),
        )
    raw_cal = raw_val if raw_dev is None else raw_dev
    equal_scales = writer_dependent.fit_scales(raw_cal, sets)
    learned = writer_dependent.fit_weights(raw_cal, equal_scales, norm)
    set_weights = learned if weights == "learned" else {k: 1.0 for k in sets}
    scales = writer_dependent.weighted_scales(equal_scales, set_weights)
    # the other weighting, scored in the same run by compare_normalisations
    other = "equal" if weights == "learned" else "learned"
    other_scales = (
        equal_scales if weights == "learned" else writer_dependent.weighted_scales(equal_scales, learned)
    )

    def scored(r, sc):
        prior = writer_dependent.spread_prior(raw_cal, sc)
        return writer_dependent.as_distance_scores(r, sc, norm, spread, prior)

    def eer(r, sc):
        return evaluate(scored(r, sc), 0.0)["eer_skilled"]

    fewer = {}
    for k in sorted({int(n) for n in fewer_references}):
        if raw_dev is not None:
            raw_k, _ = cross_fitted_trials(
                sets,
                dev_records,
                dev_persons,
                k,
                folds,
                seed,
                C,
                writer_dependent.shifted_copies(names, images, shift),
            )
        else:
            raw_k = raw(sets, images, with_references(val_protocol, k))
        raw_test_k = raw(test_sets, test_images, with_references(test_protocol, k))
        fewer[k] = {"cal_scores": scored(raw_k, scales), "test_scores": scored(raw_test_k, scales)}

    ablation = []
    for k in sets:
        rest = {j: scales[j] for j in scales if j != k}
        ablation.append(
            {
                "set": k,
                "alone_val": eer(raw_cal, {k: scales[k]}),
                "alone_test": eer(raw_test, {k: scales[k]}),
                "without_val": eer(raw_cal, rest) if rest else float("nan"),
                "without_test": eer(raw_test, rest) if rest else float("nan"),
            }
        )
    return {
        "val_scores": scored(raw_val, scales),
        "test_scores": scored(raw_test, scales),
        "shifted_scores": None if raw_shifted is None else scored(raw_shifted, scales),
        "dev_scores": None if raw_dev is None else scored(raw_dev, scales),
        "cal_scores": scored(raw_cal, scales),
        "raw_val": raw_val,
        "raw_dev": raw_dev,
        "raw_cal": raw_cal,
        "dev_folds": dev_folds,
        "raw_test": raw_test,
        "raw_shifted": raw_shifted,
        "negatives": negatives,
        "scales": scales,
        "weights": set_weights,
        "other_weights": (other, other_scales, learned),
        "prior": writer_dependent.spread_prior(raw_cal, scales),
        "ablation": ablation,
        "fewer": fewer,
    }


NORMALISATIONS = {
    "raw": (0.0, 0.0),
    "half the reference level (before)": (0.5, 0.0),
    "the reference level": (1.0, 0.0),
    "z-norm, spread shrunk halfway": (1.0, 0.5),
    "z-norm, the person's own spread": (1.0, 1.0),
}


def compare_normalisations(
    fitted: dict, operating_point: str = "eer", chosen: tuple | None = None, variants: dict | None = None
) -> list[dict]:
    """The same run's raw trials scored under each normalisation of ``variants``
    (name -> ``(norm, spread)``; default :data:`NORMALISATIONS`), each with its
    own threshold fixed on the calibration trials (``raw_cal``, else the
    validation persons') at ``operating_point``: per variant the calibration
    EER, the test persons' global and per-person skilled EER, FRR and FAR
    skilled at that threshold and, when the run scored a shifted collection,
    its EER and FAR skilled at the same threshold. ``chosen``: the run's
    ``(norm, spread)``, flagged ``used``. With ``other_weights`` (see
    :func:`fit_writer_dependent`) one more row scores the chosen normalisation
    with the other weighting of the sets (learned or equal)."""
    prior = fitted["prior"]
    cal = fitted.get("raw_cal") or fitted["raw_val"]
    runs = [
        (name, norm, spread, fitted["scales"], prior)
        for name, (norm, spread) in (variants or NORMALISATIONS).items()
    ]
    if chosen is not None and fitted.get("other_weights"):
        name, other, _w = fitted["other_weights"]
        norm, spread = map(float, chosen)
        prior_other = writer_dependent.spread_prior(cal, other)
        runs.append((f"the same, {name} set weights", norm, spread, other, prior_other))
    rows = []
    for name, norm, spread, scales, pr in runs:

        def scored(raw, norm=norm, spread=spread, scales=scales, pr=pr):
            return writer_dependent.as_distance_scores(raw, scales, norm, spread, pr)

        val = scored(cal)
        thr = calibrate_threshold(val, operating_point)
        test = evaluate(scored(fitted["raw_test"]), thr)
        row = {
            "normalisation": name,
            "norm": norm,
            "spread": spread,
            "used": chosen is not None
            and scales is fitted["scales"]
            and tuple(map(float, chosen)) == (norm, spread),
            "val_eer_skilled": evaluate(val, thr).get("eer_skilled", float("nan")),
            **{
                k: test.get(k, float("nan"))
                for k in ("eer_skilled", "eer_skilled_per_user", "frr", "far_skilled")
            },
        }
        if fitted.get("raw_shifted") is not None:
            shifted = evaluate(scored(fitted["raw_shifted"]), thr)
            row["shifted_eer_skilled"] = shifted.get("eer_skilled", float("nan"))
            row["shifted_far_skilled"] = shifted.get("far_skilled", float("nan"))
            row["shifted_frr"] = shifted.get("frr", float("nan"))
        rows.append(row)
    return rows
