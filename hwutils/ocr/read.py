"""Public API: read words with a trained run's classifier, and score readings.

    from hwutils.ocr.read import load_reader
    reader = load_reader("outputs/char_ocr/<RUN_ID>")
    reading = reader.read_word("word.png")
    reading.text, [(c.char, c.box, c.confidence) for c in reading.chars]

A run folder holds ``artifacts/ocr_classifier.keras`` and
``artifacts/reader.json`` (classes, segmentation settings and the optional
character language model with its weight), written by :func:`save_reader`.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from hwutils import images as I
from hwutils import metrics
from hwutils.errors import DataError, HwError, ImageError, ParamsError, check_choice
from hwutils.ocr import CLASSES
from hwutils.ocr.evaluate import item_image, item_label, none_readable
from hwutils.ocr.language import CharBigram
from hwutils.ocr.model import predict_probs
from hwutils.ocr.search import SearchSettings, best_reading, candidate_runs, run_emissions
from hwutils.ocr.segment import over_segment, segment_word, space_flags

MODEL_FILE = "ocr_classifier.keras"
READER_FILE = "reader.json"
NON_WORD_LABELS = ("EMPTY", "UNREADABLE")
BLANK_CHOICES = ("error", "empty")


@dataclass
class CharReading:
    """One read character: its text (a class, or ``-``), box ``(left, top,
    width, height)`` in the input image and the classifier's confidence."""

    char: str
    box: tuple[int, int, int, int]
    confidence: float
    space_before: bool = False


@dataclass
class WordReading:
    """The text of a word image and its characters (empty for a blank image)."""

    text: str
    chars: list[CharReading] = field(default_factory=list)

    @property
    def boxes(self):
        return [c.box for c in self.chars]


def word_grays(images, blank: str, max_side: int) -> tuple[list[np.ndarray], list[float]]:
    """Word images as gray arrays, each scaled down to ``max_side`` when
    larger, and the scale of each. ``blank``: ``"error"`` (a blank or
    near-blank image raises :class:`ImageError` naming it) or ``"empty"``
    (it becomes a 1x1 white image, read as the empty word)."""
    check_choice("blank", blank, BLANK_CHOICES)
    grays, scales = [], []
    for image in images:
        gray = I.as_gray(image)
        if blank == "error":
            I.require_ink(gray, I.image_name(image))
        elif not I.has_ink(gray):
            gray = np.full((1, 1), 255, np.uint8)  # nothing to read: the empty word
        scale = 1.0
        if max(gray.shape) > max_side:
            scale = max(gray.shape) / max_side
            gray = I.resize_keep_aspect(gray, max_side=max_side)
        grays.append(gray)
        scales.append(scale)
    return grays, scales


