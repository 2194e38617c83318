"""Writer-id fast training path (uint8 patches, conversion in the model) and
the contour-hinge texture classifier fused with the CNN."""

from __future__ import annotations

import numpy as np
import pytest

from hwutils import training
from hwutils.errors import DataError
from hwutils.writer_id import data, enrol, identify, models, texture


def _lines():
    rng = np.random.default_rng(0)
    return [rng.random((10, w)).astype(np.float32) for w in (7, 30, 55)]


def test_raw_patches_are_the_float_patches_before_conversion():
    lines = _lines()
    cols, y = next(iter(data.raw_patches(lines, [0, 1, 2], 10, 20, batch_size=32, seed=3)))
    assert cols.dtype.name == "uint8" and cols.shape == (32, 20, 10)
    x, y2 = next(iter(data.training_patches(lines, [0, 1, 2], 10, 20, batch_size=32, seed=3, ink_jitter=0)))
    np.testing.assert_array_equal(y.numpy(), y2.numpy())  # same positions for the same seed
    np.testing.assert_allclose(data.columns_to_patches(cols).numpy(), x.numpy(), atol=1e-6)
    again, _ = next(iter(data.raw_patches(lines, [0, 1, 2], 10, 20, batch_size=32, seed=3)))
    np.testing.assert_array_equal(cols.numpy(), again.numpy())
    other, _ = next(iter(data.raw_patches(lines, [0, 1, 2], 10, 20, batch_size=32, seed=4)))
    assert not np.array_equal(cols.numpy(), other.numpy())
    with pytest.raises(DataError, match="height"):
        data.raw_patches(lines, [0, 1, 2], 12, 20, batch_size=4, seed=0)


def test_to_columns_inverts_the_conversion():
    w = np.round(np.random.default_rng(1).random((3, 10, 20, 1)) * 255) / 255
    np.testing.assert_allclose(data.columns_to_patches(data.to_columns(w)).numpy(), w, atol=1e-6)


def test_patch_input_jitters_only_in_training_and_is_repeatable():
    cols = data.to_columns(np.full((8, 10, 20), 0.5, np.float32))
    layer = models.PatchInput(ink_jitter=0.3, seed=5)
    plain = layer(cols, training=False).numpy()
    assert plain.shape == (8, 10, 20, 1) and np.allclose(plain, 128 / 255)
    a = layer(cols, training=True).numpy()
    b = models.PatchInput(ink_jitter=0.3, seed=5)(cols, training=True).numpy()
    np.testing.assert_array_equal(a, b)
    gains = a[:, 0, 0, 0] / plain[:, 0, 0, 0]
    assert gains.std() > 0.01 and np.all((gains > 0.69) & (gains < 1.31))
    aug = models.PatchInput(augment=True, seed=5)(cols, training=True).numpy()
    assert aug.shape == plain.shape and 0 <= aug.min() and aug.max() <= 1


def test_training_model_shares_weights_and_trains(tmp_path):
    lines = _lines()
    net = models.build_model("half_deepwriter", 3, height=10, width=0.05)
    trainer = models.compile_model(models.training_model(net, seed=0))
    assert trainer.input.dtype == "uint8" and tuple(trainer.input.shape[1:]) == (10, 10)
    before = [w.copy() for w in net.get_weights()]
    trainer.fit(
        data.raw_patches(lines, [0, 1, 2], 10, 10, batch_size=8, seed=0),
        steps_per_epoch=2,
        epochs=1,
        verbose=0,
    )
    assert any(not np.allclose(a, b) for a, b in zip(before, net.get_weights()))  # the network itself learned
    cols, _ = next(iter(data.raw_patches(lines, [0, 1, 2], 10, 10, batch_size=4, seed=1)))
    np.testing.assert_allclose(
        trainer.predict(cols, verbose=0), net.predict(data.columns_to_patches(cols), verbose=0), atol=1e-5
    )
    loaded = training.load_model(training.save_model(trainer, tmp_path / "t.keras"))
    np.testing.assert_allclose(loaded.predict(cols, verbose=0), trainer.predict(cols, verbose=0), atol=1e-5)


def _writer_line(rng, slant: float, loops: bool) -> np.ndarray:
    """A synthetic line: strokes of one writer's slant, round (loops) or angular."""
    img = np.full((60, 400), 255, np.uint8)
    yy, xx = np.mgrid[:60, :400]
    for x0 in range(15, 380, 30):
        x0 = x0 + rng.integers(-3, 4)
        if loops:
            img[((xx - x0 - slant * (30 - yy)) ** 2 / 64 + (yy - 30) ** 2 / 196 - 1) ** 2 < 0.08] = 0
        else:
            img[(np.abs(xx - x0 - slant * (30 - yy)) < 2) & (yy > 12) & (yy < 48)] = 0
            img[(np.abs(yy - 14 - 0.4 * (xx - x0)) < 2) & (xx >= x0) & (xx < x0 + 12)] = 0
    return img


