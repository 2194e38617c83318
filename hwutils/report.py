"""What notebooks call to save metrics, figures and artifacts of the current run.

Inside ``hw run`` the run folder comes from the ``HW_RUN_DIR`` environment
variable; in JupyterLab (no variable) results go to
``outputs/interactive/<stage>/`` so a notebook still runs top to bottom.

Layout of a run folder::

    metrics.json        flat JSON of numbers and short strings (save_metrics)
    artifacts/          models, generated data
    artifacts/figures/  PNG figures (save_figure)
"""

from __future__ import annotations

import contextlib
import json
import math
import os
import tempfile
from pathlib import Path

RUN_DIR_ENV = "HW_RUN_DIR"
HEADLINE_KEY = "_headline"


def write_json_atomic(path: str | os.PathLike, data) -> Path:
    """Write JSON to a temporary file beside ``path`` then rename it into place,
    so a reader never sees half a file."""
    return write_text_atomic(path, json.dumps(_jsonable(data), indent=2, sort_keys=False) + "\n")


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


def _jsonable(value):
    """Convert NumPy scalars/arrays and paths so ``json`` accepts them; NaN -> None."""
    if isinstance(value, dict):
        return {str(k): _jsonable(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_jsonable(v) for v in value]
    if isinstance(value, Path):
        return str(value)
    if hasattr(value, "tolist") and not isinstance(value, (str, bytes)):
        return _jsonable(value.tolist())
    if isinstance(value, float) and not math.isfinite(value):
        return None
    return value


def current_run_dir(create: bool = True, stage: str | None = None) -> Path | None:
    """The folder of the run in progress.

    ``HW_RUN_DIR`` when set (``hw run``); otherwise, with ``create``,
    ``outputs/interactive/<stage>`` under the current directory's project.
    """
    env = os.environ.get(RUN_DIR_ENV)
    if env:
        return Path(env)
    if not create:
        return None
    root = _project_root_guess()
    path = root / "outputs" / "interactive" / (stage or "notebook")
    path.mkdir(parents=True, exist_ok=True)
    return path


def _project_root_guess() -> Path:
    here = Path.cwd().resolve()
    for cand in (here, *here.parents):
        if (cand / "hwutils").is_dir() and (cand / "notebooks").is_dir():
            return cand
    return here


def artifacts_dir(sub: str | None = None) -> Path:
    """``<run>/artifacts`` (or a sub-folder of it), created if needed."""
    path = current_run_dir() / "artifacts"
    if sub:
        path = path / sub
    path.mkdir(parents=True, exist_ok=True)
    return path


def artifact_path(name: str) -> Path:
    """Path for an artifact file ``name`` inside ``<run>/artifacts`` (parents created)."""
    path = artifacts_dir() / name
    path.parent.mkdir(parents=True, exist_ok=True)
    return path


def load_metrics(run_dir: str | os.PathLike | None = None) -> dict:
    """The metrics saved so far in a run folder (empty dict if none)."""
    path = Path(run_dir or current_run_dir()) / "metrics.json"
    if not path.exists():
        return {}
    with open(path) as fh:
        return json.load(fh)


def save_metrics(metrics: dict | None = None, headline: list[str] | None = None, **more) -> dict:
    """Merge metrics into ``<run>/metrics.json`` and return the whole dict.

    Values should be numbers, short strings, or small lists/dicts. ``headline``
    names the keys shown in ``hw runs`` and the index (kept across calls).
    """
    data = load_metrics()
    data.update(_jsonable(dict(metrics or {}, **more)))
    if headline:
        known = list(data.get(HEADLINE_KEY, []))
        data[HEADLINE_KEY] = known + [k for k in headline if k not in known]
    write_json_atomic(current_run_dir() / "metrics.json", data)
    return data


def headline_metrics(metrics: dict, limit: int = 6) -> dict:
    """The metrics named as headline, else the first ``limit`` numeric ones."""
    keys = metrics.get(HEADLINE_KEY)
    if not keys:
        keys = [
            k
            for k, v in metrics.items()
            if not k.startswith("_") and isinstance(v, (int, float)) and not isinstance(v, bool)
        ][:limit]
    return {k: metrics[k] for k in keys if k in metrics}


def save_figure(fig, name: str, dpi: int = 110, close: bool = False) -> Path:
    """Save a matplotlib figure as ``artifacts/figures/<name>.png`` and return the path.

    The figure still shows inline in the notebook (and hence the HTML report)
    unless ``close`` is set.
    """
    path = artifacts_dir("figures") / f"{name}.png"
    fig.savefig(path, dpi=dpi, bbox_inches="tight")
    if close:
        import matplotlib.pyplot as plt

        plt.close(fig)
    return path


def save_table(rows: list[dict], name: str) -> Path:
    """Save a list of dicts as ``artifacts/<name>.csv``."""
    import csv

    path = artifact_path(f"{name}.csv")
    fields: list[str] = []
    for row in rows:
        fields += [k for k in row if k not in fields]
    with open(path, "w", newline="") as fh:
        writer = csv.DictWriter(fh, fieldnames=fields)
        writer.writeheader()
        writer.writerows(_jsonable(rows))
    return path
