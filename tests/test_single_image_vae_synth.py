"""Stroke-rendered digits and the shipped example image."""

from __future__ import annotations

import numpy as np
import pytest

from hwutils import images
from hwutils.synth import digits
from hwutils.vae.input import DEFAULT_IMAGE


def test_render_is_seeded():
    a, b, c = digits.render_digit(2, seed=1), digits.render_digit(2, seed=1), digits.render_digit(2, seed=2)
    assert a.shape == (160, 160) and a.dtype == np.uint8
    assert np.array_equal(a, b)
    assert not np.array_equal(a, c)
    assert (a < 128).mean() > 0.02


def test_unknown_digit():
    with pytest.raises(ValueError, match="no strokes for digit 5"):
        digits.render_digit(5)


def test_stroke_points_checks_node_count():
    with pytest.raises(ValueError, match="3k\\+1"):
        digits.stroke_points([(0, 0), (1, 1)])


def test_shipped_example_is_reproducible(tmp_path):
    """hwutils/assets/example_two.png is what the documented command writes."""
    out = tmp_path / "two.png"
    assert digits.main([str(out), "--digit", "2", "--seed", "0"]) == 0
    assert np.array_equal(images.read_gray(out), images.read_gray(DEFAULT_IMAGE))
