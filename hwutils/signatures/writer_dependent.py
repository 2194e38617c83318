"""Writer-dependent decision on top of writer-independent features.

The standard ``sigver`` protocol (Hafemann et al.): writer-independent
feature sets (the Siamese tower's pooled conv features, the layer before its
embedding, ``cnn``; the pooled features of a writer-classification CNN with a
forgery head, ``signet``, see :mod:`hwutils.signatures.writer_net`; HOG of the preprocessed image, ``hog``; signed gradient
direction histograms on a coarse grid, ``dir``; and three sets measured on
the scan before cropping (:func:`preprocess.scan_features`): global ink geometry,
``geom``; pseudo-dynamic "pressure" measures (ink grey levels, stroke widths),
``pressure``; grey-level co-occurrence of the ink, ``glcm``) and, per claimed person, a small
classifier trained on that person's K genuine references (positives) against
genuine signatures of *other* persons from the development set (random
forgeries, negatives). Shifted copies of each reference (``shift`` pixels
left, right, up and down) are extra positives for the image sets (``hog``,
``dir``), so a few pixels of placement do not count against a genuine
signature. The questioned signature's score is the classifier's decision
value (higher = more genuine), less ``norm`` times the person's *reference
level*: the mean decision value of each reference under the classifier fitted
without it (leave-one-out). Persons whose signatures vary a lot get low scores
even when genuine; subtracting part of that level puts persons on one scale,
so a global threshold fits them more evenly.

With several feature sets the per-set decision values are fused by a
weighted sum, each divided by a scale (the spread of that set's scores on
the calibration trials, fixed after calibration), so no set dominates by its
units; with learned weights (:func:`fit_weights`, a logistic regression on the
development persons' out-of-fold trials) each scale is divided by its set's weight.

Everything here works on NumPy arrays; nothing is pickled (the negatives are
saved as ``.npy`` beside the verifier and the per-person SVMs are refitted at
verification time -- a fraction of a second).
"""

from __future__ import annotations

import numpy as np
from sklearn.preprocessing import StandardScaler
from sklearn.svm import SVC

from hwutils.errors import ParamsError

SETS = ("cnn", "signet", "hog", "dir", "geom", "pressure", "glcm")
LEARNED_SETS = ("cnn", "signet")
IMAGE_SETS = ("hog", "dir")
SCAN_SETS = ("geom", "pressure", "glcm")


def _ink_float(images) -> np.ndarray:
    """``(n, h, w)`` or ``(n, h, w, 1)`` uint8 (ink = 255) or float ink maps -> float32 ``(n, h, w)``."""
    x = np.asarray(images)
    x = x.astype(np.float32) / 255.0 if x.dtype == np.uint8 else x.astype(np.float32)
    return x[..., 0] if x.ndim == 4 else x


