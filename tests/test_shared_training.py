import keras
import numpy as np
import pytest
import tensorflow as tf

from hwutils import repro, training
from hwutils.errors import ParamsError


def _start(name: str, seed: int = 0) -> np.ndarray:
    repro.seed_model(seed, name)
    return _dense_kernel()


def _dense_kernel() -> np.ndarray:
    layer = keras.layers.Dense(4)
    layer.build((None, 3))
    return keras.ops.convert_to_numpy(layer.kernel)


def test_seed_model_start_depends_only_on_seed_and_name():
    first = _start("tower")
    (
        np.random.rand(10),
        tf.random.uniform((5,)),
        _dense_kernel(),
    )  # draws in between, as other models would make
    assert np.array_equal(_start("tower"), first)
    assert not np.array_equal(_start("writer_net"), first)
    assert not np.array_equal(_start("tower", seed=1), first)
    with pytest.raises(TypeError, match="seed"):
        repro.seed_model("0", "tower")


def test_get_strategy_names_the_parameter():
    assert training.get_strategy("default") is tf.distribute.get_strategy()
    with pytest.raises(ParamsError, match="strategy: unknown value 'tpu'; choose one of default, mirrored"):
        training.get_strategy("tpu")


def test_stateless_elastic_is_seeded_smooth_and_keeps_the_ink():
    from hwutils import pipelines

    img = np.zeros((32, 32, 1), np.float32)
    img[6:26, 14:18] = 1.0
    x, seed = tf.constant(img), tf.constant([4, 2], tf.int64)
    assert np.allclose(pipelines.stateless_elastic(x, seed, alpha=0.0).numpy(), img)  # no field, no change
    a = pipelines.stateless_elastic(x, seed, alpha=1.5).numpy()
    assert a.shape == img.shape
    assert np.array_equal(a, pipelines.stateless_elastic(x, seed, alpha=1.5).numpy())
    b = pipelines.stateless_elastic(x, tf.constant([4, 3], tf.int64), alpha=1.5).numpy()
    assert not np.allclose(a, b) and not np.allclose(a, img)
    assert 0.5 * img.sum() < a.sum() < 2 * img.sum()  # a warp moves and stretches ink; it does not erase it
    assert 0.0 <= a.min() and a.max() <= 1.0 + 1e-6
