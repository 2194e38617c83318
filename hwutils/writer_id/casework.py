"""Casework: who of the persons of interest wrote a questioned document, as
likelihood ratios.

A *case* is two folders of page images (or line images):

- ``known_dir``: the known documents of the persons of interest. The person
  is read from each file name by ``name_pattern`` (a regular expression with a
  ``(?P<writer>...)`` group), or, when the folder holds one sub-folder per
  person, from the sub-folder's name.
- ``questioned_dir``: the questioned documents. When a file name matches
  ``name_pattern`` its writer is taken as the ground truth (a test case) and
  the case is scored; otherwise the truth is unknown and nothing is scored.

Every document is cut into lines (:func:`hwutils.datasets.pages.segment_lines`)
and brought to the scale the writer-identification run was trained on
(:func:`scale_factor`). Each line gives the run's two kinds of evidence: the
CNN's embedding (:meth:`~hwutils.writer_id.identify.WriterIdentifier.line_embeddings`)
and the contour-hinge texture histograms (:mod:`hwutils.writer_id.texture`,
with the run's leg and bins). A document's evidence is the mean over its
lines: the unit-length mean embedding, and the mean histograms, Hellinger
mapped and standardised with the run's texture statistics, made unit length.
Persons of interest are *enrolled* from their known documents the same way
(no retraining).

A questioned document and a person are compared by two cosine similarities
(texture, CNN); a logistic regression fitted on calibration trials weighs them
into one score, and :class:`hwutils.calibration.LRCalibrator` maps the score
to log10 LR for H1 (the person wrote it) against H2 (someone else wrote it).
Calibration trials are never built from the questioned documents: they come
from the known documents themselves (each person's lines split into two
pseudo documents, repeatedly) together with writers of the run's own data,
leaving out the case's writers and files. (Trials from the writer_id run's
validation lines were tried and dropped: those writers were seen in training,
and the smoke case's stranger was named, the default case's reached log10 LR
+0.17.)

The answer for a questioned document: the person with the largest LR when
that log10 LR exceeds ``min_log10_lr`` (0: LR > 1, the evidence favours H1),
else "none of them" (the writing supports H2 against every person). The
posterior probabilities assume equal priors over the persons of interest
(a closed set): ``p_i = LR_i / sum_j LR_j``.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from hwutils.errors import DataError, HwError, ParamsError
from hwutils.report import HTMLTable, rows_table

NONE_OF_THEM = "none of them"
PARTS = ("all", "top", "bottom")
SCALE_STEPS = (0.25, 0.5, 1.0, 2.0, 4.0)
AUTO_MIN_RATIO = 1.75  # stroke-width ratios closer to 1 than this are the writer's pen, not the scan


# --- parameter checks (light: hw runs them before any kernel starts) --------------------------


def check_name_pattern(value: str) -> None:
    """``value`` is a regular expression with a ``(?P<writer>...)`` group."""
    try:
        rx = re.compile(value)
    except re.error as exc:
        raise ParamsError(f"not a regular expression ({exc})") from None
    if "writer" not in rx.groupindex:
        raise ParamsError("needs a named group (?P<writer>...)")


def _image_files(folder: Path) -> list[Path]:
    from hwutils.images import list_images

    return list_images(folder)


def check_case_folder(value: str) -> None:
    """``value`` is empty (the embedded synthetic case) or a folder holding
    image files, directly or in one sub-folder per person; every file must be
    an image (header checked)."""
    if not value:
        return
    for path, _ in list_documents(value, None):
        from hwutils.images import check_image_file

        check_image_file(path)


def check_writer_run(value: str) -> None:
    """``value`` is empty (train a small run first) or names a finished
    ``writer_id`` run (its id, or its folder)."""
    if value:
        resolve_writer_run(value)


def resolve_writer_run(value: str | Path, outputs: Path | None = None) -> Path:
    """The folder of a finished ``writer_id`` run given as a folder path or a
    run id (looked up under ``<outputs>/writer_id/``); :class:`ParamsError`
    naming it when it is not one, not finished, or lacks the model files."""
    from hwutils.runs.manifest import load_run
    from hwutils.runs.project import outputs_root

    path = Path(value).expanduser()
    if not path.is_dir():
        cand = (outputs or outputs_root()) / "writer_id" / str(value)
        if not cand.is_dir():
            raise ParamsError(f"{value}: neither a run folder nor a writer_id run id under {cand.parent}")
        path = cand
    manifest = load_run(path)
    if manifest is None:
        raise ParamsError(f"{path}: not a run folder (no manifest.json)")
    state = manifest["_state"]
    if state["status"] == "broken":
        raise ParamsError(f"{path}: broken run ({state['reason']})")
    if manifest.get("stage") != "writer_id":
        raise ParamsError(f"{path}: a {manifest.get('stage')} run, not a writer_id run")
    if state["status"] != "ok":
        raise ParamsError(f"{path}: writer_id run is {state['status']}, not a finished (ok) run")
    for name in ("writer_id.json", "model.keras", "gallery.npz"):
        if not (path / "artifacts" / name).is_file():
            raise ParamsError(f"{path}: writer_id run without artifacts/{name}")
    return path


# --- documents --------------------------------------------------------------------------------


def list_documents(
    folder: str | Path, name_pattern: str | None, role: str = "known"
) -> list[tuple[Path, str | None]]:
    """``(path, person)`` of every image of a case folder, sorted.

    Images directly in ``folder``: the person is the ``writer`` group of
    ``name_pattern`` matched against the file name (None when it does not
    match). A folder holding only sub-folders of images: one sub-folder per
    person, named after them. ``name_pattern=None`` lists without naming."""
    from hwutils.datasets.pages import writer_from_name

    folder = Path(folder)
    if not folder.is_dir():
        raise DataError(f"{folder}: no such folder")
    direct = _image_files(folder)
    if direct:
        return [(p, writer_from_name(p, name_pattern) if name_pattern else None) for p in direct]
    subs = sorted(p for p in folder.iterdir() if p.is_dir() and not p.name.startswith("."))
    docs = [(p, sub.name) for sub in subs for p in _image_files(sub)]
    if not docs:
        raise DataError(
            f"{folder}: empty, no image files (looked for page images in it and in one sub-folder per person)"
        )
    return docs


def _only(docs, writers, what: str, folder) -> list:
    if not writers:
        return docs
    wanted = [str(w) for w in writers]
    kept = [(p, w) for p, w in docs if w in wanted]
    missing = sorted(set(wanted) - {w for _, w in kept})
    if missing:
        raise ParamsError(f"{what}: no document of {', '.join(missing)} in {folder}")
    return kept


def check_case(
    known_dir, questioned_dir, name_pattern: str, known_writers=(), questioned_writers=()
) -> tuple[list, list]:
    """List the case's documents and check them before any work: every known
    document names its person, every file is an image (header). With
    ``known_writers`` / ``questioned_writers`` only those writers' documents
    are kept (each must have one). Returns the ``(path, person)`` lists of
    known and questioned documents; a questioned person is None where the
    file name carries no writer."""
    from hwutils.images import check_image_file

    check_name_pattern(name_pattern)
    known = list_documents(known_dir, name_pattern)
    unnamed = [p for p, w in known if w is None]
    if unnamed:
        raise DataError(
            f"{unnamed[0]}: known document whose file name does not match name_pattern {name_pattern!r} "
            f"({len(unnamed)} of {len(known)} files); name it after its writer or use one sub-folder per person"
        )
    known = _only(known, known_writers, "known_writers", known_dir)
    questioned = _only(
        list_documents(questioned_dir, name_pattern), questioned_writers, "questioned_writers", questioned_dir
    )
    for path, _ in known + questioned:
        check_image_file(path)
    if len({w for _, w in known}) < 1:
        raise DataError(f"{known_dir}: no person of interest")
    return known, questioned


def stroke_width(gray: np.ndarray) -> float:
    """Mean pen width of the ink in pixels: twice the ink area over the length
    of its contours (a stroke of width w and length L has area wL and about
    2L of contour). Scales with the scan resolution; 0 without ink."""
    import cv2

    from hwutils.images import binarize

    mask = np.ascontiguousarray(binarize(np.asarray(gray, np.uint8)).astype(np.uint8))
    contours, _ = cv2.findContours(mask, cv2.RETR_LIST, cv2.CHAIN_APPROX_NONE)
    perimeter = sum(cv2.arcLength(c, True) for c in contours)
    return float(2.0 * mask.sum() / perimeter) if perimeter > 0 else 0.0


def document_stroke_width(lines) -> float:
    """Median :func:`stroke_width` over a document's lines."""
    widths = [w for w in (stroke_width(l) for l in lines) if w > 0]
    return float(np.median(widths)) if widths else 0.0