def check_lm_weight(lm_weight, has_model: bool, search: bool) -> float:
    """``lm_weight`` as a float when the reader can use it, else :class:`ParamsError`
    naming it: a number >= 0; a weight > 0 needs a language model (``has_model``:
    one is given, or labels to learn it from) and the segmentation by recognition
    (``search``), where the model acts."""
    if isinstance(lm_weight, bool) or not (
        isinstance(lm_weight, (int, float)) and np.isfinite(lm_weight) and lm_weight >= 0
    ):
        raise ParamsError(f"lm_weight: must be a number >= 0, got {lm_weight!r}")
    if lm_weight > 0 and not has_model:
        raise ParamsError(
            "lm_weight: a weight > 0 needs a language model (labels to learn it from: "
            "words_csv with harvest_fraction > 0)"
        )
    if lm_weight > 0 and not search:
        raise ParamsError(
            "lm_weight: the language model acts in the segmentation by recognition; set search: true"
        )
    return float(lm_weight)


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
        probs = self._probs(np.stack(chars)) if chars else np.zeros((0, len(self.classes)))
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
            text = "".join((" " if c.space_before else "") + c.char for c in out)
            readings.append(WordReading(text, out))
        return readings

    def _probs(self, images: np.ndarray) -> np.ndarray:
        probs = predict_probs(self.model, images) if len(images) else np.zeros((0, len(self.classes)))
        return probs if self.allowed_mask is None else np.where(self.allowed_mask, probs, 0.0)

    def _search_segments(self, grays) -> tuple[list, list]:
        """Segmentation by recognition (:mod:`hwutils.ocr.search`): every
        candidate character of every word classified in one batch; segmentation
        and characters are chosen together (:func:`hwutils.ocr.search.best_reading`,
        with the language model when ``lm_weight`` > 0). Returns the segments of
        each word and their characters."""
        keys = ("min_speck", "drop_label", "faint")
        words = [
            over_segment(g, **{k: v for k, v in self.segment_kwargs.items() if k in keys}) for g in grays
        ]
        runs = [candidate_runs(w, self.search) if w is not None else [] for w in words]
        images = [w.segment(i, j).image for w, rs in zip(words, runs) for i, j in rs]
        probs = self._probs(np.stack(images)) if images else np.zeros((0, len(self.classes)))
        letters = "".join(
            c for n, c in enumerate(self.classes) if self.allowed_mask is None or self.allowed_mask[n]
        )
        log_probs = np.log(np.maximum(probs[:, [self.classes.index(c) for c in letters]], 1e-6))
        transitions = (
            self.language_model.log_probs(letters + "-")
            if self.language_model is not None and self.lm_weight > 0
            else None
        )
        out, labels, k = [], [], 0
        for w, rs in zip(words, runs):
            if w is None:
                out.append([])
                labels.append([])
                continue
            emissions = run_emissions(w, rs, log_probs[k : k + len(rs)], self.search)
            path = best_reading(len(w), rs, emissions, transitions, self.lm_weight)
            cover = [run for run, _ in path]
            labels.append([(letters + "-")[tok] for _, tok in path])
            k += len(rs)
            groups = [w.group(i, j) for i, j in cover]
            spaces = (
                space_flags(groups, self.segment_kwargs.get("space_gap", 1.2))
                if self.segment_kwargs.get("detect_spaces", True)
                else [False] * len(groups)
            )
            out.append([w.segment(i, j) for i, j in cover])
            for seg, space in zip(out[-1], spaces):
                seg.space_before = space
        return out, labels


def save_reader(
    model,
    artifacts_dir,
    segment_kwargs: dict | None = None,
    search: dict | None = None,
    language_model: CharBigram | None = None,
    lm_weight: float = 0.0,
) -> Path:
    """Write the model and the reader settings into a run's ``artifacts/``
    (``search``: settings of the segmentation by recognition, None = off;
    ``language_model`` and ``lm_weight``: see :class:`Reader`)."""
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
        },
    )
    return artifacts_dir


