"""The VAE, its Sampling layer, saving and loading; quality figures; the 3-class helpers; data loading."""

from __future__ import annotations

import gzip
import struct

import keras
import numpy as np
import pytest

from hwutils import metrics, repro
from hwutils.errors import DataError, ParamsError
from hwutils.vae import cnn, data, latent, quality, threeway
from hwutils.vae import model as vae_model


@pytest.fixture(scope="module")
def tiny_images():
    from hwutils.vae.augment import augment_digit
    from hwutils.vae.input import DEFAULT_IMAGE, load_digit_image

    return augment_digit(load_digit_image(DEFAULT_IMAGE), 16, seed=0)


@pytest.fixture(scope="module")
def trained(tiny_images):
    repro.seed_everything(0)
    return vae_model.train_vae(tiny_images, latent_dim=3, epochs=4, batch_size=8, steps_per_epoch=4, seed=0)


def test_sampling_layer_is_serializable():
    layer = vae_model.Sampling(seed=5, name="s")
    clone = keras.saving.deserialize_keras_object(keras.saving.serialize_keras_object(layer))
    assert isinstance(clone, vae_model.Sampling) and clone.seed == 5
    z = layer([np.zeros((4, 3), np.float32), np.full((4, 3), -50.0, np.float32)])
    assert np.allclose(np.asarray(z), 0.0, atol=1e-6)  # tiny variance: z is the mean


def test_shapes_and_parameters():
    vae = vae_model.VAE(latent_dim=5, beta=0.5)
    z_mean, z_log_var, z = vae.encoder(np.zeros((2, 28, 28, 1), np.float32))
    assert z_mean.shape == (2, 5) and z.shape == (2, 5)
    assert vae.decoder(np.zeros((2, 5), np.float32)).shape == (2, 28, 28, 1)
    convs = [l for l in vae.encoder.layers if isinstance(l, keras.layers.Conv2D)]
    assert [(c.filters, c.strides) for c in convs] == [(32, (2, 2)), (64, (2, 2))]
    assert vae.get_config()["beta"] == 0.5
    with pytest.raises(ParamsError, match="latent_dim"):
        vae_model.VAE(latent_dim=0)


def test_beta_zero_loss_is_reconstruction_only():
    vae = vae_model.VAE(latent_dim=2, beta=0.0)
    x = np.random.default_rng(0).random((4, 28, 28, 1)).astype(np.float32)
    total, rec, kl = vae._vae_losses(x, training=False)
    assert float(total) == pytest.approx(float(rec))
    assert float(kl) >= 0


def test_training_reduces_the_loss(trained):
    _, history = trained
    assert set(history) >= {"loss", "reconstruction_loss", "kl_loss"}
    assert history["loss"][-1] < history["loss"][0]


def test_save_and_load_with_safe_mode(trained, tmp_path):
    vae, _ = trained
    vae_model.save_vae(vae, tmp_path / "run" / "artifacts")
    loaded = vae_model.load_vae(tmp_path / "run")
    assert isinstance(loaded, vae_model.VAE) and loaded.latent_dim == 3
    assert np.array_equal(vae_model.sample(vae, 6, seed=1), vae_model.sample(loaded, 6, seed=1))


def test_sample_encode_interpolate(trained, tiny_images):
    vae, _ = trained
    s = vae_model.sample(vae, 7, seed=2)
    assert s.shape == (7, 28, 28) and s.dtype == np.uint8
    assert np.array_equal(s, vae_model.sample(vae, 7, seed=2))
    strip = latent.interpolation_strip(vae, tiny_images, steps=5)
    assert strip.shape == (5, 28, 28)
    z = vae_model.encode(vae, tiny_images)
    i, j = latent.farthest_pair(z)
    assert np.array_equal(strip[0], vae_model.decode(vae, z[i][None])[0])


def test_tsne_map(trained, tiny_images):
    vae, _ = trained
    pts, names = latent.tsne_map(vae, {"a": tiny_images[:8], "b": tiny_images[8:]}, seed=0)
    assert pts.shape == (16, 2) and list(names).count("a") == 8


