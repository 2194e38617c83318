"""One run: validate, execute the stage notebook with papermill into a fresh
run folder, and record everything about it.

Run folder ``outputs/<stage>/<run id>/``::

    notebook.ipynb   the executed notebook (saved after every cell, so a
                     failed or interrupted run keeps what it did)
    report.html      the notebook as a standalone HTML page (inputs hidden
                     unless asked; figures embedded)
    params.yaml      effective parameters (defaults, files, -p)
    metrics.json     written by the notebook (hwutils.report.save_metrics)
    artifacts/       models, figures, generated data
    manifest.json    status, times, command, params hash, git, environment
    run.log          what the terminal showed, the kernel's warnings and logs

(the layout is :mod:`hwutils.runfolder`'s). The kernel starts with
:func:`hwutils.runlog.install`, so TensorFlow's C++ lines, Python warnings
and per-epoch lines go to ``run.log``, never into the report; the report
opens with a summary block (:mod:`hwutils.runs.summary`).
"""

from __future__ import annotations

import logging
import os
import re
import shutil
import signal
import sys
import time
from dataclasses import dataclass
from pathlib import Path

import yaml

from hwutils.errors import HwError
from hwutils.fileio import write_text_atomic
from hwutils.runfolder import RUN_DIR_ENV, RunFolder
from hwutils.runmetrics import HEADLINE_KEY, headline_metrics
from hwutils.runs import manifest as mf
from hwutils.runs.index import rebuild_index
from hwutils.runs.params import check_together, notebook_parameters, resolve
from hwutils.runs.project import get_stage, outputs_root, project_root, resolve_params_file

EXIT_OK, EXIT_FAILED, EXIT_USAGE, EXIT_INTERRUPTED = 0, 1, 2, 130


@dataclass
class RunRequest:
    """What ``hw run`` was asked: stage, params files, ``-p`` pairs, label."""

    stage: str
    files: list[str]
    overrides: list[tuple[str, str]]
    label: str | None = None
    show_code: bool = False
    argv: list[str] | None = None


@dataclass
class RunResult:
    run_id: str
    run_dir: Path
    status: str
    exit_code: int
    message: str


def prepare(request: RunRequest):
    """Everything that can fail on bad input, before any folder is created."""
    stage = get_stage(request.stage)
    files = [resolve_params_file(stage, f) for f in request.files]
    specs = notebook_parameters(stage.notebook)
    effective, given, sources = resolve(stage.name, specs, files, request.overrides)
    check_together(stage.name, effective)
    outputs = outputs_root()
    _check_writable(outputs, outputs / stage.name)
    label = request.label or "+".join([f.stem for f in files] or ["defaults"]) + (
        "+p" if request.overrides else ""
    )
    return stage, effective, given, sources, outputs, label


def _check_writable(outputs: Path, stage_dir: Path) -> None:
    """The outputs folder and its stage folder exist (or can be made) and take new files."""
    try:
        outputs.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise HwError(f"outputs folder {outputs} cannot be created ({exc.strerror})") from None
    if not os.access(outputs, os.W_OK | os.X_OK):
        raise HwError(f"outputs folder {outputs} is not writable")
    if stage_dir.exists() and not stage_dir.is_dir():
        raise HwError(f"stage folder {stage_dir} is not a folder")
    if stage_dir.is_dir() and not os.access(stage_dir, os.W_OK | os.X_OK):
        raise HwError(f"stage folder {stage_dir} is not writable")


class _Terminated(KeyboardInterrupt):
    """SIGTERM, turned into an interrupt so the run is recorded as interrupted."""


def _on_sigterm(signum, frame):
    _kill_children()  # stop the kernel first, so it does not print socket errors as it loses us
    raise _Terminated()


def _on_sigint(signum, frame):
    # The kernel runs in its own session (a terminal's Ctrl-C reaches only us):
    # kill it before papermill's clean-up asks it to shut down, which makes a
    # kernel in the middle of a cell print zmq tracebacks on our terminal.
    _kill_children()
    raise KeyboardInterrupt()