def test_hinge_features_tell_writers_apart_and_save(tmp_path):
    rng = np.random.default_rng(0)
    styles = [(0.0, True), (0.6, False), (0.0, False)]
    imgs = [_writer_line(rng, *styles[k]) for k in range(3) for _ in range(4)]
    labels = np.repeat(np.arange(3), 4)
    f = texture.line_features(imgs, leg=5, bins=8)
    assert f.shape == (12, 8 * 8 + 16)
    np.testing.assert_allclose(f[:, :64].sum(1), 1, atol=1e-5)
    train = np.array([0, 1, 4, 5, 8, 9])
    clf = texture.TextureClassifier.fit(f[train], labels[train], 3, leg=5, bins=8)
    test = np.setdiff1d(np.arange(12), train)
    p = clf.predict_proba(f[test])
    assert np.allclose(p.sum(1), 1, atol=1e-5) and np.mean(p.argmax(1) == labels[test]) == 1.0
    clf2 = texture.TextureClassifier.load(clf.save(tmp_path / "t.npz"))
    np.testing.assert_allclose(clf2.predict_images([imgs[i] for i in test]), p, atol=1e-6)
    assert not texture.hinge_features(np.full((20, 20), 255, np.uint8)).any()  # blank: no contour, zeros
    with pytest.raises(DataError, match="no training line"):
        texture.TextureClassifier.fit(f[:8], labels[:8], 3)
    with pytest.raises(DataError, match="leg"):
        texture.hinge_features(imgs[0], leg=0)


def test_fusion_weight_chosen_by_validation_loss():
    y = np.array([0, 1, 2, 0])
    good = np.eye(3)[y] * 0.9 + 0.1 / 3
    bad = np.full((4, 3), 1 / 3)
    assert texture.choose_weight(bad, good, y)[0] == 1.0
    assert texture.choose_weight(good, bad, y)[0] == 0.0
    np.testing.assert_allclose(texture.fuse(good, bad, 0.0), good, atol=1e-6)
    assert texture.choose_weight(good, bad, [])[0] == 0.5


def test_identify_fuses_the_saved_texture_classifier(tmp_path):
    rng = np.random.default_rng(0)
    imgs = [_writer_line(rng, *s) for s in ((0.0, True), (0.6, False), (0.0, False)) for _ in range(3)]
    labels = np.repeat(np.arange(3), 3)
    clf = texture.TextureClassifier.fit(texture.line_features(imgs, 5, 8), labels, 3, leg=5, bins=8)
    m = models.build_model("half_deepwriter", 3, height=24, width=0.1)
    g = enrol.Gallery.from_embeddings(
        np.random.default_rng(0).random((3, m.get_layer("embedding").units)), ["a", "b", "c"]
    )
    identify.save_for_identification(
        tmp_path / "artifacts", m, ["a", "b", "c"], 24, 24, 0, 0.5, g, texture_model=clf, texture_weight=1.0
    )
    wid = identify.WriterIdentifier.load(tmp_path)
    assert wid.texture is not None and wid.config["texture_weight"] == 1.0
    probe = _writer_line(np.random.default_rng(9), 0.6, False)
    res = wid.identify_line(probe)
    assert res.ranking[0][0] == "b"
    np.testing.assert_allclose(res.ranking[0][1], clf.predict_images([probe])[0, 1], atol=1e-4)


def test_texture_fusion_fits_on_train_weighs_on_validation():
    from hwutils.writer_id import evaluate

    rng = np.random.default_rng(2)
    styles = [(0.0, True), (0.6, False), (0.0, False)]
    split = {"train": 2, "val": 1, "test": 2}
    images = {
        k: [_writer_line(rng, *styles[w]) for w in range(3) for _ in range(n)] for k, n in split.items()
    }
    labels = {k: np.repeat(np.arange(3), n) for k, n in split.items()}
    uninformative = {k: np.full((3 * n, 3), 1 / 3, np.float32) for k, n in split.items()}
    out = evaluate.texture_fusion(
        images,
        labels,
        uninformative["val"],
        uninformative["test"],
        [f"p{w}" for w in labels["test"]],
        3,
        leg=5,
        bins=8,
    )
    assert out["weight"] > 0.5  # the CNN scores carry nothing, the texture carries the writers
    assert out["metrics"]["texture_line_top1"] == 1.0 and out["metrics"]["cnn_line_top1"] < 1.0
    assert out["fused_metrics"]["line_top1"] == out["metrics"]["fused_line_top1"] == 1.0
    assert out["fused_metrics"]["n_pages"] == 3 and out["line_probs"].shape == (6, 3)