def load_reader(run_dir, allowed: str = "", lm_weight: float | None = None) -> Reader:
    """The reader of a finished ``char_ocr`` run, from its run folder (or its
    ``artifacts/`` folder); ``allowed`` restricts the classes a reading may
    use (empty = all 36); ``lm_weight`` overrides the saved weight of its
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
        allowed=allowed,
        search=settings.get("search", {}),
        language_model=lm,
        lm_weight=weight,
    )


# ------------------------------------------------------------------ the CTC reader
CTC_MODEL_FILE = "ctc_reader.keras"
CTC_READER_FILE = "ctc_reader.json"
CHOICE_FILE = "reader_choice.json"
READERS = ("segmentation", "ctc")


def check_lexicon_margin(margin) -> float:
    """``margin`` as a float when it is a number >= 0, else :class:`ParamsError`."""
    if isinstance(margin, bool) or not (
        isinstance(margin, (int, float)) and np.isfinite(margin) and margin >= 0
    ):
        raise ParamsError(f"lexicon_margin: must be a number >= 0, got {margin!r}")
    return float(margin)


class CTCReader:
    """Read a word image whole, without cutting it into characters: the
    run's CRNN (:mod:`hwutils.ocr.ctc`) gives per-column character
    probabilities, decoded by a CTC prefix beam search with the character
    bigram model (``lm_weight`` > 0) and, with a ``lexicon``, the most likely
    lexicon word when it is within ``lexicon_margin`` (natural log) of the
    free reading. ``allowed``: the characters a reading may use (empty = all,
    hyphen and space included); ``beam_width`` 1 without a language model is
    the best path (greedy). Same interface as :class:`Reader`."""

    def __init__(
        self,
        model,
        allowed: str = "",
        language_model: CharBigram | None = None,
        lm_weight: float = 0.0,
        beam_width: int = 8,
        lexicon=(),
        lexicon_margin: float = 2.0,
        max_side: int = 2000,
        segment_kwargs: dict | None = None,
    ):
        from hwutils.ocr import ctc

        self.model = model
        bad = sorted(set(allowed) - set(ctc.TOKENS))
        if bad:
            raise HwError(
                f"allowed characters {''.join(bad)!r} are not tokens of the CTC reader ({ctc.TOKENS!r})"
            )
        self.allowed = allowed
        self.lm_weight = check_lm_weight(lm_weight, language_model is not None, True)
        self.language_model = language_model
        if isinstance(beam_width, bool) or not isinstance(beam_width, (int, np.integer)) or beam_width < 1:
            raise ParamsError(f"beam_width: must be a whole number >= 1, got {beam_width!r}")
        self.beam_width = int(beam_width)
        self.lexicon = [str(w).strip().upper() for w in lexicon if str(w).strip()]
        self.lexicon_margin = check_lexicon_margin(lexicon_margin)
        self._lexicon_tokens = [list(ctc.encode(w, 10_000)[: len(w)]) for w in self.lexicon]
        self._lexicon_tokens = [t for t in self._lexicon_tokens if t and all(t)]
        self.max_side = max_side
        self.segment_kwargs = dict(segment_kwargs or {})
        self._lm = ctc.lm_mapping(language_model, allowed) if language_model is not None else (None, None)

    def with_settings(self, **changes) -> CTCReader:
        """The same reader (model shared) with some settings changed
        (``lm_weight``, ``beam_width``, ``lexicon``, ``lexicon_margin``, ``allowed``)."""
        settings = {
            "allowed": self.allowed,
            "language_model": self.language_model,
            "lm_weight": self.lm_weight,
            "beam_width": self.beam_width,
            "lexicon": self.lexicon,
            "lexicon_margin": self.lexicon_margin,
            "max_side": self.max_side,
            "segment_kwargs": self.segment_kwargs,
        }
        settings.update(changes)
        return CTCReader(self.model, **settings)

    def decode(self, log_probs: np.ndarray) -> list[int]:
        """The tokens (1-based) read from one word's per-column log-probabilities."""
        from hwutils.ocr import ctc

        lp = ctc.allowed_log_probs(log_probs, self.allowed)
        table, index = self._lm
        if self.beam_width == 1 and not self.lm_weight:
            tokens = ctc.greedy_decode(lp)
        else:
            tokens, _ = ctc.beam_search(lp, self.beam_width, table, index, self.lm_weight)
        if self._lexicon_tokens:
            tokens = ctc.lexicon_choice(lp, tokens, self._lexicon_tokens, self.lexicon_margin)
        return tokens

    def read_word(self, image, blank: str = "error") -> WordReading:
        """As :meth:`Reader.read_word`: raises :class:`ImageError` for an
        unreadable or (with ``blank="error"``) blank image."""
        return self.read_words([image], blank=blank)[0]

    def read_words(self, images, blank: str = "empty") -> list[WordReading]:
        """Read many words (one batch through the network). Each character
        comes with the box of the columns it was read in and the largest
        probability it had there; ``blank`` as :meth:`Reader.read_words`."""
        from hwutils.ocr import ctc

        grays, scales = word_grays(images, blank, self.max_side)
        strips = [ctc.word_strip(g, **self.segment_kwargs) for g in grays]
        log_probs = ctc.predict_log_probs(self.model, np.stack([s for s, _ in strips]))
        readings = []
        for lp, (_, geometry), scale in zip(log_probs, strips, scales):
            if geometry is None:
                readings.append(WordReading(""))
                continue
            tokens = self.decode(lp)
            chars, space = [], False
            for tok, (t0, t1, p) in zip(tokens, ctc.align(lp, tokens)):
                char = ctc.TOKENS[tok - 1]
                if char == " ":
                    space = bool(chars)
                    continue
                box = geometry.box(t0 * ctc.DOWNSAMPLE, (t1 + 1) * ctc.DOWNSAMPLE)
                chars.append(CharReading(char, tuple(int(round(v * scale)) for v in box), p, space))
                space = False
            readings.append(
                WordReading("".join((" " if c.space_before else "") + c.char for c in chars), chars)
            )
        return readings


