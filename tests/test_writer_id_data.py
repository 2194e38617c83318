"""Writer-id data layer: IAM loader on a generated miniature tree, page
segmentation, splits by group, synthetic writers, bad input."""

from __future__ import annotations

import numpy as np
import pytest

from hwutils.datasets import iam, pages, splits
from hwutils.errors import DataError, HwError, ParamsError
from hwutils.images import save_gray
from hwutils.synth import handwriting
from hwutils.writer_id import data


@pytest.fixture(scope="module")
def mini_iam(tmp_path_factory):
    """4 synthetic writers x 3 forms x 2 lines in the IAM layout, one line marked 'err'."""
    root = handwriting.write_iam_dataset(
        tmp_path_factory.mktemp("iam"),
        n_writers=4,
        forms_per_writer=3,
        lines_per_form=2,
        chars_per_line=12,
        seed=1,
    )
    status = (root / "lines.txt").read_text().replace("s00-000-01 ok", "s00-000-01 err")
    (root / "lines.txt").write_text(status)
    return root


def test_iam_loader_reads_forms_and_status(mini_iam):
    recs = iam.load_iam(mini_iam)
    assert len(recs) == 4 * 3 * 2 - 1  # the 'err' line is dropped
    assert {r.writer for r in recs} == {"000", "001", "002", "003"}
    assert all(r.group == iam.form_of(r.line_id) for r in recs)
    assert len(iam.load_iam(mini_iam, ok_only=False)) == 24
    forms = iam.read_forms(mini_iam / "forms.txt")
    assert forms["s00-000"] == "000" and len(forms) == 12


def test_iam_writer_choice(tmp_path):
    (tmp_path / "forms.txt").write_text(
        "# comment\na-1 001 x\na-2 001 x\na-3 002 x\nb-1 003 x\nb-2 003 x\nb-3 003 x\n"
    )
    forms = iam.read_forms(tmp_path / "forms.txt")
    assert iam.choose_writers(forms, top_writers=2) == ["001", "003"]
    assert iam.choose_writers(forms, min_forms=3) == ["003"]
    assert iam.choose_writers(forms) == ["001", "002", "003"]


def test_iam_missing_forms_and_folder(tmp_path, mini_iam):
    with pytest.raises(DataError, match="forms.txt"):
        iam.load_iam(tmp_path)
    (tmp_path / "forms.txt").write_text((mini_iam / "forms.txt").read_text())
    with pytest.raises(DataError, match="lines"):
        iam.load_iam(tmp_path)
    with pytest.raises(ParamsError, match="level"):
        iam.load_iam(mini_iam, level="words")


def test_split_by_form_never_shares_a_form(mini_iam):
    recs = iam.load_iam(mini_iam, ok_only=False)
    parts = splits.split_by_group([r.writer for r in recs], [r.group for r in recs], 0.34, 0.34, seed=3)
    sides = {k: {recs[i].group for i in v} for k, v in parts.items()}
    assert (
        not sides["train"] & sides["test"]
        and not sides["train"] & sides["val"]
        and not sides["val"] & sides["test"]
    )
    assert sum(len(v) for v in parts.values()) == len(recs)
    for w in {r.writer for r in recs}:  # every writer on every side
        for v in parts.values():
            assert any(recs[i].writer == w for i in v)


def test_split_by_line_for_single_pages():
    writers = ["a"] * 7 + ["b"] * 6
    lines = [f"{w}-{i}" for i, w in enumerate(writers)]
    parts = splits.split_by_group(writers, lines, 0.15, 0.3, seed=0, what="line")
    taken = np.concatenate(list(parts.values()))
    assert len(taken) == len(set(taken)) == 13


def test_split_too_few_forms_names_the_writer():
    with pytest.raises(DataError, match="writer b: only 2 form"):
        splits.split_by_group(["a", "a", "a", "b", "b"], ["1", "2", "3", "4", "5"], 0.2, 0.2)


def test_hold_out_labels():
    held = splits.hold_out_labels(list("abcdef"), 2, seed=0)
    assert len(held) == 2 and held == splits.hold_out_labels(list("abcdef"), 2, seed=0)
    with pytest.raises(ParamsError, match="unknown_writers"):
        splits.hold_out_labels(list("abc"), 2)


