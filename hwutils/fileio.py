"""Writing files so that a reader never sees half of one: atomic paths, text and JSON.

Every file of a run folder, a sweep and the index is written through here:
to a temporary file beside its target, renamed into place on success and
removed on any failure (a killed process or a full disk never leaves half a
file). JSON is written from NumPy values and paths as well (:func:`jsonable`).
"""

from __future__ import annotations

import contextlib
import json
import math
import os
import tempfile
from pathlib import Path


def write_json_atomic(path: str | os.PathLike, data) -> Path:
    """Write JSON to a temporary file beside ``path`` then rename it into place,
    so a reader never sees half a file."""
    return write_text_atomic(path, json.dumps(jsonable(data), indent=2, sort_keys=False) + "\n")


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


@contextlib.contextmanager
def atomic_path(path: str | os.PathLike, keep_suffix: bool = True):
    """Yield a temporary path beside ``path`` (same folder; ending in the same
    suffix with ``keep_suffix``, which Keras and NumPy need) to write to; on
    success it is renamed onto ``path`` (with the usual permissions), on any
    failure it is removed and ``path`` is left as it was: a killed process or
    a full disk never leaves half a file at ``path``. Parent folders are created."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(
        dir=path.parent, prefix=f".{path.name}.", suffix=f".tmp{path.suffix}" if keep_suffix else ".tmp"
    )
    os.close(fd)
    try:
        yield Path(tmp)
        os.chmod(tmp, 0o666 & ~_umask())
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(tmp)
        raise


def write_text_atomic(path: str | os.PathLike, text: str) -> Path:
    """Write text to a temporary file beside ``path``, then rename it into
    place (:func:`atomic_path`)."""
    path = Path(path)
    with atomic_path(path, keep_suffix=False) as tmp:
        with open(tmp, "w") as fh:
            fh.write(text)
    return path


def jsonable(value):
    """Convert NumPy scalars/arrays and paths so ``json`` accepts them; NaN -> None."""
    if isinstance(value, dict):
        return {str(k): jsonable(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [jsonable(v) for v in value]
    if isinstance(value, Path):
        return str(value)
    if hasattr(value, "tolist") and not isinstance(value, (str, bytes)):
        return jsonable(value.tolist())
    if isinstance(value, float) and not math.isfinite(value):
        return None
    return value
