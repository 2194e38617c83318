"""What the machine is: Python, the platform, the key packages' versions and TensorFlow's devices."""

from __future__ import annotations

import os
import platform
import sys
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
