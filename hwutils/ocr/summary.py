"""What a char_ocr run found, in the words and tables of its report.

The notebook calls these instead of printing numbers: the headline results
against the yardsticks that give them meaning (:func:`char_results`,
:func:`word_results`), what the run looked at (:func:`data_record`), and
the sentences and small tables of the narrative. Everything returns text
(Markdown) or :class:`hwutils.report.Result` objects; nothing is displayed
here.
"""

from __future__ import annotations

import numpy as np

from hwutils import report
from hwutils.ocr import CLASSES
from hwutils.report import markdown_table, pct

# the goal README.md sets for real.yaml's held-out MNIST digits (choosing among the digit classes;
# issue 29 raised it from 99.0% to 99.3%)
MNIST_GOAL = 0.993

SOURCE_NAMES = {
    "sklearn-digits": "scikit-learn's bundled digit scans (real)",
    "mnist": "MNIST-format digits (real)",
    "emnist": "EMNIST characters (real)",
    "kaggle-az": "Kaggle A-Z letters (real)",
    "folders": "folder-per-class images (real)",
    "harvested": "letters harvested from labelled words (real)",
    "synthetic": "synthetic font characters",
    "synthetic-pen": "synthetic pen-drawn characters",
}


# ------------------------------------------------------------------- data
def sources_table(source_rows: list[dict]) -> str:
    """The training characters by source (rows of
    :func:`hwutils.ocr.data.source_counts`) as a Markdown table."""
    rows = [
        {
            "source": SOURCE_NAMES.get(r["source"], r["source"]),
            "samples": f"{r['samples']:,}",
            "classes": r["classes"],
        }
        for r in source_rows
    ]
    return markdown_table(rows, {"source": "source", "samples": "characters", "classes": "classes"})


def origins_sentence(origins: dict[str, str]) -> str:
    """Which classes are real and which synthetic, in one or two sentences."""
    parts = [f"Classes with real samples: **{origins['real'] or 'none'}**."]
    if origins["synthetic_only"]:
        parts.append(f"From synthetic data only: **{origins['synthetic_only']}**.")
    if origins["missing"]:
        parts.append(f"No sample at all (the classifier can never learn them): **{origins['missing']}**.")
    return " ".join(parts)


def words_sentence(
    n_records: int, n_harvest: int, n_eval: int, unreadable: int, harvest: dict, n_val: int = 0
) -> str:
    """The labelled word set: how it was split and what the harvest gave."""
    text = (
        f"{n_records:,} labelled words: {n_harvest:,} for harvesting letters, "
        + (f"{n_val:,} for validation, " if n_val else "")
        + f"{n_eval:,} to read and score"
        + (f" ({unreadable:,} of them unreadable files)" if unreadable else "")
        + "."
    )
    if n_harvest:
        text += (
            f" The harvest used {harvest.get('words_used', 0):,} words"
            f" ({harvest.get('words_forced', 0):,} by a forced cut into the label's count),"
            f" skipped {harvest.get('words_skipped', 0):,}"
            + (
                f" and could not read {harvest['unreadable_files']:,}"
                if harvest.get("unreadable_files")
                else ""
            )
            + "."
        )
    return text


def data_record(chars, train, test, words_source: str, location, n_words: int, digit_test=None):
    """The keyword arguments of :func:`hwutils.report.record_data`
    (``report.record_data(**data_record(...))``):
    the sources of the characters (:class:`hwutils.ocr.data.CharSet`), where
    the words come from, and the counts of characters, classes and words."""
    from hwutils.ocr.data import source_counts

    names = [SOURCE_NAMES.get(r["source"], r["source"]) for r in source_counts(chars)]
    description = f"characters: {'; '.join(names)}. Words read: {words_source}"
    counts = {
        "characters": len(chars),
        "classes": len(np.unique(chars.labels)),
        "training_characters": len(train),
        "test_characters": len(test),
        "words": n_words,
    }
    if digit_test is not None:
        counts["test_digits"] = len(digit_test)
    return {"description": description, "location": str(location) if location else None, **counts}


