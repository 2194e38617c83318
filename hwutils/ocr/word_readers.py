"""The notebook's second and third word readers in one call: train the CTC
reader, tune its language-model weight and the combined reader's weight on
the validation words, save both with the run, read the evaluation words with
each and choose the reader ``hw read`` uses (:func:`train_and_measure`)."""

from __future__ import annotations

import time
from dataclasses import dataclass, field

from hwutils.ocr import CLASSES, summary
from hwutils.ocr import combined as C
from hwutils.ocr import ctc_reader as CR
from hwutils.ocr.compose import train_reader
from hwutils.ocr.language import CharBigram
from hwutils.ocr.words import evaluate_words, label_kind, reader_figures


@dataclass
class Measured:
    """What :func:`train_and_measure` gives the notebook: the metrics to add
    to the run's, the word rows with every reader's reading, sentences for
    the report, and composed training words to show (strips, texts)."""

    metrics: dict
    rows: list[dict]
    sentences: list[str] = field(default_factory=list)
    examples: tuple = ((), ())


def harvest_words(harvest_records) -> tuple[list[str], list[tuple]]:
    """The harvested words' labels (words only) and ``(path, label)`` pairs."""
    pairs = [(r.path, r.label.strip().upper()) for r in harvest_records if label_kind(r.label) == "word"]
    return [label for _, label in pairs], pairs


def train_and_measure(
    reader,
    train,
    val,
    harvest_records,
    val_items,
    eval_items,
    word_rows: list[dict],
    model_dir,
    run_dir,
    *,
    eval_source: str,
    language_model: CharBigram | None = None,
    read_charset: str = "",
    seed: int = 0,
    ctc_words: int = 8000,
    ctc_real_words: bool = False,
    ctc_real_copies: int = 8,
    ctc_width: int = 12,
    ctc_rnn_units: int = 0,
    ctc_epochs: int = 8,
    ctc_patience: int = 3,
    ctc_beam_width: int = 8,
    ctc_lm_weight: float = -1.0,
    lexicon: str = "",
    lexicon_margin: float = 2.0,
    combined_weight: float = -1.0,
    combined_lm_weight: float = -1.0,
    strategy: str = "default",
    form: dict | None = None,
) -> Measured:
    """Train the CTC reader on ``ctc_words`` words composed from ``train``
    (and, with ``ctc_real_words``, the harvested words' images, each
    ``ctc_real_copies`` times varied), its early stopping watching the
    validation words; choose its language-model weight (``ctc_lm_weight`` -1)
    and the combined reader's weights (``combined_weight`` -1 and
    ``combined_lm_weight`` -1: the language model's among
    :data:`hwutils.ocr.combined.COMBINED_LM_WEIGHTS`) on the validation words; save both readers in ``model_dir`` and load them back from
    ``run_dir``; read ``eval_items`` with each; choose the reader with the
    lowest validation CER (:func:`hwutils.ocr.summary.choose_reader`) and save
    the choice. ``reader``: the run's segmentation reader, already measured
    (``word_rows``). ``form``: how the run reads form fields
    (:func:`hwutils.ocr.form.load_form`): every reader is measured and chosen
    reading them so; the weights are tuned on the readers' own main lines."""
    from hwutils.ocr import read as R
    from hwutils.ocr.form import as_field_reader

    labels, pairs = harvest_words(harvest_records)
    ctc_lm = language_model or (CharBigram.fit(labels) if labels else None)
    val_strips, val_texts = CR.word_strips(val_items)  # the CTC reader's early stopping watches them
    real = pairs if ctc_real_words else None
    t0 = time.perf_counter()
    model, history, examples = train_reader(
        train,
        ctc_words,
        val_strips=val_strips,
        val_texts=val_texts,
        val_chars=val,
        labels=labels,
        language_model=ctc_lm,
        alphabet=read_charset or CLASSES,
        seed=seed,
        real_words=real,
        real_copies=ctc_real_copies,
        width=ctc_width,
        rnn_units=ctc_rnn_units,
        epochs=ctc_epochs,
        patience=ctc_patience,
        strategy=strategy,
    )
    seconds = time.perf_counter() - t0
    ctc_reader = CR.CTCReader(
        model,
        allowed=read_charset + "- " if read_charset else "",
        language_model=ctc_lm,
        beam_width=ctc_beam_width,
        lexicon=CR.lexicon_words(lexicon, labels),
        lexicon_margin=lexicon_margin,
    )
    weight = ctc_lm_weight
    if ctc_lm_weight < 0:
        weight, _ = CR.tune_ctc_lm_weight(ctc_reader, val_items)
    CR.save_ctc_reader(ctc_reader.with_settings(lm_weight=weight), model_dir)
    ctc_reader = CR.load_ctc_reader(run_dir)  # the saved reader, loaded back
    sentences = [
        summary.ctc_training_sentence(
            history, seconds, ctc_epochs, ctc_words, weight, len(pairs) if ctc_real_words else 0
        )
    ]
    ctc_field = as_field_reader(ctc_reader, form, reader)
    metrics, ctc_rows = CR.evaluate_ctc(ctc_field, eval_items, source=eval_source)
    readers = {"segmentation": as_field_reader(reader, form, reader), "ctc": ctc_field}
    others = {"ctc": ctc_rows}
    extra = {}
    if reader.search is not None:
        combined = C.CombinedReader(
            reader,
            ctc_reader,
            0.5 if combined_weight < 0 else combined_weight,
            lm_weight=None if combined_lm_weight < 0 else combined_lm_weight,
        )
        tried = {}
        if combined_weight < 0 or combined_lm_weight < 0:
            lm_grid = [combined.lm_weight]
            if combined_lm_weight < 0 and reader.language_model is not None:
                lm_grid = list(C.COMBINED_LM_WEIGHTS)
            weights = C.COMBINED_WEIGHTS if combined_weight < 0 else (combined_weight,)
            w, lw, tried = C.tune_weight(combined, val_items, weights, lm_grid)
            combined = combined.with_settings(weight=w, lm_weight=lw)
        C.save_combined_reader(combined, model_dir)
        combined = C.load_combined_reader(run_dir)  # the saved reader, loaded back
        sentences.append(summary.combined_sentence(combined.weight, combined.lm_weight, tried))
        t0 = time.perf_counter()
        combined = as_field_reader(combined, form, reader)
        m, combined_rows = evaluate_words(combined, eval_items, source=eval_source)
        extra = reader_figures(m, "_combined")
        extra["read_seconds_combined"] = time.perf_counter() - t0
        extra["combined_weight"] = combined.weight
        extra["combined_lm_weight"] = combined.lm_weight
        readers["combined"] = combined
        others["combined"] = combined_rows
    validation = R.validation_figures(readers, val_items, source="validation words")
    chosen = summary.choose_reader(validation)
    R.save_reader_choice(model_dir, chosen, validation)
    sentences.append(summary.choice_sentence(chosen, validation))
    metrics.update(
        extra,
        **validation,
        ctc_lm_weight=weight,
        reader_chosen=chosen,
        ctc_words=ctc_words,
        ctc_real_words_used=len(pairs) if ctc_real_words else 0,
        ctc_epochs_run=len(history.get("loss", [])),
        ctc_train_seconds=seconds,
    )
    return Measured(metrics, R.merge_readings(word_rows, others), sentences, examples)
