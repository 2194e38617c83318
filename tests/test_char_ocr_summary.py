"""What the char_ocr report says: results against yardsticks, the reading
steps measured on the same words, and the sentences and tables of the
narrative (hwutils.ocr.summary, hwutils.ocr.read.evaluate_reader_variants)."""

import numpy as np
import pytest

from hwutils.ocr import CLASSES
from hwutils.ocr import data as D
from hwutils.ocr import read as R
from hwutils.ocr import summary as S
from hwutils.ocr.language import CharBigram
from hwutils.ocr.model import build_classifier


@pytest.fixture(scope="module")
def model():
    return build_classifier(width=4)


def _word(n=3):
    img = np.full((50, 30 + 30 * n), 255, np.uint8)
    for i in range(n):
        img[10:40, 15 + 30 * i : 30 + 30 * i] = 0
    return img


def test_reader_variants_are_the_steps_the_reader_takes(model):
    lm = CharBigram.fit(["ABA", "BAB"])
    full = R.Reader(model, language_model=lm, lm_weight=0.5)
    variants = R.reader_variants(full)
    assert list(variants) == ["geometry", "search", "full"]
    assert variants["full"] is full
    assert variants["geometry"].search is None and variants["geometry"].lm_weight == 0
    assert variants["search"].search is not None and variants["search"].lm_weight == 0
    assert variants["search"].model is model and variants["geometry"].model is model  # shared, not copied
    assert list(R.reader_variants(R.Reader(model))) == ["geometry", "full"]
    assert list(R.reader_variants(R.Reader(model, search=None))) == ["full"]


def test_geometry_only_keeps_the_allowed_classes(model):
    reader = R.Reader(model, allowed="AB").geometry_only()
    assert set(reader.read_word(_word(4)).text) <= set("AB")


def test_variants_are_scored_on_the_same_words(model):
    lm = CharBigram.fit(["ABA", "BAB"])
    reader = R.Reader(model, language_model=lm, lm_weight=0.5)
    items = [(_word(n), "ABCD"[:n]) for n in (2, 3, 4)]
    out, rows = R.evaluate_reader_variants(reader, items, source="test words")
    full, full_rows = R.evaluate_words(reader, items)
    geometry, _ = R.evaluate_words(reader.geometry_only(), items)
    search, _ = R.evaluate_words(reader.with_lm_weight(0), items)
    assert rows == full_rows and out["cer"] == full["cer"]
    assert out["cer_geometry_only"] == geometry["cer"]
    assert out["word_accuracy_geometry_only"] == geometry["word_accuracy"]
    assert out["cer_without_lm"] == search["cer"]
    lo, hi = out["cer_ci95"]  # the full reader's interval over the words
    assert lo <= out["cer"] <= hi and out["word_accuracy_ci95"][0] <= out["word_accuracy"]
    assert out["read_seconds"] > 0


def _words(geometry=None, search=None, full=(0.8, 0.1), n=50):
    m = {"word_accuracy": full[0], "cer": full[1], "words_scored": n}
    if geometry:
        m.update(word_accuracy_geometry_only=geometry[0], cer_geometry_only=geometry[1])
    if search:
        m.update(word_accuracy_without_lm=search[0], cer_without_lm=search[1])
    return m


def test_word_results_compare_each_step_with_the_one_before():
    results = S.word_results(_words(geometry=(0.5, 0.3), search=(0.7, 0.15), full=(0.72, 0.12)))
    by_name = {r.name: r for r in results}
    assert set(by_name) == {
        "word accuracy, segmentation by recognition without the language model",
        "CER, segmentation by recognition without the language model",
        "word accuracy, full reader",
        "CER, full reader",
    }
    r = by_name["word accuracy, segmentation by recognition without the language model"]
    assert (r.value, r.yardstick_value, r.yardstick) == (0.7, 0.5, "geometry-only segmentation")
    r = by_name["CER, full reader"]
    assert (r.value, r.yardstick_value, r.better, r.beats) == (0.12, 0.15, "lower", True)
    assert r.yardstick == "segmentation by recognition without the language model"
    worse = S.word_results(_words(geometry=(0.9, 0.05), full=(0.8, 0.1)))
    assert [r.beats for r in worse] == [False, False]
    alone = S.word_results(_words())
    assert [r.yardstick_value for r in alone] == [None, None]  # geometry-only reader: nothing simpler
    with_ci = S.word_results(dict(_words(), cer_ci95=[0.071, 0.129]))
    assert [r.note for r in with_ci] == ["50 words scored", "50 words scored; 95% CI 7.1% to 12.9%"]