def scale_factor(
    measured: float, reference: float | None, dpi: int = 0, train_dpi: int = 300, estimate: bool = False
) -> float:
    """The factor that brings a document to the run's scale.

    With ``dpi`` (the document's scan resolution, > 0): ``train_dpi / dpi``;
    ``dpi`` 0 means the run's own resolution (factor 1).

    With ``estimate`` (and no ``dpi``) the factor is estimated from the pen: the
    ratio of the run's stroke width (``reference``, measured on its training
    lines) to the document's. Pens differ between writers (on CSAFE's 300-dpi
    pages the stroke width spans 2.9 to 4.9 px, on the synthetic writers about
    2.6 to 8 px), so a ratio within :data:`AUTO_MIN_RATIO` of 1 is taken as
    the writer's pen and left alone (factor 1: the pen stays evidence); beyond
    it the factor is the nearest power of two in :data:`SCALE_STEPS` (a page
    scanned at half or a quarter of the resolution in each direction). A thick
    or thin pen near the band's edge can be taken for another resolution, and
    resolutions in between (200 dpi against 300) are not found: give ``dpi``
    when it is known."""
    if dpi and dpi > 0:
        return float(train_dpi) / float(dpi)
    if not estimate or not reference or not measured or measured <= 0:
        return 1.0
    ratio = reference / measured
    if 1 / AUTO_MIN_RATIO < ratio < AUTO_MIN_RATIO:
        return 1.0
    return float(min(SCALE_STEPS, key=lambda s: abs(math.log2(s) - math.log2(ratio))))


