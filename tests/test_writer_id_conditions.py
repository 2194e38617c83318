"""The writer_id stage's image conditions (hwutils.writer_id.conditions)."""

from types import SimpleNamespace

import numpy as np
import pytest

from hwutils.writer_id import conditions as W


def _line(thickness: int, paper: int = 250) -> np.ndarray:
    g = np.full((40, 200), paper, np.uint8)
    for x in range(10, 190, 20):  # strokes of known width: vertical bars 14 rows high
        g[12:26, x : x + thickness] = 30
    return g


def _rec(writer, page, thickness, paper=250):
    return SimpleNamespace(writer=writer, page=page, group=page, image=_line(thickness, paper), path=None)


def test_documents_are_judged_by_their_lines_median_and_a_line_alone():
    dev = [_rec(w, f"{w}-p", t) for w, t in (("a", 3), ("a", 3), ("b", 4), ("b", 4), ("c", 5), ("c", 5))]
    cond = W.fit_lines(dev)
    assert (cond.n_sources, cond.n_scans, cond.source_word, cond.scan_word) == (3, 6, "writers", "lines")
    rows = W.measure_many([_line(4)] * 3)
    assert W.outside(cond, rows) == []
    broad = W.outside(cond, W.measure_many([_line(9)] * 3))
    assert len(broad) == 1 and broad[0].startswith("the document (median of 3 lines): stroke width")
    assert W.outside(cond, W.measure_many([_line(9)]))[0].startswith("the line: stroke width")
    # two documents as scanned, then the same at half the resolution (the writing half as high)
    test = [_rec("a", "p1", 3), _rec("a", "p1", 4), _rec("b", "p2", 4)]
    assert W.document_flags(cond, test) == 0.0
    assert W.document_flags(cond, test, 0.5) == 1.0
    assert W.resampled(_line(4), 0.5).shape == (20, 100)
    assert W.document_flags(cond, []) != W.document_flags(cond, [])  # NaN: no documents
    with pytest.raises(ValueError, match="two development writers"):
        W.fit_lines(dev[:2])