# -------------------------------------------------------------- quality, 3-class
def test_generation_quality_figures(tiny_images):
    judge = cnn.build_cnn(10)
    q = quality.generation_quality(judge, tiny_images, tiny_images, 2, tiny_images)
    assert q["frechet_distance"] == pytest.approx(0.0, abs=1e-3)
    assert q["nearest_augmentation_distance"] == pytest.approx(0.0, abs=1e-6)
    assert q["diversity_ratio"] == pytest.approx(1.0)
    assert q["diversity_generated"] == pytest.approx(metrics.mean_pairwise_distance(tiny_images / 255.0))
    copies = np.repeat(tiny_images[:1], 5, axis=0)
    assert quality.generation_quality(judge, copies, tiny_images, 2)["diversity_generated"] == pytest.approx(
        0.0
    )
    assert 0.0 <= q["recognized_share"] <= 1.0


def test_balanced_indices():
    y = np.array([0] * 10 + [1] * 3 + [2] * 1)
    idx = cnn.balanced_indices(y, seed=0)
    assert np.bincount(y[idx]).tolist() == [10, 10, 10]


def test_threeway_labels_and_evaluation(tiny_images):
    real_x = np.full((5, 28, 28), 255, np.uint8)
    x, y = threeway.labelled_set(tiny_images[:3], real_x, np.array([2, 5, 2, 0, 9]), digit=2)
    assert y.tolist() == [0, 0, 0, 1, 2, 1, 2, 2]
    ev = threeway.evaluate(cnn.build_cnn(3), x, y)
    assert ev.confusion.sum() == len(y)
    assert ev.accuracy == pytest.approx(np.mean(ev.predicted == y))
    assert set(ev.as_metrics(2)) >= {"threeway_accuracy", "threeway_accuracy_yours"}


# ------------------------------------------------------------------------ data
def _write_idx(path, array):
    array = np.asarray(array, np.uint8)
    header = struct.pack(">BBBB", 0, 0, 0x08, array.ndim) + struct.pack(f">{array.ndim}I", *array.shape)
    with gzip.open(path, "wb") as fh:
        fh.write(header + array.tobytes())


@pytest.fixture
def idx_files(tmp_path):
    rng = np.random.default_rng(0)
    paths = {}
    for name, n in (("a", 60), ("b", 20)):
        _write_idx(tmp_path / f"{name}-images.gz", rng.integers(0, 255, (n, 28, 28)))
        _write_idx(tmp_path / f"{name}-labels.gz", np.arange(n) % 10)
        paths[name] = (str(tmp_path / f"{name}-images.gz"), str(tmp_path / f"{name}-labels.gz"))
    return paths


def test_sklearn_default_split_is_disjoint():
    d = data.load_digit_data(seed=1)
    assert len(d.train_y) + len(d.test_y) == 1797
    assert d.train_x.shape[1:] == (28, 28) and np.median(d.train_x) == 255  # paper-white
    train_keys = {x.tobytes() for x in d.train_x}
    assert not any(x.tobytes() in train_keys for x in d.test_x)
    assert "scikit-learn" in d.source


def test_idx_same_file_is_split(idx_files):
    d = data.load_digit_data(*idx_files["a"], *idx_files["a"], heldout_fraction=0.25, seed=0)
    assert (len(d.train_y), len(d.test_y)) == (45, 15)
    assert "same files" in d.split


def test_idx_other_files_are_held_out(idx_files):
    d = data.load_digit_data(*idx_files["a"], *idx_files["b"], max_train=30)
    assert (len(d.train_y), len(d.test_y)) == (30, 20)
    assert "other files" in d.split


def test_data_parameter_errors(idx_files, tmp_path):
    with pytest.raises(ParamsError, match="digits_images and digits_labels"):
        data.load_digit_data(idx_files["a"][0], "")
    with pytest.raises(ParamsError, match="heldout_images"):
        data.load_digit_data(heldout_images=idx_files["b"][0])
    with pytest.raises(ParamsError, match="heldout_fraction"):
        data.load_digit_data(heldout_fraction=1.5)
    with pytest.raises(DataError, match="nope.gz: no such IDX file"):
        data.load_digit_data(str(tmp_path / "nope.gz"), idx_files["a"][1])


@pytest.mark.real_data
def test_real_mnist_loads_and_splits(real_data):
    folder = real_data / "mnist"
    images, labels = str(folder / "mnist-images-idx3-ubyte.gz"), str(folder / "mnist-labels-idx1-ubyte.gz")
    d = data.load_digit_data(images, labels, images, labels, heldout_fraction=0.2, seed=0)
    assert (len(d.train_y), len(d.test_y)) == (4000, 1000)
    assert set(np.unique(d.test_y)) == set(range(10))
    assert np.median(d.test_x) == 255 and d.test_x.min() == 0
