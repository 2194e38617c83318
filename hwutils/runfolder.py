"""The run folder's layout: its file names, where run folders live, and finding a run's artifacts.

Layout of ``outputs/<stage>/<run id>/`` (``hw run``) and of
``outputs/interactive/<stage>/<run id>/`` (a notebook run in JupyterLab or by
plain papermill)::

    notebook.ipynb      the executed notebook
    report.html         the notebook as a page, a summary block first
    run.log             everything the terminal showed, the kernel's warnings and logs
    params.yaml         effective parameters
    metrics.json        numbers and short strings (report.save_metrics)
    manifest.json       status, times, command, git, environment
    environment.json    the kernel's devices and versions (repro.record_environment)
    artifacts/          models, generated data
    artifacts/figures/  PNG figures (report.save_figure)

Every file is written atomically (:mod:`hwutils.fileio`); the run in
progress is :mod:`hwutils.current_run`'s.
Loaders accept a run folder or its artifacts folder (:func:`artifacts_folder`),
with no absolute path needed inside, so a run folder copied from another
machine loads as it is.
"""

from __future__ import annotations

import os
from pathlib import Path

from hwutils.errors import ArtifactError

RUN_DIR_ENV = "HW_RUN_DIR"
NOTEBOOK = "notebook.ipynb"
REPORT = "report.html"
LOG = "run.log"
PARAMS = "params.yaml"
METRICS = "metrics.json"
MANIFEST = "manifest.json"
ENVIRONMENT = "environment.json"
ARTIFACTS = "artifacts"
FIGURES = "figures"
INTERACTIVE = "interactive"


class RunFolder:
    """The paths of one run folder."""

    def __init__(self, path: str | os.PathLike):
        self.path = Path(path)

    notebook = property(lambda self: self.path / NOTEBOOK)
    report = property(lambda self: self.path / REPORT)
    log = property(lambda self: self.path / LOG)
    params = property(lambda self: self.path / PARAMS)
    metrics = property(lambda self: self.path / METRICS)
    manifest = property(lambda self: self.path / MANIFEST)
    environment = property(lambda self: self.path / ENVIRONMENT)
    artifacts = property(lambda self: self.path / ARTIFACTS)
    figures = property(lambda self: self.path / ARTIFACTS / FIGURES)

    def __repr__(self) -> str:
        return f"RunFolder({str(self.path)!r})"


def artifacts_folder(path: str | os.PathLike, marker: str, what: str = "run") -> Path:
    """The folder holding ``marker`` (a file or folder name), given a run
    folder, its artifacts folder, or that folder itself.

    ``marker`` may be a relative path (``screener/screener.json``): the folder
    returned is the one it lies in. Raises :class:`ArtifactError` naming the
    path when it is none of these.
    """
    path = Path(path)
    if not path.exists():
        raise ArtifactError(f"{path}: no such run folder")
    if not path.is_dir():
        raise ArtifactError(f"{path}: not a run folder (a file)")
    for base in (path, path / ARTIFACTS):
        if (base / marker).exists():
            return (base / marker).parent
    raise ArtifactError(
        f"{path}: not a {what} run folder (no {ARTIFACTS}/{marker}; is it a run of another stage, or unfinished?)"
    )


def project_root_guess(start: Path | None = None) -> Path:
    """The project folder above ``start`` (the current directory): the first
    folder holding both ``hwutils/`` and ``notebooks/``; ``HW_PROJECT`` when set."""
    env = os.environ.get("HW_PROJECT")
    if env:
        return Path(env).resolve()
    here = (start or Path.cwd()).resolve()
    for cand in (here, *here.parents):
        if (cand / "hwutils").is_dir() and (cand / "notebooks").is_dir():
            return cand
    return here


def outputs_root() -> Path:
    env = os.environ.get("HW_OUTPUTS")
    return Path(env).resolve() if env else project_root_guess() / "outputs"
