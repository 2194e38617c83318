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
    np.random.rand(10), tf.random.uniform((5,)), _dense_kernel()  # draws in between, as other models would make
    assert np.array_equal(_start("tower"), first)
    assert not np.array_equal(_start("writer_net"), first)
    assert not np.array_equal(_start("tower", seed=1), first)
    with pytest.raises(TypeError, match="seed"):
        repro.seed_model("0", "tower")


def test_get_strategy_names_the_parameter():
    assert training.get_strategy("default") is tf.distribute.get_strategy()
    with pytest.raises(ParamsError, match="strategy: unknown value 'tpu'; choose one of default, mirrored"):
        training.get_strategy("tpu")