def rescale(gray: np.ndarray, factor: float) -> np.ndarray:
    """``gray`` resized by ``factor`` (area averaging down, cubic up); unchanged at 1."""
    import cv2

    if abs(factor - 1.0) < 1e-6:
        return gray
    h, w = gray.shape
    size = (max(1, round(w * factor)), max(1, round(h * factor)))
    interp = cv2.INTER_AREA if factor < 1 else cv2.INTER_CUBIC
    return cv2.resize(gray, size, interpolation=interp)


@dataclass
class Document:
    """A case document: its file, person (None: unknown), the page as read,
    its segmented lines (at the run's scale) and their boxes on the page."""

    path: Path
    person: str | None
    page: np.ndarray
    lines: list
    boxes: list
    stroke: float
    scale: float
    part: str = "all"

    @property
    def name(self) -> str:
        return self.path.stem


def load_document(
    path,
    person,
    reference_stroke: float | None = None,
    dpi: int = 0,
    train_dpi: int = 300,
    part: str = "all",
    segment: bool = True,
    estimate: bool = False,
) -> Document:
    """Read, check and segment one document; :class:`DataError` or
    :class:`~hwutils.errors.ImageError` naming the file when it is blank or
    holds no text line. ``part`` keeps the ``top`` or ``bottom`` half of its
    lines (the first ceil(n/2) or the rest), or ``all``."""
    from hwutils.datasets.pages import segment_lines
    from hwutils.errors import check_choice
    from hwutils.images import gray_with_ink

    check_choice("part", part, PARTS)
    path = Path(path)
    page = gray_with_ink(path)
    if segment:
        found = segment_lines(page)
        boxes = [(lb.top, lb.bottom, lb.left, lb.right) for lb in found]
        lines = [lb.image for lb in found]
    else:
        lines, boxes = [page], [(0, page.shape[0], 0, page.shape[1])]
    if not lines:
        raise DataError(f"{path}: no text lines detected on this page")
    if part != "all":
        if len(lines) < 2:
            raise DataError(f"{path}: {len(lines)} text line, cannot keep its {part} half")
        half = (len(lines) + 1) // 2
        keep = slice(0, half) if part == "top" else slice(half, None)
        lines, boxes = lines[keep], boxes[keep]
    stroke = document_stroke_width(lines)
    factor = scale_factor(stroke, reference_stroke, dpi, train_dpi, estimate)
    lines = [rescale(l, factor) for l in lines]
    return Document(path, person, page, lines, boxes, stroke, factor, part)


def load_documents(listing, **kw) -> list[Document]:
    """:func:`load_document` of every ``(path, person)``."""
    return [load_document(p, w, **kw) for p, w in listing]


