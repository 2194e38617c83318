"""Public API: read words with a trained run's readers, and score readings.

    from hwutils.ocr.read import load_reader
    reader = load_reader("outputs/char_ocr/<RUN_ID>")
    reading = reader.read_word("word.png")
    reading.text, [(c.char, c.box, c.confidence) for c in reading.chars]

Three readers, each with ``read_word``/``read_words``: the segmentation reader
(:mod:`hwutils.ocr.seg_reader`, :func:`load_reader`), the segmentation-free CTC
reader (:mod:`hwutils.ocr.ctc_reader`, :func:`load_ctc_reader`) and the two
combined (:mod:`hwutils.ocr.combined`, :func:`load_combined_reader`);
:func:`load_any_reader` loads the one a run chose on its validation words.
The shared types and the scoring are in :mod:`hwutils.ocr.words`.
"""

from __future__ import annotations

from pathlib import Path

from hwutils.errors import check_choice
from hwutils.ocr import CLASSES
from hwutils.ocr.combined import COMBINED_FILE, CombinedReader, load_combined_reader, save_combined_reader
from hwutils.ocr.ctc_reader import (
    CTC_LM_WEIGHTS,
    CTC_MODEL_FILE,
    CTC_READER_FILE,
    CTCReader,
    check_lexicon_margin,
    evaluate_ctc,
    lexicon_words,
    load_ctc_reader,
    save_ctc_reader,
    tune_ctc_lm_weight,
    word_strips,
)
from hwutils.ocr.seg_reader import (
    MODEL_FILE,
    READER_FILE,
    VARIANT_SUFFIX,
    Reader,
    evaluate_reader_variants,
    load_reader,
    reader_variants,
    save_reader,
)
from hwutils.ocr.words import (
    BLANK_CHOICES,
    NON_WORD_LABELS,
    CharReading,
    WordReading,
    check_lm_weight,
    evaluate_words,
    label_kind,
    letters_only,
    word_grays,
)

__all__ = [
    "BLANK_CHOICES",
    "CLASSES",
    "CHOICE_FILE",
    "COMBINED_FILE",
    "CTC_LM_WEIGHTS",
    "CTC_MODEL_FILE",
    "CTC_READER_FILE",
    "MODEL_FILE",
    "NON_WORD_LABELS",
    "READERS",
    "READER_FILE",
    "READER_SUFFIX",
    "VARIANT_SUFFIX",
    "CTCReader",
    "CharReading",
    "CombinedReader",
    "Reader",
    "WordReading",
    "check_lexicon_margin",
    "check_lm_weight",
    "chosen_reader",
    "evaluate_ctc",
    "evaluate_reader_variants",
    "evaluate_words",
    "label_kind",
    "letters_only",
    "lexicon_words",
    "load_any_reader",
    "load_combined_reader",
    "load_ctc_reader",
    "load_reader",
    "merge_readings",
    "reader_variants",
    "save_combined_reader",
    "save_ctc_reader",
    "save_reader",
    "save_reader_choice",
    "tune_ctc_lm_weight",
    "validation_figures",
    "word_grays",
    "word_strips",
]

CHOICE_FILE = "reader_choice.json"
READERS = ("segmentation", "ctc", "combined")


def save_reader_choice(artifacts_dir, reader: str, why: dict | None = None) -> Path:
    """Record which reader ``hw read`` uses by default (one of :data:`READERS`)
    and the validation figures it was chosen on."""
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
    """``(name, reader)``: the reader ``reader`` (``segmentation``, ``ctc`` or
    ``combined``) of a finished run, or with None the one the run chose on
    validation; reading form fields as the run did when it recorded a form
    (:mod:`hwutils.ocr.form`)."""
    from hwutils.ocr.form import as_field_reader, load_form
    from hwutils.runfolder import artifacts_folder

    name = chosen_reader(run_dir) if reader is None else check_choice("--reader", reader, READERS)
    if name == "ctc":
        loaded = load_ctc_reader(run_dir)
    elif name == "combined":
        loaded = load_combined_reader(run_dir)
    else:
        loaded = load_reader(run_dir)
    form = load_form(artifacts_folder(Path(run_dir), MODEL_FILE, "char_ocr"))
    if form is not None:
        seg = loaded if name == "segmentation" else (loaded.seg_reader if name == "combined" else None)
        if seg is None and form["digit_lines"]:
            seg = load_reader(run_dir)
        loaded = as_field_reader(loaded, form, seg)
    return name, loaded


def validation_figures(readers: dict, items, source=None) -> dict:
    """Each reader of ``readers`` (name -> reader: ``segmentation``, ``ctc``,
    ``combined``) on the validation words: ``val_cer`` and ``val_word_accuracy``
    with the suffix of the reader (none for the segmentation reader, ``_ctc``,
    ``_combined``), and ``val_words_scored``."""
    out = {}
    for name, reader in readers.items():
        m, _ = evaluate_words(reader, items, source=source)
        suffix = READER_SUFFIX[name]
        out["val_words_scored"] = m["words_scored"]
        out[f"val_cer{suffix}"] = m["cer"]
        out[f"val_word_accuracy{suffix}"] = m["word_accuracy"]
    return out


READER_SUFFIX = {"segmentation": "", "ctc": "_ctc", "combined": "_combined"}
"""The suffix of each reader's metrics keys (``cer_ctc``, ``val_cer_combined``)."""


def merge_readings(rows: list[dict], others: dict) -> list[dict]:
    """The segmentation reader's rows with each other reader's reading of the
    same item beside each (``others``: name -> rows; ``read_ctc``,
    ``correct_ctc``, ``read_combined``, ...)."""
    out = [dict(r) for r in rows]
    for name, other_rows in others.items():
        by_index = {r["index"]: r for r in other_rows}
        suffix = READER_SUFFIX[name]
        for r in out:
            other = by_index.get(r["index"], {})
            r[f"read{suffix}"] = other.get("read", "")
            r[f"correct{suffix}"] = other.get("correct")
    return out
