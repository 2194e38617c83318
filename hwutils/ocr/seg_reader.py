"""The segmentation reader: segment a word image, classify each character
with the run's classifier, join them into text (:class:`Reader`), saved and
loaded with a run (:func:`save_reader`, :func:`load_reader`), and measured
against its simpler steps (:func:`evaluate_reader_variants`).

A run folder holds ``artifacts/ocr_classifier.keras`` and
``artifacts/reader.json`` (classes, segmentation settings and the optional
character language model with its weight), written by :func:`save_reader`.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np

from hwutils.errors import HwError
from hwutils.ocr import CLASSES
from hwutils.ocr.language import CharBigram
from hwutils.ocr.model import predict_probs
from hwutils.ocr.search import SearchSettings, best_reading, candidate_runs, run_emissions
from hwutils.ocr.segment import over_segment, segment_word, space_flags
from hwutils.ocr.words import CharReading, WordReading, check_lm_weight, evaluate_words, word_grays

MODEL_FILE = "ocr_classifier.keras"
READER_FILE = "reader.json"


class Reader:
    """Segment a word image, classify each character, join them into text."""

    def __init__(
        self,
        model,
        classes: str = CLASSES,
        segment_kwargs: dict | None = None,
        max_side: int = 2000,
        allowed: str = "",
        search: dict | bool | None = True,
        language_model: CharBigram | None = None,
        lm_weight: float = 0.0,
    ):
        """``allowed``: the classes a reading may use (e.g. only letters for a
        names field); empty = all classes. ``search``: settings of the
        segmentation by recognition (:class:`hwutils.ocr.search.SearchSettings`
        fields; True or ``{}`` = its defaults); None or False = segment from geometry alone
        (:func:`hwutils.ocr.segment.segment_word`). ``language_model`` with
        ``lm_weight`` > 0: the search chooses characters and segmentation together,
        adding ``lm_weight`` times the model's log-probabilities of each character
        after the previous one (:func:`hwutils.ocr.search.best_reading`); it needs the search."""
        self.model = model
        self.classes = classes
        bad = sorted(set(allowed) - set(classes))
        if bad:
            raise HwError(f"allowed characters {''.join(bad)!r} are not classes of the model ({classes})")
        self._allowed = allowed
        self.allowed_mask = np.array([c in allowed for c in classes]) if allowed else None
        self.segment_kwargs = dict(segment_kwargs or {})
        self.max_side = max_side
        self.search = (
            None
            if search is None or search is False
            else SearchSettings.from_dict({} if search is True else search)
        )
        self.lm_weight = check_lm_weight(lm_weight, language_model is not None, self.search is not None)
        self.language_model = language_model

    def with_lm_weight(self, lm_weight: float) -> Reader:
        """The same reader (model shared, not copied) with another language-model
        weight; 0 reads without the model."""
        return Reader(
            self.model,
            self.classes,
            self.segment_kwargs,
            self.max_side,
            self._allowed,
            None if self.search is None else vars(self.search),
            self.language_model,
            lm_weight,
        )

    def geometry_only(self) -> Reader:
        """The same reader (model shared) segmenting from geometry alone: no
        classifier-scored cuts and no language model, the simplest reading to
        measure the full reader against."""
        return Reader(self.model, self.classes, self.segment_kwargs, self.max_side, self._allowed, None)

    def read_word(self, image, blank: str = "error") -> WordReading:
        """``image``: a path, PIL image or array. Raises :class:`ImageError`
        (one line naming the file) when it cannot be read, and, with ``blank``
        ``"error"`` (the default), when it is blank or near-blank
        (:func:`hwutils.images.has_ink`); ``blank="empty"`` reads such an
        image as the empty word. Images larger than ``max_side`` are scaled
        down to segment; boxes are given in the original image's pixels."""
        return self.read_words([image], blank=blank)[0]

    def read_words(self, images, blank: str = "empty") -> list[WordReading]:
        """Read many words, classifying all their characters in one batch.

        ``blank``: what a blank or near-blank image gives: ``"empty"`` (the
        default here, for scoring labelled fields where an empty field is an
        answer: the empty word, no characters) or ``"error"`` (an
        :class:`ImageError` naming it, as :meth:`read_word`)."""
        grays, scales = word_grays(images, blank, self.max_side)
        if self.search is None:
            all_segments = [segment_word(gray, **self.segment_kwargs) for gray in grays]
            all_labels = [None] * len(grays)
        else:
            all_segments, all_labels = self._search_segments(grays)
        chars = [s.image for segs in all_segments for s in segs if s.kind == "char"]
        probs = self.char_probs(np.stack(chars)) if chars else np.zeros((0, len(self.classes)))
        k = 0
        readings = []
        for segs, labels, scale in zip(all_segments, all_labels, scales):
            out = []
            for n, s in enumerate(segs):
                box = tuple(int(round(v * scale)) for v in s.box)
                if s.kind == "char":
                    p = probs[k]
                    k += 1
                    c = int(np.argmax(p)) if labels is None else self.classes.index(labels[n])
                    out.append(CharReading(self.classes[c], box, float(p[c]), s.space_before))
                else:
                    out.append(CharReading(s.kind, box, 1.0, s.space_before))
            readings.append(WordReading.of_chars(out))
        return readings

    def char_probs(self, images: np.ndarray) -> np.ndarray:
        """The classifier's probabilities ``(n, classes)`` of character images, the classes a reading may not use at 0."""
        probs = predict_probs(self.model, images) if len(images) else np.zeros((0, len(self.classes)))
        return probs if self.allowed_mask is None else np.where(self.allowed_mask, probs, 0.0)

    @property
    def letters(self) -> str:
        """The classes a reading may use, in class order (all without ``allowed``)."""
        return "".join(
            c for n, c in enumerate(self.classes) if self.allowed_mask is None or self.allowed_mask[n]
        )

    def transitions(self) -> np.ndarray | None:
        """The language model's ``log P(next | previous)`` over :attr:`letters`,
        the hyphen and the word boundary (None without a model or at weight 0)."""
        if self.language_model is None or self.lm_weight <= 0:
            return None
        return self.language_model.log_probs(self.letters + "-")

    def lattices(self, grays) -> list[Lattice | None]:
        """Each word's candidate characters, scored: over-segmented into pieces
        (:func:`hwutils.ocr.segment.over_segment`), every candidate run of pieces
        classified (all words in one batch) and scored as each of
        :attr:`letters` and the hyphen (:func:`hwutils.ocr.search.run_emissions`).
        None for a word without ink. Needs the search."""
        keys = ("min_speck", "drop_label", "faint")
        words = [
            over_segment(g, **{k: v for k, v in self.segment_kwargs.items() if k in keys}) for g in grays
        ]
        runs = [candidate_runs(w, self.search) if w is not None else [] for w in words]
        images = [w.segment(i, j).image for w, rs in zip(words, runs) for i, j in rs]
        probs = self.char_probs(np.stack(images)) if images else np.zeros((0, len(self.classes)))
        letters = self.letters
        log_probs = np.log(np.maximum(probs[:, [self.classes.index(c) for c in letters]], 1e-6))
        out, k = [], 0
        for w, rs in zip(words, runs):
            if w is None:
                out.append(None)
                continue
            lp = log_probs[k : k + len(rs)]
            out.append(Lattice(w, rs, run_emissions(w, rs, lp, self.search), lp))
            k += len(rs)
        return out

    def cover_segments(self, lattice: Lattice, cover) -> list:
        """The segments of a cover of the lattice's pieces by runs, each with
        its ``space_before`` flag from the gaps (:func:`hwutils.ocr.segment.space_flags`)."""
        w = lattice.pieces
        groups = [w.group(i, j) for i, j in cover]
        spaces = (
            space_flags(groups, self.segment_kwargs.get("space_gap", 1.2))
            if self.segment_kwargs.get("detect_spaces", True)
            else [False] * len(groups)
        )
        segments = [w.segment(i, j) for i, j in cover]
        for seg, space in zip(segments, spaces):
            seg.space_before = space
        return segments

    def _search_segments(self, grays) -> tuple[list, list]:
        """Segmentation by recognition (:mod:`hwutils.ocr.search`): every
        candidate character of every word classified in one batch
        (:meth:`lattices`); segmentation and characters are chosen together
        (:func:`hwutils.ocr.search.best_reading`, with the language model when
        ``lm_weight`` > 0). Returns the segments of each word and their characters."""
        transitions = self.transitions()
        tokens = self.letters + "-"
        out, labels = [], []
        for lattice in self.lattices(grays):
            if lattice is None:
                out.append([])
                labels.append([])
                continue
            path = best_reading(
                len(lattice.pieces), lattice.runs, lattice.emissions, transitions, self.lm_weight
            )
            labels.append([tokens[tok] for _, tok in path])
            out.append(self.cover_segments(lattice, [run for run, _ in path]))
        return out, labels


