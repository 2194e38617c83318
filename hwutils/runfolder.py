"""The run folder: one module owns its layout, finding it, and writing into it.

Layout of ``outputs/<stage>/<run id>/`` (``hw run``) and of
``outputs/interactive/<stage>/<run id>/`` (a notebook run in JupyterLab or by
plain papermill)::

    notebook.ipynb      the executed notebook
    report.html         the notebook as a page, a summary block first
    run.log             everything the terminal showed, the kernel's warnings and logs
    params.yaml         effective parameters
    metrics.json        numbers and short strings (report.save_metrics)
    manifest.json       status, times, command, git, environment
    environment.json    the kernel's devices and versions (record_environment)
    artifacts/          models, generated data
    artifacts/figures/  PNG figures (report.save_figure)

Every file is written atomically (:func:`hwutils.report.atomic_path`).
Loaders accept a run folder or its artifacts folder (:func:`artifacts_folder`),
with no absolute path needed inside, so a run folder copied from another
machine loads as it is.
"""

from __future__ import annotations

import atexit
import os
import sys
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


# --- the run in progress ---------------------------------------------------------------------

_interactive: dict = {}  # the interactive run of this process: {"dir": Path, "writer": ManifestWriter}


def current(create: bool = True, stage: str | None = None) -> Path | None:
    """The folder of the run in progress: ``HW_RUN_DIR`` under ``hw run``, else
    the interactive run begun by :func:`start` (with ``create``, one is begun
    for ``stage``, or for "notebook" when no stage is known)."""
    env = os.environ.get(RUN_DIR_ENV)
    if env:
        return Path(env)
    if "dir" in _interactive:
        return _interactive["dir"]
    if not create:
        return None
    return start(stage or os.environ.get("HW_STAGE") or "notebook")


def start(stage: str) -> Path:
    """Begin this notebook's run and return its folder: ``HW_RUN_DIR`` under
    ``hw run``; otherwise a new ``outputs/interactive/<stage>/<run id>/``
    with a manifest marked interactive (its parameters read from the
    kernel's namespace, its status ``running`` while the kernel lives and
    ``ok``/``failed`` by the last cell when it shuts down)."""
    env = os.environ.get(RUN_DIR_ENV)
    if env:
        return Path(env)
    from hwutils.runs import manifest as mf

    run_id, run_dir = mf.create_run_dir(outputs_root() / INTERACTIVE / stage)
    (run_dir / ARTIFACTS).mkdir(exist_ok=True)
    params = _kernel_parameters(stage)
    manifest = mf.start_manifest(
        run_id,
        stage,
        "interactive",
        _command_line(),
        params,
        {"interactive": True},
        params.get("seed"),
        project_root_guess(),
    )
    manifest["interactive"] = True
    writer = mf.ManifestWriter(run_dir, manifest)
    writer.write()
    writer.start_heartbeat()
    previous = _interactive.get("writer")
    if previous is not None:  # a second start in one kernel: the first run ends here
        _end_interactive(previous)
    _interactive.update(dir=run_dir, writer=writer, failed=None)
    _watch_cells()
    return run_dir


def _command_line() -> list[str]:
    return ["jupyter" if "ipykernel" in sys.modules else "python", *sys.argv[:1]]


def _kernel_parameters(stage: str) -> dict:
    """The stage's parameters as they stand in the kernel (names from the
    stage notebook's parameters cell); empty outside IPython."""
    try:
        from IPython import get_ipython

        shell = get_ipython()
    except ImportError:
        shell = None
    if shell is None:
        return {}
    try:
        from hwutils.runs.params import notebook_parameters

        notebook = project_root_guess() / "notebooks" / f"{stage}.ipynb"
        names = list(notebook_parameters(notebook)) if notebook.is_file() else []
    except Exception:  # a notebook we cannot parse: record no parameters rather than fail
        names = []
    ns = shell.user_ns
    return {n: ns[n] for n in names if n in ns and isinstance(ns[n], (int, float, str, bool, type(None)))}


def _watch_cells() -> None:
    """Remember whether the last cell failed, so the run ends ``ok`` or ``failed``."""
    try:
        from IPython import get_ipython

        shell = get_ipython()
    except ImportError:
        shell = None
    if shell is not None and not _interactive.get("watching"):

        def post_run_cell(result):
            err = result.error_in_exec or result.error_before_exec
            _interactive["failed"] = f"{type(err).__name__}: {err}" if err else None

        shell.events.register("post_run_cell", post_run_cell)
        _interactive["watching"] = True
    if not _interactive.get("atexit"):
        atexit.register(lambda: _end_interactive(_interactive.get("writer")))
        _interactive["atexit"] = True


def _end_interactive(writer) -> None:
    if writer is None or writer.manifest.get("status") != "running":
        return
    from datetime import datetime

    from hwutils.runs import manifest as mf

    writer.stop_heartbeat()
    failed = _interactive.get("failed") if writer is _interactive.get("writer") else None
    start = mf._parse_time(writer.manifest.get("start"))
    duration = (datetime.now(start.tzinfo) - start).total_seconds() if start else None
    fields = dict(
        status="failed" if failed else "ok",
        end=mf.now_iso(),
        duration_s=round(duration, 3) if duration is not None else None,
        error={"message": failed} if failed else None,
    )
    try:
        from hwutils.report import headline_metrics, load_metrics

        metrics = load_metrics(writer.run_dir)
        fields["headline"] = headline_metrics(metrics) if metrics else {}
        writer.write(**fields)
    except OSError:  # the kernel is going away: the heartbeat rule shows the run as lost
        pass


# --- the environment, recorded on purpose ----------------------------------------------------


def record_environment(seed: int | None = None, run_dir: Path | None = None) -> dict:
    """Write the kernel's environment (Python, platform, versions, TensorFlow
    devices, seed) to the run folder's ``environment.json`` and return it;
    ``hw run`` copies the devices into the manifest and the report's summary
    shows them."""
    from hwutils import repro
    from hwutils.report import write_json_atomic

    env = repro.environment()
    if seed is not None:
        env["seed"] = seed
    folder = run_dir or current(create=True)
    write_json_atomic(Path(folder) / ENVIRONMENT, env)
    return env