def save_ctc_reader(reader: CTCReader, artifacts_dir) -> Path:
    """Write the CRNN and the CTC reader's settings into a run's ``artifacts/``
    (``ctc_reader.keras``, ``ctc_reader.json``); :func:`load_ctc_reader` reads them back."""
    from hwutils import training
    from hwutils.report import write_json_atomic

    artifacts_dir = Path(artifacts_dir)
    training.save_model(reader.model, artifacts_dir / CTC_MODEL_FILE)
    lm = reader.language_model
    write_json_atomic(
        artifacts_dir / CTC_READER_FILE,
        {
            "allowed": reader.allowed,
            "language_model": None if lm is None else lm.to_dict(),
            "lm_weight": reader.lm_weight,
            "beam_width": reader.beam_width,
            "lexicon": reader.lexicon,
            "lexicon_margin": reader.lexicon_margin,
        },
    )
    return artifacts_dir


def load_ctc_reader(run_dir, lm_weight: float | None = None) -> CTCReader:
    """The CTC reader of a finished ``char_ocr`` run (run folder or its
    ``artifacts/``); ``lm_weight`` overrides the saved weight (0 = without
    the language model). Raises :class:`HwError` naming what is missing."""
    from hwutils import artifacts, training
    from hwutils.runfolder import artifacts_folder

    art = artifacts_folder(Path(run_dir), MODEL_FILE, "char_ocr")
    if not (art / CTC_MODEL_FILE).exists():
        raise artifacts.ArtifactError(
            f"{art}: this run has no CTC reader ({CTC_MODEL_FILE}; trained with ctc_words > 0)"
        )
    settings = artifacts.load_json(art / CTC_READER_FILE)
    lm = settings.get("language_model")
    try:
        lm = None if lm is None else CharBigram.from_dict(lm)
    except HwError as exc:
        raise artifacts.ArtifactError(f"{art / CTC_READER_FILE}: 'language_model': {exc}") from None
    return CTCReader(
        training.load_model(art / CTC_MODEL_FILE),
        allowed=settings.get("allowed", ""),
        language_model=lm,
        lm_weight=settings.get("lm_weight", 0.0) if lm_weight is None else lm_weight,
        beam_width=settings.get("beam_width", 8),
        lexicon=settings.get("lexicon", []),
        lexicon_margin=settings.get("lexicon_margin", 2.0),
    )


def save_reader_choice(artifacts_dir, reader: str, why: dict | None = None) -> Path:
    """Record which reader ``hw read`` uses by default (``segmentation`` or
    ``ctc``) and the validation figures it was chosen on."""
    from hwutils.report import write_json_atomic

    check_choice("reader", reader, READERS)
    return write_json_atomic(Path(artifacts_dir) / CHOICE_FILE, {"reader": reader, "validation": why or {}})


def chosen_reader(run_dir) -> str:
    """The reader a run chose on validation (``segmentation`` for runs without a choice)."""
    from hwutils import artifacts
    from hwutils.runfolder import artifacts_folder

    art = artifacts_folder(Path(run_dir), MODEL_FILE, "char_ocr")
    if not (art / CHOICE_FILE).exists():
        return "segmentation"
    name = artifacts.load_json(art / CHOICE_FILE, required=("reader",))["reader"]
    if name not in READERS:
        raise artifacts.ArtifactError(f"{art / CHOICE_FILE}: 'reader' must be one of {', '.join(READERS)}")
    return name


def load_any_reader(run_dir, reader: str | None = None):
    """``(name, reader)``: the reader ``reader`` (``segmentation`` or ``ctc``)
    of a finished run, or with None the one the run chose on validation."""
    name = chosen_reader(run_dir) if reader is None else check_choice("--reader", reader, READERS)
    return name, (load_ctc_reader(run_dir) if name == "ctc" else load_reader(run_dir))


# ------------------------------------------------------------------ evaluation
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


def label_kind(label: str, alphabet: str = CLASSES + "- ", non_word_labels=NON_WORD_LABELS) -> str:
    """How a word label is scored: ``"word"`` (compared with the reading),
    ``"empty"`` (label ``EMPTY``: correct when nothing is read), ``"no_label"``
    (blank or ``UNREADABLE``-like labels: not scored) or ``"outside_alphabet"``
    (characters the 36 classes, hyphen and space cannot express: not scored)."""
    text = label.strip().upper()
    if text == "EMPTY":
        return "empty"
    if not text or text in {n.upper() for n in non_word_labels}:
        return "no_label"
    if any(c not in alphabet for c in text):
        return "outside_alphabet"
    return "word"


