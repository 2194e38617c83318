"""Loading and saving a run's artifacts safely: Keras models, JSON configs,
NumPy arrays.

Loading never runs code from the file: ``.keras`` models load with
``safe_mode=True`` and a model holding a ``Lambda`` layer (Python code) is
refused before Keras sees it; arrays load with ``allow_pickle=False``. Every
failure is one :class:`~hwutils.errors.ArtifactError` naming the file and
what is wrong (missing, empty, not that kind of file, truncated or corrupt,
unsafe, a missing key or array).

Saving is atomic: the file is written under a temporary name in the same
folder (ending in the same suffix, which Keras and NumPy need) and renamed
into place, so a full disk or a killed process never leaves half a file at
the final name.

    >>> from hwutils import artifacts
    >>> artifacts.save_keras(model, "artifacts/model.keras")
    >>> model = artifacts.load_keras("artifacts/model.keras")
    >>> cfg = artifacts.load_json("artifacts/writer_id.json", required=("writers", "height"))
    >>> arrays = artifacts.load_npz("artifacts/gallery.npz", keys=("names", "centroids"))
"""

from __future__ import annotations

import json
import os
import zipfile
from pathlib import Path

import numpy as np

from hwutils.errors import ArtifactError
from hwutils.fileio import atomic_path

UNSAFE_CLASSES = ("Lambda", "__lambda__")
"""Keras objects whose config carries Python code: refused on load."""


# ------------------------------------------------------------------ writing
def save_keras(model, path: str | os.PathLike) -> Path:
    """Save ``model`` as the ``.keras`` file ``path``, atomically."""
    path = Path(path)
    if path.suffix != ".keras":
        raise ArtifactError(f"{path}: models are saved as .keras files")
    with atomic_path(path) as tmp:
        model.save(tmp, overwrite=True)
    return path


def _check_arrays(path: Path, arrays: dict) -> dict:
    out = {}
    for key, value in arrays.items():
        arr = np.asarray(value)
        if arr.dtype.hasobject:
            raise ValueError(f"{path}: array {key!r} is an object array; it would need pickling")
        out[key] = arr
    return out


def save_npz(path: str | os.PathLike, compressed: bool = False, **arrays) -> Path:
    """Save named arrays as the ``.npz`` file ``path``, atomically; object
    arrays (which would be pickled) are a ``ValueError``."""
    path = Path(path)
    arrays = _check_arrays(path, arrays)
    with atomic_path(path) as tmp:
        (np.savez_compressed if compressed else np.savez)(tmp, allow_pickle=False, **arrays)
    return path


def save_npy(path: str | os.PathLike, array) -> Path:
    """Save one array as the ``.npy`` file ``path``, atomically (no object arrays)."""
    path = Path(path)
    arr = _check_arrays(path, {"array": array})["array"]
    with atomic_path(path) as tmp:
        np.save(tmp, arr, allow_pickle=False)
    return path


# ------------------------------------------------------------------ reading
def _existing_file(path: str | os.PathLike) -> Path:
    path = Path(path)
    if path.is_dir():
        raise ArtifactError(f"{path}: is a folder, not a file")
    if not path.is_file():
        raise ArtifactError(f"{path}: missing")
    if path.stat().st_size == 0:
        raise ArtifactError(f"{path}: empty file (0 bytes)")
    return path


def _unsafe_objects(config) -> list[str]:
    """Names of the Lambda layers (and serialized lambdas) anywhere in a Keras config."""
    found = []

    def walk(node):
        if isinstance(node, dict):
            if node.get("class_name") in UNSAFE_CLASSES:
                cfg = node.get("config")
                found.append(
                    str(cfg.get("name", node["class_name"])) if isinstance(cfg, dict) else node["class_name"]
                )
                return  # its function (a serialized __lambda__) is the same finding
            for value in node.values():
                walk(value)
        elif isinstance(node, list):
            for value in node:
                walk(value)

    walk(config)
    return found


def load_keras(path: str | os.PathLike, custom_objects: dict | None = None):
    """Load a ``.keras`` model with ``safe_mode=True`` (uncompiled).

    Custom layers must be registered with
    ``keras.saving.register_keras_serializable(package="hwutils")`` (or given
    in ``custom_objects``). Raises :class:`ArtifactError` naming the file when
    it is missing, empty, not a ``.keras`` (zip) file, truncated or corrupt,
    or holds a ``Lambda`` layer (Python code: refused, never run).
    """
    path = _existing_file(path)
    if not zipfile.is_zipfile(path):
        raise ArtifactError(f"{path}: not a .keras model file (not a zip archive: truncated or corrupt?)")
    try:
        with zipfile.ZipFile(path) as zf:
            if "config.json" not in zf.namelist():
                raise ArtifactError(f"{path}: not a Keras model (no config.json in the archive)")
            config = json.loads(zf.read("config.json"))
    except ArtifactError:
        raise
    except Exception as exc:  # noqa: BLE001 - a damaged archive, whatever zipfile or json says
        raise ArtifactError(
            f"{path}: truncated or corrupt .keras file ({exc.__class__.__name__}: {exc})"
        ) from None
    unsafe = _unsafe_objects(config)
    if unsafe:
        raise ArtifactError(
            f"{path}: holds a Lambda layer ({', '.join(unsafe)}): arbitrary Python code, refused "
            f"(models load with safe_mode; rebuild it with a registered custom layer)"
        )
    import keras

    try:
        model = keras.saving.load_model(path, custom_objects=custom_objects, safe_mode=True, compile=False)
    except ValueError as exc:
        if "safe_mode" in str(exc):
            raise ArtifactError(
                f"{path}: holds code that safe_mode refuses to load ({str(exc).splitlines()[0][:200]})"
            ) from None
        raise ArtifactError(
            f"{path}: cannot be loaded as a Keras model ({exc.__class__.__name__}: "
            f"{str(exc).splitlines()[0][:300] if str(exc) else ''})"
        ) from None
    except Exception as exc:  # noqa: BLE001 - truncated weights, unknown layers, ...: all this file's fault
        text = str(exc).splitlines()[0][:300] if str(exc) else ""
        raise ArtifactError(
            f"{path}: truncated or corrupt .keras file, or a layer this code does not know "
            f"({exc.__class__.__name__}: {text})"
        ) from None
    return model