def split_sentence(train, val, test, repeat: dict[str, int] | None = None) -> str:
    """The character split in one sentence (``repeat``: the sources whose
    training samples count several times, :func:`hwutils.ocr.data.training_splits`)."""
    text = (
        f"{len(train):,} training characters, {len(val):,} for early stopping and {len(test):,} held out "
        "as the character test split (stratified by class)."
    )
    for source, times in (repeat or {}).items():
        n = int(np.sum(train.sources == source))
        if times > 1 and n:
            text += (
                f" The training part counts its {n // times:,} {SOURCE_NAMES.get(source, source)} {times} times"
                " (validation and test characters are never repeated)."
            )
    return text


# ------------------------------------------------------------------- training
def training_sentence(histories: list[dict], seconds: float, epochs: int) -> str:
    """The classifiers' training, one line each (Markdown)."""
    from hwutils.training import summary_line

    lines = [summary_line(h, None, epochs=epochs, monitor="val_accuracy") for h in histories]
    if len(lines) == 1:
        return f"Training: {lines[0]}; {seconds:.0f} s."
    members = "\n".join(f"- CNN {k + 1}: {line}" for k, line in enumerate(lines))
    return f"{len(lines)} CNNs trained in {seconds:.0f} s:\n\n{members}"


def training_result(histories: list[dict], seconds: float) -> report.Result:
    """The training time as a headline (no yardstick: it says what the figures cost)."""
    epochs = sum(len(h.get("loss", [])) for h in histories)
    cnns = f"{len(histories)} CNNs" if len(histories) > 1 else "one CNN"
    note = f"{cnns}, {epochs} epoch{'s' if epochs != 1 else ''} in all"
    return report.Result("training time", seconds, kind="seconds", group="training", note=note)


# ------------------------------------------------------------------- characters
def confused_sentence(cm, classes: str = CLASSES, top: int = 8) -> str:
    """The most frequent confusions of the test split, in words."""
    from hwutils.metrics import most_confused_pairs

    pairs = most_confused_pairs(np.asarray(cm), list(classes), top=top)
    if not pairs:
        return "No test character was confused with another class."
    cm = np.asarray(cm)
    text = ", ".join(
        f"{p['true']} read as {p['predicted']} ({p['count']} of {int(cm[classes.index(p['true'])].sum())})"
        for p in pairs
    )
    return f"Most frequent confusions: {text}."


def per_class_figure(per_class, classes: str = CLASSES, title: str = "accuracy per class (test split)"):
    """Bar chart of the per-class accuracy (classes without test samples left out)."""
    from hwutils import plots

    values = {c: float(a) for c, a in zip(classes, per_class) if np.isfinite(a)}
    fig = plots.bar(values, title, ylabel="accuracy", ylim=(0, 1))
    fig.axes[0].set_xlabel("class")
    return fig


def char_results(metrics: dict, digit_goal: float | None = None) -> list[report.Result]:
    """The character accuracies against chance (a uniform guess among the 36
    classes; among the 10 digit classes for the digit test set) or, with
    ``digit_goal``, against that goal for the digit test set."""
    out = [
        report.Result(
            "character accuracy, test split",
            metrics["char_accuracy"],
            group="characters",
            yardstick=f"chance (1 of {len(CLASSES)} classes)",
            yardstick_value=1 / len(CLASSES),
            note=f"{metrics.get('n_test_chars', 0):,} test characters",
        )
    ]
    if "mnist_accuracy_digit_classes" in metrics:
        n = metrics.get("mnist_test_digits", 0)
        note = f"{n:,} held-out digits; as a 36-way choice {pct(metrics['mnist_accuracy'])}"
        if digit_goal is None:
            out.append(
                report.Result(
                    "digit test set, among the 10 digit classes",
                    metrics["mnist_accuracy_digit_classes"],
                    group="characters",
                    yardstick="chance (1 of 10 digits)",
                    yardstick_value=0.1,
                    note=note,
                )
            )
        else:
            out.append(
                report.Result(
                    "digit test set, among the 10 digit classes",
                    metrics["mnist_accuracy_digit_classes"],
                    group="characters",
                    yardstick="the README's goal for MNIST digits",
                    yardstick_value=digit_goal,
                    note=note,
                )
            )
    return out


# ------------------------------------------------------------------- words
STEPS = {
    "geometry": "geometry-only segmentation",
    "search": "segmentation by recognition without the language model",
    "full": "the full reader",
}


