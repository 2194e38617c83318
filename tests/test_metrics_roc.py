"""ROC and AUROC through scikit-learn: exact values on small hand-worked cases."""

from __future__ import annotations

import numpy as np
import pytest

from hwutils import metrics as M


def test_roc_curve_hand_worked():
    far, tar, thr = M.roc_curve([1, 1, 0, 0], [0.9, 0.4, 0.6, 0.1])
    assert np.isinf(thr[0]) and list(thr[1:]) == [0.9, 0.6, 0.4, 0.1]
    assert list(far) == [0, 0, 0.5, 0.5, 1]
    assert list(tar) == [0, 0.5, 0.5, 1, 1]


def test_roc_curve_ties_share_one_point():
    far, tar, thr = M.roc_curve([1, 0, 1, 0], [0.5, 0.5, 0.9, 0.1])
    assert list(thr[1:]) == [0.9, 0.5, 0.1]
    assert list(far) == [0, 0, 0.5, 1] and list(tar) == [0, 0.5, 1, 1]


def test_auroc_hand_worked_and_ties_count_half():
    assert M.auroc([1, 1, 0, 0], [0.9, 0.4, 0.6, 0.1]) == pytest.approx(0.75)
    assert M.auroc([1, 0], [0.5, 0.5]) == pytest.approx(0.5)


def test_one_class_gives_nan_auroc_and_a_curve_without_nan():
    assert np.isnan(M.auroc([1, 1], [0.2, 0.3]))
    far, tar, _ = M.roc_curve([1, 1], [0.2, 0.3])
    assert not np.isnan(far).any() and list(tar) == [0, 0.5, 1]


def test_shapes_must_agree():
    with pytest.raises(ValueError, match="differ in shape"):
        M.roc_curve([1, 0, 1], [0.1, 0.2])