@dataclass
class Lattice:
    """One word as the segmentation reader sees it: its pieces
    (:class:`hwutils.ocr.cuts.WordPieces`), the candidate runs of pieces, the
    score of each run read as each token (``emissions``, ``(len(runs), t + 1)``,
    the last column the hyphen) and the classifier's log-probabilities of the
    letters (``log_probs``, ``(len(runs), t)``)."""

    pieces: object
    runs: list
    emissions: np.ndarray
    log_probs: np.ndarray


def save_reader(
    model,
    artifacts_dir,
    segment_kwargs: dict | None = None,
    search: dict | None = None,
    language_model: CharBigram | None = None,
    lm_weight: float = 0.0,
    allowed: str = "",
) -> Path:
    """Write the model and the reader settings into a run's ``artifacts/``
    (``search``: settings of the segmentation by recognition, None = off;
    ``language_model``, ``lm_weight`` and ``allowed``, the classes a reading
    may use: see :class:`Reader`)."""
    from hwutils import training
    from hwutils.report import write_json_atomic

    artifacts_dir = Path(artifacts_dir)
    training.save_model(model, artifacts_dir / MODEL_FILE)
    write_json_atomic(
        artifacts_dir / READER_FILE,
        {
            "classes": CLASSES,
            "segment": dict(segment_kwargs or {}),
            "search": None if search is None else dict(search),
            "language_model": None if language_model is None else language_model.to_dict(),
            "lm_weight": float(lm_weight),
            "allowed": allowed,
        },
    )
    return artifacts_dir


