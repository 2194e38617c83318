"""Verification of a questioned signature against K genuine references, the
writer-independent evaluation protocol, and the public API.

Score (``decision = "distance"``): the distance between the questioned
embedding and each reference embedding, reduced by ``mean`` or ``min`` over
the K references. Score (``decision = "wd"``): minus the fused decision value
of writer-dependent SVMs (see :mod:`hwutils.signatures.writer_dependent`).
Lower is more genuine; the decision is *genuine* when the score is at most
the threshold. The threshold is calibrated on validation persons (the distance
at the equal error rate of genuine vs skilled forgeries there), never on the
persons that are measured. When the run saved a likelihood-ratio calibration
(``artifacts/lr_calibration.json``, fitted on the validation persons' genuine
and skilled-forgery trials: :mod:`hwutils.signatures.lr`), each result also
carries ``log10_lr``, the log10 likelihood ratio of "genuine signature of the
reference person" against "skilled forgery" (None for runs without one).

Public API::

    from hwutils.signatures.verify import load_verifier
    v = load_verifier("outputs/signatures/<RUN_ID>")
    result = v.verify(["ref1.png", "ref2.png", ...], "questioned.png")
    result["decision"], result["score"], result["threshold"], result["details"]
    result["log10_lr"]                                 # None when the run has no LR calibration
    person = v.enrol(["ref1.png", "ref2.png", ...])   # fit once, then check many
    results = [person.verify(q) for q in questioned_paths]
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from hwutils import artifacts, metrics
from hwutils.datasets.sign_data import GENUINE, SignatureRecord
from hwutils.errors import HwError, ParamsError, check_choice, check_unit_interval
from hwutils.signatures import lr, siamese, writer_dependent
from hwutils.signatures.preprocess import preprocess, preprocess_with_scan, stack_scans
from hwutils.signatures.thresholds import OPERATING_POINTS, parse_operating_point  # noqa: F401 - part of this API

REDUCERS = ("mean", "min")
DECISIONS = ("distance", "wd")
VERIFIER_DIR = "verifier"


# ------------------------------------------------------------------ protocol
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


# ------------------------------------------------------------ writer-dependent
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


# ------------------------------------------------------------------ public API
class Verifier:
    """A trained tower, the preprocessing size, the decision rule and the calibrated threshold.

    ``decision = "distance"``: score = mean (or min) embedding distance to the
    references. ``decision = "wd"``: writer-dependent SVMs (one per feature set
    of ``features``) of the references against ``negatives`` (other persons'
    genuine signatures, a dict name -> ``(m, d)`` array), fused with ``scales``;
    the score is minus the fused value; ``shift`` > 0 adds the references shifted
    by that many pixels as positives of the image sets; ``norm`` subtracts that share
    of the person's fused reference level and ``spread`` divides by the person's
    reference spread shrunk towards ``spread_prior`` (:func:`writer_dependent.relative_score`:
    the score relative to what the references show among themselves);
    ``signet`` is the writer network's feature model, needed by the ``signet`` set.
    Either way lower = more genuine. ``calibrator``: the score -> log10 LR map
    (:class:`hwutils.calibration.LRCalibrator` fitted on minus the score, see
    :mod:`hwutils.signatures.lr`); None: results have ``log10_lr`` None.
    """

    def __init__(
        self,
        tower,
        threshold: float,
        height: int,
        width: int,
        reducer: str = "mean",
        ink: str = "normalize",
        decision: str = "distance",
        features: str = "cnn+hog",
        negatives: dict | None = None,
        scales: dict | None = None,
        C: float = 1.0,
        shift: int = 0,
        norm: float = 0.0,
        signet=None,
        calibrator=None,
        spread: float = 0.0,
        spread_prior: float = 1.0,
    ):
        check_choice("reducer", reducer, REDUCERS)
        check_choice("decision", decision, DECISIONS)
        if decision == "wd" and (not negatives or not scales):
            raise ParamsError("decision: 'wd' needs the negatives and the fusion scales")
        self.tower, self.threshold, self.height, self.width, self.reducer = (
            tower,
            float(threshold),
            height,
            width,
            reducer,
        )
        self.ink, self.decision, self.features, self.C = ink, decision, features, float(C)
        self.negatives, self.scales, self.shift = negatives or {}, scales or {}, int(shift)
        self.norm = check_unit_interval("wd_norm", norm)
        self.spread = check_unit_interval("wd_spread", spread)
        self.spread_prior = float(spread_prior)
        if not (np.isfinite(self.spread_prior) and self.spread_prior > 0):
            raise ParamsError(f"spread_prior: a positive number, got {spread_prior!r}")
        self.calibrator = calibrator
        # the feature models are built once here, not at every verify(); with the cnn set the
        # tower gives its embedding and its pooled features in one pass
        self._models = feature_models(tower, features, signet) if decision == "wd" else {}
        self.signet = self._models.get("signet")  # kept (and saved) only when a feature set uses it
        self._with_pooled = siamese.embedding_and_pooled_model(tower) if "cnn" in self._models else None

    def embed(self, images) -> np.ndarray:
        """Embeddings of images given as paths, PIL images or arrays (any mode)."""
        return siamese.embed(self.tower, self._prepare(images))

    def _prepare(self, images) -> np.ndarray:
        return np.stack([preprocess(im, self.height, self.width, ink=self.ink) for im in images])

    def _encode(self, images) -> tuple[np.ndarray, dict, np.ndarray]:
        """Images (paths, PIL images or arrays) -> embeddings, writer-dependent
        feature sets (``{}`` for the distance rule) and the preprocessed batch."""
        if self.decision != "wd":
            batch = self._prepare(images)
            return siamese.embed(self.tower, batch), {}, batch
        scan_names = writer_dependent.scan_names(self.features)
        pairs = [preprocess_with_scan(im, self.height, self.width, self.ink, scan_names) for im in images]
        batch = np.stack([a for a, _ in pairs])
        learned = {k: siamese.embed(m, batch) for k, m in self._models.items() if k != "cnn"}
        if self._with_pooled is not None:
            emb, learned["cnn"] = siamese.embed(self._with_pooled, batch)
        else:
            emb = siamese.embed(self.tower, batch)
        scan = stack_scans([b for _, b in pairs], scan_names)
        return emb, writer_dependent.feature_sets(self.features, batch, learned, scan), batch

    def enrol(self, references) -> Enrolment:
        """Fit the claimed person's decision once from ``references`` (one or
        more genuine signatures: paths, PIL images or arrays); the returned
        :class:`Enrolment` verifies any number of questioned signatures against
        them without refitting."""
        if isinstance(references, (str, Path)) or (hasattr(references, "ndim") and references.ndim == 2):
            references = [references]
        references = list(references)
        if not references:
            raise ParamsError("references: give at least one genuine reference signature")
        emb, sets, batch = self._encode(references)
        scorers, loo = {}, np.zeros(0)
        if self.decision == "wd":
            extra = writer_dependent.shifted_copies(list(sets), batch, self.shift)
            need_loo = self.norm > 0 or self.spread > 0
            fitted = {
                k: writer_dependent.reference_scorer(f, self.negatives[k], self.C, extra.get(k), need_loo)
                for k, f in sets.items()
            }
            scorers = {k: v[0] for k, v in fitted.items()}
            if need_loo and len(references) >= 2:
                loo = writer_dependent.fuse({k: v[1] for k, v in fitted.items()}, self.scales)
        return Enrolment(self, emb, scorers, loo)

    def verify(self, references, questioned) -> dict:
        """Is ``questioned`` a genuine signature of the person who wrote ``references``?

        Returns ``{"decision": "genuine"|"forgery", "genuine": bool, "score":
        float, "threshold": float, "log10_lr": float | None, "details": {...}}``;
        lower score = more genuine; ``log10_lr`` > 0 supports genuine over skilled
        forgery (None without a calibrator).
        To check several signatures against the same references, :meth:`enrol` once.
        """
        return self.enrol(references).verify(questioned)

    def save(self, folder) -> Path:
        """Write ``tower.keras``, ``verifier.json``, (``wd``) ``negatives_<set>.npy``
        and, with the ``signet`` set, ``signet.keras`` into ``folder``. The LR
        calibration is not written here: it is the run's own artifact
        (``artifacts/lr_calibration.json``, :func:`lr.save_calibration`), which
        :func:`load_verifier` finds beside this folder or in it."""
        from hwutils import report, training

        folder = Path(folder)
        training.save_model(self.tower, folder / "tower.keras")
        if self.signet is not None:
            training.save_model(self.signet, folder / "signet.keras")
        for k, arr in self.negatives.items():
            artifacts.save_npy(folder / f"negatives_{k}.npy", np.asarray(arr, np.float32))
        report.write_json_atomic(
            folder / "verifier.json",
            {
                "threshold": self.threshold,
                "height": self.height,
                "width": self.width,
                "reducer": self.reducer,
                "ink": self.ink,
                "decision": self.decision,
                "features": self.features,
                "scales": self.scales,
                "C": self.C,
                "shift": self.shift,
                "norm": self.norm,
                "spread": self.spread,
                "spread_prior": self.spread_prior,
            },
        )
        return folder


def load_verifier(run_dir) -> Verifier:
    """Load the verifier of a run: ``run_dir`` is a run folder (reads
    ``artifacts/verifier/``) or that verifier folder itself. The LR calibration
    (``lr_calibration.json`` in that folder or beside it, in ``artifacts/``) is
    loaded when present; without it (older runs) results have ``log10_lr`` None."""
    from hwutils import training
    from hwutils.runfolder import artifacts_folder

    run_dir = Path(run_dir)
    if (run_dir / "verifier.json").is_file():  # the verifier folder itself
        folder = run_dir
    else:
        folder = artifacts_folder(run_dir, f"{VERIFIER_DIR}/verifier.json", "signatures")
    cfg_path = folder / "verifier.json"
    cfg = artifacts.load_json(cfg_path, required=("threshold", "height", "width"))
    tower = training.load_model(folder / "tower.keras")
    scales = cfg.get("scales") or {}
    signet_path = folder / "signet.keras"
    if "signet" in scales and not signet_path.is_file():
        raise HwError(f"{signet_path}: missing (the verifier's 'signet' feature set needs its network)")
    signet = training.load_model(signet_path) if signet_path.is_file() else None
    negatives = {}
    for k in scales:
        path = folder / f"negatives_{k}.npy"
        if not path.is_file():
            raise HwError(f"{path}: missing (the writer-dependent verifier needs its negatives)")
        negatives[k] = artifacts.load_npy(path)
    return Verifier(
        tower,
        cfg["threshold"],
        int(cfg["height"]),
        int(cfg["width"]),
        cfg.get("reducer", "mean"),
        cfg.get("ink", "normalize"),
        cfg.get("decision", "distance"),
        cfg.get("features", "cnn+hog"),
        negatives,
        scales,
        cfg.get("C", 1.0),
        cfg.get("shift", 0),
        cfg.get("norm", 0.0),
        signet,
        lr.find_calibration(folder),
        cfg.get("spread", 0.0),
        cfg.get("spread_prior", 1.0),
    )


class Enrolment:
    """One person's references, fitted by :meth:`Verifier.enrol`: ``verify(questioned)``."""

    def __init__(
        self,
        verifier: Verifier,
        reference_embeddings: np.ndarray,
        scorers: dict,
        loo: np.ndarray | None = None,
    ):
        self.verifier, self.reference_embeddings, self.scorers = verifier, reference_embeddings, scorers
        # the references' fused leave-one-out scores among themselves (wd with norm or spread)
        self.loo = np.zeros(0) if loo is None else np.asarray(loo, np.float64)

    def verify(self, questioned) -> dict:
        """Score one questioned signature (path, PIL image or array) against the
        enrolled references; the result is as :meth:`Verifier.verify`'s."""
        v = self.verifier
        emb, sets, _ = v._encode([questioned])
        d = reference_distances(emb[0], self.reference_embeddings)
        details = {
            "distances": [float(x) for x in d],
            "reducer": v.reducer,
            "n_references": len(self.reference_embeddings),
            "rule": v.decision,
        }
        if v.decision == "wd":
            per_set = {k: float(self.scorers[k](f[0])[0]) for k, f in sets.items()}
            fused = writer_dependent.fuse(per_set, v.scales)
            score = -float(writer_dependent.relative_score(fused, self.loo, v.norm, v.spread, v.spread_prior))
            details["wd_scores"] = per_set  # raw, before the reference normalisation
            if len(self.loo) >= 2:
                details["reference_level"] = float(np.mean(self.loo))
                details["reference_spread"] = float(np.std(self.loo, ddof=1))
        else:
            score = reduce_distances(d, v.reducer)
        genuine = bool(score <= v.threshold)
        details["margin"] = float(v.threshold - score)
        log10_lr = lr.log10_lr(v.calibrator, score)
        if log10_lr is not None:
            details["lr_support"] = lr.support(log10_lr)
        return {
            "decision": "genuine" if genuine else "forgery",
            "genuine": genuine,
            "score": score,
            "threshold": v.threshold,
            "log10_lr": log10_lr,
            "details": details,
        }
