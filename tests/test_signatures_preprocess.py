"""sigver-style preprocessing."""

from __future__ import annotations

import numpy as np

from hwutils.signatures.preprocess import (
    ink_cooccurrence,
    ink_geometry,
    ink_pressure,
    normalize_ink,
    preprocess,
    preprocess_many,
    preprocess_with_scan,
    scan_features,
    scan_features_many,
)


def _sig(ink_level=30, paper=245, offset=(10, 20), shape=(120, 300)):
    img = np.full(shape, paper, np.uint8)
    r, c = offset
    img[r + 10 : r + 14, c : c + 150] = ink_level
    img[r : r + 40, c + 60 : c + 64] = ink_level
    return img


def test_output_is_ink_one_centred_and_sized():
    out = preprocess(_sig(), 48, 96)
    assert out.shape == (48, 96) and out.dtype == np.float32
    assert 0.0 <= out.min() and out.max() <= 1.0 and out.max() > 0.9
    assert out[0].max() == 0 and out[:, 0].max() == 0  # margins are empty paper
    rows, cols = np.nonzero(out > 0.5)
    assert abs(rows.mean() - 24) < 8 and abs(cols.mean() - 48) < 12


def test_position_on_the_page_does_not_matter():
    a = preprocess(_sig(offset=(5, 5)), 48, 96)
    b = preprocess(_sig(offset=(60, 120)), 48, 96)
    assert np.abs(a - b).max() < 1e-6


def test_pen_darkness_is_normalised():
    light = preprocess(_sig(ink_level=120), 48, 96)
    dark = preprocess(_sig(ink_level=10), 48, 96)
    assert np.abs(light - dark).mean() < 0.02


def test_normalize_ink_removes_background_noise():
    rng = np.random.default_rng(0)
    img = np.clip(_sig().astype(int) + rng.integers(-5, 6, (120, 300)), 0, 255).astype(np.uint8)
    ink = normalize_ink(img)
    assert (ink > 0).mean() < 0.05
    assert ink[20:24, 40:100].min() > 0.8


def test_preprocess_many_batches():
    batch = preprocess_many([_sig(), _sig(ink_level=90)], 32, 64)
    assert batch.shape == (2, 32, 64, 1)


def test_keep_ink_mode_keeps_pen_darkness_like_sigver():
    light = preprocess(_sig(ink_level=120), 48, 96, ink="keep")
    dark = preprocess(_sig(ink_level=10), 48, 96, ink="keep")
    assert dark.max() > light.max() + 0.3
    import pytest

    from hwutils.errors import ParamsError

    with pytest.raises(ParamsError, match="ink"):
        preprocess(_sig(), 48, 96, ink="bold")


def test_preprocess_with_scan_matches_the_separate_calls():
    for ink in ("normalize", "keep"):
        img, scan = preprocess_with_scan(_sig(), 48, 96, ink=ink)
        assert np.array_equal(img, preprocess(_sig(), 48, 96, ink=ink))
        assert set(scan) == {"geom", "pressure", "glcm"}
        assert np.allclose(scan["geom"], ink_geometry(_sig()))
        assert np.allclose(scan["pressure"], ink_pressure(_sig())) and np.allclose(
            scan["glcm"], ink_cooccurrence(_sig())
        )
    many = scan_features_many([_sig(), _sig(offset=(30, 60))], ["pressure"])
    assert set(many) == {"pressure"} and many["pressure"].shape == (2, 21)
    assert np.allclose(many["pressure"][0], many["pressure"][1])  # placement does not matter
    assert scan_features_many([_sig()], []) == {}
    import pytest

    from hwutils.errors import ParamsError

    with pytest.raises(ParamsError, match="lbp"):
        scan_features(_sig(), ["lbp"])
    # the geometry keeps what cropping and resizing discard: a signature twice as large differs
    big = np.full((240, 600), 245, np.uint8)
    big[40:48, 40:340] = 30
    big[20:100, 160:168] = 30
    assert np.allclose(preprocess(big, 48, 96), preprocess(_sig(), 48, 96), atol=0.35)
    assert ink_geometry(big)[1] - ink_geometry(_sig())[1] > 0.5  # log width grows by about log 2


def _graded_stroke(levels):
    """A paper-white scan of a 6 px wide horizontal stroke whose ink grey levels follow ``levels`` across it."""
    img = np.full((80, 240), 250, np.uint8)
    for k, v in enumerate(levels):
        img[30 + k, 20:220] = v
    return img


def test_pressure_and_cooccurrence_see_the_grey_levels_not_the_pen_darkness():
    import pytest

    from hwutils.errors import ImageError

    even = _graded_stroke([20] * 6)  # pressed evenly
    ridged = _graded_stroke([150, 90, 20, 20, 90, 150])  # dark centre, light edges
    p_even, p_ridged = ink_pressure(even), ink_pressure(ridged)
    assert p_even.shape == (21,) and np.all(np.isfinite(p_even))
    assert abs(p_even[:8].sum() - 1) < 1e-5 and abs(p_ridged[:8].sum() - 1) < 1e-5  # grey-level histogram
    assert p_even[16] > 0.9 and p_ridged[16] < 0.8  # share of high-pressure ink
    assert p_ridged[15] > p_even[15] + 0.1  # spread of grey levels
    # a uniformly lighter pen (same shape, same relative levels) gives the same measures
    lighter = _graded_stroke([100] * 6)
    assert np.allclose(ink_pressure(lighter)[:8], p_even[:8], atol=1e-6)
    c_even, c_ridged = ink_cooccurrence(even), ink_cooccurrence(ridged)
    assert c_even.shape == (36,) and abs(c_even.sum() - 1) < 1e-5 and np.all(c_even >= 0)
    assert c_even.max() > 0.9 and c_ridged.max() < 0.8  # one grey level vs several
    rgb = np.stack([ridged] * 3, -1)
    assert np.allclose(ink_pressure(rgb), p_ridged) and np.allclose(ink_cooccurrence(rgb), c_ridged)
    for f in (ink_pressure, ink_cooccurrence):
        with pytest.raises(ImageError, match="blank.png: no ink"):
            f(np.full((40, 40), 250, np.uint8), name="blank.png")
