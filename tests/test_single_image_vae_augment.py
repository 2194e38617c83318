"""Augmenting one digit image."""

from __future__ import annotations

import numpy as np
import pytest

from hwutils.vae import augment
from hwutils.vae.input import DEFAULT_IMAGE, load_digit_image


@pytest.fixture(scope="module")
def digit():
    return load_digit_image(DEFAULT_IMAGE)


def test_count_shape_and_reproducibility(digit):
    a = augment.augment_digit(digit, 12, seed=3)
    b = augment.augment_digit(digit, 12, seed=3)
    c = augment.augment_digit(digit, 12, seed=4)
    assert a.shape == (12, 28, 28) and a.dtype == np.uint8
    assert np.array_equal(a, b)
    assert not np.array_equal(a, c)


def test_variations_differ_and_keep_ink(digit):
    a = augment.augment_digit(digit, 30, seed=0).astype(np.int32)
    diffs = [np.abs(a[i] - a[j]).mean() for i in range(10) for j in range(i + 1, 10)]
    assert min(diffs) > 0.5
    assert all((255 - img).sum() > 0.2 * (255 - digit.astype(np.int32)).sum() for img in a)


def test_bad_count(digit):
    with pytest.raises(ValueError, match="count"):
        augment.augment_digit(digit, 0)
