"""Fitting the writer-dependent decision on a run's protocols, and comparing the
normalisations of its scores (for the notebook's measurement, not the verifier's use).

The decision itself (the per-person SVMs, their fusion and the reference
normalisation) is :mod:`hwutils.signatures.writer_dependent`; the verifier
that applies it to new signatures is :mod:`hwutils.signatures.verify`.
"""

from __future__ import annotations

from hwutils.errors import ParamsError, check_unit_interval
from hwutils.signatures import siamese, writer_dependent
from hwutils.signatures.trials import calibrate_threshold, evaluate


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
    the test protocol. The fusion scales come from the validation trials.
    Returns ``val_scores``, ``test_scores`` and ``shifted_scores`` (None without
    ``shifted``; distance-shaped, see :func:`writer_dependent.as_distance_scores`),
    the raw trials (``raw_val``, ``raw_test``, ``raw_shifted``: per set, with the
    references' leave-one-out scores, for :func:`compare_normalisations`),
    ``negatives``, ``scales``, ``prior`` and ``ablation``: per set, its skilled EER
    alone and the fusion's without it, on validation and test (for the report only)."""
    names = writer_dependent.parse_features(features)
    norm = check_unit_interval("wd_norm", norm)
    spread = check_unit_interval("wd_spread", spread)
    models = feature_models(tower, features, signet)
    sets = wd_feature_sets(models, images, features, scan)
    negatives = {k: v[negative_idx] for k, v in sets.items()}

    def raw(feature_sets, imgs, protocol):
        copies = writer_dependent.shifted_copies(names, imgs, shift)
        return writer_dependent.raw_trials(feature_sets, protocol, negatives, C, copies)

    raw_val = raw(sets, images, val_protocol)
    raw_test = raw(wd_feature_sets(models, test_images, features, test_scan), test_images, test_protocol)
    raw_shifted = None
    if shifted is not None:
        raw_shifted = raw(
            wd_feature_sets(models, shifted[0], features, shifted[1]), shifted[0], test_protocol
        )
    scales = writer_dependent.fit_scales(raw_val, sets)

    def scored(r, sc):
        prior = writer_dependent.spread_prior(raw_val, sc)
        return writer_dependent.as_distance_scores(r, sc, norm, spread, prior)

    def eer(r, sc):
        return evaluate(scored(r, sc), 0.0)["eer_skilled"]

    ablation = []
    for k in sets:
        rest = {j: scales[j] for j in scales if j != k}
        ablation.append(
            {
                "set": k,
                "alone_val": eer(raw_val, {k: scales[k]}),
                "alone_test": eer(raw_test, {k: scales[k]}),
                "without_val": eer(raw_val, rest) if rest else float("nan"),
                "without_test": eer(raw_test, rest) if rest else float("nan"),
            }
        )
    return {
        "val_scores": scored(raw_val, scales),
        "test_scores": scored(raw_test, scales),
        "shifted_scores": None if raw_shifted is None else scored(raw_shifted, scales),
        "raw_val": raw_val,
        "raw_test": raw_test,
        "raw_shifted": raw_shifted,
        "negatives": negatives,
        "scales": scales,
        "prior": writer_dependent.spread_prior(raw_val, scales),
        "ablation": ablation,
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
    own threshold fixed on the validation persons at ``operating_point``: per
    variant the validation EER, the test persons' global and per-person skilled
    EER, FRR and FAR skilled at that threshold and, when the run scored a
    shifted collection, its EER and FAR skilled at the same threshold.
    ``chosen``: the run's ``(norm, spread)``, flagged ``used``."""
    rows = []
    scales = fitted["scales"]
    prior = fitted["prior"]
    for name, (norm, spread) in (variants or NORMALISATIONS).items():

        def scored(raw, norm=norm, spread=spread):
            return writer_dependent.as_distance_scores(raw, scales, norm, spread, prior)

        val = scored(fitted["raw_val"])
        thr = calibrate_threshold(val, operating_point)
        test = evaluate(scored(fitted["raw_test"]), thr)
        row = {
            "normalisation": name,
            "norm": norm,
            "spread": spread,
            "used": chosen is not None and tuple(map(float, chosen)) == (norm, spread),
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