def _setup_logging(run_dir: Path | None = None) -> None:
    """papermill's lines (the cells' output) on the terminal, and the same in ``run.log``."""
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(logging.Formatter("%(message)s"))
    log = logging.getLogger("papermill")
    log.handlers[:] = [handler]
    if run_dir is not None:
        from hwutils.runlog import terminal_handler

        try:
            log.handlers.append(terminal_handler(run_dir))
        except OSError:  # no log file: the terminal still shows everything
            pass
    log.setLevel(logging.INFO)
    log.propagate = False


RESERVE_FILE = ".hw-reserve"
RESERVE_BYTES = 256 * 1024


def _reserve_space(run_dir: Path) -> None:
    """Hold some disk space for recording the outcome: when the disk fills
    during the run, it is freed so the final manifest can still be written."""
    try:
        with open(run_dir / RESERVE_FILE, "wb") as fh:
            fh.write(b"\0" * RESERVE_BYTES)
            fh.flush()
            os.fsync(fh.fileno())
    except OSError:
        _release_space(run_dir)


def _release_space(run_dir: Path) -> None:
    try:
        (run_dir / RESERVE_FILE).unlink()
    except OSError:
        pass


def _cause(exc: OSError, path: Path | None = None) -> str:
    """``<file>: <reason>`` of an OSError (the file we meant, not a temporary name)."""
    where = path.name if path else (Path(exc.filename).name if getattr(exc, "filename", None) else "")
    return f"{where + ': ' if where else ''}{exc.strerror or exc}"


def execute(request: RunRequest) -> RunResult:
    """Run one stage notebook; never raises for notebook errors (see the result's status).

    Bad input raises :class:`HwError` before any folder exists. Once the
    run folder exists, every way out records an end state: ``ok``,
    ``failed`` (the notebook failed, or the outcome could not be fully
    recorded: the message names the cause) or ``interrupted``; a process
    killed outright is seen as ``lost`` by readers (its heartbeat stops).
    """
    stage, effective, given, sources, outputs, label = prepare(request)
    run_id, run_dir = mf.create_run_dir(outputs / stage.name)
    argv = request.argv or ["hw", "run", stage.name]
    try:
        RunFolder(run_dir).artifacts.mkdir()
        write_text_atomic(
            RunFolder(run_dir).params, yaml.safe_dump(effective, sort_keys=False, allow_unicode=True)
        )
        manifest = mf.start_manifest(
            run_id, stage.name, label, argv, effective, sources, effective.get("seed"), project_root()
        )
        writer = mf.ManifestWriter(run_dir, manifest)
        writer.write()
    except OSError as exc:  # nothing recorded yet: leave no half-made run folder behind
        shutil.rmtree(run_dir, ignore_errors=True)
        return RunResult(
            run_id,
            run_dir,
            "failed",
            EXIT_FAILED,
            f"run {stage.name}/{run_id} could not start: {_cause(exc)}",
        )
    started = time.monotonic()
    status, message, error = "ok", "", None
    old_term = signal.signal(signal.SIGTERM, _on_sigterm)
    old_int = signal.signal(signal.SIGINT, _on_sigint)
    old_env = {k: os.environ.get(k) for k in (RUN_DIR_ENV, "HW_STAGE", "HW_RUN_ID")}
    os.environ.update({RUN_DIR_ENV: str(run_dir), "HW_STAGE": stage.name, "HW_RUN_ID": run_id})
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    io = _AtomicRunFolderIO(writer)
    writer.start_heartbeat()
    try:  # from here on, every way out records an end state
        _reserve_space(run_dir)
        _rebuild_index_quietly(outputs)
        print(f"hw: run {stage.name}/{run_id} started ({label}) -> {run_dir}", file=sys.stderr, flush=True)
        _papermill(stage.notebook, RunFolder(run_dir).notebook, given, project_root(), io)
    except KeyboardInterrupt as exc:
        status = "interrupted"
        message = f"run {stage.name}/{run_id} interrupted ({'SIGTERM' if isinstance(exc, _Terminated) else 'Ctrl-C'})"
        error = {"message": message}
    except Exception as exc:  # the notebook failed: record, report, exit non-zero
        status = "failed"
        error = _describe_failure(exc, RunFolder(run_dir).notebook, io.running_cell)
        message = f"run {stage.name}/{run_id} failed: {error['message']}"
    finally:
        signal.signal(signal.SIGTERM, old_term)
        signal.signal(signal.SIGINT, old_int)
        for k, v in old_env.items():
            if v is None:
                os.environ.pop(k, None)
            else:
                os.environ[k] = v
        _kill_children()
    # Recording the outcome must survive a second Ctrl-C/SIGTERM as far as possible.
    signal.signal(signal.SIGTERM, signal.SIG_IGN)
    old_int = signal.signal(signal.SIGINT, signal.SIG_IGN)
    try:
        writer.stop_heartbeat()
        status, recorded = _finish(
            run_dir, writer, status, error, time.monotonic() - started, request.show_code, outputs
        )
    finally:
        signal.signal(signal.SIGTERM, old_term)
        signal.signal(signal.SIGINT, old_int)
        _release_space(run_dir)
    devices = writer.manifest.get("devices")
    on = f" on {', '.join(devices)}" if devices else ""  # the devices the kernel's TensorFlow saw
    if status == "ok":
        message = f"run {stage.name}/{run_id} ok in {writer.manifest['duration_s']:.1f}s{on} -> {run_dir}"
    elif recorded:
        message = f"{message}; {recorded}" if message else f"run {stage.name}/{run_id} failed: {recorded}"
    code = {"ok": EXIT_OK, "failed": EXIT_FAILED, "interrupted": EXIT_INTERRUPTED}[status]
    return RunResult(run_id, run_dir, status, code, message)