def letters_only(text: str) -> str:
    """The text without spaces, hyphens and anything outside the 36 classes."""
    return "".join(c for c in text.upper() if c in CLASSES)


def evaluate_words(
    reader: Reader, items, non_word_labels=NON_WORD_LABELS, batch: int = 64, source=None
) -> tuple[dict, list[dict]]:
    """Read labelled words and score them.

    ``items``: ``(image_or_path, label)`` pairs (or records with ``path`` and
    ``label``). Returns ``(metrics, rows)``: ``cer`` (edit distance over
    reference length, spaces and hyphens included), ``word_accuracy``,
    ``cer_letters``/``word_accuracy_letters`` (spaces and hyphens ignored),
    and counts of every kind of label and of unreadable files. One row per
    item, in item order, each with its item's position (``index``), file
    name, label and reading; an unreadable file is a row of kind
    ``unreadable_file`` with its ``error`` (draw samples with
    :func:`hwutils.ocr.evaluate.sample_words`). Raises :class:`DataError`
    naming ``source`` (e.g. the labels CSV) when no word could be scored,
    instead of metrics without a CER.
    """
    items = [(item_image(it), item_label(it)) for it in items]
    source = source or "word evaluation"
    if not items:
        raise DataError(f"{source}: no words to evaluate")
    rows, refs, hyps = [], [], []
    counts = {"word": 0, "empty": 0, "no_label": 0, "outside_alphabet": 0, "unreadable_file": 0}
    empty_ok = 0
    for start in range(0, len(items), batch):
        chunk = items[start : start + batch]
        chunk_rows, imgs, read_rows = [], [], []
        for index, (image, label) in enumerate(chunk, start):
            row = {
                "index": index,
                "file": Path(image).name if isinstance(image, (str, os.PathLike)) else "",
                "label": label,
            }
            try:
                imgs.append(I.as_gray(image))
                read_rows.append(row)
            except ImageError as exc:
                counts["unreadable_file"] += 1
                row.update(kind="unreadable_file", read="", error=str(exc))
            chunk_rows.append(row)
        for row, reading in zip(read_rows, reader.read_words(imgs), strict=True):
            label = row["label"]
            kind = label_kind(label, non_word_labels=non_word_labels)
            counts[kind] += 1
            row.update(kind=kind, read=reading.text)
            if kind == "word":
                ref = label.strip().upper()
                refs.append(ref)
                hyps.append(reading.text)
                row["edit_distance"] = metrics.edit_distance(ref, reading.text)
                row["correct"] = ref == reading.text
            elif kind == "empty":
                row["correct"] = reading.text == ""
                empty_ok += row["correct"]
        rows += chunk_rows
    if counts["word"] == 0:
        if counts["unreadable_file"] == len(items):
            first = next(r for r in rows if r["kind"] == "unreadable_file")["error"]
            raise none_readable(source, len(items), first)
        parts = [
            f"{counts[k]} {what}"
            for k, what in (
                ("unreadable_file", "unreadable"),
                ("empty", "labelled EMPTY"),
                ("no_label", "without a label"),
                ("outside_alphabet", "outside the alphabet"),
            )
            if counts[k]
        ]
        raise DataError(f"{source}: no word could be scored: {len(items)} words: {', '.join(parts)}")
    out = {
        "cer": metrics.cer(refs, hyps),
        "word_accuracy": metrics.word_accuracy(refs, hyps),
        "cer_letters": metrics.cer([letters_only(r) for r in refs], [letters_only(h) for h in hyps]),
        "word_accuracy_letters": metrics.word_accuracy(
            [letters_only(r) for r in refs], [letters_only(h) for h in hyps]
        ),
        "words_scored": counts["word"],
        "labels_empty": counts["empty"],
        "empty_read_as_empty": empty_ok,
        "labels_not_words": counts["no_label"],
        "labels_outside_alphabet": counts["outside_alphabet"],
        "unreadable_files": counts["unreadable_file"],
    }
    return out, rows


# ------------------------------------------------------------------ the CTC reader, measured
CTC_LM_WEIGHTS = (0.0, 0.25, 0.5, 1.0)
"""The language-model weights the CTC reader tries on the validation words."""


