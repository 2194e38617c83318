"""Empty data folders say they are empty; folders of images none of which fits
say how many there are, name one and the expected pattern (every loader with a
folder input)."""

from __future__ import annotations

import numpy as np
import pytest

from hwutils.datasets import cedar, folders, iam, pages, sign_data
from hwutils.errors import DataError
from hwutils.images import save_gray
from hwutils.ocr import data as ocr_data

LOOKED = r"\(looked for .png, .jpg, .jpeg"


def _img(path):
    im = np.full((40, 60), 255, np.uint8)
    im[10:30, 10:50] = 0
    save_gray(im, path)


def test_require_images_empty_only_other_files_and_images(tmp_path):
    with pytest.raises(DataError, match=r"absent: no such folder"):
        folders.require_images(tmp_path / "absent")
    (tmp_path / ".hidden.png").write_bytes(b"")  # hidden files are not data
    with pytest.raises(DataError, match=rf"{tmp_path}: empty, no image files {LOOKED}"):
        folders.require_images(tmp_path)
    (tmp_path / "notes.txt").write_text("x")
    with pytest.raises(
        DataError, match=rf"{tmp_path}: no image files, only 1 other file\(s\) such as notes.txt {LOOKED}"
    ):
        folders.require_images(tmp_path)
    (tmp_path / "sub").mkdir()
    _img(tmp_path / "sub" / "a.png")
    with pytest.raises(DataError, match="no image files, only"):
        folders.require_images(tmp_path)
    assert folders.require_images(tmp_path, recursive=True) == [tmp_path / "sub" / "a.png"]


def test_pages_empty_folder_is_not_a_pattern_mismatch(tmp_path):
    with pytest.raises(DataError, match=rf"{tmp_path}: empty, no page images {LOOKED}"):
        pages.load_pages(tmp_path)
    (tmp_path / "readme.md").write_text("x")
    with pytest.raises(DataError, match=r"no page images, only 1 other file\(s\) such as readme.md"):
        pages.load_pages(tmp_path)
    _img(tmp_path / "scan_001.png")
    _img(tmp_path / "scan_002.png")
    with pytest.raises(
        DataError,
        match=rf"{tmp_path}: none of its 2 image files matches name_pattern "
        r"'w\(\?P<writer>.*' \(e.g. scan_001.png\)",
    ):
        pages.load_pages(tmp_path)


def test_folder_per_class_says_empty_no_sub_folders_or_empty_sub_folders(tmp_path):
    with pytest.raises(
        DataError,
        match=rf"{tmp_path}: no images: empty, no sub-folders \(expected one sub-folder "
        r"per class holding its images\)",
    ):
        folders.load_folder_per_class(tmp_path)
    _img(tmp_path / "loose.png")
    with pytest.raises(DataError, match=r"no images: no sub-folders, only 1 file\(s\) such as loose.png"):
        folders.load_folder_per_class(tmp_path)
    for name in ("A", "B", "C", "D"):
        (tmp_path / name).mkdir()
    with pytest.raises(
        DataError, match=rf"no images: its 4 sub-folders \(A, B, C, ...\) are empty, no image files {LOOKED}"
    ):
        folders.load_folder_per_class(tmp_path)
    (tmp_path / "B" / "list.csv").write_text("x")
    with pytest.raises(DataError, match=r"hold no image files, only 1 other file\(s\) such as B/list.csv"):
        folders.load_folder_per_class(tmp_path)
    with pytest.raises(DataError, match=r"no sub-folder for any of the class names X, Y"):
        folders.load_folder_per_class(tmp_path, classes=["X", "Y"])


def test_char_folder_and_sign_data_empty(tmp_path):
    with pytest.raises(DataError, match=r"no character images: empty, no sub-folders"):
        ocr_data.folder_chars(tmp_path)
    with pytest.raises(
        DataError, match=r"no signature images: empty, no sub-folders \(expected one sub-folder per person"
    ):
        sign_data.load_sign_data(tmp_path)
    (tmp_path / "001").mkdir()
    (tmp_path / "001_forg").mkdir()
    with pytest.raises(
        DataError, match=r"no signature images: its 2 sub-folders \(001, 001_forg\) are empty"
    ):
        sign_data.load_sign_data(tmp_path)


def test_cedar_empty_and_misnamed(tmp_path):
    (tmp_path / "full_org").mkdir()
    with pytest.raises(DataError, match=r"full_org: empty, no signature images " + LOOKED):
        cedar.load_cedar(tmp_path)
    _img(tmp_path / "full_org" / "sig1.png")
    with pytest.raises(
        DataError, match=r"full_org: none of its 1 image files matches original_N_M.png \(e.g. sig1.png\)"
    ):
        cedar.load_cedar(tmp_path)
    for m in (1, 2):
        _img(tmp_path / "full_org" / f"original_1_{m}.png")
    assert len(cedar.load_cedar(tmp_path)) == 2  # no full_forg/: genuine signatures only


def test_iam_empty_folder_wrong_layout_and_unknown_forms(tmp_path):
    (tmp_path / "forms.txt").write_text("a01-000u 000 2 prt\n")
    (tmp_path / "lines").mkdir()
    with pytest.raises(DataError, match=rf"lines: empty, no lines images or its sub-folders {LOOKED}"):
        iam.load_iam(tmp_path)
    _img(tmp_path / "lines" / "a01-000u-00.png")  # flat, not lines/<prefix>/<form>/<id>.png
    with pytest.raises(
        DataError,
        match=r"lines: none of its 1 image files matches the IAM layout "
        r"lines/<prefix>/<form>/<id>.png \(e.g. a01-000u-00.png\)",
    ):
        iam.load_iam(tmp_path)
    (tmp_path / "lines" / "b02" / "b02-001").mkdir(parents=True)
    _img(tmp_path / "lines" / "b02" / "b02-001" / "b02-001-00.png")
    with pytest.raises(
        DataError,
        match=r"lines: none of its 1 images belongs to a form listed in .*forms.txt "
        r"\(e.g. b02/b02-001/b02-001-00.png: form 'b02-001'\)",
    ):
        iam.load_iam(tmp_path)