def _gradients(x: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Central differences ``(gx, gy)`` of ``(n, h, w)`` images (zero on the border)."""
    gy = np.zeros_like(x)
    gx = np.zeros_like(x)
    gy[:, 1:-1] = x[:, 2:] - x[:, :-2]
    gx[:, :, 1:-1] = x[:, :, 2:] - x[:, :, :-2]
    return gx, gy


def hog_features(images, cell: int = 16, bins: int = 9) -> np.ndarray:
    """Histograms of oriented gradients of preprocessed signatures.

    ``images``: ``(n, h, w)`` uint8 (ink = 255) or float (ink = 1) ink maps.
    Unsigned gradient orientations in ``bins`` bins per ``cell`` x ``cell``
    cell, 2x2-cell blocks L2-Hys normalised (clipped at 0.2). Returns ``(n, d)``
    float32, ``d = (h // cell - 1) * (w // cell - 1) * 4 * bins``.
    """
    x = _ink_float(images)
    n, h, w = x.shape
    ch, cw = h // cell, w // cell
    if ch < 2 or cw < 2:
        raise ParamsError(f"hog cell {cell}: images of {h}x{w} need at least 2x2 cells")
    gx, gy = _gradients(x)
    mag = np.hypot(gx, gy)[:, : ch * cell, : cw * cell]
    ang = np.mod(np.arctan2(gy, gx), np.pi)[:, : ch * cell, : cw * cell]
    b = np.minimum((ang / np.pi * bins).astype(np.int64), bins - 1)
    hist = np.zeros((n, ch, cw, bins), np.float32)
    for k in range(bins):
        hist[..., k] = (mag * (b == k)).reshape(n, ch, cell, cw, cell).sum((2, 4))
    blocks = np.concatenate([hist[:, :-1, :-1], hist[:, 1:, :-1], hist[:, :-1, 1:], hist[:, 1:, 1:]], -1)
    blocks = blocks / (np.linalg.norm(blocks, axis=-1, keepdims=True) + 1e-6)
    blocks = np.minimum(blocks, 0.2)
    blocks = blocks / (np.linalg.norm(blocks, axis=-1, keepdims=True) + 1e-6)
    return blocks.reshape(n, -1).astype(np.float32)


def parse_features(features: str) -> list[str]:
    """``"cnn+hog+dir+geom"`` -> ``["cnn", "hog", "dir", "geom"]`` (each known, none twice)."""
    names = [x.strip() for x in str(features).split("+")]
    bad = [x for x in names if x not in SETS]
    if bad or not names or len(set(names)) != len(names):
        raise ParamsError(
            f"features: unknown or repeated set in {features!r}; join some of {', '.join(SETS)} with '+'"
        )
    return names


def direction_features(images, bins: int = 16, grid: tuple = (2, 4)) -> np.ndarray:
    """Signed gradient-direction histograms (``bins`` over 360 degrees, magnitude
    weighted) on a coarse ``grid`` of cells, each normalised to sum 1, square-rooted
    (Hellinger). ``images`` as for :func:`hog_features`; returns ``(n, gh*gw*bins)``."""
    x = _ink_float(images)
    n, h, w = x.shape
    gh, gw = grid
    ch, cw = h // gh, w // gw
    if ch < 2 or cw < 2:
        raise ParamsError(f"direction grid {gh}x{gw}: images of {h}x{w} are too small")
    gx, gy = _gradients(x)
    mag = np.hypot(gx, gy)[:, : ch * gh, : cw * gw]
    ang = np.mod(np.arctan2(gy, gx), 2 * np.pi)[:, : ch * gh, : cw * gw]
    b = np.minimum((ang / (2 * np.pi) * bins).astype(np.int64), bins - 1)
    hist = np.zeros((n, gh, gw, bins), np.float32)
    for k in range(bins):
        hist[..., k] = (mag * (b == k)).reshape(n, gh, ch, gw, cw).sum((2, 4))
    hist = hist / (hist.sum(-1, keepdims=True) + 1e-6)
    return np.sqrt(hist).reshape(n, -1).astype(np.float32)


def feature_sets(features: str, images, learned: dict | None = None, scan: dict | None = None) -> dict:
    """The feature sets named in ``features`` (``+``-joined, see :data:`SETS`):
    ``cnn`` and ``signet`` taken from ``learned`` (name -> ``(n, d)`` features of
    the same images from the CNNs, e.g. :func:`siamese.pooled_features`), ``hog`` /
    ``dir`` computed from the preprocessed ``images``, and the scan sets
    (:data:`SCAN_SETS`) taken from ``scan`` (:func:`preprocess.scan_features_many`
    of the original images; ``glcm`` gets the Hellinger square root)."""
    names = parse_features(features)
    out = {}
    for name in names:
        if name in LEARNED_SETS:
            if learned is None or name not in learned:
                raise ParamsError(f"features: {name!r} needs the features of its trained CNN")
            out[name] = np.asarray(learned[name], np.float32)
        elif name in SCAN_SETS:
            if scan is None or name not in scan:
                raise ParamsError(f"features: {name!r} needs the scan features of the original images")
            values = np.asarray(scan[name], np.float32)
            out[name] = np.sqrt(np.maximum(values, 0.0)) if name == "glcm" else values
        else:
            out[name] = image_features(name, images)
    return out


def scan_names(features: str) -> list[str]:
    """The sets of ``features`` measured on the original scans (see :data:`SCAN_SETS`)."""
    return [k for k in parse_features(features) if k in SCAN_SETS]


def image_features(name: str, images) -> np.ndarray:
    """``hog`` (cells of :func:`hog_cell`) or ``dir`` features of preprocessed images."""
    if name == "hog":
        return hog_features(images, hog_cell(np.shape(images)[1]))
    return direction_features(images)


def shifted_copies(names, images, shift: int) -> dict:
    """Image-set features of ``images`` shifted by ``shift`` pixels right, left, down
    and up: ``{name: (4, n, d)}`` for the names among :data:`IMAGE_SETS` ({} when
    ``shift`` is 0). Used as extra positives of the references."""
    if shift <= 0:
        return {}
    x = np.asarray(images)
    moves = [(0, shift), (0, -shift), (shift, 0), (-shift, 0)]
    moved = [np.roll(np.roll(x, dy, 1), dx, 2) for dy, dx in moves]
    return {k: np.stack([image_features(k, m) for m in moved]) for k in names if k in IMAGE_SETS}


def hog_cell(height: int) -> int:
    """HOG cell size for an image height: a quarter of it, at most 16 pixels (16 at 64x128)."""
    return max(2, min(16, int(height) // 4))


def person_scorer(references: np.ndarray, negatives: np.ndarray, C: float = 1.0):
    """RBF SVM (balanced classes, standardised features) of K references vs
    negatives -> a function ``features (m, d) -> decision values (m,)``."""
    x = np.concatenate([references, negatives])
    y = np.r_[np.ones(len(references)), np.zeros(len(negatives))]
    scaler = StandardScaler().fit(x)
    clf = SVC(kernel="rbf", C=C, gamma="scale", class_weight="balanced").fit(scaler.transform(x), y)
    return lambda q: clf.decision_function(scaler.transform(np.atleast_2d(q)))


def reference_scorer(
    references: np.ndarray,
    negatives: np.ndarray,
    C: float = 1.0,
    extra: np.ndarray | None = None,
    loo: bool = True,
) -> tuple:
    """Per-person scorer and the references' leave-one-out scores among themselves.

    ``references``: ``(K, d)``; ``extra``: ``(c, K, d)`` copies of them (e.g.
    shifted) added as positives. Returns ``(score, loo)``: ``score`` maps
    features ``(m, d)`` to decision values ``(m,)`` (higher = more genuine) of
    the SVM fitted on all K references; ``loo`` ``(K,)`` holds each reference's
    decision value under the SVM fitted without it and its copies (empty when
    K < 2 or ``loo`` is False: K SVMs fewer). Nothing but the references and the
    fixed negatives is used.
    """
    references = np.asarray(references)

    def positives(keep):
        return references[keep] if extra is None else np.concatenate([references[keep], *extra[:, keep]])

    k = len(references)
    score = person_scorer(positives(np.arange(k)), negatives, C)
    if k < 2 or not loo:
        return score, np.zeros(0)
    values = np.array(
        [
            person_scorer(positives(np.delete(np.arange(k), j)), negatives, C)(references[j])[0]
            for j in range(k)
        ]
    )
    return score, values


def normalized_scorer(
    references: np.ndarray,
    negatives: np.ndarray,
    C: float = 1.0,
    extra: np.ndarray | None = None,
    norm: float = 0.0,
):
    """Per-person scorer with optional extra positives and the reference level.

    ``norm``: share of the reference level (the mean leave-one-out decision
    value of the references, :func:`reference_scorer`) subtracted from every
    score (0 = none; needs K >= 2). Returns ``features (m, d) -> scores (m,)``,
    higher = more genuine.
    """
    score, loo = reference_scorer(references, negatives, C, extra, loo=norm > 0)
    if not len(loo):
        return score
    level = float(np.mean(loo))
    return lambda q: score(q) - norm * level


def raw_trials(
    sets: dict, protocol: dict, negatives: dict, C: float = 1.0, extra: dict | None = None
) -> dict:
    """Raw per-set WD scores of the trials of a :func:`verify.make_trials` protocol
    and each person's reference leave-one-out scores.

    ``sets``: name -> ``(n, d)`` features of the protocol's records;
    ``negatives``: name -> ``(m, d)`` features of other persons' genuine
    signatures (e.g. the training persons); ``extra``: name -> ``(c, n, d)``
    copies (:func:`shifted_copies`) whose reference rows are added as positives.
    Returns ``{"person", "index", "type", name: scores..., "loo": {name: {person: (K,)}}}``
    (higher = more genuine). A person's scores depend on that person's
    references and the negatives only, never on other persons' trials.
    """
    extra = extra or {}
    by_person: dict = {}
    for k, (p, _i, _t) in enumerate(protocol["trials"]):
        by_person.setdefault(p, []).append(k)
    n = len(protocol["trials"])
    out = {
        "person": np.array([t[0] for t in protocol["trials"]]),
        "index": np.array([t[1] for t in protocol["trials"]], int),
        "type": np.array([t[2] for t in protocol["trials"]]),
        "loo": {},
    }
    for name, feats in sets.items():
        s = np.zeros(n, np.float64)
        out["loo"][name] = {}
        for p, ks in by_person.items():
            refs = protocol["references"][p]
            copies = extra[name][:, refs] if name in extra else None
            score, out["loo"][name][p] = reference_scorer(feats[refs], negatives[name], C, copies)
            s[ks] = score(feats[out["index"][ks]])
        out[name] = s
    return out


def score_trials(
    sets: dict, protocol: dict, negatives: dict, C: float = 1.0, extra: dict | None = None, norm: float = 0.0
) -> dict:
    """Per-set WD scores of the trials (:func:`raw_trials`), each lowered by
    ``norm`` times the person's reference level in that set (see
    :func:`normalized_scorer`). Returns ``{"person", "index", "type", name: scores...}``."""
    raw = raw_trials(sets, protocol, negatives, C, extra)
    loo = raw.pop("loo")
    if norm > 0:
        for name in sets:
            level = np.array([np.mean(loo[name][p]) if len(loo[name][p]) else 0.0 for p in raw["person"]])
            raw[name] = raw[name] - norm * level
    return raw


def fit_scales(raw: dict, names) -> dict:
    """Per-set score spread (standard deviation over the given, validation, trials)."""
    return {k: float(np.std(raw[k]) or 1.0) for k in names}


WEIGHTS = ("equal", "learned")
WEIGHT_C = (
    0.1  # inverse regularisation of the learned set weights (person-fold CV on sign_data: 0.03-0.3 alike)
)
MIN_WEIGHT = 0.05  # no set is weighted down below this share of the mean weight (nor inverted)


def relative_sets(raw: dict, scales: dict, norm: float = 1.0) -> np.ndarray:
    """``(n, sets)``: each trial's per-set score less ``norm`` times the person's
    reference level in that set, divided by the set's scale (the terms
    :func:`fuse` sums, made relative as :func:`relative_score` makes their sum)."""
    persons = np.asarray(raw["person"])
    cols = []
    for k in scales:
        loo = raw.get("loo", {}).get(k, {})
        level = np.array([float(np.mean(loo[p])) if len(loo.get(p, ())) else 0.0 for p in persons])
        cols.append((np.asarray(raw[k], np.float64) - norm * level) / scales[k])
    return np.stack(cols, 1)


def fit_weights(raw: dict, scales: dict, norm: float = 1.0, C: float = WEIGHT_C) -> dict:
    """Fusion weights of the sets, learned on (out-of-fold development) trials:
    a class-balanced logistic regression of genuine against skilled forgeries on
    the per-set relative scores (:func:`relative_sets`), its coefficients
    rescaled to mean 1 and floored at :data:`MIN_WEIGHT`. Equal weights (all 1)
    when the trials lack either kind or hold one set."""
    from sklearn.linear_model import LogisticRegression

    t = np.asarray(raw["type"])
    m = (t == "genuine") | (t == "skilled")
    names = list(scales)
    if len(names) < 2 or not np.any(t[m] == "genuine") or not np.any(t[m] == "skilled"):
        return {k: 1.0 for k in names}
    x = relative_sets(raw, scales, norm)[m]
    coef = LogisticRegression(C=C, class_weight="balanced").fit(x, t[m] == "genuine").coef_[0]
    coef = np.maximum(coef, 0.0)
    if coef.sum() <= 0:
        return {k: 1.0 for k in names}
    w = np.maximum(coef / coef.mean(), MIN_WEIGHT)
    return {k: float(v) for k, v in zip(names, w / w.mean())}


def weighted_scales(scales: dict, weights: dict) -> dict:
    """Scales that make :func:`fuse` a weighted sum: ``scale / weight`` per set."""
    return {k: float(scales[k] / weights[k]) for k in scales}


def fuse(raw: dict, scales: dict) -> np.ndarray:
    """Fused score: sum over sets of ``score / scale`` (higher = more genuine)."""
    return sum(np.asarray(raw[k]) / scales[k] for k in scales)


def fused_references(raw: dict, scales: dict) -> dict:
    """Each person's fused leave-one-out reference scores, ``{person: (K,)}``
    (the :func:`fuse` of the per-set values in ``raw["loo"]``)."""
    loo = raw["loo"]
    persons = next(iter(loo.values())).keys() if loo else []
    return {p: fuse({k: loo[k][p] for k in scales}, scales) for p in persons}


def spread_prior(raw: dict, scales: dict) -> float:
    """The typical spread of a person's fused leave-one-out reference scores:
    the root mean of the persons' variances (``ddof=1``) over the given
    (validation, development) persons; 1.0 when none has two references."""
    v = [np.var(x, ddof=1) for x in fused_references(raw, scales).values() if len(x) >= 2]
    prior = float(np.sqrt(np.mean(v))) if v else 1.0
    return prior if np.isfinite(prior) and prior > 0 else 1.0


def relative_score(fused, loo, norm: float = 0.0, spread: float = 0.0, prior: float = 1.0):
    """A questioned signature's fused score made relative to what the claimed
    person's own references show (``loo``: their fused leave-one-out scores).

    ``fused - norm * mean(loo)``, divided by the person's spread
    ``sqrt(spread * var(loo) + (1 - spread) * prior**2)`` and multiplied by
    ``prior`` (so the units stay those of the fused score): ``spread`` 0 =
    no division (the level only), 1 = the person's own spread alone (a z-norm,
    noisy with 5 references), between = shrunk towards ``prior``, the typical
    spread on development persons (:func:`spread_prior`). With fewer than two
    references nothing is subtracted or divided.
    """
    loo = np.asarray(loo, np.float64)
    out = np.asarray(fused, np.float64)
    if len(loo) < 2:
        return out
    out = out - norm * float(np.mean(loo))
    if spread > 0:
        sd = np.sqrt(spread * np.var(loo, ddof=1) + (1.0 - spread) * prior**2)
        out = out / max(float(sd), 1e-6 * prior) * prior
    return out


def normalized_fusion(raw: dict, scales: dict, norm: float = 0.0, spread: float = 0.0, prior: float = 1.0):
    """:func:`fuse` of raw trials (:func:`raw_trials`) with each person's scores
    made relative to their references (:func:`relative_score`)."""
    fused = fuse(raw, scales).astype(np.float64)
    if (norm <= 0 and spread <= 0) or not raw.get("loo"):
        return fused
    refs = fused_references(raw, scales)
    out = np.empty_like(fused)
    persons = np.asarray(raw["person"])
    for p in np.unique(persons):
        m = persons == p
        out[m] = relative_score(fused[m], refs[p], norm, spread, prior)
    return out


def as_distance_scores(
    raw: dict, scales: dict, norm: float = 0.0, spread: float = 0.0, prior: float = 1.0
) -> dict:
    """Trial dict in the shape of :func:`verify.score_trials` (``distance`` =
    minus the fused score, so lower is more genuine and the same evaluation
    and calibration code applies); with ``norm`` / ``spread`` (and ``raw`` from
    :func:`raw_trials`) each person's fused score is made relative to their
    references (:func:`normalized_fusion`)."""
    return {
        "person": raw["person"],
        "index": raw["index"],
        "type": raw["type"],
        "distance": -normalized_fusion(raw, scales, norm, spread, prior),
    }