def load_json(path: str | os.PathLike, required=()) -> dict:
    """A JSON object (mapping) from ``path``; :class:`ArtifactError` naming the
    file when it is missing, not valid JSON, not an object, or lacks one of the
    ``required`` keys."""
    path = _existing_file(path)
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except UnicodeDecodeError as exc:
        raise ArtifactError(
            f"{path}: not valid JSON (not UTF-8 text: {exc.reason} at byte {exc.start})"
        ) from None
    except json.JSONDecodeError as exc:
        raise ArtifactError(
            f"{path}: not valid JSON ({exc.msg} at line {exc.lineno} column {exc.colno})"
        ) from None
    if not isinstance(data, dict):
        raise ArtifactError(
            f"{path}: expected a JSON object, got a{'n' if type(data).__name__[0] in 'aeiou' else ''} "
            f"{_json_type(data)}"
        )
    require_keys(data, required, path)
    return data


def _json_type(value) -> str:
    return {
        list: "list",
        str: "string",
        int: "number",
        float: "number",
        bool: "boolean",
        type(None): "null",
    }.get(type(value), type(value).__name__)


def require_keys(mapping, keys, path) -> None:
    """:class:`ArtifactError` ``"<path>: missing key '<key>'"`` for the first of ``keys`` not in ``mapping``."""
    for key in keys:
        if key not in mapping:
            raise ArtifactError(f"{path}: missing key {key!r}")


def _pickle_refused(path: Path, exc: Exception) -> ArtifactError:
    return ArtifactError(f"{path}: holds pickled (object) arrays; pickled data is refused ({exc})")


def load_npz(path: str | os.PathLike, keys=None) -> dict:
    """The arrays of an ``.npz`` file as a dict (all loaded now), with
    ``allow_pickle=False``. ``keys``: the arrays that must be there (None: all
    of them). :class:`ArtifactError` naming the file when it is missing, not
    an ``.npz`` file, lacks a key, or holds pickled (object) arrays."""
    path = _existing_file(path)
    if not zipfile.is_zipfile(path):
        raise ArtifactError(f"{path}: not an .npz file (not a zip archive: truncated or corrupt?)")
    try:
        with np.load(path, allow_pickle=False) as data:
            names = list(data.files)
            wanted = names if keys is None else list(keys)
            for key in wanted:
                if key not in names:
                    raise ArtifactError(
                        f"{path}: missing array {key!r} (it holds: {', '.join(names) or 'nothing'})"
                    )
            return {key: data[key] for key in wanted}
    except ArtifactError:
        raise
    except ValueError as exc:
        if "pickle" in str(exc):
            raise _pickle_refused(path, exc) from None
        raise ArtifactError(f"{path}: corrupt .npz file ({exc})") from None
    except Exception as exc:  # noqa: BLE001 - a damaged archive
        raise ArtifactError(f"{path}: corrupt .npz file ({exc.__class__.__name__}: {exc})") from None


def load_npy(path: str | os.PathLike) -> np.ndarray:
    """One array from an ``.npy`` file, with ``allow_pickle=False``;
    :class:`ArtifactError` naming the file when it is missing, not an ``.npy``
    file, or holds a pickled (object) array."""
    path = _existing_file(path)
    with open(path, "rb") as fh:
        if fh.read(6) != b"\x93NUMPY":
            raise ArtifactError(f"{path}: not an .npy file")
    try:
        return np.load(path, allow_pickle=False)
    except ValueError as exc:
        if "pickle" in str(exc) or "Object arrays" in str(exc):
            raise _pickle_refused(path, exc) from None
        raise ArtifactError(f"{path}: corrupt .npy file ({exc})") from None
    except Exception as exc:  # noqa: BLE001
        raise ArtifactError(f"{path}: corrupt .npy file ({exc.__class__.__name__}: {exc})") from None


def check_finite(path: str | os.PathLike, arrays: dict, keys=None) -> dict:
    """``arrays`` when every numeric array of ``keys`` (default: all) holds only
    finite numbers, else an :class:`ArtifactError` naming the file and key: a
    NaN or infinite value in a reference, a gallery or a calibration must never
    become a score or a likelihood ratio."""
    for key in arrays if keys is None else keys:
        arr = np.asarray(arrays[key])
        if arr.dtype.kind in "fc" and not np.all(np.isfinite(arr)):
            bad = int(np.size(arr) - np.count_nonzero(np.isfinite(arr)))
            raise ArtifactError(f"{path}: key {key!r} holds {bad} non-finite value(s) (NaN or infinity)")
    return arrays


def check_shapes(path: str | os.PathLike, what: str, **lengths) -> None:
    """An :class:`ArtifactError` naming the file when the given lengths differ."""
    if len(set(lengths.values())) > 1:
        said = ", ".join(f"{k} {v}" for k, v in lengths.items())
        raise ArtifactError(f"{path}: {what} differ in length ({said})")