def _word_steps(metrics: dict) -> list[tuple[str, str]]:
    """``[(step name, metric suffix)]`` measured in this run, simplest first."""
    steps = []
    if "cer_geometry_only" in metrics:
        steps.append((STEPS["geometry"], "_geometry_only"))
    if "cer_without_lm" in metrics:
        steps.append((STEPS["search"], "_without_lm"))
    steps.append((STEPS["full"], ""))
    return steps


def word_results(metrics: dict) -> list[report.Result]:
    """Word accuracy and CER of each reading step, each against the step
    before it measured on the same words in the same run (geometry-only
    segmentation, then segmentation by recognition, then with the language
    model). A reader that is geometry-only has no simpler step: its figures
    stand alone."""
    steps = _word_steps(metrics)
    out = []
    for k, (name, suffix) in enumerate(steps):
        if k == 0 and len(steps) > 1:
            continue  # the simplest step is the yardstick of the next one
        base_name, base_suffix = steps[k - 1] if k else ("", None)
        label = "full reader" if suffix == "" else name
        out += _word_pair(metrics, label, suffix, base_name, base_suffix)
    return out


def _word_pair(metrics: dict, label: str, suffix: str, base: str = "", base_suffix: str | None = None):
    """Word accuracy and CER of one reader (its metrics' ``suffix``) against a
    yardstick reader (``base``, its ``base_suffix``; None: no yardstick)."""
    n = metrics.get("words_scored", 0)
    return [
        report.Result(
            f"{what}, {label}",
            metrics[f"{key}{suffix}"],
            group="words",
            yardstick=base if base_suffix is not None else "",
            yardstick_value=metrics[f"{key}{base_suffix}"] if base_suffix is not None else None,
            better=better,
            note=f"{n:,} words scored{interval_note(metrics.get(f'{key}{suffix}_ci95'))}",
        )
        for key, what, better in (("word_accuracy", "word accuracy", "higher"), ("cer", "CER", "lower"))
    ]


def interval_note(interval) -> str:
    """``"; 95% CI 7.1% to 9.9%"`` for a ``[low, high]`` interval of a
    fraction (:func:`hwutils.metrics.reading_intervals`), ``""`` without one."""
    if not interval or len(interval) != 2:
        return ""
    return f"; 95% CI {pct(interval[0])} to {pct(interval[1])}"


def word_sentence(metrics: dict) -> str:
    """What each reading step gained on these words, in words (says so when
    a step does not beat the simpler one)."""
    steps = _word_steps(metrics)
    n = metrics.get("words_scored", 0)
    full = (
        f"The full reader reads {pct(metrics['word_accuracy'])} of the {n:,} scored words exactly "
        f"(character error rate {pct(metrics['cer'])})."
    )
    if len(steps) == 1:
        return (
            full
            + " It segments from geometry alone (`search: false`), so there is no simpler reading to compare."
        )
    sentences = [full]
    for (base, bs), (_, s) in zip(steps, steps[1:]):
        acc, base_acc = metrics[f"word_accuracy{s}"], metrics[f"word_accuracy{bs}"]
        cer, base_cer = metrics[f"cer{s}"], metrics[f"cer{bs}"]
        figures = f"word accuracy {pct(acc)} vs {pct(base_acc)}, CER {pct(cer)} vs {pct(base_cer)}"
        what = "The language model" if s == "" and bs == "_without_lm" else "Segmentation by recognition"
        if acc > base_acc and cer < base_cer:
            sentences.append(f"{what} helps: {figures} for {base}.")
        elif acc <= base_acc and cer >= base_cer:
            sentences.append(f"**{what} does not beat {base} on these words**: {figures}.")
        else:
            sentences.append(f"{what} is mixed against {base}: {figures}.")
    return " ".join(sentences)


READER_NAMES = {
    "segmentation": "the segmentation reader",
    "ctc": "the CTC reader",
    "combined": "the combined reader",
}
_SUFFIX = {"segmentation": "", "ctc": "_ctc", "combined": "_combined"}


