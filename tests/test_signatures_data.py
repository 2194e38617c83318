"""Loaders, synthetic persons, invalid images, augmentations and bad input."""

from __future__ import annotations

import numpy as np
import pytest
from PIL import Image

from hwutils import augment
from hwutils.datasets.cedar import load_cedar
from hwutils.datasets.sign_data import GENUINE, SKILLED, load_sign_data, persons, split_persons
from hwutils.errors import DataError, HwError, ImageError
from hwutils.signatures import data
from hwutils.signatures.preprocess import preprocess
from hwutils.synth import invalid
from hwutils.synth import signatures as sig_synth


@pytest.fixture(scope="module")
def synth_root(tmp_path_factory):
    return sig_synth.write_dataset(
        tmp_path_factory.mktemp("sig"), n_persons=4, n_genuine=4, n_forgeries=3, n_forgers=2, seed=3
    )


def _ink(path, size=(60, 120)):
    img = np.full(size, 250, np.uint8)
    img[20:40, 20:100] = 30
    Image.fromarray(img).save(path)


def test_synthetic_layout_is_read_by_the_sign_data_loader(synth_root):
    recs = load_sign_data(synth_root)
    assert persons(recs) == ["001", "002", "003", "004"]
    assert sum(r.kind == GENUINE for r in recs) == 16
    skilled = [r for r in recs if r.kind == SKILLED]
    assert len(skilled) == 12
    assert all(r.forger in ("0001", "0002") for r in skilled)
    assert all(r.path.name.startswith(r.forger + r.person) for r in skilled)


def test_forger_is_read_from_both_file_name_forms(tmp_path):
    (tmp_path / "013").mkdir()
    (tmp_path / "013_forg").mkdir()
    for name in ("01_013.png", "02_013.png"):
        _ink(tmp_path / "013" / name)
    for name in ("0119013_01.png", "02_0204013.png", "scan_7.png"):
        _ink(tmp_path / "013_forg" / name)
    forgers = {r.path.name: r.forger for r in load_sign_data(tmp_path) if r.kind == SKILLED}
    assert forgers == {"0119013_01.png": "0119", "02_0204013.png": "0204", "scan_7.png": ""}


def test_synthetic_genuine_are_closer_than_forgeries(synth_root):
    recs = load_sign_data(synth_root)
    x = data.load_images(recs, 48, 96).astype(np.float32) / 255
    same, forged = [], []
    for p in persons(recs):
        g = [x[i] for i, r in enumerate(recs) if r.person == p and r.kind == GENUINE]
        f = [x[i] for i, r in enumerate(recs) if r.person == p and r.kind == SKILLED]
        same += [np.abs(g[0] - b).mean() for b in g[1:]]
        forged += [np.abs(g[0] - b).mean() for b in f]
    assert np.mean(same) < np.mean(forged)


def test_images_and_scan_measures_are_read_in_one_pass(synth_root):
    from hwutils.signatures.preprocess import scan_features_many

    recs = load_sign_data(synth_root)[:6]
    images, scan = data.load_images_with_scan(recs, 32, 64, scan_names=["geom", "glcm"])
    assert np.array_equal(images, data.load_images(recs, 32, 64))
    expected = scan_features_many([r.path for r in recs], ["geom", "glcm"])
    assert set(scan) == {"geom", "glcm"} and all(np.allclose(scan[k], expected[k]) for k in scan)
    assert data.load_images_with_scan(recs, 32, 64)[1] == {}


def test_synthesis_is_seeded(tmp_path):
    a = sig_synth.write_dataset(tmp_path / "a", n_persons=1, n_genuine=2, n_forgeries=1, seed=5)
    b = sig_synth.write_dataset(tmp_path / "b", n_persons=1, n_genuine=2, n_forgeries=1, seed=5)
    pa, pb = sorted(a.rglob("*.png")), sorted(b.rglob("*.png"))
    assert [p.name for p in pa] == [p.name for p in pb]
    assert all(np.array_equal(np.asarray(Image.open(x)), np.asarray(Image.open(y))) for x, y in zip(pa, pb))


def test_invalid_generator_covers_every_kind():
    imgs, kinds = invalid.make_invalid_set(12, seed=1)
    assert set(kinds) == set(invalid.KINDS)
    for img in imgs:
        assert img.dtype == np.uint8 and img.ndim == 2
        assert (img < 128).mean() > 0.001  # some ink
    with pytest.raises(ValueError):
        invalid.make_invalid(np.random.default_rng(0), "spiral")


def test_signature_augmentations_keep_shape_and_paper(synth_root):
    img = np.asarray(Image.open(next((synth_root / "001").glob("*.png"))))
    named = augment.signature_augmentations()
    assert list(named) == ["grid_1", "grid_2", "grid_3", "grid_4", "degrade", "optical", "elastic"]
    for i, t in enumerate(named.values()):
        out = augment.apply(t, [img], seed=i)[0]
        assert out.shape == img.shape and out.dtype == np.uint8
        assert np.median(out) > 200  # still mostly paper
    a = augment.apply(named["grid_4"], [img], seed=1)[0]
    assert np.array_equal(a, augment.apply(named["grid_4"], [img], seed=1)[0])