def evaluate_ctc(reader: CTCReader, items, source=None) -> tuple[dict, list[dict]]:
    """Read and score the words with the CTC reader (:func:`evaluate_words`)
    and, when it uses a language model, without it on the same words.
    Returns metrics under ``_ctc`` keys (``cer_ctc``, ``word_accuracy_ctc``,
    the letters-only figures, ``cer_ctc_without_lm``, ``read_seconds_ctc``)
    and the rows."""
    import time

    items = list(items)
    t0 = time.perf_counter()
    m, rows = evaluate_words(reader, items, source=source)
    out = {f"{k}_ctc{tail}": m[f"{k}{tail}"] for k in ("cer", "word_accuracy") for tail in ("", "_letters")}
    out["read_seconds_ctc"] = time.perf_counter() - t0
    if reader.lm_weight > 0:
        plain, _ = evaluate_words(reader.with_settings(lm_weight=0.0), items, source=source)
        out.update({f"{k}_ctc_without_lm": plain[k] for k in ("cer", "word_accuracy")})
    return out, rows


def tune_ctc_lm_weight(reader: CTCReader, items, weights=CTC_LM_WEIGHTS, source=None) -> tuple[float, dict]:
    """The language-model weight of ``weights`` with the lowest CER on
    ``items`` (validation words, never the evaluation words; ties go to the
    smaller weight), and the CER of each. Without a language model: 0."""
    if reader.language_model is None:
        return 0.0, {}
    cers = {
        float(w): evaluate_words(reader.with_settings(lm_weight=w), items, source=source)[0]["cer"]
        for w in weights
    }
    return min(cers, key=lambda w: (cers[w], w)), cers


def lexicon_words(lexicon: str, labels=()) -> list[str]:
    """The words of the ``lexicon`` parameter: empty is none, ``harvest`` the
    ``labels`` given (the harvested words' labels, words only), else a UTF-8
    file of one word per line (upper-cased, blank lines skipped). Raises
    :class:`ParamsError` naming the file when it cannot be read."""
    if not lexicon:
        return []
    if lexicon == "harvest":
        words = [str(t).strip().upper() for t in labels if label_kind(str(t)) == "word"]
    else:
        try:
            text = Path(lexicon).read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError) as exc:
            raise ParamsError(f"lexicon: cannot read {lexicon}: {exc.__class__.__name__}: {exc}") from None
        words = [w.strip().upper() for w in text.splitlines() if w.strip()]
    return sorted(set(words))


def word_strips(items) -> tuple[np.ndarray, list[str]]:
    """The CTC reader's strips of the scoreable words among labelled items
    (kind ``word``, readable files) and their labels, e.g. validation words to
    watch the CTC reader's training with."""
    from hwutils.ocr import ctc

    strips, texts = [], []
    for item in items:
        label = item_label(item)
        if label_kind(label) != "word":
            continue
        try:
            strips.append(ctc.word_strip(item_image(item))[0])
        except ImageError:
            continue
        texts.append(label.strip().upper())
    shape = (0, ctc.STRIP_H, ctc.STRIP_W)
    return (np.stack(strips) if strips else np.zeros(shape, np.uint8)), texts


def validation_figures(reader: Reader, ctc_reader: CTCReader, items, source=None) -> dict:
    """Both readers on the validation words: ``val_cer``, ``val_word_accuracy``
    (the segmentation reader), ``val_cer_ctc``, ``val_word_accuracy_ctc`` and
    ``val_words_scored``."""
    seg, _ = evaluate_words(reader, items, source=source)
    ctc_m, _ = evaluate_words(ctc_reader, items, source=source)
    return {
        "val_words_scored": seg["words_scored"],
        "val_cer": seg["cer"],
        "val_word_accuracy": seg["word_accuracy"],
        "val_cer_ctc": ctc_m["cer"],
        "val_word_accuracy_ctc": ctc_m["word_accuracy"],
    }


def merge_readings(rows: list[dict], ctc_rows: list[dict]) -> list[dict]:
    """The segmentation reader's rows with the CTC reader's reading of the
    same item beside each (``read_ctc``, ``correct_ctc``)."""
    by_index = {r["index"]: r for r in ctc_rows}
    out = []
    for r in rows:
        other = by_index.get(r["index"], {})
        out.append({**r, "read_ctc": other.get("read", ""), "correct_ctc": other.get("correct")})
    return out
