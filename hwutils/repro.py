"""Reproducibility: one call seeds everything; environment capture for manifests."""

from __future__ import annotations

import os
import platform
import random
import sys
import zlib
from importlib import metadata

KEY_PACKAGES = (
    "tensorflow",
    "keras",
    "numpy",
    "pillow",
    "albumentations",
    "bezier",
    "matplotlib",
    "scikit-learn",
    "papermill",
    "hwutils",
)


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


def package_versions(names=KEY_PACKAGES) -> dict[str, str | None]:
    """Installed versions of the key packages (None where absent)."""
    out = {}
    for name in names:
        try:
            out[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            out[name] = None
    return out


def tensorflow_devices() -> list[str]:
    """Devices TensorFlow sees, e.g. ``['CPU:0', 'GPU:0']``."""
    import tensorflow as tf

    return [f"{d.device_type}:{d.name.rsplit(':', 1)[-1]}" for d in tf.config.list_logical_devices()]


def environment(include_devices: bool = True) -> dict:
    """Python, platform, package versions and (optionally) TensorFlow devices."""
    env = {
        "python": sys.version.split()[0],
        "platform": platform.platform(),
        "machine": platform.machine(),
        "cpu_count": os.cpu_count(),
        "packages": package_versions(),
    }
    if include_devices:
        try:
            env["devices"] = tensorflow_devices()
        except Exception as exc:  # TensorFlow missing or broken: record, don't fail the run
            env["devices"] = [f"unavailable: {exc}"]
    return env


def record_environment(seed: int | None = None) -> dict:
    """Record the kernel's environment (versions, devices, seed) in the run
    folder's ``environment.json``: an explicit call, made once by each stage
    notebook after seeding (see :func:`hwutils.runfolder.record_environment`)."""
    from hwutils import runfolder

    return runfolder.record_environment(seed)