def load_reader(run_dir, allowed: str | None = None, lm_weight: float | None = None) -> Reader:
    """The reader of a finished ``char_ocr`` run, from its run folder (or its
    ``artifacts/`` folder); ``allowed`` restricts the classes a reading may
    use (empty = all 36; None = the classes the run read with, all for runs
    that did not record them); ``lm_weight`` overrides the saved weight of its
    language model (0 = read without it). Raises :class:`HwError` naming what is missing."""
    from hwutils import training
    from hwutils.runfolder import artifacts_folder

    run_dir = Path(run_dir)
    art = artifacts_folder(run_dir, MODEL_FILE, "char_ocr")
    from hwutils import artifacts

    settings = artifacts.load_json(art / READER_FILE) if (art / READER_FILE).exists() else {}
    lm = settings.get("language_model")
    try:
        lm = None if lm is None else CharBigram.from_dict(lm)
    except HwError as exc:
        raise artifacts.ArtifactError(f"{art / READER_FILE}: 'language_model': {exc}") from None
    weight = settings.get("lm_weight", 0.0) if lm_weight is None else lm_weight
    return Reader(
        training.load_model(art / MODEL_FILE),
        settings.get("classes", CLASSES),
        settings.get("segment", {}),
        allowed=settings.get("allowed", "") if allowed is None else allowed,
        search=settings.get("search", {}),
        language_model=lm,
        lm_weight=weight,
    )


VARIANT_SUFFIX = {"geometry": "_geometry_only", "search": "_without_lm", "full": ""}


def reader_variants(reader: Reader) -> dict[str, Reader]:
    """The reader and the simpler readers it is measured against, simplest
    first: ``geometry`` (segmentation from geometry alone), ``search``
    (segmentation by recognition without the language model) and ``full``
    (``reader`` itself). Only the steps ``reader`` takes are there: a
    geometry-only reader has just ``full``; one without a language model has
    ``geometry`` and ``full``."""
    out = {}
    if reader.search is not None:
        out["geometry"] = reader.geometry_only()
        if reader.language_model is not None and reader.lm_weight > 0:
            out["search"] = reader.with_lm_weight(0)
    out["full"] = reader
    return out


def evaluate_reader_variants(reader: Reader, items, source=None) -> tuple[dict, list[dict]]:
    """Read the same words with ``reader`` and each simpler reader of
    :func:`reader_variants` and score them (:func:`evaluate_words`).

    Returns the full reader's metrics and rows, the metrics extended with
    ``cer``/``word_accuracy`` of each simpler reader under the suffix of
    :data:`VARIANT_SUFFIX` (``cer_geometry_only``, ``cer_without_lm``) and
    ``read_seconds`` (the full reader's reading time)."""
    import time

    items = list(items)
    variants = reader_variants(reader)
    t0 = time.perf_counter()
    out, rows = evaluate_words(reader, items, source=source)
    out["read_seconds"] = time.perf_counter() - t0
    for name, variant in variants.items():
        if name == "full":
            continue
        plain, _ = evaluate_words(variant, items, source=source)
        out.update({f"{k}{VARIANT_SUFFIX[name]}": plain[k] for k in ("cer", "word_accuracy")})
    return out, rows