def ctc_results(metrics: dict) -> list[report.Result]:
    """Word accuracy and CER of the segmentation-free CTC reader, against the
    geometry-only segmentation and against the (full) segmentation reader,
    and (when measured) of the combined reader against the segmentation
    reader, all on the same words of the same run."""
    if "cer_ctc" not in metrics:
        return []
    seg_full = STEPS["full"].replace("the full", "the full segmentation")
    yardsticks = [(seg_full, "")]
    if "cer_geometry_only" in metrics:
        yardsticks.insert(0, (STEPS["geometry"], "_geometry_only"))
    out = []
    for base, suffix in yardsticks:
        against = " (against geometry-only)" if suffix == "_geometry_only" else ""  # names are unique
        out += _word_pair(metrics, f"CTC reader{against}", "_ctc", base, suffix)
    if "cer_combined" in metrics:
        out += _word_pair(metrics, "combined reader", "_combined", seg_full, "")
    return out


def choose_reader(validation: dict) -> str:
    """The reader ``hw read`` uses: the lowest CER on the validation words
    (``val_cer`` of the segmentation reader, ``val_cer_ctc``, and
    ``val_cer_combined`` when measured), then the higher word accuracy; a tie
    keeps the simpler reader (segmentation, then CTC)."""
    best, best_key = "segmentation", None
    for name in ("segmentation", "ctc", "combined"):
        s = _SUFFIX[name]
        if f"val_cer{s}" not in validation:
            continue
        key = (validation[f"val_cer{s}"], -validation[f"val_word_accuracy{s}"])
        if best_key is None or key < best_key:
            best, best_key = name, key
    return best


def choice_sentence(chosen: str, validation: dict) -> str:
    """Which reader ``hw read`` uses, and the validation figures it was chosen on."""
    n = validation.get("val_words_scored", 0)
    parts = [
        f"{READER_NAMES[name]} {pct(validation[f'val_word_accuracy{s}'])} (CER {pct(validation[f'val_cer{s}'])})"
        for name, s in _SUFFIX.items()
        if f"val_cer{s}" in validation
    ]
    choices = " or ".join(f"`--reader {name}`" for name, s in _SUFFIX.items() if f"val_cer{s}" in validation)
    return (
        f"On the {n:,} validation words (never among the words scored above) the words read right: "
        + ", ".join(parts)
        + f". `hw read` uses **{READER_NAMES[chosen]}** by default ({choices} to choose)."
    )


def combined_sentence(weight: float, lm_weight: float, tried: dict) -> str:
    """The combined reader's weights and the validation CER they were chosen on
    (``tried``: ``{(weight, lm_weight): (cer, word accuracy)}``)."""
    head = (
        "Combined reader: candidate strings of both readers scored by (1 - w) x segmentation score + "
        f"w x CTC log-likelihood + {lm_weight:g} x the language model, w = {weight:g}"
    )
    if not tried:
        return head + "."
    cers = ", ".join(f"{w:g}: {pct(c)}" for (w, lw), (c, _) in sorted(tried.items()) if lw == lm_weight)
    return (
        head + f"; both weights chosen on the validation words ({len(tried)} pairs tried; "
        f"validation CER by w at this language-model weight: {cers})."
    )


def ctc_training_sentence(
    history: dict, seconds: float, epochs: int, n_words: int, lm_weight: float, n_real: int = 0
) -> str:
    """The CTC reader's training and decoding settings, in one line."""
    from hwutils.training import summary_line

    line = summary_line(history, seconds, epochs=epochs, monitor="val_loss")
    real = f" and {n_real:,} real (harvested) word images, each also varied" if n_real else ""
    return (
        f"CTC reader: {n_words:,} composed training words{real}; {line}. Decoding: prefix beam search"
        + (
            f" with the character bigram model at weight {lm_weight:g}"
            if lm_weight > 0
            else " without a language model"
        )
        + "."
    )


def _edits(row: dict) -> str:
    d = row.get("edit_distance")
    return "no" if d is None else f"no ({d} edit{'s' if d != 1 else ''})"


def readings_table(rows: list[dict], n: int = 12) -> str:
    """The first ``n`` scored readings (label, reading, right or not) as a Markdown table."""
    shown = [
        {
            "label": r["label"] if r["kind"] == "word" else f"{r['label']} (empty field)",
            "read": r["read"] or "(nothing)",
            "ok": "yes" if r.get("correct") else _edits(r),
        }
        for r in rows
        if r["kind"] in ("word", "empty")
    ][:n]
    return markdown_table(shown, {"label": "label", "read": "read", "ok": "right"})


