"""Likelihood ratios for writer identification: how strongly does a line or a
page support "writer W wrote it" (H1) against "some other writer wrote it" (H2)?

The evidence is the one the casework stage uses (:mod:`hwutils.writer_id.evidence`, used by :mod:`hwutils.casework`):
a questioned line or page becomes the unit-length mean CNN embedding of its
lines and its mean texture histograms (contour hinge, direction, run lengths);
every writer of the run has a *reference* made the same way from their
training lines (or, for a writer enrolled without retraining, from their
enrolment lines). A questioned document and a reference are compared by two
similarities (texture: minus the chi-square distance; CNN: cosine), which a :class:`~hwutils.writer_id.evidence.CaseScorer`
weighs into one score and maps to a bounded log10 LR with lir.

One scorer per unit (``line`` and ``page``), since a page carries more
evidence than a line, fitted on the writers the run held out of training for
calibration (:func:`calibration_trials`: their lines, and pages of their page
size, against references of their other lines as large as the run's), which
similarities are fused chosen across those writers
(:func:`~hwutils.writer_id.evidence.choose_features`); runs without such
writers calibrate on their validation lines and pseudo-pages against every
reference, which overstates. :func:`evaluate` then measures Cllr, Cllr_min and
the calibration loss on test trials that calibration never saw. Everything is
saved in the run's ``artifacts/`` (``evidence.npz``: the references;
``lr_calibration.json``: the two scorers) and read
back by :class:`~hwutils.writer_id.identify.WriterIdentifier`, so ``hw
identify`` prints LRs.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np

from hwutils.errors import ArtifactError, OutdatedArtifactError

EVIDENCE_FILE, LR_FILE = "evidence.npz", "lr_calibration.json"
CALIBRATION_LINES_FILE = "calibration_lines.npz"
TEXTURE_LINES_FILE = "texture_lines.npz"
UNITS = ("line", "page")


@dataclass
class Lines:
    """Per-line evidence of some lines: CNN ``embeddings`` (n, d), raw
    contour-hinge ``texture`` histograms (n, f), each line's ``writer`` and
    the ``page`` it comes from."""

    embeddings: np.ndarray
    texture: np.ndarray
    writers: np.ndarray
    pages: np.ndarray

    def __post_init__(self):
        self.embeddings = np.asarray(self.embeddings, np.float64)
        self.texture = np.asarray(self.texture, np.float64)
        self.writers = np.asarray(self.writers).astype(str)
        self.pages = np.asarray(self.pages).astype(str)
        n = {len(self.embeddings), len(self.texture), len(self.writers), len(self.pages)}
        if len(n) != 1:
            raise ValueError(f"embeddings, texture, writers and pages differ in length: {sorted(n)}")

    def __len__(self) -> int:
        return len(self.writers)

    @classmethod
    def concat(cls, parts) -> Lines:
        """The lines of ``parts`` (:class:`Lines` with embeddings of one width) one after another."""
        parts = list(parts)
        return cls(
            np.concatenate([p.embeddings for p in parts]),
            np.concatenate([p.texture for p in parts]),
            np.concatenate([p.writers for p in parts]),
            np.concatenate([p.pages for p in parts]),
        )

    def subset(self, index) -> Lines:
        i = np.asarray(index, int)
        return Lines(self.embeddings[i], self.texture[i], self.writers[i], self.pages[i])

    def pseudo_pages(self, size: int, repeats: int = 5, seed: int = 0) -> Lines:
        """More page trials from few pages: each writer's lines shuffled and cut
        into pseudo-pages of ``size`` lines, ``repeats`` times with other draws
        (a writer with fewer lines gives one pseudo-page of all of them)."""
        rng = np.random.default_rng(seed)
        idx, pages = [], []
        for r in range(repeats):
            for w in sorted(set(self.writers.tolist())):
                mine = rng.permutation(np.flatnonzero(self.writers == w))
                for c in range(max(1, len(mine) // size)):
                    part = mine[c * size : (c + 1) * size] if len(mine) >= size else mine
                    idx += part.tolist()
                    pages += [f"draw{r}:{c}"] * len(part)
        sub = self.subset(idx)
        sub.pages = np.array(pages)
        return sub

    def median_page_lines(self) -> int:
        owner, _ = self.documents("page")
        return max(1, int(np.median(np.bincount(owner))))

    def documents(self, unit: str) -> tuple[np.ndarray, np.ndarray]:
        """``(owner, doc_writer)``: each line's document index for ``unit``
        ("line": every line its own document; "page": the lines of one page
        together) and each document's writer."""
        if unit == "line":
            return np.arange(len(self)), self.writers.copy()
        if unit != "page":
            raise ValueError(f"unit must be one of {', '.join(UNITS)}, got {unit!r}")
        keys = [f"{w}\x00{p}" for w, p in zip(self.writers, self.pages)]
        order = {k: i for i, k in enumerate(dict.fromkeys(keys))}
        owner = np.array([order[k] for k in keys], int)
        doc_writer = np.array([k.split("\x00")[0] for k in order])
        return owner, doc_writer