def test_split_persons_is_disjoint():
    ids = [f"{i:03d}" for i in range(20)]
    tr, va, te = split_persons(ids, 4, 5, seed=1)
    assert len(va) == 4 and len(te) == 5 and len(tr) == 11
    assert not (set(tr) & set(va) or set(tr) & set(te) or set(va) & set(te))
    with pytest.raises(DataError, match="cannot hold out"):
        split_persons(ids[:3], 2, 1)


def test_split_for_verification_holds_out_or_uses_test_folder(synth_root, tmp_path):
    recs = load_sign_data(synth_root)
    s = data.split_for_verification(recs, 1, 1, seed=0)
    assert set(s["test"]).isdisjoint(s["train"] + s["val"])
    assert {r.person for r in s["test_records"]} == set(s["test"])
    other = sig_synth.write_dataset(tmp_path / "other", n_persons=2, n_genuine=3, n_forgeries=1, seed=9)
    s2 = data.split_for_verification(recs, 1, 0, seed=0, test_records=load_sign_data(other))
    assert len(s2["train"]) == 3 and len(s2["test"]) == 2


def test_cedar_loader(tmp_path):
    (tmp_path / "full_org").mkdir()
    (tmp_path / "full_forg").mkdir()
    for n in (1, 2):
        for m in (1, 2):
            _ink(tmp_path / "full_org" / f"original_{n}_{m}.png")
        _ink(tmp_path / "full_forg" / f"forgeries_{n}_1.png")
    (tmp_path / "full_org" / "Thumbs.db").write_bytes(b"x")
    recs = load_cedar(tmp_path)
    assert persons(recs) == ["001", "002"]
    assert sum(r.kind == SKILLED for r in recs) == 2
    assert data.load_records(tmp_path) == recs  # auto-detected


# ------------------------------------------------------------------ bad input
def test_forgery_folder_without_its_person(tmp_path):
    (tmp_path / "001").mkdir()
    for k in (1, 2):
        _ink(tmp_path / "001" / f"001_0{k}.png")
    (tmp_path / "002_forg").mkdir()
    _ink(tmp_path / "002_forg" / "0101002_01.png")
    with pytest.raises(DataError, match="002_forg.*no genuine"):
        load_sign_data(tmp_path)


def test_person_with_fewer_than_two_genuine(tmp_path):
    (tmp_path / "007").mkdir()
    _ink(tmp_path / "007" / "007_01.png")
    with pytest.raises(DataError, match="007.*1 genuine"):
        load_sign_data(tmp_path)


def test_missing_or_empty_dataset_folder(tmp_path):
    with pytest.raises(DataError, match="no such"):
        data.load_records(tmp_path / "nope")
    (tmp_path / "001").mkdir()
    (tmp_path / "001" / "notes.txt").write_text("not an image")
    with pytest.raises(DataError, match="no signature images"):
        data.load_records(tmp_path)
    with pytest.raises(HwError, match="layout"):
        data.load_records(tmp_path, layout="gpds")


@pytest.mark.parametrize("content", [b"", b"this is text, not a PNG", b"\x89PNG\r\n\x1a\n broken"])
def test_unreadable_empty_or_non_image_files(tmp_path, content):
    (tmp_path / "001").mkdir()
    _ink(tmp_path / "001" / "001_01.png")
    bad = tmp_path / "001" / "001_02.png"
    bad.write_bytes(content)
    recs = load_sign_data(tmp_path)
    with pytest.raises(ImageError, match="001_02.png"):
        data.load_images(recs, 32, 64)


def test_blank_image_is_a_clear_error(tmp_path):
    path = tmp_path / "blank.png"
    Image.fromarray(np.full((40, 80), 255, np.uint8)).save(path)
    with pytest.raises(ImageError, match="blank.png: no ink"):
        preprocess(path)
    assert preprocess(path, 16, 32, require_ink=False).max() == 0


def test_colour_alpha_and_16bit_are_converted(tmp_path):
    base = np.full((60, 120), 250, np.uint8)
    base[20:40, 20:100] = 30
    ref = preprocess(base, 32, 64)
    rgb = np.stack([base, base, base], -1)
    Image.fromarray(rgb).save(tmp_path / "rgb.png")
    rgba = np.dstack(
        [np.zeros_like(rgb), np.where(base < 128, 255, 0).astype(np.uint8)]
    )  # ink opaque, rest transparent
    Image.fromarray(rgba, "RGBA").save(tmp_path / "alpha.png")
    Image.fromarray(base.astype(np.uint16) * 257).save(tmp_path / "deep.png")
    for name in ("rgb.png", "alpha.png", "deep.png"):
        out = preprocess(tmp_path / name, 32, 64)
        assert out.shape == (32, 64)
        assert np.abs(out - ref).mean() < 0.05, name


def test_real_sign_data_loader(real_data):
    recs = data.load_records(real_data / "sign_data")
    summary = data.summary(recs)
    assert summary["persons"] >= 40 and summary["skilled"] > 0
    assert all(r.forger for r in recs if r.kind == SKILLED)  # both file-name forms carry the forger
    some = [recs[0], [r for r in recs if r.kind == SKILLED][0]]
    x = data.load_images(some, 64, 128)
    assert x.shape == (2, 64, 128) and all(img.max() > 200 for img in x)