# ------------------------------------------------------------------- the final table
def metric_groups(metrics: dict) -> dict[str, list[str]]:
    """Groups of :func:`hwutils.report.metrics_table` for the run's metrics."""
    per_source = sorted(k for k in metrics if k.startswith("accuracy_"))
    return {
        "characters": [
            "char_accuracy",
            "char_top3_accuracy",
            "digit_accuracy_test_split",
            "letter_accuracy_test_split",
            *per_source,
            "mnist_accuracy_digit_classes",
            "mnist_accuracy",
            "mnist_test_digits",
            "n_train_chars",
            "n_test_chars",
        ],
        "classes": ["classes_real", "classes_synthetic_only"],
        "training": ["ensemble", "epochs_run", "train_seconds", "tta"],
        "words": [
            "words_source",
            "words_scored",
            "word_accuracy",
            "word_accuracy_ci95",
            "cer",
            "cer_ci95",
            "word_accuracy_letters",
            "cer_letters",
            "word_accuracy_without_lm",
            "cer_without_lm",
            "word_accuracy_geometry_only",
            "cer_geometry_only",
            "read_seconds",
            "word_accuracy_ctc",
            "word_accuracy_ctc_ci95",
            "cer_ctc",
            "cer_ctc_ci95",
            "word_accuracy_ctc_letters",
            "cer_ctc_letters",
            "word_accuracy_ctc_without_lm",
            "cer_ctc_without_lm",
            "read_seconds_ctc",
            "word_accuracy_combined",
            "word_accuracy_combined_ci95",
            "cer_combined",
            "cer_combined_ci95",
            "word_accuracy_combined_letters",
            "cer_combined_letters",
            "read_seconds_combined",
        ],
        "validation": [
            "val_words_scored",
            "val_word_accuracy",
            "val_cer",
            "val_word_accuracy_ctc",
            "val_cer_ctc",
            "val_word_accuracy_combined",
            "val_cer_combined",
            "ctc_lm_weight",
            "combined_weight",
            "combined_lm_weight",
            "reader_chosen",
        ],
        "CTC reader training": [
            "ctc_words",
            "ctc_real_words_used",
            "ctc_epochs_run",
            "ctc_train_seconds",
        ],
        "word labels and files": [
            "labels_empty",
            "empty_read_as_empty",
            "labels_not_words",
            "labels_outside_alphabet",
            "unreadable_files",
            "csv_rows_skipped",
            *sorted(k for k in metrics if k.startswith("harvest_")),
        ],
    }


def metric_names(metrics: dict) -> dict[str, str]:
    """Names of the final table's rows (:data:`METRIC_NAMES`, the intervals of
    :data:`WITH_INTERVALS`, and the accuracy per source)."""
    names = dict(METRIC_NAMES)
    names.update({f"{k}_ci95": f"{METRIC_NAMES[k]}, 95% interval over the words" for k in WITH_INTERVALS})
    for k in metrics:
        if k.startswith("accuracy_"):
            source = k[len("accuracy_") :]
            names[k] = f"test split: {SOURCE_NAMES.get(source, source)}"
        elif k.startswith("harvest_"):
            names[k] = "harvest: " + k[len("harvest_") :].replace("_", " ")
    return names


WITH_INTERVALS = (
    "word_accuracy",
    "cer",
    "word_accuracy_ctc",
    "cer_ctc",
    "word_accuracy_combined",
    "cer_combined",
)
"""The word figures that carry a ``_ci95`` interval (:func:`hwutils.metrics.reading_intervals`)."""

