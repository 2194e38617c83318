"""Texture evidence of writer identification (hwutils.writer_id.texture_distance):
run lengths and the chi-square similarity on images and histograms whose
answer is known."""

from __future__ import annotations

import numpy as np
import pytest

from hwutils.writer_id import texture_distance as td


def _bar_image():
    """White paper with one black bar 4 rows tall and 10 columns wide: cropped to
    the ink with a 2-pixel margin the image is 8 x 14."""
    img = np.full((30, 40), 255, np.uint8)
    img[10:14, 5:15] = 0
    return img


def test_run_lengths_of_a_bar_are_known():
    f = td.run_length_features(_bar_image())
    assert f.shape == (td.RUN_DIM,)
    h_paper, h_ink, v_paper, v_ink = np.split(f, td.RUN_BLOCKS)
    # every one of the 4 ink rows holds one horizontal ink run of 10 pixels
    assert h_ink[10 - 1] == 1 and h_ink.sum() == 1
    # every one of the 10 ink columns holds one vertical ink run of 4 pixels
    assert v_ink[4 - 1] == 1 and v_ink.sum() == 1
    # paper: rows through the bar have runs of 2 either side (4 rows x 2 runs), the 4
    # margin rows one run of 14 each; columns: 10 x (2 + 2), the 4 margin columns 8 each
    assert np.isclose(h_paper[2 - 1], 8 / 12) and np.isclose(h_paper[14 - 1], 4 / 12)
    assert np.isclose(v_paper[2 - 1], 20 / 24) and np.isclose(v_paper[8 - 1], 4 / 24)


def test_long_runs_share_the_last_bin_and_a_blank_line_has_no_ink_runs():
    img = np.full((20, 200), 255, np.uint8)
    img[8:10, 5:195] = 0  # 190 px: longer than RUN_MAX
    h_ink = np.split(td.run_length_features(img), td.RUN_BLOCKS)[1]
    assert h_ink[td.RUN_MAX - 1] == 1
    blank = np.split(td.run_length_features(np.full((20, 50), 255, np.uint8)), td.RUN_BLOCKS)
    assert not blank[1].any() and not blank[3].any()


def test_evidence_features_start_with_the_hinge_histograms():
    from hwutils.writer_id.texture import line_features

    imgs = [_bar_image(), 255 - np.eye(40, dtype=np.uint8) * 255]
    ev = td.evidence_features(imgs, leg=3, bins=4)
    assert ev.shape == (2, td.hinge_width(4) + td.RUN_DIM)
    assert np.allclose(ev[:, : td.hinge_width(4)], line_features(imgs, 3, 4))


def test_chi_square_similarity_known_values():
    bins = 1  # a hinge part of 1 + 2 = 3 values
    a = np.array([[1.0, 0.0, 0.0]])
    b = np.array([[0.5, 0.5, 0.0], [1.0, 0.0, 0.0]])
    # chi2(a, b0) = (0.5^2 / 1.5) + (0.5^2 / 0.5) = 1/6 + 1/2
    assert np.allclose(td.texture_similarity(a, b, bins), [[-(1 / 6 + 1 / 2), 0.0]])
    # run lengths count at RUN_WEIGHT where both sides have them
    runs_a, runs_b = np.zeros((1, td.RUN_DIM)), np.zeros((2, td.RUN_DIM))
    runs_a[0, 0], runs_b[:, 1] = 1.0, 1.0  # disjoint: chi2 = 2
    full_a, full_b = np.hstack([a, runs_a]), np.hstack([b, runs_b])
    assert np.allclose(
        td.texture_similarity(full_a, full_b, bins), [[-(2 / 3) - td.RUN_WEIGHT * 2, -td.RUN_WEIGHT * 2]]
    )
    # symmetric; a side without run lengths (an older run's lines) compares the hinge part only
    assert np.allclose(
        td.texture_similarity(full_b, full_a, bins), td.texture_similarity(full_a, full_b, bins).T
    )
    assert np.allclose(td.texture_similarity(full_a, b, bins), td.texture_similarity(a, b, bins))
    assert td.common_width(full_a, b, bins) == td.hinge_width(bins)


@pytest.mark.parametrize("n", [1, 7, 300])
def test_chunked_distance_equals_the_direct_one(n):
    rng = np.random.default_rng(n)
    a, b = rng.dirichlet(np.ones(20), size=n), rng.dirichlet(np.ones(20), size=5)
    direct = (((a[:, None] - b[None]) ** 2) / (a[:, None] + b[None])).sum(-1)
    assert np.allclose(td._chi2(a, b), direct)


def test_a_space_without_run_lengths_compares_the_hinge_part_only():
    from hwutils.writer_id import EvidenceSpace

    rng = np.random.default_rng(0)
    width = td.hinge_width(16) + td.RUN_DIM
    tex, emb = rng.dirichlet(np.ones(width), size=4), rng.normal(size=(4, 3))
    space = EvidenceSpace(None, 12, 16)
    assert space.vectors(emb, tex, [0, 0, 1, 1])[0].shape == (2, width)
    hinge_only = space.without_runs().vectors(emb, tex, [0, 0, 1, 1])[0]
    assert hinge_only.shape == (2, td.hinge_width(16))
    assert np.allclose(hinge_only, [tex[:2, :288].mean(0), tex[2:, :288].mean(0)])


def test_references_of_the_older_texture_comparison_are_refused(tmp_path):
    from hwutils import artifacts
    from hwutils.errors import OutdatedArtifactError
    from hwutils.writer_id import lr

    path = tmp_path / "evidence.npz"
    artifacts.save_npz(  # what runs saved before: standardised unit vectors, no texture_metric
        path,
        names=np.array(["a"]),
        texture=np.ones((1, 288)) / 17,
        cnn=np.ones((1, 4)) / 2,
        tex_mean=np.zeros(288),
        tex_scale=np.ones(288),
        leg=np.array(12),
        bins=np.array(16),
    )
    with pytest.raises(OutdatedArtifactError, match="evidence.npz.*re-run writer_id"):
        lr.References.load(path)
    refs = lr.References(["a", "b"], np.full((2, 8), 0.125), np.eye(2), 12, 1)
    refs.save(path)
    back = lr.References.load(path)
    assert back.names == ["a", "b"] and np.allclose(back.texture, refs.texture)


@pytest.mark.parametrize(
    "n, ref, query, expected",
    [
        (12, 5, 4, (5, 4)),
        (9, 5, 4, (5, 4)),
        (6, 5, 4, (3, 3)),
        (7, 5, 4, (4, 3)),
        (2, 5, 4, (1, 1)),
        (3, 1, 8, (1, 2)),
    ],
)
def test_mirrored_trials_keep_the_case_s_proportions(n, ref, query, expected):
    from hwutils.writer_id.evidence import mirror_sizes

    assert mirror_sizes(n, ref, query) == expected
