"""The case itself: calibration trials that never touch the questioned
documents, the persons of interest enrolled from their known documents, a
verdict per questioned document (log10 LRs, posteriors, the answer) and the
figures of a test case."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np

from hwutils.calibration import writer_sources
from hwutils.casework.conditions import calibration_doc_lines
from hwutils.casework.documents import Document, background_lines, case_scale, run_writer_lines
from hwutils.writer_id import (
    CaseScorer,
    Evidence,
    EvidenceSpace,
    Lines,
    TexturePool,
    common_width,
    evidence_features,
    load_calibration_lines,
    load_texture_lines,
    reference_trials,
    trial_scores,
)

NONE_OF_THEM = "none of them"
MIRROR_MIN_WRITERS = 5  # held-out writers needed to calibrate on them alone, in the case's document sizes


def calibration_trials(
    space: EvidenceSpace,
    run_dir,
    known: list[Document],
    known_evidence: Evidence,
    repeats: int = 3,
    seed: int = 0,
    questioned: list[Document] = (),
    normalise: bool = False,
    mirror: bool = True,
) -> tuple:
    """``(similarities, same, source, cohort, sources, pairs, texture_pool, conditions)``
    of the case's calibration trials, what :meth:`CaseScorer.fit` takes
    (``sources``: the writers behind them and their ordered different-writer pairs, which
    bound the LRs; ``pairs``: each mirror trial's (questioned, reference) writer, with which
    :meth:`CaseScorer.fit` chooses the similarities to fuse, None otherwise;
    ``texture_pool``: :func:`texture_pool` for a texture-only choice, or None;
    ``conditions``: what the trials mirror: in mirror trials the lines of their
    references and questioned documents (``reference_lines``,
    ``questioned_lines``), and ``scale`` ``s`` when every case document was
    brought up from a scan ``s`` times coarser than the run's data and the
    calibration writers were read again from the run's data at that resolution
    (:func:`at_case_resolution`)); never
    from questioned documents. Pseudo-documents hold as many lines as the
    median known document: the known documents (each person's lines split
    into two pseudo-documents) together with other writers, so that the
    different-writer trials are not only the few pairs of persons of interest:
    the writers the run held out of training for calibration
    (``artifacts/calibration_lines.npz``: the CNN never saw them, so their
    similarities are what an unseen writer's look like), else, for runs made
    without them, writers of the run's own training data
    (:func:`background_lines`), which overstates. The case's writers and files
    are always left out (pass ``questioned`` for that). With ``normalise`` the
    other writers also form the :class:`~hwutils.writer_id.Cohort` that every
    comparison is standardised by (Z-norm; ``cohort`` None without it)."""
    doc_lines = calibration_doc_lines(known)
    emb, tex = known_evidence.embeddings, known_evidence.texture
    writers = np.array(["known:" + known[i].person for i in known_evidence.owner], dtype=object)
    source = "known documents"
    case_docs = list(known) + list(questioned)
    case_writers = {str(d.person) for d in case_docs if d.person is not None}
    held_out = load_calibration_lines(Path(run_dir) / "artifacts") if run_dir is not None else None
    if held_out is not None:
        held_out = held_out.subset(np.flatnonzero(~np.isin(held_out.writers, sorted(case_writers))))
    scale, at_scale = case_scale(case_docs), ""
    if held_out is not None and scale > 1 and len(set(held_out.writers.tolist())) >= 2:
        again = at_case_resolution(space, run_dir, held_out, scale)
        if again is not None:  # the case's documents come from coarser scans: so do the calibration writers'
            held_out = again
            at_scale = f", read again from the run's data as scanned as coarsely as this case (1/{scale:g})"
    if held_out is not None and len(set(held_out.writers.tolist())) >= 2:
        # writers the run held out of training for calibration: the CNN never saw them
        width = common_width(tex, held_out.texture, space.bins)
        if width < np.shape(tex)[1]:  # a run made before run lengths were recorded
            space.without_runs()
        emb = np.concatenate([emb, held_out.embeddings])
        tex = np.concatenate([tex[:, :width], held_out.texture[:, :width]])
        writers = np.concatenate([writers, ["held-out:" + w for w in held_out.writers]])
        held_source = f"{len(set(held_out.writers.tolist()))} writers the run held out of training{at_scale}"
        source += f" and {held_source}"
        bg_lines = []
    else:
        bg_lines, bg_writers, where = (
            background_lines(run_dir, exclude=case_writers, exclude_paths=[d.path for d in case_docs])
            if run_dir is not None
            else ([], [], "")
        )
    if bg_lines:
        from hwutils.writer_id import evidence_features

        bg_emb = np.asarray(space.wid.line_embeddings(bg_lines), np.float64)
        bg_tex = np.asarray(evidence_features(bg_lines, space.leg, space.bins), np.float64)
        emb, tex = np.concatenate([emb, bg_emb]), np.concatenate([tex, bg_tex])
        writers = np.concatenate([writers, ["background:" + w for w in bg_writers]])
        source += f" and {len(set(bg_writers))} writers of {where}"
    held_names = sorted({w for w in writers if w.startswith("held-out:")})
    if mirror and len(held_names) >= MIRROR_MIN_WRITERS and not normalise:
        q_lines = max(1, int(np.median([len(d.lines) for d in questioned]))) if questioned else doc_lines
        keep = np.isin(writers, held_names)
        sims, same, pairs = reference_trials(
            space,
            emb[keep],
            tex[keep],
            writers[keep],
            doc_lines,
            q_lines,
            max(10, repeats),
            seed,
            with_pairs=True,
        )
        how = (
            f"(each draw: a reference of {doc_lines} lines and a questioned document of"
            f" {q_lines} other lines per writer, as in this case, or the same proportion of a shorter page;"
            f" {max(10, repeats)} draws)"
        )
        pool = texture_pool(
            space,
            run_dir,
            tex[keep],
            writers[keep],
            case_writers,
            doc_lines,
            q_lines,
            max(10, repeats),
            seed,
            scale if at_scale else 1.0,
            how,
        )
        return (
            sims,
            same,
            f"{held_source} {how}",
            None,
            writer_sources(len(held_names)),
            pairs,
            pool,
            {
                "reference_lines": doc_lines,
                "questioned_lines": q_lines,
                **({"scale": scale} if at_scale else {}),
            },
        )
    cohort_writers = sorted({w for w in writers if not w.startswith("known:")}) if normalise else None
    sims, same, cohort = trial_scores(space, emb, tex, writers, doc_lines, repeats, seed, cohort_writers)
    said = f", standardised against a cohort of {len(cohort_writers)} writers" if cohort is not None else ""
    return (
        sims,
        same,
        f"{source} (each writer's lines split into two pseudo-documents of up to {doc_lines} lines, "
        f"{repeats} draws{said})",
        cohort,
        writer_sources(len(set(writers.tolist()))),
        None,
        None,
        {"scale": scale} if at_scale else {},
    )


def texture_pool(
    space,
    run_dir,
    held_texture,
    held_writers,
    case_writers,
    ref_lines,
    q_lines,
    draws,
    seed,
    scale=1.0,
    how="",
) -> TexturePool | None:
    """The :class:`~hwutils.writer_id.TexturePool` of mirror trials on texture
    alone over the held-out calibration writers and the writers the run trained
    on (``artifacts/texture_lines.npz``; the texture distance has no trained
    part), the case's writers left out; its description ends with ``how``.
    None for a run without those lines (or, with ``scale`` above 1, whose data
    cannot be read again at that resolution)."""
    train = load_texture_lines(Path(run_dir) / "artifacts") if run_dir is not None else None
    if train is None:
        return None
    train = train.subset(np.flatnonzero(~np.isin(train.writers, sorted(case_writers))))
    if scale > 1 and len(train):
        train = at_case_resolution(space, run_dir, train, scale, cnn=False)
        if train is None:
            return None
    held = {w.split(":", 1)[1] for w in held_writers}
    names = sorted(w for w in set(train.writers.tolist()) - held if (train.writers == w).sum() >= 2)
    if not names:
        return None
    train = train.subset(np.flatnonzero(np.isin(train.writers, names)))
    width = min(np.shape(held_texture)[1], common_width(held_texture, train.texture, space.bins))
    tex = np.concatenate([np.asarray(held_texture)[:, :width], train.texture[:, :width]])
    writers = np.concatenate([held_writers, ["trained-on:" + w for w in train.writers]])
    sims, same, pairs = reference_trials(
        space, np.zeros((len(tex), 1)), tex, writers, ref_lines, q_lines, draws, seed, with_pairs=True
    )
    n_held = len({w for w in np.asarray(held_writers).tolist() if (np.asarray(held_writers) == w).sum() >= 2})
    n = n_held + len(names)
    said = (
        f"{n} writers on texture alone: the {n_held} the run held out of training and"
        f" {len(names)} it trained on (the texture comparison has no trained part)"
    )
    return TexturePool(sims, same, writer_sources(n), f"{said} {how}".strip(), pairs)


def at_case_resolution(space: EvidenceSpace, run_dir, lines, scale: float, cnn: bool = True):
    """The evidence of the run's own writers of ``lines`` read again from the
    run's data as a scan ``scale`` times coarser gives it
    (:func:`~hwutils.casework.documents.run_writer_lines`), as
    :class:`~hwutils.writer_id.Lines` (no CNN embeddings without ``cnn``); None
    when the data cannot be read or lacks some of the writers."""
    names = sorted(set(lines.writers.tolist()))
    images, writers, _ = run_writer_lines(run_dir, names, scale)
    if not images or sorted(set(writers)) != names:
        return None
    tex = np.asarray(evidence_features(images, space.leg, space.bins), np.float64)
    emb = np.asarray(space.wid.line_embeddings(images), np.float64) if cnn else np.zeros((len(images), 0))
    return Lines(emb, tex, writers, [f"1/{scale:g}"] * len(images))


def collection_caveat(
    space: EvidenceSpace, run_dir, known: list[Document], known_evidence: Evidence, seed: int = 0
):
    """A caveat (one sentence) when the persons of interest write unlike every
    writer the LRs are calibrated on, else None: the median texture distance
    (:func:`~hwutils.writer_id.texture_similarity`) of a person's known
    documents to the nearest held-out calibration writer (documents of as many
    lines) exceeds the largest such distance among the calibration writers
    themselves. The run's calibration then comes from another collection
    (synthetic writers applied to scans, another script or pen) and its LRs
    do not transfer (CSAFE against the synthetic default run: median 1.58
    against at most 1.01; against a CSAFE run: 0.12 against 0.60)."""
    from hwutils.writer_id import texture_similarity

    held_out = load_calibration_lines(Path(run_dir) / "artifacts") if run_dir is not None else None
    names = sorted(set(held_out.writers.tolist())) if held_out is not None else []
    if len(names) < 2:
        return None
    width = common_width(known_evidence.texture, held_out.texture, space.bins)
    persons = sorted({d.person for d in known})
    doc_person = np.array([persons.index(d.person) for d in known])[known_evidence.owner]
    kt = np.stack([known_evidence.texture[doc_person == i, :width].mean(0) for i in range(len(persons))])
    rng, size = np.random.default_rng(seed), calibration_doc_lines(known)
    ct = np.stack(
        [
            held_out.texture[rng.permutation(np.flatnonzero(held_out.writers == w))[:size], :width].mean(0)
            for w in names
        ]
    )
    to_calibration = -texture_similarity(kt, ct, space.bins)
    among = -texture_similarity(ct, ct, space.bins)
    np.fill_diagonal(among, np.inf)
    known_d, widest = float(np.median(to_calibration.min(1))), float(among.min(1).max())
    if known_d <= widest:
        return None
    return (
        f"The persons of interest write unlike every writer the LRs are calibrated on: their texture lies at a"
        f" median chi-square distance {known_d:.2f} from the nearest of the run's {len(names)} calibration writers,"
        f" farther than any calibration writer from the next ({widest:.2f}). The calibration comes from another"
        " collection and its LRs do not transfer: calibrate a run on writers like these (validate it with"
        " lr_validation)"
    )


def fit_scorer(
    space,
    run_dir,
    known,
    known_evidence,
    repeats: int = 3,
    seed: int = 0,
    questioned=(),
    normalise=False,
    mirror=True,
) -> CaseScorer:
    """:meth:`CaseScorer.fit` on :func:`calibration_trials`."""
    return CaseScorer.fit(
        *calibration_trials(
            space, run_dir, known, known_evidence, repeats, seed, questioned, normalise, mirror
        )
    )


# --- the case ---------------------------------------------------------------------------------


@dataclass
class Verdict:
    """One questioned document against every person of interest: ``persons``
    in order, their similarities (texture, CNN), fused ``scores``, ``log10_lr``
    and equal-prior ``posteriors``; the ``answer`` (a person or
    :data:`NONE_OF_THEM`) and the document's true writer when known."""

    document: str
    persons: list
    similarities: np.ndarray
    scores: np.ndarray
    log10_lr: np.ndarray
    posteriors: np.ndarray
    answer: str
    truth: str | None

    def rows(self) -> list[dict]:
        from hwutils.calibration import verbal_scale

        order = np.argsort(-self.log10_lr)
        return [
            {
                "person": self.persons[i],
                "texture similarity": float(self.similarities[i, 0]),
                "CNN similarity": float(self.similarities[i, 1]),
                "score": float(self.scores[i]),
                "log10 LR": float(self.log10_lr[i]),
                "verbal scale": verbal_scale(float(self.log10_lr[i])),
                "posterior": float(self.posteriors[i]),
            }
            for i in order
        ]

    @property
    def correct(self) -> bool | None:
        """Whether the answer is right (None when the truth is unknown)."""
        if self.truth is None:
            return None
        expected = self.truth if self.truth in self.persons else NONE_OF_THEM
        return self.answer == expected

    def to_dict(self) -> dict:
        return {
            "document": self.document,
            "truth": self.truth,
            "answer": self.answer,
            "correct": self.correct,
            "persons": self.rows(),
        }


class Case:
    """Persons of interest enrolled from their known documents."""

    def __init__(self, space: EvidenceSpace, persons: list, vectors, n_documents: dict, n_lines: dict):
        self.space, self.persons, self.vectors = space, persons, vectors
        self.n_documents, self.n_lines = n_documents, n_lines

    @classmethod
    def enrol(cls, space: EvidenceSpace, known: list[Document], evidence: Evidence) -> Case:
        """One vector pair per person from all lines of their known documents."""
        persons = sorted({d.person for d in known})
        doc_person = np.array([persons.index(d.person) for d in known])
        owner = doc_person[evidence.owner]
        vectors = space.vectors(evidence.embeddings, evidence.texture, owner, len(persons))
        n_docs = {p: int((doc_person == i).sum()) for i, p in enumerate(persons)}
        n_lines = {p: int((owner == i).sum()) for i, p in enumerate(persons)}
        return cls(space, persons, vectors, n_docs, n_lines)

    def judge(
        self, questioned: list[Document], evidence: Evidence, scorer: CaseScorer, min_log10_lr: float = 0.0
    ) -> list[Verdict]:
        """A :class:`Verdict` per questioned document."""
        from hwutils.calibration import posteriors_equal_priors

        q = self.space.vectors(evidence.embeddings, evidence.texture, evidence.owner, len(questioned))
        sims = self.space.similarities(
            q, self.vectors
        )  # shown as they are; scored standardised by the cohort
        z = scorer.standardise(sims, self.vectors)
        scores = scorer.score(z)
        llr = scorer.log10_lr(z)
        post = np.array([np.asarray(posteriors_equal_priors(row), np.float64).ravel() for row in llr])
        out = []
        for k, doc in enumerate(questioned):
            best = int(np.argmax(llr[k]))
            answer = self.persons[best] if llr[k, best] > min_log10_lr else NONE_OF_THEM
            out.append(
                Verdict(doc.name, self.persons, sims[k], scores[k], llr[k], post[k], answer, doc.person)
            )
        return out


def case_metrics(verdicts: list[Verdict]) -> dict:
    """Figures of a test case (questioned documents whose true writer is known):
    ``case_top1`` (share of questioned documents by a person of interest named
    correctly), ``case_none_correct`` (share of those by anyone else answered
    "none of them"), ``case_accuracy`` (both together), the mean log10 LR of the
    true writer and the largest log10 LR a stranger got. NaN where no such document."""
    known = [v for v in verdicts if v.truth is not None and v.truth in v.persons]
    strangers = [v for v in verdicts if v.truth is not None and v.truth not in v.persons]
    scored = known + strangers
    true_llr = [float(v.log10_lr[v.persons.index(v.truth)]) for v in known]
    wrong_llr = [float(v.log10_lr[i]) for v in scored for i, p in enumerate(v.persons) if p != v.truth]
    nan = float("nan")
    return {
        "case_questioned": len(verdicts),
        "case_questioned_known": len(known),
        "case_questioned_strangers": len(strangers),
        "case_top1": float(np.mean([v.correct for v in known])) if known else nan,
        "case_none_correct": float(np.mean([v.correct for v in strangers])) if strangers else nan,
        "case_accuracy": float(np.mean([v.correct for v in scored])) if scored else nan,
        "case_true_log10_lr_mean": float(np.mean(true_llr)) if true_llr else nan,
        "case_true_log10_lr_min": float(np.min(true_llr)) if true_llr else nan,
        "case_other_log10_lr_max": float(np.max(wrong_llr)) if wrong_llr else nan,
        "case_true_posterior_mean": float(np.mean([v.posteriors[v.persons.index(v.truth)] for v in known]))
        if known
        else nan,
    }


def case_trials(verdicts: list[Verdict]) -> tuple[np.ndarray, np.ndarray]:
    """Every (questioned document, person) pair of a test case as ``(log10 LR, same)``."""
    llr, same = [], []
    for v in verdicts:
        if v.truth is None:
            continue
        for i, p in enumerate(v.persons):
            llr.append(float(v.log10_lr[i]))
            same.append(int(p == v.truth))
    return np.array(llr), np.array(same, int)


@dataclass
class CaseOutcome:
    """A whole case scored: the enrolled :class:`Case`, the fitted scorer and a
    :class:`Verdict` per questioned document."""

    case: Case
    scorer: CaseScorer
    verdicts: list

    def trials(self) -> tuple[np.ndarray, np.ndarray]:
        """``(log10 LR, same)`` of every (questioned document, person) pair whose truth is known."""
        return case_trials(self.verdicts)


def run_case(
    identifier,
    run_dir,
    known: list[Document],
    questioned: list[Document],
    draws: int = 3,
    seed: int = 0,
    min_log10_lr: float = 0.0,
    normalise: bool = False,
    mirror: bool = True,
) -> CaseOutcome:
    """Score a case end to end as the ``writer_casework`` stage does: the
    evidence of every line, the persons enrolled from ``known``, the scorer
    fitted on calibration trials (never the questioned documents), a verdict
    per questioned document. ``identifier``: a loaded
    :class:`hwutils.writer_id.WriterIdentifier`; ``run_dir``: its run folder."""
    space = EvidenceSpace.from_identifier(identifier)
    known_evidence = space.line_evidence(known)
    questioned_evidence = space.line_evidence(questioned)
    case = Case.enrol(space, known, known_evidence)
    scorer = fit_scorer(space, run_dir, known, known_evidence, draws, seed, questioned, normalise, mirror)
    return CaseOutcome(case, scorer, case.judge(questioned, questioned_evidence, scorer, min_log10_lr))
