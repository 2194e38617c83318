"""Writer-id models, tf.data patches, window scanning, open set, enrolment, API."""

from __future__ import annotations

import numpy as np
import pytest

from hwutils import training
from hwutils.errors import ArtifactError, DataError, ParamsError
from hwutils.writer_id import data, enrol, identify, models, openset, scan


def test_window_starts_last_aligned_to_end():
    assert scan.window_starts(250, 113) == [0, 113, 137]
    assert scan.window_starts(226, 113) == [0, 113]
    assert scan.window_starts(50, 113) == [0]
    assert scan.window_starts(250, 113, stride=60)[-1] == 137


def test_narrow_line_is_padded_not_dropped():
    line = np.ones((16, 5), np.float32)
    w = scan.line_windows(line, 16)
    assert w.shape == (1, 16, 16) and w.sum() == line.sum()
    windows, owner = scan.all_windows([line, np.ones((16, 40), np.float32)], 16)
    assert windows.shape == (4, 16, 16, 1) and list(owner) == [0, 1, 1, 1]


def test_average_by_groups():
    v = np.array([[1.0, 0], [0, 1], [1, 1]])
    np.testing.assert_allclose(scan.average_by(v, [0, 0, 1]), [[0.5, 0.5], [1, 1]])


def test_training_patches_shape_and_small_images():
    lines = [np.full((20, 7), 0, np.uint8), np.full((20, 60), 100, np.uint8)]  # first narrower than a crop
    ds = data.training_patches(data.to_ink(lines), [0, 1], 20, 40, batch_size=8, seed=1)
    x, y = next(iter(ds))
    assert x.shape == (8, 20, 40, 1) and set(y.numpy()) <= {0, 1}
    assert float(x.numpy().max()) <= 1.0
    # same seed, same patches
    x2, _ = next(iter(data.training_patches(data.to_ink(lines), [0, 1], 20, 40, batch_size=8, seed=1)))
    np.testing.assert_array_equal(x.numpy(), x2.numpy())
    xa, _ = next(
        iter(data.training_patches(data.to_ink(lines), [0, 1], 20, 40, batch_size=8, seed=1, augment=True))
    )
    assert xa.shape == x.shape and 0 <= float(xa.numpy().min()) and float(xa.numpy().max()) <= 1.0


def test_training_patches_are_exact_crops_of_their_own_line():
    rng = np.random.default_rng(0)
    lines = [rng.random((10, w)).astype(np.float32) for w in (7, 30, 55)]
    q = [np.round(line * 255) / 255 for line in lines]
    x, y = next(iter(data.training_patches(lines, [0, 1, 2], 10, 20, batch_size=32, seed=3, ink_jitter=0)))
    for patch, label in zip(x.numpy()[..., 0], y.numpy()):
        if label == 0:  # narrower than the crop: centred, padded with paper, nothing lost
            np.testing.assert_allclose(patch[:, 6:13], q[0], atol=1e-5)
            assert patch[:, :6].sum() == 0 and patch[:, 13:].sum() == 0
        else:
            line = q[label]
            assert any(np.allclose(patch, line[:, i : i + 20], atol=1e-5) for i in range(line.shape[1] - 19))
    assert set(y.numpy()) == {0, 1, 2}
    with pytest.raises(DataError, match="height"):
        data.training_patches(lines, [0, 1, 2], 12, 20, batch_size=4, seed=0)


@pytest.mark.parametrize("name", models.MODELS)
def test_models_save_and_load_safe_mode(tmp_path, name):
    m = models.build_model(name, 5, height=24, width=0.1)
    x = np.random.default_rng(0).random((2, 24, models.input_width(name, 24), 1)).astype("float32")
    path = training.save_model(m, tmp_path / "m.keras")
    m2 = training.load_model(path)
    np.testing.assert_allclose(m.predict(x, verbose=0), m2.predict(x, verbose=0), atol=1e-6)
    probs, emb = models.with_embedding(m2).predict(x, verbose=0)
    assert probs.shape == (2, 5) and emb.ndim == 2


def test_bad_model_name():
    with pytest.raises(ParamsError, match="model"):
        models.build_model("resnet", 5)
    with pytest.raises(ParamsError, match="pooling"):
        models.build_model("half_deepwriter", 5, pooling="max")


def test_openset_threshold_and_evaluation():
    rng = np.random.default_rng(0)
    cents = openset.normalize(np.eye(3, 8))
    known = np.eye(3, 8)[rng.integers(0, 3, 40)] + rng.normal(0, 0.1, (40, 8))
    new = rng.normal(0, 1, (30, 8))
    t = openset.calibrate_threshold(openset.known_score(known[:20], cents), 0.05)
    r = openset.evaluate(openset.known_score(known[20:], cents), openset.known_score(new, cents), t)
    assert r["auroc"] > 0.9 and r["n_known"] == 20 and r["n_unknown"] == 30
    assert 0 <= r["false_accepts"] <= 30


def test_gallery_enrol_rank_save(tmp_path):
    g = enrol.Gallery.from_embeddings(np.eye(2, 4), ["a", "b"])
    g = g.enrol("new", np.array([[0, 0, 1.0, 0.1], [0, 0, 1.0, -0.1]]))
    order, sims = g.rank(np.array([[0, 0, 2.0, 0]]))
    assert g.names[order[0, 0]] == "new" and sims[0, 0] > 0.99
    g2 = enrol.Gallery.load(g.save(tmp_path / "g.npz"))
    assert g2.names == g.names
    with pytest.raises(DataError):
        g.enrol("x", np.zeros((0, 4)))


def test_identify_api_round_trip(tmp_path):
    m = models.build_model("half_deepwriter", 3, height=24, width=0.1)
    g = enrol.Gallery.from_embeddings(
        np.random.default_rng(0).random((3, m.get_layer("embedding").units)), ["a", "b", "c"]
    )
    art = tmp_path / "run" / "artifacts"
    identify.save_for_identification(art, m, ["a", "b", "c"], 24, 24, 0, 0.5, g)
    wid = identify.WriterIdentifier.load(tmp_path / "run")
    line = np.full((40, 300), 255, np.uint8)
    line[10:30, 20:280:7] = 0
    res = wid.identify_line(line)
    assert [w for w, _ in res.ranking] and sorted(w for w, _ in res.ranking) == ["a", "b", "c"]
    assert abs(sum(s for _, s in res.ranking) - 1) < 1e-4 and res.n_windows >= 1
    tiny = np.full((5, 5), 255, np.uint8)
    tiny[2, 2] = 0
    assert wid.identify_line(tiny).n_windows == 1  # smaller than a crop: padded
    with pytest.raises(DataError, match="no text lines"):
        wid.identify_page(np.full((300, 300), 255, np.uint8))
    with pytest.raises(ArtifactError, match="not a writer_id run folder .no artifacts/writer_id.json"):
        identify.WriterIdentifier.load(tmp_path)


def test_lines_dataset_keeps_pixels():
    rng = np.random.default_rng(0)
    lines = [rng.random((12, w)).astype(np.float32) for w in (5, 30)]
    for (x, _), line in zip(data.lines_dataset(lines, [0, 1]), lines):
        np.testing.assert_allclose(x.numpy()[..., 0], line, atol=1 / 255)