def _rebuild_index_quietly(outputs: Path) -> None:
    """Rebuild the index; a full disk or a lost lock costs the index, never the run.

    A run started by ``hw batch``/``hw sweep`` on a Dask worker has ``HW_INDEX=client``:
    the batch's client alone rebuilds the index, so workers never contend for its lock."""
    if os.environ.get("HW_INDEX") == "client":
        return
    try:
        rebuild_index(outputs)
    except OSError as exc:
        print(f"hw: warning: index not rebuilt ({_cause(exc)})", file=sys.stderr, flush=True)


def _papermill(notebook: Path, output: Path, parameters: dict, cwd: Path, io=None) -> None:
    import papermill
    from papermill.iorw import papermill_io

    _setup_logging(output.parent)
    # Writes into this run folder (papermill's save after every cell, and the
    # final one) go to a temporary name and are renamed into place, and each
    # refreshes the run's heartbeat.
    papermill_io.register(str(output.parent) + os.sep, io or _AtomicRunFolderIO())
    papermill.execute_notebook(
        str(notebook),
        str(output),
        parameters=parameters,
        cwd=str(cwd),
        kernel_name="python3",
        log_output=True,
        progress_bar=False,
        request_save_on_cell_execute=True,
        report_mode=False,
        # the kernel's own start-up warnings (TCP without CurveZMQ keys) are noise on a terminal;
        # before any cell, its stderr, warnings and logs are sent to run.log (hwutils.runlog)
        extra_arguments=[
            "--IPKernelApp.log_level=ERROR",
            "--IPKernelApp.exec_lines=import hwutils.runlog as _hw_runlog; _hw_runlog.install(); del _hw_runlog",
        ],
    )


