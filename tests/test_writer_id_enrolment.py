"""What moved out of the writer_id notebook: the enrolment split, enrolment and
identification against the gallery, the split-leak check, the headline results
and the example-lines figure."""

from __future__ import annotations

import numpy as np
import pytest

from hwutils.datasets.splits import check_disjoint
from hwutils.errors import DataError
from hwutils.writer_id import summary
from hwutils.writer_id.enrol import Gallery, enrol_and_identify, enrolment_split


def test_enrolment_split_takes_first_groups_in_group_order():
    writers = ["a", "b", "a", "a", "b", "a", "b"]
    groups = ["f2", "g1", "f1", "f2", "g0", "f1", "g1"]
    enrol, query = enrolment_split(writers, groups, ["a", "b"], 2)
    # a: lines 2, 5 (form f1, by position) enrol; 0, 3 (form f2) are queries. b: 4 (g0), 1 enrol; 6 query
    assert list(enrol) == [2, 5, 4, 1]
    assert list(query) == [0, 3, 6]


def test_enrolment_split_more_enrol_lines_than_lines_leaves_no_query():
    enrol, query = enrolment_split(["a", "a"], ["x", "y"], ["a"], 5)
    assert list(enrol) == [0, 1] and len(query) == 0


def test_enrolment_split_refuses_unknown_writer_and_zero_lines():
    with pytest.raises(DataError, match="new writer c"):
        enrolment_split(["a"], ["x"], ["c"], 1)
    with pytest.raises(DataError, match="enrol_lines"):
        enrolment_split(["a"], ["x"], ["a"], 0)


def test_enrol_and_identify_names_new_and_known_writers():
    known = Gallery(["k0", "k1"], np.array([[1.0, 0, 0], [0, 1.0, 0]]))
    new_emb = np.array([[0, 0, 1.0], [0, 0.1, 1.0], [0.05, 0, 1.0], [1.0, 0.1, 0]])
    new_writers = ["n", "n", "n", "n"]
    gallery, m = enrol_and_identify(
        known, new_emb, new_writers, [0], [1, 2, 3], np.array([[0.9, 0.1, 0]]), ["k0"]
    )
    assert gallery.names == ["k0", "k1", "n"]
    assert m["enrolled_writers"] == 1 and m["enrol_query_lines"] == 3 and m["gallery_size"] == 3
    assert m["enrolled_top1"] == pytest.approx(2 / 3)  # the last query lies on k0's centroid
    assert m["known_top1_after_enrolment"] == 1.0


def test_enrol_and_identify_without_queries_is_nan():
    known = Gallery(["k0"], np.array([[1.0, 0]]))
    _, m = enrol_and_identify(known, np.array([[0, 1.0]]), ["n"], [0], [])
    assert np.isnan(m["enrolled_top1"]) and "known_top1_after_enrolment" not in m


def test_check_disjoint_names_the_leak():
    check_disjoint({"train": {"f1", "f2"}, "val": {"f3"}, "test": {"f4"}})
    with pytest.raises(DataError, match=r"1 form\(s\) on both train and test \(f2\)"):
        check_disjoint({"train": {"f1", "f2"}, "val": {"f3"}, "test": {"f2"}}, what="form")


def test_results_compare_with_chance_and_the_better_single_system():
    m = {"line_top1": 0.9, "page_top1": 1.0}
    tm = {"cnn_line_top1": 0.8, "texture_line_top1": 0.95, "cnn_page_top1": 1.0, "texture_page_top1": 0.5}
    rows = summary.results(m, 10, {"auroc": 0.7}, {"enrolled_top1": 0.6, "gallery_size": 12}, 12.0, tm)
    by = {r.name: r for r in rows}
    line = by["line top-1, fused"]
    assert line.yardstick_value == 0.95 and "texture alone" in line.yardstick and line.beats is False
    page = by["page top-1, fused"]
    assert page.yardstick_value == 1.0 and "CNN alone" in page.yardstick and "100%" in page.note
    assert by["line top-1, CNN alone"].yardstick_value == pytest.approx(0.1)
    assert by["page top-1, texture alone"].beats is True
    assert by["new-writer AUROC"].yardstick_value == 0.5
    assert by["enrolled writers' top-1"].yardstick_value == pytest.approx(1 / 12)
    text = summary.shortfalls(rows)
    assert "line top-1, fused (90.0%) is below the better single system (texture alone)" in text
    assert "page top-1, fused (100.0%) ties with" in text and "CNN alone, " not in text
    assert "enrolled writers' top-1, texture + CNN evidence" not in by  # no LR measured
    enrol = {"enrolled_top1": 0.6, "gallery_size": 12}
    rows = summary.results(m, 10, {"auroc": 0.7}, enrol, 12.0, tm, {"new_line_evidence_top1": 0.85})
    fused = {r.name: r for r in rows}["enrolled writers' top-1, texture + CNN evidence"]
    assert fused.value == 0.85 and fused.yardstick_value == 0.6 and fused.beats is True


def test_results_without_texture_or_new_writers():
    rows = summary.results({"line_top1": 0.5, "page_top1": 0.5}, 4, {}, {}, 3.0)
    assert [r.name for r in rows] == ["line top-1, CNN", "page top-1, CNN", "training time"]
    assert all(r.beats is not False for r in rows) and summary.shortfalls(rows) == ""


def test_example_lines_figure_one_row_per_line():
    import matplotlib

    matplotlib.use("Agg")
    lines = [np.full((16, 200), 255, np.uint8), np.full((16, 90), 255, np.uint8)]
    fig = summary.example_lines_figure(lines, ["w1", "w2"])
    axes = fig.get_axes()
    assert [a.get_ylabel() for a in axes] == ["w1", "w2"]
    assert fig.get_size_inches()[0] == 10 and axes[0].get_xlim() == (0, 200)
    assert fig._suptitle.get_text() and axes[-1].get_xlabel()