METRIC_NAMES = {
    "char_accuracy": "character accuracy (test split)",
    "char_top3_accuracy": "top-3 character accuracy",
    "digit_accuracy_test_split": "digits in the test split",
    "letter_accuracy_test_split": "letters in the test split",
    "mnist_accuracy_digit_classes": "digit test set, among the digit classes",
    "mnist_accuracy": "digit test set, 36-way choice",
    "mnist_test_digits": "digit test set size",
    "n_train_chars": "training characters",
    "n_test_chars": "test characters",
    "classes_real": "classes with real samples",
    "classes_synthetic_only": "classes from synthetic data only",
    "ensemble": "CNNs averaged",
    "epochs_run": "epochs (all CNNs)",
    "train_seconds": "training time",
    "tta": "test-time augmentation",
    "words_source": "words",
    "word_accuracy": "word accuracy (full reader)",
    "cer": "CER (full reader)",
    "word_accuracy_letters": "word accuracy, letters only",
    "cer_letters": "CER, letters only",
    "word_accuracy_without_lm": "word accuracy without the language model",
    "cer_without_lm": "CER without the language model",
    "word_accuracy_geometry_only": "word accuracy, geometry-only segmentation",
    "cer_geometry_only": "CER, geometry-only segmentation",
    "read_seconds": "reading time (full reader)",
    "word_accuracy_ctc": "word accuracy, CTC reader",
    "cer_ctc": "CER, CTC reader",
    "word_accuracy_ctc_letters": "word accuracy, CTC reader, letters only",
    "cer_ctc_letters": "CER, CTC reader, letters only",
    "word_accuracy_ctc_without_lm": "word accuracy, CTC reader without the language model",
    "cer_ctc_without_lm": "CER, CTC reader without the language model",
    "read_seconds_ctc": "reading time (CTC reader)",
    "word_accuracy_combined": "word accuracy, combined reader",
    "cer_combined": "CER, combined reader",
    "word_accuracy_combined_letters": "word accuracy, combined reader, letters only",
    "cer_combined_letters": "CER, combined reader, letters only",
    "read_seconds_combined": "reading time (combined reader)",
    "val_words_scored": "validation words scored",
    "val_word_accuracy": "validation word accuracy, segmentation reader",
    "val_cer": "validation CER, segmentation reader",
    "val_word_accuracy_ctc": "validation word accuracy, CTC reader",
    "val_cer_ctc": "validation CER, CTC reader",
    "val_word_accuracy_combined": "validation word accuracy, combined reader",
    "val_cer_combined": "validation CER, combined reader",
    "combined_weight": "combined reader's CTC weight",
    "combined_lm_weight": "combined reader's language-model weight",
    "ctc_lm_weight": "CTC reader's language-model weight",
    "reader_chosen": "reader hw read uses",
    "ctc_words": "composed training words (CTC reader)",
    "ctc_real_words_used": "real (harvested) training words (CTC reader)",
    "ctc_epochs_run": "epochs (CTC reader)",
    "ctc_train_seconds": "training time (CTC reader)",
}


def table_metrics(metrics: dict) -> dict:
    """The metrics as shown in the final table, each formatted by what it is
    (accuracies and CERs as percentages, times in seconds, counts, yes/no for
    flags); the raw numbers stay in metrics.json."""
    out = {}
    for k, v in metrics.items():
        if isinstance(v, bool):
            out[k] = "yes" if v else "no"
        elif k.endswith("_ci95") and isinstance(v, (list, tuple)) and len(v) == 2:
            out[k] = f"{pct(v[0])} to {pct(v[1])}"
        elif not isinstance(v, (int, float)):
            out[k] = v
        elif k.startswith(("cer", "val_cer")) or "accuracy" in k:
            out[k] = pct(v)
        elif k.endswith("_seconds"):
            out[k] = report.format_number(v, "seconds")
        elif isinstance(v, int):
            out[k] = report.format_number(v, "count")
        else:
            out[k] = report.format_number(v, "number")
    for k in ("classes_real", "classes_synthetic_only"):
        if k in out and not out[k]:
            out[k] = "none"
    return out


def form_sentence(form: dict) -> str:
    """What reading the words as fields of a printed form means (:mod:`hwutils.ocr.form`)."""
    labels = ", ".join(form["labels"]) or "none"
    digits = (
        ", or the classifier takes most of its characters for digits (a code written on the form)"
        if form["digit_lines"]
        else ""
    )
    return (
        f"Words are read as fields of a printed form (printed labels, letters only: {labels}): when the "
        f"main line of an image reads as one of the labels{digits}, the next likeliest line is read instead (up to "
        f"{form['max_lines']} lines), and a label read before the handwriting is dropped. Every reader below "
        "reads so, and `hw read` does too."
    )
