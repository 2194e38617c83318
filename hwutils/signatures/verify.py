"""Verification of a questioned signature against K genuine references (:class:`Verifier`),
saved with a run and loaded back (:func:`load_verifier`): the stage's public API.

Score (``decision = "distance"``): the distance between the questioned
embedding and each reference embedding, reduced by ``mean`` or ``min`` over
the K references. Score (``decision = "wd"``): minus the fused decision value
of writer-dependent SVMs (see :mod:`hwutils.signatures.writer_dependent`).
Lower is more genuine; the decision is *genuine* when the score is at most
the threshold. The threshold is calibrated on the calibration persons (the
out-of-fold trials of all development persons with ``wd_folds`` > 1, else the
validation persons; by default the distance at the equal error rate of genuine
vs skilled forgeries there), never on the persons that are measured. When the
run saved a likelihood-ratio calibration (``artifacts/lr_calibration.json``,
fitted on the same persons' genuine and skilled-forgery trials:
:mod:`hwutils.signatures.lr`), each result also
carries ``log10_lr``, the log10 likelihood ratio of "genuine signature of the
reference person" against "skilled forgery" (None for runs without one).

The writer-independent evaluation protocol and its threshold are
:mod:`hwutils.signatures.trials`, the writer-dependent fitting of a run
:mod:`hwutils.signatures.wd_fitting`; their names are importable from here too.

Public API::

    from hwutils.signatures.verify import load_verifier
    v = load_verifier("outputs/signatures/<RUN_ID>")
    result = v.verify(["ref1.png", "ref2.png", ...], "questioned.png")
    result["decision"], result["score"], result["threshold"], result["details"]
    result["log10_lr"]                                 # by the calibration of as many references (None when
                                                       # the run has none for that count, or no LR calibration)
    person = v.enrol(["ref1.png", "ref2.png", ...])   # fit once, then check many
    results = [person.verify(q) for q in questioned_paths]
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from hwutils import artifacts
from hwutils.errors import HwError, ParamsError, check_choice, check_unit_interval
from hwutils.signatures import conditions as image_conditions
from hwutils.signatures import lr, siamese, writer_dependent
from hwutils.signatures.preprocess import preprocess, preprocess_with_scan, stack_scans

# the protocol, the threshold rules and the writer-dependent fitting: part of this API
from hwutils.signatures.thresholds import OPERATING_POINTS, parse_operating_point
from hwutils.signatures.trials import (
    REDUCERS,
    calibrate_threshold,
    distance_fewer,
    evaluate,
    fewer_operating_points,
    make_trials,
    per_user_table,
    reduce_distances,
    reference_distances,
    score_trials,
    with_references,
)
from hwutils.signatures.wd_fitting import (
    NORMALISATIONS,
    compare_normalisations,
    feature_models,
    fit_writer_dependent,
    wd_feature_sets,
)

__all__ = [
    "DECISIONS",
    "NORMALISATIONS",
    "OPERATING_POINTS",
    "REDUCERS",
    "VERIFIER_DIR",
    "Enrolment",
    "Verifier",
    "calibrate_threshold",
    "compare_normalisations",
    "distance_fewer",
    "evaluate",
    "fewer_operating_points",
    "feature_models",
    "fit_writer_dependent",
    "load_verifier",
    "make_trials",
    "parse_operating_point",
    "per_user_table",
    "reduce_distances",
    "reference_distances",
    "score_trials",
    "wd_feature_sets",
    "with_references",
]

DECISIONS = ("distance", "wd")
VERIFIER_DIR = "verifier"


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
    ``n_references``: the reference count ``threshold`` was fixed with (fewer
    get no decision unless ``fewer_thresholds`` has their count);
    ``conditions``: the development scans' image conditions
    (:class:`hwutils.signatures.conditions.Conditions`): a verification whose
    scans lie outside them gets ``details["outside_conditions"]``.
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
        fewer_calibrators: dict | None = None,
        fewer_thresholds: dict | None = None,
        n_references: int | None = None,
        conditions=None,
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
        # below the run's reference count: count -> LR calibrator, count -> decision threshold
        self.fewer_calibrators = dict(fewer_calibrators or {})
        self.fewer_thresholds = {int(k): float(t) for k, t in (fewer_thresholds or {}).items()}
        bad = [k for k, t in self.fewer_thresholds.items() if k < 1 or not np.isfinite(t)]
        if bad:
            raise ParamsError(f"fewer_thresholds: {bad[0]}: not a reference count with a finite threshold")
        # the reference count ``threshold`` was fixed with (None: unknown, older runs)
        if n_references is not None and (isinstance(n_references, bool) or int(n_references) != n_references):
            raise ParamsError(f"n_references: a whole number, got {n_references!r}")
        if n_references is not None and n_references < 1:
            raise ParamsError(f"n_references: at least 1, got {n_references}")
        self.n_references = None if n_references is None else int(n_references)
        # the image conditions of the development scans (conditions.Conditions; None: not checked)
        self.conditions = conditions
        # the feature models are built once here, not at every verify(); with the cnn set the
        # tower gives its embedding and its pooled features in one pass
        self._models = feature_models(tower, features, signet) if decision == "wd" else {}
        self.signet = self._models.get("signet")  # kept (and saved) only when a feature set uses it
        self._with_pooled = siamese.embedding_and_pooled_model(tower) if "cnn" in self._models else None

    def threshold_for(self, n_references: int) -> float | None:
        """The decision threshold of a verification against ``n_references``
        references: the one fixed with that many (``fewer_thresholds``), else the
        run's when ``n_references`` is at least the count it was fixed with (or that
        count is unknown, as in older runs); None below it (:meth:`decision_withheld`)."""
        n = int(n_references)
        if n in self.fewer_thresholds:
            return self.fewer_thresholds[n]
        if self.n_references is None or n >= self.n_references:
            return self.threshold
        return None

    def decision_withheld(self, n_references: int) -> str | None:
        """Why no decision may be stated for a verification against
        ``n_references`` references, or None. A threshold fixed on verifications
        against more references does not hold for fewer: the scores of a person
        with fewer references spread wider (on sign_data test persons the
        5-reference threshold let 42.9% of the skilled forgeries through with 2,
        against 6.7% with 5), and with one reference the score cannot be made
        relative to the references' own level at all."""
        if self.threshold_for(n_references) is not None:
            return None
        counts = sorted({*self.fewer_thresholds, self.n_references})
        return (
            f"no decision: this run's thresholds are fixed for verifications against "
            f"{', '.join(map(str, counts))} references and {int(n_references)} given; with fewer the "
            f"scores are not comparable with them (give at least {counts[0]})"
        )

    def log10_lr(self, score: float, n_references: int | None = None) -> float | None:
        """The calibrated log10 LR of a score (None without a calibration). With
        ``n_references``, by the calibration of verifications against that many
        references (:func:`lr.calibrator_for`; None where the run has none, as
        :meth:`Enrolment.verify` states); without, by the run's own calibration
        whatever the count (validation measures what that would overstate)."""
        if n_references is None:
            return lr.log10_lr(self.calibrator, score)
        return lr.log10_lr(lr.calibrator_for(self.calibrator, self.fewer_calibrators, n_references), score)

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
        measured = image_conditions.measure_many(references) if self.conditions is not None else None
        return Enrolment(self, emb, scorers, loo, measured)

    def verify(self, references, questioned) -> dict:
        """Is ``questioned`` a genuine signature of the person who wrote ``references``?

        Returns ``{"decision": "genuine"|"forgery", "genuine": bool, "score":
        float, "threshold": float, "log10_lr": float | None, "details": {...}}``;
        lower score = more genuine; ``log10_lr`` > 0 supports genuine over skilled
        forgery (None without a calibrator). With fewer references than any
        threshold of the run was fixed with, ``decision``, ``genuine`` and
        ``threshold`` are None and ``details["decision_withheld"]`` says why.
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
                "thresholds_by_references": {str(k): t for k, t in sorted(self.fewer_thresholds.items())},
                **({} if self.n_references is None else {"n_references": self.n_references}),
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
    calibrator = lr.find_calibration(folder)
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
        calibrator,
        cfg.get("spread", 0.0),
        cfg.get("spread_prior", 1.0),
        lr.find_fewer(folder),
        _thresholds(cfg_path, cfg.get("thresholds_by_references", {})),
        _threshold_count(cfg_path, cfg, calibrator),
        image_conditions.find(folder, folder.parent),
    )


def _threshold_count(path, cfg: dict, calibrator) -> int | None:
    """The reference count the run's threshold was fixed with: ``verifier.json``'s
    ``n_references``, else (runs before it was saved) the LR calibration's, else
    None (unknown: every count gets the threshold, as before). A value that is not
    a whole number >= 1 is an :class:`ArtifactError` naming the file and key."""
    from hwutils.errors import ArtifactError

    if "n_references" not in cfg:
        return calibrator.conditions.get("n_references") if calibrator is not None else None
    n = cfg["n_references"]
    if isinstance(n, bool) or not isinstance(n, int) or n < 1:
        raise ArtifactError(f"{path}: key 'n_references' is not a reference count (got {n!r})")
    return n


def _thresholds(path, table) -> dict:
    """``verifier.json``'s ``thresholds_by_references`` as ``{count: threshold}``;
    a count that is not a whole number >= 1 or a threshold that is not a finite
    number is an :class:`ArtifactError` naming the file and key."""
    from hwutils.errors import ArtifactError

    if not isinstance(table, dict):
        raise ArtifactError(f"{path}: key 'thresholds_by_references' is not an object")
    out = {}
    for k, t in table.items():
        ok = isinstance(k, str) and k.isdigit() and int(k) >= 1
        ok = ok and isinstance(t, (int, float)) and not isinstance(t, bool) and bool(np.isfinite(t))
        if not ok:
            raise ArtifactError(
                f"{path}: key 'thresholds_by_references.{k}' is not a reference count's threshold"
            )
        out[int(k)] = float(t)
    return out


class Enrolment:
    """One person's references, fitted by :meth:`Verifier.enrol`: ``verify(questioned)``."""

    def __init__(
        self,
        verifier: Verifier,
        reference_embeddings: np.ndarray,
        scorers: dict,
        loo: np.ndarray | None = None,
        reference_conditions: np.ndarray | None = None,
    ):
        self.verifier, self.reference_embeddings, self.scorers = verifier, reference_embeddings, scorers
        # the references' fused leave-one-out scores among themselves (wd with norm or spread)
        self.loo = np.zeros(0) if loo is None else np.asarray(loo, np.float64)
        # the references' image conditions (conditions.measure_many), when the verifier checks them
        self.reference_conditions = reference_conditions

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
        n_refs = len(self.reference_embeddings)
        threshold = v.threshold_for(n_refs)  # fixed with as many references; None: none fixed
        genuine = None if threshold is None else bool(score <= threshold)
        if threshold is None:
            details["decision_withheld"] = v.decision_withheld(n_refs)
        else:
            details["margin"] = float(threshold - score)
        log10_lr = v.log10_lr(score, n_refs)  # by the calibration of this many references
        withheld = lr.lr_withheld(v.calibrator, n_refs, v.fewer_calibrators)
        if withheld is not None:  # calibrated on more references per person only: it would overstate
            details["lr_withheld"] = withheld
            log10_lr = None
        if v.conditions is not None and self.reference_conditions is not None:
            outside = image_conditions.outside(
                v.conditions, self.reference_conditions, image_conditions.measure(questioned)
            )
            if outside:  # a warning: the threshold and LRs were not validated on such scans
                details["outside_conditions"] = outside
        if log10_lr is not None:
            details["lr_support"] = lr.support(log10_lr)
            used = lr.calibrator_for(v.calibrator, v.fewer_calibrators, n_refs)
            details["lr_calibrated_references"] = used.conditions.get("n_references")
        return {
            "decision": None if genuine is None else "genuine" if genuine else "forgery",
            "genuine": genuine,
            "score": score,
            "threshold": threshold,
            "log10_lr": log10_lr,
            "details": details,
        }
