"""Reproducibility inside a notebook: one call seeds everything, one records the kernel's environment."""

from __future__ import annotations

import os
import random
import zlib
from pathlib import Path


def seed_everything(seed: int, deterministic: bool = True) -> int:
    """Seed Python, NumPy and TensorFlow (and Keras) with ``seed``.

    With ``deterministic`` TensorFlow's op determinism is turned on, so the
    same params on the same machine give the same numbers. Stateful random
    ops inside ``tf.data`` maps then run serially; the project's pipelines
    use stateless ops seeded per element instead. Returns the seed.
    """
    if not isinstance(seed, int) or isinstance(seed, bool):
        raise TypeError(f"seed must be an int, got {type(seed).__name__}")
    os.environ["PYTHONHASHSEED"] = str(seed)
    random.seed(seed)
    import numpy as np

    np.random.seed(seed % (2**32))
    import tensorflow as tf

    tf.keras.utils.set_random_seed(seed)
    if deterministic:
        tf.config.experimental.enable_op_determinism()
    return seed


def seed_model(seed: int, name: str) -> int:
    """Reseed Python, NumPy and Keras from ``seed`` and a model's ``name`` before
    that model is built and trained, and return the derived seed.

    :func:`seed_everything` runs once per notebook, so without this a model's
    random start would depend on everything drawn before it (which cells ran,
    which other models were trained). With it, a model's start depends only on
    ``(seed, name)``: switching another model off or reordering cells leaves it
    unchanged. Op determinism, if on, stays on.
    """
    if not isinstance(seed, int) or isinstance(seed, bool):
        raise TypeError(f"seed must be an int, got {type(seed).__name__}")
    derived = zlib.crc32(f"{seed}:{name}".encode()) % (2**31 - 1)
    import keras

    keras.utils.set_random_seed(derived)
    return derived


def record_environment(seed: int | None = None, run_dir: Path | None = None) -> dict:
    """Write the kernel's environment (Python, platform, versions, TensorFlow
    devices, seed) to the run folder's ``environment.json`` and return it: an
    explicit call, made once by each stage notebook after seeding; ``hw run``
    copies the devices into the manifest and the report's summary shows them."""
    from hwutils.current_run import current
    from hwutils.environment import environment
    from hwutils.fileio import write_json_atomic
    from hwutils.runfolder import ENVIRONMENT

    env = environment()
    if seed is not None:
        env["seed"] = seed
    folder = run_dir or current(create=True)
    write_json_atomic(Path(folder) / ENVIRONMENT, env)
    return env
