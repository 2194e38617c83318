"""The writer-identification evidence of a document and how two documents
are compared: per line, the CNN's embedding and the texture histograms
(contour hinge, direction, run lengths); per document, the CNN's unit vector
and the mean texture histogram; a comparison, two similarities (texture:
minus the chi-square distance, :mod:`hwutils.writer_id.texture_distance`;
CNN: cosine) that a :class:`CaseScorer` weighs into one score and maps to a
bounded log10 likelihood ratio. Used by the run's own likelihood ratios
(:mod:`hwutils.writer_id.lr`) and by the casework stage (:mod:`hwutils.casework`)."""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from hwutils.errors import DataError

# --- evidence ---------------------------------------------------------------------------------


@dataclass
class Evidence:
    """Per-line evidence of a set of documents: CNN ``embeddings`` (n, d),
    raw ``texture`` histograms (n, f; :func:`~hwutils.writer_id.texture_distance.evidence_features`)
    and the index of the document each line belongs to (``owner``)."""

    embeddings: np.ndarray
    texture: np.ndarray
    owner: np.ndarray


class EvidenceSpace:
    """How lines become document evidence: the run's identifier (for CNN
    embeddings) and its texture leg and bins. ``runs`` False compares textures
    by their hinge part alone (:meth:`without_runs`)."""

    def __init__(self, identifier, leg: int, bins: int, runs: bool = True):
        self.wid, self.leg, self.bins, self.runs = identifier, int(leg), int(bins), bool(runs)

    def without_runs(self) -> EvidenceSpace:
        """Compare textures without run lengths from now on: for calibration lines
        of a run made before run lengths were recorded. Returns self."""
        self.runs = False
        return self

    @classmethod
    def from_identifier(cls, wid) -> EvidenceSpace:
        tex = wid.texture
        if tex is not None:
            return cls(wid, tex.leg, tex.bins)
        return cls(wid, 12, 16)

    def line_evidence(self, documents) -> Evidence:
        """Evidence of every line of ``documents`` (:class:`Document` list)."""
        from hwutils.writer_id.texture_distance import evidence_features

        lines = [l for d in documents for l in d.lines]
        owner = np.concatenate([np.full(len(d.lines), i) for i, d in enumerate(documents)])
        emb = np.asarray(self.wid.line_embeddings(lines), np.float64)
        tex = np.asarray(evidence_features(lines, self.leg, self.bins), np.float64)
        return Evidence(emb, tex, owner)

    def vectors(self, embeddings, texture, owner, n_docs: int | None = None) -> tuple[np.ndarray, np.ndarray]:
        """Per document ``(texture, cnn)``: the mean texture histogram and the unit-length CNN vector."""
        from hwutils.writer_id.texture_distance import hinge_width

        texture = np.asarray(texture)
        if not self.runs:
            texture = texture[:, : hinge_width(self.bins)]
        return document_vectors(embeddings, texture, owner, n_docs)

    def similarities(self, q_vectors, p_vectors) -> np.ndarray:
        """``(n_q, n_p, 2)`` similarities (texture, CNN) of questioned to person documents."""
        return similarities(q_vectors, p_vectors, self.bins)


def document_vectors(embeddings, texture, owner, n_docs: int | None = None) -> tuple[np.ndarray, np.ndarray]:
    """Per document ``(texture, cnn)`` from its lines: the mean texture histogram
    and the unit-length mean of the lines' unit CNN embeddings."""
    from hwutils.writer_id.openset import normalize
    from hwutils.writer_id.scan import average_by

    owner = np.asarray(owner, int)
    n_docs = int(owner.max()) + 1 if n_docs is None else n_docs
    cnn = normalize(average_by(normalize(np.asarray(embeddings, np.float32)), owner, n_docs))
    hist = average_by(np.asarray(texture, np.float64), owner, n_docs)
    return np.asarray(hist, np.float64), np.asarray(cnn, np.float64)


def similarities(q_vectors, p_vectors, bins: int) -> np.ndarray:
    """``(n_q, n_p, 2)`` similarities (texture, CNN) of questioned to person
    documents' ``(texture, cnn)`` (:func:`document_vectors`; ``bins``: the hinge
    histograms' bins): minus the texture chi-square distance
    (:func:`~hwutils.writer_id.texture_distance.texture_similarity`) and the CNN cosine."""
    from hwutils.writer_id.texture_distance import texture_similarity

    (qt, qc), (pt, pc) = q_vectors, p_vectors
    tex = texture_similarity(qt, pt, bins)
    return np.stack([tex, np.asarray(qc, np.float64) @ np.asarray(pc, np.float64).T], axis=-1)