def test_word_sentence_says_when_a_step_does_not_help():
    text = S.word_sentence(_words(geometry=(0.5, 0.3), search=(0.7, 0.15), full=(0.6, 0.2)))
    assert "Segmentation by recognition helps" in text
    assert "**The language model does not beat segmentation by recognition without the language model" in text
    assert "word accuracy 60.0% vs 70.0%, CER 20.0% vs 15.0%" in text
    assert "search: false" in S.word_sentence(_words())


def test_char_results_against_chance_or_the_goal():
    metrics = {"char_accuracy": 0.9, "n_test_chars": 321}
    (r,) = S.char_results(metrics)
    assert r.yardstick_value == pytest.approx(1 / 36) and r.beats
    metrics.update(mnist_accuracy_digit_classes=0.992, mnist_accuracy=0.95, mnist_test_digits=2500)
    goal = S.char_results(metrics, digit_goal=S.MNIST_GOAL)[1]
    assert goal.yardstick_value == 0.993 and goal.beats is False  # 99.2%: short of the 99.3% goal, flagged
    assert "95.0%" in goal.note
    assert S.char_results(metrics)[1].yardstick_value == 0.1


def test_tables_and_sentences():
    table = S.markdown_table([{"a": "x|y", "b": ""}], {"a": "A", "b": "B"})
    assert table.splitlines() == ["| A | B |", "| --- | --- |", "| x\\|y |   |"]
    rows = [
        {"kind": "word", "label": "ANNA", "read": "ANNA", "correct": True, "edit_distance": 0},
        {"kind": "unreadable_file", "label": "BOB", "read": ""},
        {"kind": "word", "label": "EVA", "read": "EUA", "correct": False, "edit_distance": 1},
        {"kind": "empty", "label": "EMPTY", "read": "", "correct": True},
    ]
    lines = S.readings_table(rows).splitlines()
    assert lines[2:] == [
        "| ANNA | ANNA | yes |",
        "| EVA | EUA | no (1 edit) |",
        "| EMPTY (empty field) | (nothing) | yes |",
    ]
    cm = np.zeros((36, 36), int)
    cm[CLASSES.index("0"), CLASSES.index("O")] = 4
    cm[CLASSES.index("0"), CLASSES.index("0")] = 6
    assert S.confused_sentence(cm) == "Most frequent confusions: 0 read as O (4 of 10)."
    assert "No test character" in S.confused_sentence(np.eye(36, dtype=int))


def test_data_record_and_final_table():
    chars = D.concat(
        D.CharSet(np.zeros((3, 32, 32), np.uint8), np.array([0, 1, 1]), np.array(["mnist"] * 3, "<U16")),
        D.CharSet(np.zeros((2, 32, 32), np.uint8), np.array([10, 11]), np.array(["synthetic"] * 2, "<U16")),
    )
    record = S.data_record(chars, chars.subset([0, 1]), chars.subset([2]), "names.csv", "/data/names.csv", 7)
    assert record["location"] == "/data/names.csv"
    assert (record["characters"], record["classes"], record["words"]) == (5, 4, 7)
    assert (record["training_characters"], record["test_characters"]) == (2, 1)
    assert "MNIST-format digits" in record["description"] and "test_digits" not in record
    shown = S.table_metrics({"cer": 0.075, "tta": True, "n_test_chars": 321, "classes_real": ""})
    assert shown == {"cer": "7.5%", "tta": "yes", "n_test_chars": "321", "classes_real": "none"}
    assert S.table_metrics({"train_seconds": 12.34, "word_accuracy": 1})["train_seconds"] == "12.3 s"
    assert S.table_metrics({"word_accuracy": 1})["word_accuracy"] == "100.0%"
    assert S.table_metrics({"cer_ctc_ci95": [0.0712, 0.1]})["cer_ctc_ci95"] == "7.1% to 10.0%"
    groups = S.metric_groups({"accuracy_mnist": 0.9, "harvest_words_used": 3})
    assert (
        "accuracy_mnist" in groups["characters"] and "harvest_words_used" in groups["word labels and files"]
    )
    assert (
        S.metric_names({"accuracy_mnist": 0.9})["accuracy_mnist"] == "test split: MNIST-format digits (real)"
    )