class _AtomicRunFolderIO:
    """A papermill I/O handler for the run folder: atomic writes plus a
    heartbeat, and it remembers which cell the last save showed running (a
    dead kernel's notebook is saved with every cell marked completed)."""

    def __init__(self, writer=None):
        from papermill.iorw import LocalHandler

        self._local, self._writer = LocalHandler(), writer
        self.running_cell: tuple[int, str] | None = None

    def read(self, path):
        return self._local.read(path)

    def listdir(self, path):
        return self._local.listdir(path)

    def pretty_path(self, path):
        return path

    def cwd(self, new_path):
        return self._local.cwd(new_path)

    def write(self, buf, path):
        write_text_atomic(path, buf)
        if str(path).endswith(".ipynb"):  # the last cell seen running (the final save marks all completed)
            self.running_cell = _running_cell_of(buf) or self.running_cell
        if self._writer is not None:
            self._writer.beat()


def _running_cell_of(text: str) -> tuple[int, str] | None:
    """The cell a saved notebook (its JSON text) shows running: (index, first line)."""
    import json

    try:
        cells = json.loads(text).get("cells", [])
    except (ValueError, AttributeError):
        return None
    for i, cell in enumerate(cells):
        if (cell.get("metadata") or {}).get("papermill", {}).get("status") == "running":
            source = cell.get("source", "")
            source = "".join(source) if isinstance(source, list) else source
            return i, next((line for line in source.splitlines() if line.strip()), "")
    return None


def _describe_failure(
    exc: Exception, notebook: Path | None = None, running: tuple[int, str] | None = None
) -> dict:
    from papermill.exceptions import PapermillExecutionError

    if isinstance(exc, PapermillExecutionError):
        first_line = next((l for l in (exc.source or "").splitlines() if l.strip()), "")
        cell = exc.exec_count if exc.exec_count is not None else exc.cell_index
        evalue = (exc.evalue or "").strip().splitlines()[0] if exc.evalue else ""
        return {
            "message": f"cell [{cell}] `{first_line[:80]}` raised {exc.ename}: {evalue}",
            "cell_index": exc.cell_index,
            "exec_count": exc.exec_count,
            "ename": exc.ename,
            "evalue": exc.evalue,
        }
    name = type(exc).__name__
    if name == "DeadKernelError":
        where = f" while running cell {running[0]} `{running[1][:80]}`" if running else ""
        return {
            "message": f"the kernel died{where} (killed, or out of memory?)",
            "ename": name,
            "evalue": str(exc),
            **({"cell_index": running[0]} if running else {}),
        }
    if isinstance(exc, OSError):
        return {
            "message": f"could not save the notebook: {_cause(exc, notebook)}",
            "ename": name,
            "evalue": str(exc),
        }
    text = str(exc).strip().splitlines()[0] if str(exc).strip() else ""
    return {"message": f"{name}: {text}", "ename": name, "evalue": str(exc)}


def _kill_children() -> None:
    """Stop kernels left behind by an interrupted papermill (they are our children)."""
    try:
        import psutil
    except ImportError:
        return
    for child in psutil.Process().children(recursive=True):
        try:
            child.kill()
        except psutil.Error:
            pass


def _read_json_quietly(path: Path) -> dict:
    import json

    try:
        data = json.loads(path.read_text())
    except (OSError, ValueError):
        return {}
    return data if isinstance(data, dict) else {}