# --- calibration trials ------------------------------------------------------------------------


def pseudo_documents(writers, doc_lines: int, repeats: int = 3, seed: int = 0):
    """Split each writer's lines into two disjoint pseudo-documents of up to
    ``doc_lines`` lines, ``repeats`` times with other random draws. Returns
    ``(line_index, owner, doc_writer)``: the lines used, the pseudo-document
    each belongs to, and each pseudo-document's writer; writers with fewer than
    two lines are left out."""
    rng = np.random.default_rng(seed)
    writers = np.asarray(writers).astype(str)
    idx, owner, doc_writer = [], [], []
    for _ in range(repeats):
        for w in sorted(set(writers.tolist())):
            lines = np.flatnonzero(writers == w)
            if len(lines) < 2:
                continue
            lines = rng.permutation(lines)
            k = max(1, min(doc_lines, len(lines) // 2))
            for part in (lines[:k], lines[k : 2 * k]):
                idx += part.tolist()
                owner += [len(doc_writer)] * len(part)
                doc_writer.append(w)
    return np.array(idx, int), np.array(owner, int), np.array(doc_writer)


def mirror_sizes(n_lines: int, ref_lines: int, query_lines: int) -> tuple[int, int]:
    """``(reference lines, questioned lines)`` a writer with ``n_lines`` lines
    gives a trial mirroring a case of ``ref_lines`` and ``query_lines``: those,
    or with fewer lines the same proportion (each at least one)."""
    ref_lines, query_lines = max(1, int(ref_lines)), max(1, int(query_lines))
    if n_lines >= ref_lines + query_lines:
        return ref_lines, query_lines
    n_ref = min(n_lines - 1, max(1, round(n_lines * ref_lines / (ref_lines + query_lines))))
    return n_ref, n_lines - n_ref


def reference_trials(
    space: EvidenceSpace,
    embeddings,
    texture,
    writers,
    ref_lines: int,
    query_lines: int,
    repeats: int = 10,
    seed: int = 0,
    with_pairs: bool = False,
) -> tuple:
    """Trials that mirror a case: each draw cuts every writer's lines at random
    into a reference of ``ref_lines`` lines and a questioned document of
    ``query_lines`` other lines, and compares every questioned document with
    every reference of that draw: ``(similarities (n, 2), same (n,))``. A
    writer with fewer lines than both need splits them in the same proportion
    (at least one each), so that neither side is much shorter than in the case:
    filling the reference first left 1-line questioned documents, whose wider
    same-writer spread flattened the calibration (CSAFE, 20 calibration
    writers, 15 unseen ones, texture evidence: RMED 2.4% -> 0.5%). With
    ``with_pairs`` also each trial's (questioned, reference) writer, ``(n, 2)``."""
    rng = np.random.default_rng(seed)
    writers = np.asarray(writers).astype(str)
    names = [w for w in sorted(set(writers.tolist())) if (writers == w).sum() >= 2]
    if len(names) < 2:
        raise DataError("calibration needs at least two writers with two lines or more each")
    emb, tex_all = np.asarray(embeddings), np.asarray(texture)
    sims, same, pairs = [], [], []
    grid = np.array([(q, r) for q in names for r in names])  # (questioned, reference) of each trial
    for _ in range(repeats):
        idx, owner = [], []
        for k, w in enumerate(names):
            lines = rng.permutation(np.flatnonzero(writers == w))
            n_ref, n_q = mirror_sizes(len(lines), ref_lines, query_lines)
            idx += lines[:n_ref].tolist() + lines[n_ref : n_ref + n_q].tolist()
            owner += [2 * k] * n_ref + [2 * k + 1] * n_q
        tex, cnn = space.vectors(emb[idx], tex_all[idx], np.array(owner), 2 * len(names))
        refs, queries = (tex[0::2], cnn[0::2]), (tex[1::2], cnn[1::2])
        sims.append(space.similarities(queries, refs).reshape(-1, 2))
        same.append(np.eye(len(names), dtype=int).reshape(-1))
        pairs.append(grid)
    if with_pairs:
        return np.concatenate(sims), np.concatenate(same), np.concatenate(pairs)
    return np.concatenate(sims), np.concatenate(same)


SD_FLOOR = 0.02  # similarity units: no cohort spread is taken as narrower than this


@dataclass
class Cohort:
    """Documents of writers outside the case (the run's held-out calibration
    writers), against which every comparison with a reference is
    standardised (Z-norm): a similarity ``s`` to reference R becomes
    ``(s - mean_R) / sd_R``, the mean and spread of R's similarities to the
    cohort's documents. A reference that resembles everybody (a common hand)
    then gets no more credit for resembling the questioned document than its
    resemblance to strangers warrants, which keeps wrong-person LRs down.
    Cohort documents of the reference's own writer are never used."""

    texture: np.ndarray
    cnn: np.ndarray
    writers: np.ndarray
    bins: int = 16

    def __post_init__(self):
        self.texture = np.asarray(self.texture, np.float64)
        self.cnn = np.asarray(self.cnn, np.float64)
        self.writers = np.asarray(self.writers).astype(str)

    def __len__(self) -> int:
        return len(self.writers)

    def stats(self, ref_vectors, ref_writers=None) -> tuple[np.ndarray, np.ndarray]:
        """``(mean, sd)``, each ``(n_refs, 2)``, of every reference's similarities
        (texture, CNN) to the cohort's documents (leaving out its own writer's)."""
        sims = similarities((self.texture, self.cnn), ref_vectors, self.bins)  # (n_cohort, n_refs, 2)
        n_refs = sims.shape[1]
        mean, sd = np.zeros((n_refs, 2)), np.ones((n_refs, 2))
        for k in range(n_refs):
            keep = np.ones(len(self), bool) if ref_writers is None else self.writers != str(ref_writers[k])
            s = sims[keep, k] if keep.sum() >= 2 else sims[:, k]
            mean[k], sd[k] = s.mean(0), np.maximum(s.std(0), SD_FLOOR)
        return mean, sd

    def normalise(self, sims, ref_vectors, ref_writers=None) -> np.ndarray:
        """``sims`` ``(n_docs, n_refs, 2)`` standardised by each reference's cohort statistics."""
        mean, sd = self.stats(ref_vectors, ref_writers)
        return (np.asarray(sims, np.float64) - mean[None]) / sd[None]


def trial_scores(
    space: EvidenceSpace,
    embeddings,
    texture,
    writers,
    doc_lines: int,
    repeats: int = 3,
    seed: int = 0,
    cohort_writers=None,
):
    """Same-writer and different-writer trials between pseudo-documents:
    ``(similarities (n, 2), same (n,), cohort)``. Pairs are taken within one
    repeat (pseudo-documents of the same draw), each unordered pair once.

    With ``cohort_writers`` (names among ``writers``) their pseudo-documents
    form a :class:`Cohort`: in each pair (i, j), j is the reference and the
    similarity is standardised by j's similarities to the cohort documents of
    the same draw, leaving out the writers of i and j; ``cohort`` (else None)
    holds every cohort pseudo-document, for the case's references."""
    idx, owner, doc_writer = pseudo_documents(writers, doc_lines, repeats, seed)
    if len(set(doc_writer.tolist())) < 2:
        raise DataError("calibration needs at least two writers with two lines or more each")
    tex, cnn = space.vectors(np.asarray(embeddings)[idx], np.asarray(texture)[idx], owner, len(doc_writer))
    in_cohort = np.isin(doc_writer, [str(w) for w in cohort_writers or ()])
    per_repeat = len(doc_writer) // repeats
    sims, same = [], []
    for r in range(repeats):
        lo, hi = r * per_repeat, (r + 1) * per_repeat
        both = space.similarities((tex[lo:hi], cnn[lo:hi]), (tex[lo:hi], cnn[lo:hi]))
        st, sc = both[..., 0], both[..., 1]
        w, coh = doc_writer[lo:hi], in_cohort[lo:hi]
        for i in range(hi - lo):
            for j in range(i + 1, hi - lo):
                s = np.array([st[i, j], sc[i, j]])
                keep = coh & (w != w[i]) & (w != w[j])
                if keep.sum() >= 2:
                    c = np.stack([st[keep, j], sc[keep, j]], axis=-1)
                    s = (s - c.mean(0)) / np.maximum(c.std(0), SD_FLOOR)
                sims.append(s)
                same.append(int(w[i] == w[j]))
    cohort = (
        Cohort(tex[in_cohort], cnn[in_cohort], doc_writer[in_cohort], space.bins)
        if in_cohort.sum() >= 2
        else None
    )
    return np.array(sims, np.float64), np.array(same, int), cohort


FEATURES = {(0, 1): "texture and CNN", (0,): "texture only", (1,): "CNN only"}
SELECTION_FOLDS = 5  # writer folds of the cross-validation that chooses the similarities to fuse
SELECTION_TOLERANCE = (
    0.05  # a similarity is fused only if it lowers the cross-validated Cllr by more (relative)
)


def _fit_fusion(sims, same, sources=None, method: str = "logistic"):
    """``(weights, intercept, calibrator)``: the class-balanced logistic regression
    that weighs the similarities and the calibrator of its score."""
    from sklearn.linear_model import LogisticRegression

    from hwutils.calibration import LRCalibrator

    lr = LogisticRegression(C=1.0, class_weight="balanced", max_iter=1000).fit(sims, same)
    w, b = lr.coef_[0].astype(np.float64), float(lr.intercept_[0])
    cal = LRCalibrator(method=method).fit(sims @ w + b, same)
    if sources is not None:
        cal.limit_to_sources(*sources)
    return w, b, cal


def cross_validated_cllr(
    sims, same, pairs, cols, folds: int = SELECTION_FOLDS, seed: int = 0
) -> float | None:
    """The pooled Cllr of the similarities ``cols`` on writers left out: the
    writers of ``pairs`` (each trial's questioned and reference writer) are
    dealt into ``folds`` folds; each fold's trials (both writers in it) are
    scored by a fusion fitted on the trials of the other folds' writers and
    bounded by those writers (:func:`~hwutils.calibration.writer_sources`).
    None with fewer than ``2 * folds`` writers: with fewer folds of fewer
    writers the bounds of the few writers fitted on decide, not the
    similarities (on the synthetic default's 5 calibration writers, 2 folds
    scored every candidate about 0.49 and the choice was a tie)."""
    from hwutils.calibration import lr_metrics, writer_sources

    pairs = np.asarray(pairs).astype(str)
    writers = np.unique(pairs)
    if len(writers) < 2 * folds:
        return None
    order = np.random.default_rng(seed).permutation(writers)
    fold_of = {w: k % folds for k, w in enumerate(order)}
    fq = np.array([fold_of[w] for w in pairs[:, 0]])
    fr = np.array([fold_of[w] for w in pairs[:, 1]])
    llr, y = [], []
    for k in range(folds):
        train, test = (fq != k) & (fr != k), (fq == k) & (fr == k)
        if len(set(same[train].tolist())) < 2 or not test.any():
            continue
        n_train = len(set(pairs[train].ravel().tolist()))
        w, b, cal = _fit_fusion(sims[train][:, cols], same[train], writer_sources(n_train))
        llr.append(np.asarray(cal.log10_lr(sims[test][:, cols] @ w + b), np.float64))
        y.append(same[test])
    return float(lr_metrics(np.concatenate(llr), np.concatenate(y))["cllr"]) if llr else None


def choose_features(sims, same, pairs, folds: int = SELECTION_FOLDS, seed: int = 0) -> tuple[tuple, dict]:
    """Which similarities to fuse (a key of :data:`FEATURES`), chosen by
    cross-validation over *writers* (:func:`cross_validated_cllr`): the fewest
    similarities whose Cllr on writers left out is within
    :data:`SELECTION_TOLERANCE` (5%) of the lowest win.
    A CNN that ranks the calibration writers well but adds noise on writers it
    never saw is dropped this way. Returns ``(columns, {description: Cllr})``;
    with fewer than ``2 * folds`` writers both similarities, unscored."""
    scores = {}
    for cols in FEATURES:
        value = cross_validated_cllr(sims, same, pairs, cols, folds, seed)
        if value is not None:
            scores[cols] = value
    if not scores:
        return (0, 1), {}
    lowest = min(scores.values())
    near = [c for c in scores if scores[c] <= lowest * (1 + SELECTION_TOLERANCE)]
    best = min(near, key=lambda c: (len(c), scores[c]))  # the fewest similarities as good as the best
    return best, {FEATURES[c]: v for c, v in scores.items()}


@dataclass
class TexturePool:
    """Texture-only calibration trials over more writers than the held-out
    calibration writers: those and the writers the run *trained* on. The
    texture comparison (chi-square distance of histograms) has no trained
    part, so a training writer's texture trials are what an unseen writer's
    look like (the CNN's are not: its similarities are in the trials' CNN
    column, which stays 0 here). Used by :meth:`CaseScorer.fit` only when the
    similarities chosen are texture alone: more writers widen what the
    calibration supports (the source bounds) without the CNN's optimism."""

    sims: np.ndarray
    same: np.ndarray
    sources: tuple[int, int]
    source: str
    pairs: np.ndarray | None = None


@dataclass
class CaseScorer:
    """Weights of the two similarities (a logistic regression on calibration
    trials; a similarity left out by :func:`choose_features` weighs 0) and the
    score-to-LR calibrator; ``source`` says where the trials came from,
    ``selection`` how the similarities were chosen."""

    weights: np.ndarray
    intercept: float
    calibrator: object
    source: str
    trial_scores: np.ndarray = field(default=None, repr=False)
    trial_same: np.ndarray = field(default=None, repr=False)
    cohort: Cohort | None = field(default=None, repr=False)
    selection: dict = field(default_factory=dict)
    conditions: dict = field(default_factory=dict)

    @classmethod
    def fit(
        cls,
        sims,
        same,
        source: str,
        cohort: Cohort | None = None,
        sources: tuple[int, int] | None = None,
        pairs=None,
        texture_pool: TexturePool | None = None,
        conditions: dict | None = None,
        method: str = "logistic",
    ) -> CaseScorer:
        """Fit on trial similarities (already standardised when ``cohort`` is given:
        :func:`trial_scores`); the cohort is kept to standardise the case's comparisons.
        ``sources``: ``(writers, ordered pairs of different writers)`` behind the
        trials, which bound the LRs (:meth:`~hwutils.calibration.LRCalibrator.limit_to_sources`).
        ``pairs``: each trial's (questioned, reference) writer; with them the
        similarities to fuse are chosen by :func:`choose_features`. A
        ``texture_pool`` with its own pairs is a further candidate, texture alone
        calibrated on the pool's writers, cross-validated over them the same way
        (its wider source bounds included); when texture alone wins, the texture
        weight and calibrator are fitted on the pool's trials and bounded by its
        writers.
        ``conditions``: what the trials mirror beyond their sizes (``scale``:
        the calibration writers read as coarse a scan as the case's), kept."""
        sims, same = np.asarray(sims, np.float64), np.asarray(same, int)
        if same.min(initial=1) == same.max(initial=0) or len(same) < 3:
            raise DataError(
                f"calibration ({source}): needs same-writer and different-writer trials, "
                f"got {int(same.sum())} and {int((1 - same).sum())}"
            )
        cols, cv = (0, 1), {}
        if pairs is not None:
            cols, cv = choose_features(sims, same, pairs)
        pool = (
            texture_pool
            if texture_pool is not None and texture_pool.sources[0] > (sources or (0,))[0]
            else None
        )
        if pool is not None and cv and pool.pairs is not None:
            # texture alone calibrated on the pool is a system of its own: judged the same way, on its writers
            pooled = cross_validated_cllr(
                np.asarray(pool.sims, np.float64), np.asarray(pool.same, int), pool.pairs, (0,)
            )
            if pooled is not None:
                cv[f"texture only on {pool.sources[0]} writers"] = pooled
                if pooled <= min(cv.values()) * (1 + SELECTION_TOLERANCE):
                    cols = (0,)
        selection = {"features": FEATURES[cols], "cv_cllr": cv} if cv else {}
        if cols == (0,) and pool is not None:
            sims, same = np.asarray(pool.sims, np.float64), np.asarray(pool.same, int)
            sources, source = texture_pool.sources, texture_pool.source
            selection["texture_writers"] = int(sources[0])
        w_cols, b, cal = _fit_fusion(sims[:, cols], same, sources, method)
        w = np.zeros(sims.shape[1])
        w[list(cols)] = w_cols
        return cls(w, b, cal, source, sims @ w + b, same, cohort, selection, dict(conditions or {}))

    def score(self, sims) -> np.ndarray:
        """The fused score of similarities ``(..., 2)``."""
        return np.asarray(sims, np.float64) @ self.weights + self.intercept

    def log10_lr(self, sims) -> np.ndarray:
        s = self.score(sims)
        return np.asarray(self.calibrator.log10_lr(s.ravel()), np.float64).reshape(s.shape)

    def standardise(self, sims, ref_vectors, ref_writers=None) -> np.ndarray:
        """``sims`` ``(n_docs, n_refs, 2)`` as the scorer was fitted on: standardised
        by the cohort when it has one, else unchanged."""
        if self.cohort is None:
            return np.asarray(sims, np.float64)
        return self.cohort.normalise(sims, ref_vectors, ref_writers)

    def to_dict(self) -> dict:
        return {
            "weights": {"texture": float(self.weights[0]), "cnn": float(self.weights[1])},
            "intercept": self.intercept,
            "source": self.source,
            **({"selection": self.selection} if self.selection else {}),
            **({"conditions": self.conditions} if self.conditions else {}),
            "normalisation": "Z-norm against a cohort of "
            f"{len(set(self.cohort.writers.tolist()))} writers' documents"
            if self.cohort is not None
            else "none",
            "calibrator": self.calibrator.to_dict(),
        }