class References:
    """Each writer's reference: the mean texture histogram and the unit CNN
    vector of their lines (:func:`~hwutils.writer_id.evidence.document_vectors`),
    with the hinge leg and bins the texture was computed with."""

    def __init__(self, names, texture, cnn, leg: int, bins: int):
        self.names = [str(n) for n in names]
        self.texture, self.cnn = np.asarray(texture, np.float64), np.asarray(cnn, np.float64)
        self.leg, self.bins = int(leg), int(bins)

    @classmethod
    def fit(cls, lines: Lines, leg: int, bins: int) -> References:
        """References from ``lines`` (one per writer, in sorted writer order)."""
        return cls([], np.zeros((0, 0)), np.zeros((0, 0)), leg, bins).add(lines)

    def empty(self) -> References:
        """A reference set in the same space with no writers."""
        return References([], np.zeros((0, 0)), np.zeros((0, 0)), self.leg, self.bins)

    def add(self, lines: Lines) -> References:
        """Add (or replace) the references of the writers of ``lines``."""
        names = sorted(set(lines.writers.tolist()))
        owner = np.array([names.index(w) for w in lines.writers], int)
        tex, cnn = self.vectors(lines, owner, len(names))
        keep = [i for i, n in enumerate(self.names) if n not in names]
        if keep and self.texture.shape[1] != tex.shape[1]:
            raise ArtifactError(
                f"references hold texture histograms of width {self.texture.shape[1]}, new lines {tex.shape[1]}"
            )
        old_t = self.texture[keep] if keep else np.zeros((0, tex.shape[1]))
        old_c = self.cnn[keep] if keep else np.zeros((0, cnn.shape[1]))
        self.names = [self.names[i] for i in keep] + names
        self.texture, self.cnn = np.concatenate([old_t, tex]), np.concatenate([old_c, cnn])
        return self

    def vectors(self, lines: Lines, owner, n_docs: int) -> tuple[np.ndarray, np.ndarray]:
        """``(texture, cnn)`` of the documents ``owner`` indexes."""
        from hwutils.writer_id.evidence import document_vectors

        return document_vectors(lines.embeddings, lines.texture, owner, n_docs)

    def similarities(self, lines: Lines, owner, n_docs: int) -> np.ndarray:
        """``(n_docs, n_writers, 2)`` similarities (texture, CNN) to every reference."""
        from hwutils.writer_id.evidence import similarities

        return similarities(self.vectors(lines, owner, n_docs), (self.texture, self.cnn), self.bins)

    def save(self, path) -> Path:
        from hwutils import artifacts
        from hwutils.writer_id.texture_distance import METRIC

        return artifacts.save_npz(
            path,
            names=np.array(self.names),
            texture=self.texture,
            cnn=self.cnn,
            leg=np.array(self.leg),
            bins=np.array(self.bins),
            texture_metric=np.array(METRIC),
        )

    @classmethod
    def load(cls, path) -> References:
        """Read references saved by :meth:`save`; a file of another texture
        comparison (runs made before it changed), NaN or mismatched shapes are
        an :class:`~hwutils.errors.ArtifactError` naming it."""
        from hwutils import artifacts
        from hwutils.writer_id.texture_distance import METRIC

        z = artifacts.load_npz(path)
        missing = [k for k in ("names", "texture", "cnn", "leg", "bins") if k not in z]
        if missing:
            raise ArtifactError(
                f"{path}: missing array {missing[0]!r} (it holds: {', '.join(z) or 'nothing'})"
            )
        metric = str(z["texture_metric"]) if "texture_metric" in z else "cosine of standardised histograms"
        if metric != METRIC:
            raise OutdatedArtifactError(
                f"{path}: references compare textures by {metric!r}, this version by {METRIC!r}: "
                "re-run writer_id to get likelihood ratios"
            )
        artifacts.check_finite(path, z, ("texture", "cnn"))
        artifacts.check_shapes(
            path,
            "names, texture and cnn references",
            names=len(z["names"]),
            texture=len(z["texture"]),
            cnn=len(z["cnn"]),
        )
        if np.any(np.asarray(z["texture"]) < 0):
            raise ArtifactError(f"{path}: key 'texture' holds a negative histogram value")
        return cls(z["names"].tolist(), z["texture"], z["cnn"], z["leg"], z["bins"])