def _page(lines=3, seed=0):
    rng = np.random.default_rng(seed)
    style = handwriting.random_style(rng)
    page = np.full((60 + 90 * lines, 700), 255, np.uint8)
    for k in range(lines):
        img = handwriting.render_line(handwriting.random_text(rng, 14), style, rng)[:, :650]
        page[40 + 90 * k : 40 + 90 * k + img.shape[0], 20 : 20 + img.shape[1]] = np.minimum(
            page[40 + 90 * k : 40 + 90 * k + img.shape[0], 20 : 20 + img.shape[1]], img
        )
    return page


def test_segment_lines_finds_each_line():
    found = pages.segment_lines(_page(lines=4))
    assert len(found) == 4
    tops = [lb.top for lb in found]
    assert tops == sorted(tops)
    assert all(lb.image.shape[0] < 90 for lb in found)


def test_load_pages_by_name_pattern(tmp_path):
    for w in (1, 2):
        save_gray(_page(3, seed=w), tmp_path / f"w{w:04d}_s01_pWOZ_r01.png")
    save_gray(_page(3, seed=9), tmp_path / "unrelated_name.png")
    recs, skipped = pages.load_pages(tmp_path)
    assert {r.writer for r in recs} == {"0001", "0002"} and not skipped
    assert len(recs) == 6 and len({r.group for r in recs}) == 6  # split_by=line: a group per line
    recs_p, _ = pages.load_pages(tmp_path, split_by="page")
    assert len({r.group for r in recs_p}) == 2


def test_blank_page_and_bad_files(tmp_path):
    save_gray(np.full((400, 400), 255, np.uint8), tmp_path / "w0001_s01_pWOZ_r01.png")
    with pytest.raises(DataError, match="no text lines detected"):
        pages.segment_page(tmp_path / "w0001_s01_pWOZ_r01.png")
    with pytest.raises(DataError, match="unusable"):
        pages.load_pages(tmp_path)
    for w in range(2, 8):
        save_gray(_page(2, seed=w), tmp_path / f"w{w:04d}_s01_pWOZ_r01.png")
    (tmp_path / "w0009_s01_pWOZ_r01.png").write_bytes(b"")
    recs, skipped = pages.load_pages(tmp_path, max_bad_fraction=0.3)
    assert len(skipped) == 2 and {r.writer for r in recs} == {f"{w:04d}" for w in range(2, 8)}
    with pytest.raises(ParamsError, match="name_pattern"):
        pages.load_pages(tmp_path, name_pattern=r"w(\d+)")


def test_load_lines_skips_and_counts_unreadable(mini_iam, tmp_path):
    recs = iam.load_iam(mini_iam)
    bad = tmp_path / "bad.png"
    bad.write_bytes(b"")
    broken = tmp_path / "broken.png"
    broken.write_bytes(b"not a png")
    recs2 = recs + [iam.LineRecord("000", "x", "bad", bad), iam.LineRecord("000", "y", "broken", broken)]
    ls = data.load_lines(recs2, 32, max_bad_fraction=0.1)
    assert len(ls) == len(recs) and len(ls.skipped) == 2
    assert all(l.shape[0] == 32 for l in ls.lines)
    with pytest.raises(DataError, match="max_bad_fraction"):
        data.load_lines(recs[:3] + recs2[-2:], 32, max_bad_fraction=0.1)


def test_synthetic_writers_are_seeded_and_distinct(tmp_path):
    a = handwriting.write_iam_dataset(
        tmp_path / "a", n_writers=2, forms_per_writer=1, lines_per_form=1, seed=5
    )
    b = handwriting.write_iam_dataset(
        tmp_path / "b", n_writers=2, forms_per_writer=1, lines_per_form=1, seed=5
    )
    fa = sorted(p.read_bytes() for p in (a / "lines").rglob("*.png"))
    fb = sorted(p.read_bytes() for p in (b / "lines").rglob("*.png"))
    assert fa == fb
    rng = np.random.default_rng(0)
    s1, s2 = handwriting.random_style(rng), handwriting.random_style(rng)
    assert (s1.font, s1.slant, s1.size) != (s2.font, s2.slant, s2.size)


def test_errors_are_hw_errors():
    assert issubclass(DataError, HwError)
