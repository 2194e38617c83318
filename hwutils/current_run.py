"""The run in progress: ``HW_RUN_DIR`` under ``hw run``, else an interactive run folder begun
with its manifest and ended ``ok`` or ``failed`` with the notebook's kernel.

A notebook run in JupyterLab or by plain papermill gets
``outputs/interactive/<stage>/<run id>/`` (:func:`start`): a manifest marked
interactive (its parameters read from the kernel's namespace), a heartbeat
while the kernel lives, and its status set by the last cell when the kernel
shuts down, so two stages or two sessions never share a folder and the index
lists the run.
"""

from __future__ import annotations

import atexit
import os
import sys
from pathlib import Path

from hwutils.runfolder import ARTIFACTS, INTERACTIVE, RUN_DIR_ENV, outputs_root, project_root_guess

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
        from hwutils import custody
        from hwutils.runmetrics import headline_metrics, load_metrics

        metrics = load_metrics(writer.run_dir)
        fields["headline"] = headline_metrics(metrics) if metrics else {}
        fields[custody.MANIFEST_KEY] = custody.record(writer.run_dir)
        writer.write(**fields)
    except OSError:  # the kernel is going away: the heartbeat rule shows the run as lost
        pass