def trials(refs: References, lines: Lines, unit: str) -> tuple[np.ndarray, np.ndarray]:
    """Every document of ``lines`` (per ``unit``) against every reference whose
    writer is known: ``(similarities (n, 2), same (n,))``. Lines of writers
    without a reference give only different-writer trials."""
    owner, doc_writer = lines.documents(unit)
    sims = refs.similarities(lines, owner, len(doc_writer))
    same = (doc_writer[:, None] == np.array(refs.names)[None, :]).astype(int)
    return sims.reshape(-1, 2), same.reshape(-1)


def calibration_trials(
    calibration: Lines,
    refs: References,
    unit: str,
    draws: int = 5,
    seed: int = 0,
    page_lines: int = 0,
    with_pairs: bool = False,
    reference_lines: int = 0,
) -> tuple:
    """Trials of writers held out of training: each draw splits every
    calibration writer's lines into two halves at random, makes references
    of one half (in the space of ``refs``) and compares the other half's
    lines (``unit`` "line") or pseudo-pages of ``page_lines`` lines of it (0:
    the half as one page; ``unit`` "page") with every such reference. With
    ``reference_lines`` and ``page_lines`` both given and ``unit`` "page", the trials
    mirror use instead: a reference of ``reference_lines`` lines (as many as the run's
    references hold) against a page of ``page_lines`` other lines, or the same
    proportion of a writer with fewer lines (:func:`~hwutils.writer_id.evidence.mirror_sizes`):
    the chi-square texture distance shrinks with more writing, so half pages
    would calibrate whole pages too generously.
    ``(similarities (n, 2), same (n,))``, with ``with_pairs`` also each trial's
    (questioned, reference) writer ``(n, 2)``."""
    from hwutils.writer_id.evidence import mirror_sizes

    rng = np.random.default_rng(seed)
    sims, same, pairs = [], [], []
    mirror = unit == "page" and reference_lines > 0 and page_lines > 0
    for _ in range(draws):
        ref_idx, query_idx = [], []
        for w in sorted(set(calibration.writers.tolist())):
            mine = rng.permutation(np.flatnonzero(calibration.writers == w))
            if len(mine) < 2:
                continue
            n_ref, n_q = (
                mirror_sizes(len(mine), reference_lines, page_lines)
                if mirror
                else (len(mine) // 2, len(mine))
            )
            ref_idx += mine[:n_ref].tolist()
            query_idx += mine[n_ref : n_ref + n_q].tolist()
        ref_lines, queries = calibration.subset(ref_idx), calibration.subset(query_idx)
        draw_refs = refs.empty().add(ref_lines)
        if unit == "page":
            rank = np.zeros(len(queries), int)
            for w in set(queries.writers.tolist()):
                mine = np.flatnonzero(queries.writers == w)
                rank[mine] = np.arange(len(mine)) // page_lines if page_lines > 0 and not mirror else 0
            queries.pages = np.array([f"half:{r}" for r in rank])
        s, y = trials(draw_refs, queries, unit)
        sims.append(s)
        same.append(y)
        _, doc_writer = queries.documents(unit)
        pairs.append(np.array([(q, r) for q in doc_writer for r in draw_refs.names]))
    if with_pairs:
        return np.concatenate(sims), np.concatenate(same), np.concatenate(pairs)
    return np.concatenate(sims), np.concatenate(same)


def texture_only(lines: Lines, width: int) -> Lines:
    """``lines`` with CNN embeddings of ``width`` zeros (a CNN similarity of 0): for texture-only trials."""
    return Lines(np.zeros((len(lines), width)), lines.texture, lines.writers, lines.pages)


def save_calibration_lines(folder, lines: Lines) -> Path:
    """The held-out calibration writers' line evidence, for the casework stage's calibration."""
    return _save_lines(Path(folder) / CALIBRATION_LINES_FILE, lines, cnn=True)


def load_calibration_lines(folder) -> Lines | None:
    """The run's held-out calibration writers' line evidence (None for a run without them)."""
    return _load_lines(Path(folder) / CALIBRATION_LINES_FILE, cnn=True)


def save_texture_lines(folder, lines: Lines) -> Path:
    """The training writers' line texture (no CNN embeddings: the CNN trained on
    them), for calibrations that compare texture alone: the chi-square texture
    distance has no trained part, so these writers' texture comparisons are
    what an unseen writer's look like."""
    return _save_lines(Path(folder) / TEXTURE_LINES_FILE, lines, cnn=False)


def load_texture_lines(folder) -> Lines | None:
    """The run's training writers' line texture (embeddings of width 0; None for a run without it)."""
    return _load_lines(Path(folder) / TEXTURE_LINES_FILE, cnn=False)


def _save_lines(path: Path, lines: Lines, cnn: bool) -> Path:
    from hwutils import artifacts

    arrays = {"texture": lines.texture.astype(np.float32), "writers": lines.writers, "pages": lines.pages}
    if cnn:
        arrays["embeddings"] = lines.embeddings.astype(np.float32)
    return artifacts.save_npz(path, **arrays)


def _load_lines(path: Path, cnn: bool) -> Lines | None:
    from hwutils import artifacts

    if not path.is_file():
        return None
    keys = ("texture", "writers", "pages") + (("embeddings",) if cnn else ())
    z = artifacts.load_npz(path, keys=keys)
    artifacts.check_finite(path, z, [k for k in ("embeddings", "texture") if k in keys])
    artifacts.check_shapes(path, ", ".join(keys), **{k: len(z[k]) for k in keys})
    emb = z["embeddings"] if cnn else np.zeros((len(z["texture"]), 0), np.float32)
    return Lines(emb, z["texture"], z["writers"], z["pages"])


@dataclass
class LRModel:
    """The run's references and one fitted scorer per unit."""

    refs: References
    scorers: dict

    @classmethod
    def fit(
        cls,
        refs: References,
        validation: Lines,
        calibration: Lines | None = None,
        ref_lines: int = 0,
        texture_lines: Lines | None = None,
    ) -> LRModel:
        """One :class:`~hwutils.writer_id.evidence.CaseScorer` per unit.

        With ``calibration`` (lines of writers held out of training, see
        :func:`calibration_trials`) the scorers are fitted on those writers
        alone: the CNN never saw them, so their similarities are what an
        unseen writer's look like. Without it (older runs, ``calibration_writers:
        0``), on trials of the ``validation`` lines against ``refs``, writers the
        CNN trained on, which overstates the evidence for unseen writers.
        ``ref_lines``: lines per reference of the run (the page trials'
        references are as large; 0: the calibration writers' page size).
        ``texture_lines``: lines of the training writers that the run's LRs are
        not measured on (training and validation lines): the texture comparison
        has no trained part, so texture alone calibrated on them and the
        calibration writers together is a further candidate
        (:class:`~hwutils.writer_id.evidence.TexturePool`)."""
        from hwutils.calibration import writer_sources
        from hwutils.writer_id.evidence import CaseScorer, TexturePool

        if calibration is not None and len(set(calibration.writers.tolist())) >= 2:
            # a page: as many lines as the calibration writers' pages (whole pages of the collection; a
            # validation split of lines cut from pages holds 1 line per page on CSAFE) against a reference
            # of as many lines as the run's references (``ref_lines``), mirrored as casework does
            page = calibration.median_page_lines()
            ref_lines = int(ref_lines) or page
            scorers = {}
            units = [("line", "line", 0, "held-out calibration writers: lines against half-set references")]
            # one page scorer per page size up to the calibration writers' pages: a short page's similarities
            # differ from a whole page's (the chi-square texture distance shrinks with more writing), so a
            # page of n lines is judged by trials of n-line pages (unit_for)
            for n in [*page_sizes(page), page]:
                units.append(
                    (
                        "page" if n == page else f"page:{n}",
                        "page",
                        n,
                        f"held-out calibration writers: pages of {n} lines against references of {ref_lines} other"
                        " lines (or the same proportion of a shorter page)",
                    )
                )
            for key, unit, size, source in units:
                size = size or page
                sims, same, pairs = calibration_trials(
                    calibration, refs, unit, page_lines=size, with_pairs=True, reference_lines=ref_lines
                )
                pool = None
                if texture_lines is not None and len(texture_lines):
                    both = texture_only(
                        Lines.concat([calibration, texture_lines]), calibration.embeddings.shape[1]
                    )
                    p_sims, p_same, p_pairs = calibration_trials(
                        both, refs, unit, page_lines=size, with_pairs=True, reference_lines=ref_lines
                    )
                    n_pool = len(set(both.writers.tolist()))
                    pool = TexturePool(
                        p_sims * np.array([1.0, 0.0]),
                        p_same,
                        writer_sources(n_pool),
                        f"{n_pool} writers on texture alone (the held-out calibration writers and the training"
                        f" writers' training and validation lines; the texture comparison has no trained part): "
                        + source.split(": ", 1)[1],
                        p_pairs,
                    )
                scorers[key] = CaseScorer.fit(
                    sims,
                    same,
                    source=source,
                    sources=writer_sources(len(set(calibration.writers.tolist()))),
                    pairs=pairs,
                    texture_pool=pool,
                )
                if unit == "page":
                    scorers[key].calibrator.conditions["page_lines"] = int(size)
            return cls(refs, scorers)
        scorers = {}
        sims, same = trials(refs, validation, "line")
        scorers["line"] = CaseScorer.fit(sims, same, source="validation lines against every reference")
        size = validation.median_page_lines()
        sims, same = trials(refs, validation.pseudo_pages(size, repeats=5), "page")
        scorers["page"] = CaseScorer.fit(
            sims,
            same,
            source=f"validation pseudo-pages ({size} lines, 5 draws per writer) against every reference",
        )
        scorers["page"].calibrator.conditions["page_lines"] = int(size)
        return cls(refs, scorers)

    def unit_for(self, n_lines: int) -> str:
        """The scorer for a document of ``n_lines`` lines: ``line`` for one line;
        for a page shorter than the calibration writers' pages, ``page:n`` of the
        largest calibrated size ``n`` not above it; else ``page`` (runs made
        before the size-matched scorers have only it)."""
        if n_lines <= 1:
            return "line"
        sized = [int(k.partition(":")[2]) for k in self.scorers if _is_page_size(k)]
        page = (
            int(self.scorers["page"].calibrator.conditions.get("page_lines", 0))
            if "page" in self.scorers
            else 0
        )
        below = [n for n in sized if n <= n_lines and n < page]
        return f"page:{max(below)}" if below and n_lines < page else "page"

    def log10_lr(self, lines: Lines, unit: str) -> np.ndarray:
        """``(n_docs, n_writers)`` log10 LRs of the documents of ``lines`` against every reference."""
        owner, doc_writer = lines.documents(unit)
        return self.scorers[unit].log10_lr(self.refs.similarities(lines, owner, len(doc_writer)))

    def log10_lr_of(self, embeddings, texture, unit: str) -> np.ndarray:
        """log10 LRs of one document (its lines' embeddings and texture) against every reference."""
        n = len(embeddings)
        doc = Lines(embeddings, texture, ["?"] * n, ["?"] * n)
        return self.scorers[unit].log10_lr(self.refs.similarities(doc, np.zeros(n, int), 1))[0]

    def save(self, folder) -> Path:
        from hwutils.report import write_json_atomic

        folder = Path(folder)
        self.refs.save(folder / EVIDENCE_FILE)
        return write_json_atomic(
            folder / LR_FILE,
            {
                "hypotheses": {
                    "H1": "the writer of the reference wrote the questioned writing",
                    "H2": "another writer wrote it",
                },
                "units": {unit: _scorer_dict(s) for unit, s in self.scorers.items()},
            },
        )

    @classmethod
    def load(cls, folder) -> LRModel | None:
        """From a run's ``artifacts/`` folder; None for a run saved without LR calibration."""
        from hwutils import artifacts

        folder = Path(folder)
        if not (folder / LR_FILE).is_file() or not (folder / EVIDENCE_FILE).is_file():
            return None
        data = artifacts.load_json(folder / LR_FILE, required=("units",))
        scorers = {}
        sized = [k for k in data["units"] if isinstance(data["units"], dict) and _is_page_size(k)]
        for unit in [*UNITS, *sized]:
            try:
                scorers[unit] = _scorer_from(data["units"][unit])
            except (KeyError, TypeError, ValueError) as exc:
                raise ArtifactError(
                    f"{folder / LR_FILE}: units.{unit}: not an LR calibration ({exc})"
                ) from None
        for unit, s in scorers.items():
            if not np.all(np.isfinite(s.weights)) or not np.isfinite(s.intercept):
                raise ArtifactError(f"{folder / LR_FILE}: units.{unit}: weights or intercept not finite")
        return cls(References.load(folder / EVIDENCE_FILE), scorers)


def page_sizes(page: int) -> list[int]:
    """The shorter page sizes a run calibrates besides its ``page``-line pages:
    2, 3, 4, 6, 9, 13, ... below ``page``. On CSAFE (8-line pages; 20
    held-out writers, cross-validated over them) the 8-line calibration judged
    2- and 3-line pages at Cllr 0.186 and 0.078 (the true writer's support
    understated: RMEP 6.5% and 2.5%), the size's own at 0.150 and 0.056; at 4
    and 6 lines the two agree (0.053-0.059, 0.043-0.046)."""
    sizes, n = [], 2
    while n < page:
        sizes.append(n)
        n = n + 1 if n < 4 else n + n // 2
    return sizes


def _is_page_size(key) -> bool:
    """``page:<n>``: a page scorer calibrated on pages of n lines."""
    head, _, n = str(key).partition(":")
    return head == "page" and n.isdigit() and int(n) >= 2


def unit_label(unit: str) -> str:
    """``line``, ``page`` or ``page:3`` in words (``3-line page``)."""
    return f"{unit.partition(':')[2]}-line page" if _is_page_size(unit) else unit


def _scorer_dict(scorer) -> dict:
    return scorer.to_dict()


def _scorer_from(d: dict):
    from hwutils.calibration import LRCalibrator
    from hwutils.writer_id.evidence import CaseScorer

    w = d["weights"]
    return CaseScorer(
        np.array([float(w["texture"]), float(w["cnn"])]),
        float(d["intercept"]),
        LRCalibrator.from_dict(d["calibrator"]),
        str(d.get("source", "")),
        selection=d.get("selection") if isinstance(d.get("selection"), dict) else {},
    )


def short_document_note(model: LRModel | None, n_lines: int) -> str | None:
    """A caveat when a document of ``n_lines`` lines (more than one: a page)
    is judged by page LRs calibrated on longer pages: runs made before the
    size-matched page scorers (:func:`page_sizes`), and runs without held-out
    calibration writers. With less writing the texture distances are larger
    than the calibration trials', so the true writer's support is understated
    (CSAFE, 2-line pages judged by the 8-line calibration: RMEP 6.5% against
    4.5% with their own, Cllr 0.186 against 0.150). None otherwise (and for
    runs that did not record their page size)."""
    if model is None or n_lines < 2 or "page" not in model.scorers or model.unit_for(n_lines) != "page":
        return None  # one line (the line scorer) or a page with a scorer of its size
    page = int(model.scorers["page"].calibrator.conditions.get("page_lines", 0))
    if n_lines >= page:
        return None
    return (
        f"{n_lines} lines, fewer than the {page}-line pages this run's page LRs are calibrated on (it has no"
        " calibration for shorter pages): with less writing the LRs misstate the evidence, the true writer's"
        " support most (re-run writer_id with calibration_writers for page LRs per page size; writer_casework"
        " calibrates on documents of the case's own sizes)"
    )


def evaluate(model: LRModel, test: Lines, prefix: str = "") -> tuple[dict, dict]:
    """Cllr, Cllr_min and the calibration loss of each unit on the trials of
    ``test`` against the model's references: ``(metrics, trials)`` where
    ``trials[unit] = (log10_lrs, same)`` for the Tippett and ECE plots."""
    from hwutils.calibration import lr_metrics

    out, kept = {}, {}
    for unit in UNITS:
        sims, same = trials(model.refs, test, unit)
        scorer = model.scorers[unit]
        scores = scorer.score(sims)  # once: the LRs and the identification by evidence both start from it
        llr = np.asarray(scorer.calibrator.log10_lr(scores), np.float64)
        kept[unit] = (llr, same)
        m = lr_metrics(llr, same)
        for k, v in m.items():
            out[f"{prefix}{unit}_{k}"] = v
        top1 = evidence_top1(scores, same, len(model.refs.names))
        if top1 is not None:
            out[f"{prefix}{unit}_evidence_top1"] = top1
        if m["n_same"] and m["n_different"]:
            out[f"{prefix}{unit}_mean_log10_lr_same"] = float(llr[same == 1].mean())
            out[f"{prefix}{unit}_mean_log10_lr_different"] = float(llr[same == 0].mean())
            out[f"{prefix}{unit}_misleading_same"] = float((llr[same == 1] < 0).mean())
            out[f"{prefix}{unit}_misleading_different"] = float((llr[same == 0] > 0).mean())
    return out, kept


def evidence_top1(scores, same, n_refs: int) -> float | None:
    """Identification by the LR evidence: the share of documents with a
    reference of their own writer whose highest fused score (texture and CNN
    similarity weighted as for the LR, before the LR's bounds, so in the LR's
    order) is their writer's, over every reference (known and enrolled).
    ``scores``/``same`` are in :func:`trials`' order (documents by
    references); None when no document has a reference. A tie counts as a
    share: 1/k for k writers tied at the top with the true one."""
    scores = np.asarray(scores, np.float64).reshape(-1, n_refs)
    same = np.asarray(same, int).reshape(-1, n_refs)
    has = same.sum(1) > 0
    if not has.any():
        return None
    scores, same = scores[has], same[has]
    top = scores >= scores.max(1, keepdims=True) - 1e-12
    return float(np.mean((top & (same == 1)).any(1) / top.sum(1)))


def line_texture(images, leg: int, bins: int) -> np.ndarray:
    """Raw texture histograms of line images (arrays or paths, unresized):
    :func:`~hwutils.writer_id.texture_distance.evidence_features`."""
    from hwutils.writer_id.texture_distance import evidence_features

    return np.asarray(evidence_features(list(images), leg, bins), np.float64)


def lines_of(records, embeddings, texture) -> Lines:
    """:class:`Lines` of dataset records (``.writer``, ``.page``) with their evidence."""
    return Lines(embeddings, texture, [r.writer for r in records], [r.page for r in records])


def fit_and_measure(
    train: Lines,
    val: Lines,
    test: Lines,
    leg: int,
    bins: int,
    enrolment: Lines | None = None,
    queries: Lines | None = None,
    calibration: Lines | None = None,
) -> tuple[LRModel, dict, dict]:
    """References from the ``train`` lines, scorers fitted on the ``val``
    lines, measured on the ``test`` lines (known writers, other pages); with
    ``enrolment`` lines of new writers (never seen in training or calibration)
    their references are added and their ``queries`` lines measured too
    (metrics prefixed ``new_``). Returns ``(model, metrics, trials)``;
    ``trials[(who, unit)] = (log10_lrs, same)`` with who ``known`` or ``new``."""
    refs = References.fit(train, leg, bins)
    ref_lines = int(np.median(np.unique(train.writers, return_counts=True)[1])) if len(train) else 0
    pool = Lines.concat([train, val]) if calibration is not None and len(train) + len(val) else None
    model = LRModel.fit(refs, val, calibration, ref_lines=ref_lines, texture_lines=pool)
    metrics, kept = evaluate(model, test)
    out_trials = {("known", u): t for u, t in kept.items()}
    if enrolment is not None and queries is not None and len(enrolment) and len(queries):
        refs.add(enrolment)
        m_new, kept_new = evaluate(model, queries, prefix="new_")
        metrics.update(m_new)
        out_trials.update({("new", u): t for u, t in kept_new.items()})
    for unit in UNITS:
        w = model.scorers[unit].weights
        metrics[f"{unit}_lr_texture_weight"] = float(w[0])
        metrics[f"{unit}_lr_cnn_weight"] = float(w[1])
    return model, metrics, out_trials


def sentence(metrics: dict) -> str:
    """The LR results in words, with the goals (Cllr below 1, calibration loss at most 0.05)."""
    from hwutils.calibration import CALIBRATION_LOSS_GOAL, NO_EVIDENCE_CLLR
    from hwutils.report import format_number

    parts = []
    for who, prefix in (("known writers' test pages", ""), ("new writers", "new_")):
        for unit in UNITS:
            c = metrics.get(f"{prefix}{unit}_cllr")
            if c is None or c != c:
                continue
            cmin, loss = metrics[f"{prefix}{unit}_cllr_min"], metrics[f"{prefix}{unit}_cllr_cal"]
            verdict = []
            if c >= NO_EVIDENCE_CLLR:
                verdict.append("**worse than stating no evidence (Cllr at least 1)**")
            if loss > CALIBRATION_LOSS_GOAL:
                verdict.append(f"**calibration loss above the {CALIBRATION_LOSS_GOAL} goal**")
            parts.append(
                f"- {who}, per {unit}: Cllr {format_number(c)}, Cllr_min {format_number(cmin)}, "
                f"calibration loss {format_number(loss)} "
                f"({metrics[f'{prefix}{unit}_n_same']} same-writer and "
                f"{metrics[f'{prefix}{unit}_n_different']} different-writer trials)"
                + ("; " + ", ".join(verdict) if verdict else "")
            )
    if not parts:
        return "No test trials of both kinds: the likelihood ratios could not be measured."
    named = [
        f"{format_number(metrics[f'new_{unit}_evidence_top1'], 'percent')} of their {unit}s"
        for unit in UNITS
        if metrics.get(f"new_{unit}_evidence_top1") is not None
    ]
    tail = (
        "\n\nNamed by the largest likelihood ratio (texture and CNN evidence together) among every"
        f" reference, the new writers get {' and '.join(named)} right."
        if named
        else ""
    )
    return "Likelihood ratios on test trials that calibration never saw:\n\n" + "\n".join(parts) + tail


def run_lines(records, embeddings, leg: int, bins: int, texture=None) -> Lines:
    """:class:`Lines` of a run's dataset ``records`` with their CNN
    ``embeddings``; the texture evidence (:func:`line_texture`) is computed from
    the records' images unless given (the fusion step's ``features``)."""
    if texture is None:
        texture = line_texture([r.image if r.image is not None else r.path for r in records], leg, bins)
    return lines_of(records, embeddings, texture)


def calibration_sentence(model: LRModel, calibration_writers) -> str:
    """Where the LR calibration came from, in one sentence."""
    source = model.scorers["line"].source
    if calibration_writers:
        chosen = [
            f"per {unit}, {s.selection['features']}"
            + (
                f" calibrated on {s.selection['texture_writers']} writers (these and the training writers:"
                " the texture comparison has no trained part)"
                if s.selection.get("texture_writers")
                else ""
            )
            for unit, s in model.scorers.items()
            if s.selection.get("features") and unit in UNITS
        ]
        sized = sorted(int(k.partition(":")[2]) for k in model.scorers if _is_page_size(k))
        page = model.scorers["page"].calibrator.conditions.get("page_lines") if sized else None
        return (
            f"The likelihood ratios are calibrated on {len(calibration_writers)} writers held out of training"
            f" ({', '.join(map(str, calibration_writers))}): the CNN never saw them, so their similarities"
            " are what an unseen writer's look like."
            + (
                f" Similarities fused ({'; '.join(chosen)}), chosen by cross-validation over those writers."
                if chosen
                else ""
            )
            + (
                f" Pages are calibrated on their pages of {page} lines and, for shorter documents, on pages of"
                f" {', '.join(map(str, sized))} lines (a document gets the largest size not above its own)."
                if sized and page
                else ""
            )
        )
    return (
        f"The likelihood ratios are calibrated on {source}: writers the CNN trained on, whose similarities"
        " are higher than an unseen writer's (set `calibration_writers` to hold writers out for calibration)."
    )
