"""What the word readers share: a reading's types, the word images they
take, the language-model weight check, and the scoring of readings against
labels (:func:`evaluate_words`, CER and word accuracy). The readers are
:mod:`hwutils.ocr.seg_reader`, :mod:`hwutils.ocr.ctc_reader` and
:mod:`hwutils.ocr.combined`; :mod:`hwutils.ocr.read` is the public API."""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from hwutils import images as I
from hwutils import metrics
from hwutils.errors import DataError, ImageError, ParamsError, check_choice
from hwutils.ocr import CLASSES
from hwutils.ocr.evaluate import item_image, item_label, none_readable

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

    @classmethod
    def of_chars(cls, chars: list[CharReading]) -> WordReading:
        """The reading of these characters, a space before each marked so."""
        return cls("".join((" " if c.space_before else "") + c.char for c in chars), list(chars))


READER_FIGURES = ("cer", "word_accuracy")
FIGURE_TAILS = ("", "_letters", "_ci95")


def reader_figures(metrics: dict, suffix: str) -> dict:
    """A reader's figures of :func:`evaluate_words` (CER and word accuracy, the
    letters-only forms and their intervals) under its ``suffix``
    (``cer_ctc``, ``cer_combined_letters``, ``word_accuracy_ctc_ci95``)."""
    return {f"{k}{suffix}{t}": metrics[f"{k}{t}"] for k in READER_FIGURES for t in FIGURE_TAILS}


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


def scoreable_words(items, load=None) -> tuple[list, list[str]]:
    """The words among labelled ``items`` that can be scored (label kind ``word``,
    a readable image): ``(loaded images, upper-case labels)``. ``load`` turns an
    item's image (path or array) into what the caller reads (default: a gray
    array); an item whose image raises :class:`ImageError` is left out."""
    load = load or I.as_gray
    images, refs = [], []
    for item in items:
        label = item_label(item)
        if label_kind(label) != "word":
            continue
        try:
            images.append(load(item_image(item)))
        except ImageError:
            continue
        refs.append(label.strip().upper())
    return images, refs


def letters_only(text: str) -> str:
    """The text without spaces, hyphens and anything outside the 36 classes."""
    return "".join(c for c in text.upper() if c in CLASSES)


def evaluate_words(
    reader, items, non_word_labels=NON_WORD_LABELS, batch: int = 64, source=None
) -> tuple[dict, list[dict]]:
    """Read labelled words and score them.

    ``items``: ``(image_or_path, label)`` pairs (or records with ``path`` and
    ``label``). Returns ``(metrics, rows)``: ``cer`` (edit distance over
    reference length, spaces and hyphens included), ``word_accuracy``,
    ``cer_letters``/``word_accuracy_letters`` (spaces and hyphens ignored),
    ``cer_ci95``/``word_accuracy_ci95`` (95% bootstrap intervals over the
    words, :func:`hwutils.metrics.reading_intervals`), and counts of every
    kind of label and of unreadable files. One row per item, in item order,
    each with its item's position (``index``), file name, label and reading; an unreadable file is a row of kind
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
        **{f"{k}_ci95": v for k, v in metrics.reading_intervals(refs, hyps).items()},
        "words_scored": counts["word"],
        "labels_empty": counts["empty"],
        "empty_read_as_empty": empty_ok,
        "labels_not_words": counts["no_label"],
        "labels_outside_alphabet": counts["outside_alphabet"],
        "unreadable_files": counts["unreadable_file"],
    }
    return out, rows