def reference_stroke_width(run_dir, limit: int = 24) -> tuple[float | None, str]:
    """The median stroke width of a writer_id run's training lines, and where
    they were found: the synthetic lines it generated (``artifacts/synthetic_iam``),
    else the ``data_dir`` of its ``params.yaml`` (pages: the first three, segmented;
    IAM: the first ``limit`` line images). ``(None, reason)`` when none can be read."""
    import yaml

    from hwutils.datasets.pages import segment_lines
    from hwutils.images import list_images, read_gray

    run_dir = Path(run_dir)
    synth = run_dir / "artifacts" / "synthetic_iam" / "lines"
    lines, where = [], ""
    try:
        if synth.is_dir():
            files = sorted(synth.rglob("*.png"))
            files = files[:: max(1, len(files) // limit)][:limit]  # spread over the writers
            lines, where = [read_gray(f) for f in files], f"{len(files)} synthetic training lines of the run"
        else:
            params = yaml.safe_load((run_dir / "params.yaml").read_text()) or {}
            data_dir = Path(str(params.get("data_dir") or ""))
            if params.get("data_format") == "pages" and data_dir.is_dir():
                files = list_images(data_dir)
                files = files[:: max(1, len(files) // 3)][:3]
                lines = [lb.image for f in files for lb in segment_lines(read_gray(f))]
                where = f"{len(files)} pages of {data_dir}"
            elif data_dir.is_dir():
                files = sorted((data_dir / "lines").rglob("*.png"))
                files = files[:: max(1, len(files) // limit)][:limit]
                lines, where = [read_gray(f) for f in files], f"{len(files)} lines of {data_dir}"
    except (HwError, OSError, yaml.YAMLError) as exc:
        return None, f"training lines unreadable ({str(exc).splitlines()[0]})"
    width = document_stroke_width(lines) if lines else 0.0
    if width <= 0:
        return None, "no training lines of the run found"
    return width, where


def background_lines(
    run_dir, max_writers: int = 12, lines_per_writer: int = 8, exclude=(), exclude_paths=()
) -> tuple[list, list, str]:
    """Lines of other writers, from the data the writer_id run was trained on:
    ``(line images, writers, where)``, up to ``lines_per_writer`` lines of up to
    ``max_writers`` writers (empty lists when the run's data cannot be found).
    Read from the run's synthetic lines (``artifacts/synthetic_iam``), else
    from the ``data_dir`` of its ``params.yaml`` (IAM layout, or pages named
    by its ``name_pattern``: one page per writer, segmented). Writers in
    ``exclude`` and files in ``exclude_paths`` (the case's own writers and
    documents) are never used."""
    import yaml

    from hwutils.datasets import iam, pages
    from hwutils.images import read_gray

    run_dir = Path(run_dir)
    synth = run_dir / "artifacts" / "synthetic_iam"
    excluded = {str(w) for w in exclude}
    try:
        if synth.is_dir():
            records, where = iam.load_iam(synth, level="lines"), "the run's synthetic training writers"
        else:
            params = yaml.safe_load((run_dir / "params.yaml").read_text()) or {}
            data_dir = Path(str(params.get("data_dir") or ""))
            if not str(params.get("data_dir") or "") or not data_dir.is_dir():
                return [], [], "no data of the run found"
            if params.get("data_format") == "pages":
                pattern = params.get("name_pattern") or pages.CSAFE_PATTERN
                files = [(f, pages.writer_from_name(f, pattern)) for f in _image_files(data_dir)]
                by_writer: dict = {}
                skip = {Path(x).resolve() for x in exclude_paths}
                for f, w in files:
                    if w is not None and w not in excluded and f.resolve() not in skip:
                        by_writer.setdefault(w, f)
                chosen = sorted(by_writer)[:: max(1, len(by_writer) // max_writers)][:max_writers]
                lines, writers = [], []
                for w in chosen:
                    found = [lb.image for lb in pages.segment_lines(read_gray(by_writer[w]))][
                        :lines_per_writer
                    ]
                    lines += found
                    writers += [w] * len(found)
                return lines, writers, f"the run's data ({data_dir}, one page each)"
            records, where = iam.load_iam(data_dir, level="lines"), f"the run's data ({data_dir})"
    except (HwError, OSError, yaml.YAMLError):
        return [], [], "the run's data could not be read"
    names = sorted({r.writer for r in records} - excluded)
    chosen = set(names[:: max(1, len(names) // max_writers)][:max_writers])
    lines, writers, count = [], [], {}
    for r in records:
        if r.writer in chosen and count.get(r.writer, 0) < lines_per_writer:
            lines.append(r.image if r.image is not None else read_gray(r.path))
            writers.append(r.writer)
            count[r.writer] = count.get(r.writer, 0) + 1
    return lines, writers, where


# --- evidence ---------------------------------------------------------------------------------


@dataclass
class Evidence:
    """Per-line evidence of a set of documents: CNN ``embeddings`` (n, d),
    raw contour-hinge ``texture`` histograms (n, f) and the index of the
    document each line belongs to (``owner``)."""

    embeddings: np.ndarray
    texture: np.ndarray
    owner: np.ndarray


class EvidenceSpace:
    """How lines become document vectors: the run's identifier (for CNN
    embeddings), its texture leg and bins, and the texture standardisation
    (the run's texture classifier's, or fitted on given features)."""

    def __init__(self, identifier, leg: int, bins: int, tex_mean=None, tex_scale=None):
        self.wid, self.leg, self.bins = identifier, int(leg), int(bins)
        self.tex_mean = None if tex_mean is None else np.asarray(tex_mean, np.float64)
        self.tex_scale = None if tex_scale is None else np.asarray(tex_scale, np.float64)

    @classmethod
    def from_identifier(cls, wid) -> EvidenceSpace:
        tex = wid.texture
        if tex is not None:
            return cls(wid, tex.leg, tex.bins, tex.mean, tex.scale)
        return cls(wid, 12, 16)

    def line_evidence(self, documents) -> Evidence:
        """Evidence of every line of ``documents`` (:class:`Document` list)."""
        from hwutils.writer_id.texture import line_features

        lines = [l for d in documents for l in d.lines]
        owner = np.concatenate([np.full(len(d.lines), i) for i, d in enumerate(documents)])
        emb = np.asarray(self.wid.line_embeddings(lines), np.float64)
        tex = np.asarray(line_features(lines, self.leg, self.bins), np.float64)
        return Evidence(emb, tex, owner)

    def fit_standardiser(self, texture) -> None:
        """Texture statistics from ``texture`` lines when the run has none."""
        x = np.sqrt(np.asarray(texture, np.float64))
        self.tex_mean, self.tex_scale = x.mean(0), x.std(0)
        self.tex_scale[self.tex_scale < 1e-8] = 1.0

    def vectors(self, embeddings, texture, owner, n_docs: int | None = None) -> tuple[np.ndarray, np.ndarray]:
        """Unit-length document vectors ``(texture, cnn)`` from the lines' evidence."""
        from hwutils.writer_id.openset import normalize
        from hwutils.writer_id.scan import average_by

        owner = np.asarray(owner, int)
        n_docs = int(owner.max()) + 1 if n_docs is None else n_docs
        cnn = normalize(average_by(normalize(np.asarray(embeddings, np.float32)), owner, n_docs))
        hist = average_by(np.asarray(texture, np.float32), owner, n_docs).astype(np.float64)
        if self.tex_mean is None:
            self.fit_standardiser(texture)
        tex = normalize(
            ((np.sqrt(np.clip(hist, 0, None)) - self.tex_mean) / self.tex_scale).astype(np.float32)
        )
        return tex, cnn


def similarities(q_vectors, p_vectors) -> np.ndarray:
    """``(n_q, n_p, 2)`` cosine similarities (texture, CNN) of questioned to person vectors."""
    (qt, qc), (pt, pc) = q_vectors, p_vectors
    return np.stack([qt @ pt.T, qc @ pc.T], axis=-1).astype(np.float64)


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


def trial_scores(
    space: EvidenceSpace, embeddings, texture, writers, doc_lines: int, repeats: int = 3, seed: int = 0
):
    """Same-writer and different-writer trials between pseudo-documents:
    ``(similarities (n, 2), same (n,))``. Pairs are taken within one repeat
    (pseudo-documents of the same draw), each unordered pair once."""
    idx, owner, doc_writer = pseudo_documents(writers, doc_lines, repeats, seed)
    if len(set(doc_writer.tolist())) < 2:
        raise DataError("calibration needs at least two writers with two lines or more each")
    tex, cnn = space.vectors(np.asarray(embeddings)[idx], np.asarray(texture)[idx], owner, len(doc_writer))
    per_repeat = len(doc_writer) // repeats
    sims, same = [], []
    for r in range(repeats):
        lo = r * per_repeat
        for i in range(lo, lo + per_repeat):
            for j in range(i + 1, lo + per_repeat):
                sims.append([tex[i] @ tex[j], cnn[i] @ cnn[j]])
                same.append(int(doc_writer[i] == doc_writer[j]))
    return np.array(sims, np.float64), np.array(same, int)


@dataclass
class CaseScorer:
    """Weights of the two similarities (a logistic regression on calibration
    trials) and the score-to-LR calibrator; ``source`` says where the trials came from."""

    weights: np.ndarray
    intercept: float
    calibrator: object
    source: str
    trial_scores: np.ndarray = field(default=None, repr=False)
    trial_same: np.ndarray = field(default=None, repr=False)

    @classmethod
    def fit(cls, sims, same, source: str, method: str = "logistic") -> CaseScorer:
        from sklearn.linear_model import LogisticRegression

        from hwutils.calibration import LRCalibrator

        sims, same = np.asarray(sims, np.float64), np.asarray(same, int)
        if same.min(initial=1) == same.max(initial=0) or len(same) < 3:
            raise DataError(
                f"calibration ({source}): needs same-writer and different-writer trials, "
                f"got {int(same.sum())} and {int((1 - same).sum())}"
            )
        lr = LogisticRegression(C=1.0, class_weight="balanced", max_iter=1000).fit(sims, same)
        w, b = lr.coef_[0].astype(np.float64), float(lr.intercept_[0])
        scores = sims @ w + b
        cal = LRCalibrator(method=method).fit(scores, same)
        return cls(w, b, cal, source, scores, same)

    def score(self, sims) -> np.ndarray:
        """The fused score of similarities ``(..., 2)``."""
        return np.asarray(sims, np.float64) @ self.weights + self.intercept

    def log10_lr(self, sims) -> np.ndarray:
        s = self.score(sims)
        return np.asarray(self.calibrator.log10_lr(s.ravel()), np.float64).reshape(s.shape)

    def to_dict(self) -> dict:
        return {
            "weights": {"texture": float(self.weights[0]), "cnn": float(self.weights[1])},
            "intercept": self.intercept,
            "source": self.source,
            "calibrator": self.calibrator.to_dict(),
        }


def calibration_trials(
    space: EvidenceSpace,
    run_dir,
    known: list[Document],
    known_evidence: Evidence,
    repeats: int = 3,
    seed: int = 0,
    questioned: list[Document] = (),
) -> tuple[np.ndarray, np.ndarray, str]:
    """``(similarities, same, source)`` of the case's calibration trials; never
    from questioned documents. Pseudo-documents hold as many lines as the
    median known document: the known documents (each person's lines split
    into two pseudo-documents) together with writers of the run's own
    training data (:func:`background_lines`, leaving out the case's writers
    and files: pass ``questioned`` for that), so that the different-writer
    trials are not only the few pairs of persons of interest."""
    doc_lines = max(1, int(np.median([len(d.lines) for d in known])))
    emb, tex = known_evidence.embeddings, known_evidence.texture
    writers = ["known:" + known[i].person for i in known_evidence.owner]
    source = "known documents"
    case_docs = list(known) + list(questioned)
    bg_lines, bg_writers, where = (
        background_lines(
            run_dir,
            exclude={d.person for d in case_docs if d.person is not None},
            exclude_paths=[d.path for d in case_docs],
        )
        if run_dir is not None
        else ([], [], "")
    )
    if bg_lines:
        from hwutils.writer_id.texture import line_features

        bg_emb = np.asarray(space.wid.line_embeddings(bg_lines), np.float64)
        bg_tex = np.asarray(line_features(bg_lines, space.leg, space.bins), np.float64)
        emb, tex = np.concatenate([emb, bg_emb]), np.concatenate([tex, bg_tex])
        writers += ["background:" + w for w in bg_writers]
        source += f" and {len(set(bg_writers))} writers of {where}"
    sims, same = trial_scores(space, emb, tex, np.array(writers), doc_lines, repeats, seed)
    return (
        sims,
        same,
        f"{source} (each writer's lines split into two pseudo-documents of up to {doc_lines} lines, "
        f"{repeats} draws)",
    )


def fit_scorer(
    space, run_dir, known, known_evidence, repeats: int = 3, seed: int = 0, questioned=()
) -> CaseScorer:
    """:meth:`CaseScorer.fit` on :func:`calibration_trials`."""
    return CaseScorer.fit(
        *calibration_trials(space, run_dir, known, known_evidence, repeats, seed, questioned)
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
        if space.tex_mean is None:  # a run without a texture classifier: standardise on the known lines
            space.fit_standardiser(evidence.texture)
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
        sims = similarities(q, self.vectors)
        scores = scorer.score(sims)
        llr = scorer.log10_lr(sims)
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


# --- the embedded synthetic case and the small writer run --------------------------------------


def compose_page(lines, gap: float = 0.5, margin: int = 40, paper: int = 250) -> np.ndarray:
    """Line images stacked on one page (left aligned, ``gap`` x the line
    height between them), paper ``paper`` gray."""
    width = max(l.shape[1] for l in lines) + 2 * margin
    heights = [l.shape[0] for l in lines]
    step = [int(h * (1 + gap)) for h in heights]
    page = np.full((sum(step) + 2 * margin, width), paper, np.uint8)
    y = margin
    for line, s in zip(lines, step):
        region = page[y : y + line.shape[0], margin : margin + line.shape[1]]
        np.minimum(region, line, out=region)
        y += s
    return page


def page_name(writer: int, session: int, rep: int = 1) -> str:
    """A CSAFE-style file name (``w0001_s01_pSYN_r01.png``) for the synthetic case."""
    return f"w{writer:04d}_s{session:02d}_pSYN_r{rep:02d}.png"


def font_family(path) -> str:
    """A font file's family: its name without weight and style (``DejaVuSans-BoldOblique`` ->
    ``DejaVuSans``, ``STIXGeneralBolIta`` -> ``STIXGeneral``, ``cmb10`` -> ``cmr10``)."""
    stem = Path(path).stem.split("-")[0]
    stem = re.sub(r"(Bol|Ita|Italic|Bold|Oblique)+$", "", stem)
    return {"cmb10": "cmr10"}.get(stem, stem)


def write_synthetic_case(
    root,
    persons: int = 4,
    questioned: int = 3,
    strangers: int = 1,
    known_forms: int = 2,
    lines_per_form: int = 4,
    chars_per_line: int = 32,
    seed: int = 1,
) -> tuple[Path, Path]:
    """A case of synthetic writers (:mod:`hwutils.synth.handwriting`) as pages
    in CSAFE naming: ``root/known/`` holds ``known_forms`` pages of each of
    ``persons`` writers, ``root/questioned/`` another page of the first
    ``questioned`` of them and one of each of ``strangers`` writers who are not
    among the known. Writers are numbered from 101 (``seed`` draws their styles,
    so use another seed than the writer run's training writers). Each writer
    writes in another font family (:func:`font_family`; they repeat only past
    the eight families): two synthetic writers of one family differ in little
    more than slant and size, twins no real case is made of. Returns
    ``(known_dir, questioned_dir)``."""
    from hwutils.images import save_gray
    from hwutils.synth.glyphs import font_paths
    from hwutils.synth.handwriting import random_style, random_text, render_line

    if not 1 <= questioned <= persons:
        raise ParamsError(f"synth_questioned: must be from 1 to synth_persons ({persons}), got {questioned}")
    root = Path(root)
    rng = np.random.default_rng(seed)
    families: dict = {}
    for f in font_paths():
        families.setdefault(font_family(f), []).append(f)
    names = [sorted(families)[i] for i in rng.permutation(len(families))]
    styles = [random_style(rng, families[names[i % len(names)]]) for i in range(persons + strangers)]
    known_dir, q_dir = root / "known", root / "questioned"

    def page(style):
        return compose_page(
            [render_line(random_text(rng, chars_per_line), style, rng) for _ in range(lines_per_form)]
        )

    for i in range(persons):
        for s in range(known_forms):
            save_gray(page(styles[i]), known_dir / page_name(101 + i, s + 1))
    for i in list(range(questioned)) + list(range(persons, persons + strangers)):
        save_gray(page(styles[i]), q_dir / page_name(101 + i, known_forms + 1))
    return known_dir, q_dir


def train_writer_run(folder, params_file: str = "default", seed: int = 0, timeout: float = 900) -> Path:
    """Train a writer_id run on its synthetic demo data (``params/writer_id/<params_file>.yaml``)
    with ``hw run`` in a child process writing into ``folder`` (its own outputs
    folder, e.g. inside this run's artifacts); returns the finished run's folder."""
    import os
    import subprocess
    import sys

    folder = Path(folder)
    env = dict(os.environ, HW_OUTPUTS=str(folder))
    for key in ("HW_RUN_DIR", "HW_STAGE", "HW_RUN_ID"):
        env.pop(key, None)
    cmd = [sys.executable, "-m", "hwutils", "run", "writer_id", "-f", params_file, "-p", "seed", str(seed)]
    cmd += ["--label", "casework: writer run trained for this case"]
    proc = subprocess.run(cmd, env=env, capture_output=True, text=True, timeout=timeout)
    runs = (
        sorted(p for p in (folder / "writer_id").glob("*") if p.is_dir())
        if (folder / "writer_id").is_dir()
        else []
    )
    if proc.returncode != 0 or not runs:
        tail = (proc.stderr or proc.stdout).strip().splitlines()[-1:] or ["no output"]
        raise HwError(f"training the writer_id run for this case failed (exit {proc.returncode}): {tail[0]}")
    return resolve_writer_run(runs[-1])


# --- what the report shows ---------------------------------------------------------------------


VERDICT_FORMATS = {
    "texture similarity": "{:.3f}",
    "CNN similarity": "{:.3f}",
    "score": "{:.2f}",
    "log10 LR": "{:+.2f}",
    "posterior": "{:.4f}",
}


def verdict_table(verdict: Verdict) -> HTMLTable:
    """A questioned document against every person, strongest LR first."""
    truth = f"; true writer {verdict.truth}" if verdict.truth is not None else ""
    return rows_table(verdict.rows(), f"{verdict.document}: answer {verdict.answer}{truth}", VERDICT_FORMATS)


def summary_table(verdicts: list[Verdict]) -> HTMLTable:
    """One row per questioned document: the answer, its LR and posterior, the truth."""
    rows = []
    for v in verdicts:
        best = int(np.argmax(v.log10_lr))
        rows.append(
            {
                "questioned document": v.document,
                "answer": v.answer,
                "strongest person": v.persons[best],
                "log10 LR": float(v.log10_lr[best]),
                "posterior": float(v.posteriors[best]),
                "true writer": v.truth if v.truth is not None else "unknown",
                "correct": {True: "yes", False: "NO", None: ""}[v.correct],
            }
        )
    return rows_table(rows, "answers", VERDICT_FORMATS)


def documents_table(documents: list[Document]) -> HTMLTable:
    """The documents as read: person, lines, stroke width and the scale applied."""
    return rows_table(
        [
            {
                "document": d.name,
                "person": d.person if d.person is not None else "unknown",
                "part": d.part,
                "lines": len(d.lines),
                "stroke width (px)": round(d.stroke, 2),
                "scale applied": d.scale,
            }
            for d in documents
        ]
    )


def document_figure(doc: Document, verdict: Verdict | None = None, max_lines: int = 8):
    """The questioned page with its segmented lines boxed, and the lines as scored."""
    import matplotlib.pyplot as plt
    from matplotlib.patches import Rectangle

    shown = doc.lines[:max_lines]
    fig = plt.figure(figsize=(11, 0.9 * max(4, len(shown)) + 0.5))
    grid = fig.add_gridspec(len(shown), 2, width_ratios=[1, 1.6])
    ax = fig.add_subplot(grid[:, 0])
    ax.imshow(doc.page, cmap="gray", vmin=0, vmax=255)
    for k, (top, bottom, left, right) in enumerate(doc.boxes):
        ax.add_patch(Rectangle((left, top), right - left, bottom - top, fill=False, color="tab:red", lw=1))
        ax.text(left, top, str(k + 1), color="tab:red", fontsize=7, va="bottom")
    ax.axis("off")
    title = doc.name if verdict is None else f"{doc.name}: {verdict.answer}"
    ax.set_title(title, fontsize=9)
    for k, line in enumerate(shown):
        a = fig.add_subplot(grid[k, 1])
        a.imshow(line, cmap="gray", vmin=0, vmax=255)
        a.set_title(f"line {k + 1}", fontsize=7, loc="left")
        a.axis("off")
    fig.tight_layout()
    return fig