def _finish(
    run_dir: Path, writer, status: str, error: dict | None, duration: float, show_code: bool, outputs: Path
) -> tuple[str, str]:
    """Record the outcome: report.html, then the final manifest, then the index.

    Returns ``(status, problem)``: when something could not be recorded
    (disk full, read-only folder) the status becomes ``failed`` and
    ``problem`` names the cause; the manifest says so if it can be written
    at all (the space held at the start is given back for it).
    """
    manifest = writer.manifest
    metrics = _read_json_quietly(RunFolder(run_dir).metrics)
    env = _read_json_quietly(RunFolder(run_dir).environment)
    if env:
        manifest["devices"] = env.get("devices")
        manifest["seed"] = env.get("seed", manifest.get("seed"))
    fields = dict(
        status=status,
        end=mf.now_iso(),
        duration_s=round(duration, 3),
        headline=headline_metrics(metrics) if metrics else {},
        error=error,
    )
    if isinstance(metrics.get(HEADLINE_KEY), list):
        fields["headline_keys"] = metrics[HEADLINE_KEY]
    fields.update(_custody_fields(run_dir))
    problem = ""
    notebook = RunFolder(run_dir).notebook
    if notebook.exists():
        try:
            export_html(
                notebook,
                RunFolder(run_dir).report,
                show_code=show_code,
                title=f"{manifest['stage']} {manifest['run_id']} ({status})",
                summary={**manifest, **fields},
            )
        except OSError as exc:
            problem = f"could not record the run: {_cause(exc, RunFolder(run_dir).report)}"
        except Exception as exc:  # a report problem must not lose the run's record
            fields["report_error"] = f"{type(exc).__name__}: {exc}"
    if problem:
        fields.update(status="failed", error=_merge_error(error, problem))
    try:
        writer.write(**fields)
    except OSError as exc:
        _release_space(run_dir)
        problem = problem or f"could not record the run: {_cause(exc, RunFolder(run_dir).manifest)}"
        fields.update(status="failed", error=_merge_error(error, problem))
        try:
            writer.write(**fields)
        except OSError:
            problem += " (manifest.json not updated: readers will show the run as lost)"
    _rebuild_index_quietly(outputs)
    return fields["status"], problem


def _custody_fields(run_dir: Path) -> dict:
    """The run's record of its artifacts (sha256 and size of each file) for the manifest."""
    from hwutils import custody

    try:
        return {custody.MANIFEST_KEY: custody.record(run_dir)}
    except OSError as exc:
        return {"artifacts_error": f"could not hash the artifacts: {exc}"}


def _merge_error(error: dict | None, problem: str) -> dict:
    if not error:
        return {"message": problem}
    return {**error, "message": f"{error.get('message', '')}; {problem}"}


def export_html(
    notebook: Path,
    target: Path,
    show_code: bool = False,
    title: str | None = None,
    summary: dict | None = None,
) -> Path:
    """Render an executed notebook as one standalone HTML file (images inline).

    With ``summary`` (the run's manifest) the page opens with the summary
    block. Standard-error output that reached a cell anyway (before the
    kernel's log was set up) is moved to ``run.log``, not shown.
    """
    import nbformat
    from nbconvert import HTMLExporter

    from hwutils.runs.summary import inject, summary_html

    nb = nbformat.read(notebook, as_version=4)
    if title:
        nb.metadata["title"] = title
    _move_stderr_to_log(nb, target.parent)
    exporter = HTMLExporter(
        exclude_input=not show_code,
        exclude_input_prompt=not show_code,
        exclude_output_prompt=True,
        embed_images=True,
    )
    body, _ = exporter.from_notebook_node(nb)
    body = _without_remote_scripts(body)
    if summary is not None:
        body = inject(body, summary_html(target.parent, summary))
    return write_text_atomic(target, body)


_REMOTE_SCRIPT = re.compile(r"<script[^>]*\bsrc=\"https?://[^\"]*\"[^>]*>\s*</script>\s*", re.I)


def _without_remote_scripts(page: str) -> str:
    """The page without nbconvert's scripts from a CDN (require.js, MathJax):
    a report is read offline and the notebooks hold no math, so nothing is
    fetched when it is opened."""
    return _REMOTE_SCRIPT.sub("", page)


def _move_stderr_to_log(nb, run_dir: Path) -> int:
    """Take every stderr stream output out of ``nb`` (appending its text to
    ``run.log``); returns how many there were."""
    moved = []
    for k, cell in enumerate(nb.cells):
        if cell.cell_type != "code":
            continue
        kept = []
        for out in cell.get("outputs", []):
            if out.get("output_type") == "stream" and out.get("name") == "stderr":
                moved.append(f"[cell {k} stderr]\n{out.get('text', '')}")
            else:
                kept.append(out)
        cell["outputs"] = kept
    if moved:
        try:
            with open(RunFolder(run_dir).log, "a", encoding="utf-8") as fh:
                fh.write("\n".join(moved) + "\n")
        except OSError:
            pass
    return len(moved)
