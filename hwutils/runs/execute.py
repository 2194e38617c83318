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
"""

from __future__ import annotations

import logging
import os
import signal
import sys
import time
from dataclasses import dataclass
from pathlib import Path

import yaml

from hwutils.errors import HwError
from hwutils.report import HEADLINE_KEY, RUN_DIR_ENV, headline_metrics, load_metrics, write_text_atomic
from hwutils.runs import manifest as mf
from hwutils.runs.index import rebuild_index
from hwutils.runs.params import notebook_parameters, resolve
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
    outputs = outputs_root()
    _check_writable(outputs)
    label = request.label or "+".join([f.stem for f in files] or ["defaults"]) + ("+p" if request.overrides else "")
    return stage, effective, given, sources, outputs, label


def _check_writable(outputs: Path) -> None:
    try:
        outputs.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise HwError(f"outputs folder {outputs} cannot be created ({exc.strerror})") from None
    if not os.access(outputs, os.W_OK | os.X_OK):
        raise HwError(f"outputs folder {outputs} is not writable")


class _Terminated(KeyboardInterrupt):
    """SIGTERM, turned into an interrupt so the run is recorded as interrupted."""


def _on_sigterm(signum, frame):
    _kill_children()  # stop the kernel first, so it does not print socket errors as it loses us
    raise _Terminated()


def _setup_logging() -> None:
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(logging.Formatter("%(message)s"))
    log = logging.getLogger("papermill")
    log.handlers[:] = [handler]
    log.setLevel(logging.INFO)
    log.propagate = False


def execute(request: RunRequest) -> RunResult:
    """Run one stage notebook; never raises for notebook errors (see the result's status)."""
    stage, effective, given, sources, outputs, label = prepare(request)
    run_id, run_dir = mf.create_run_dir(outputs / stage.name)
    (run_dir / "artifacts").mkdir()
    write_text_atomic(run_dir / "params.yaml", yaml.safe_dump(effective, sort_keys=False, allow_unicode=True))
    argv = request.argv or ["hw", "run", stage.name]
    manifest = mf.start_manifest(run_id, stage.name, label, argv, effective, sources, effective.get("seed"),
                                 project_root())
    mf.write_manifest(run_dir, manifest)
    rebuild_index(outputs)
    print(f"hw: run {stage.name}/{run_id} started ({label}) -> {run_dir}", file=sys.stderr, flush=True)

    started = time.monotonic()
    status, message, error = "ok", "", None
    old_term = signal.signal(signal.SIGTERM, _on_sigterm)
    old_env = {k: os.environ.get(k) for k in (RUN_DIR_ENV, "HW_STAGE", "HW_RUN_ID")}
    os.environ.update({RUN_DIR_ENV: str(run_dir), "HW_STAGE": stage.name, "HW_RUN_ID": run_id})
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    try:
        _papermill(stage.notebook, run_dir / "notebook.ipynb", given, project_root())
    except KeyboardInterrupt as exc:
        status = "interrupted"
        message = f"run {stage.name}/{run_id} interrupted ({'SIGTERM' if isinstance(exc, _Terminated) else 'Ctrl-C'})"
        error = {"message": message}
    except Exception as exc:  # the notebook failed: record, report, exit non-zero
        status = "failed"
        error = _describe_failure(exc)
        message = f"run {stage.name}/{run_id} failed: {error['message']}"
    finally:
        signal.signal(signal.SIGTERM, old_term)
        for k, v in old_env.items():
            if v is None:
                os.environ.pop(k, None)
            else:
                os.environ[k] = v
        _kill_children()
    # Recording the outcome must survive a second Ctrl-C/SIGTERM as far as possible.
    signal.signal(signal.SIGTERM, signal.SIG_IGN)
    try:
        _finish(run_dir, manifest, status, error, time.monotonic() - started, request.show_code, outputs)
    finally:
        signal.signal(signal.SIGTERM, old_term)
    if status == "ok":
        message = f"run {stage.name}/{run_id} ok in {manifest['duration_s']:.1f}s -> {run_dir}"
    code = {"ok": EXIT_OK, "failed": EXIT_FAILED, "interrupted": EXIT_INTERRUPTED}[status]
    return RunResult(run_id, run_dir, status, code, message)


def _papermill(notebook: Path, output: Path, parameters: dict, cwd: Path) -> None:
    import papermill

    _setup_logging()
    papermill.execute_notebook(
        str(notebook), str(output), parameters=parameters, cwd=str(cwd), kernel_name="python3",
        log_output=True, progress_bar=False, request_save_on_cell_execute=True, report_mode=False)


def _describe_failure(exc: Exception) -> dict:
    from papermill.exceptions import PapermillExecutionError

    if isinstance(exc, PapermillExecutionError):
        first_line = next((l for l in (exc.source or "").splitlines() if l.strip()), "")
        cell = exc.exec_count if exc.exec_count is not None else exc.cell_index
        evalue = (exc.evalue or "").strip().splitlines()[0] if exc.evalue else ""
        return {"message": f"cell [{cell}] `{first_line[:80]}` raised {exc.ename}: {evalue}",
                "cell_index": exc.cell_index, "exec_count": exc.exec_count, "ename": exc.ename,
                "evalue": exc.evalue}
    text = str(exc).strip().splitlines()[0] if str(exc).strip() else ""
    return {"message": f"{type(exc).__name__}: {text}", "ename": type(exc).__name__, "evalue": str(exc)}


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


def _finish(run_dir: Path, manifest: dict, status: str, error: dict | None, duration: float,
            show_code: bool, outputs: Path) -> None:
    metrics = load_metrics(run_dir)
    env_file = run_dir / "environment.json"
    if env_file.exists():
        import json

        try:
            env = json.loads(env_file.read_text())
            manifest["devices"] = env.get("devices")
            manifest["seed"] = env.get("seed", manifest.get("seed"))
        except ValueError:
            pass
    manifest.update(status=status, end=mf.now_iso(), duration_s=round(duration, 3),
                    headline=headline_metrics(metrics) if metrics else {}, error=error)
    if HEADLINE_KEY in metrics:
        manifest["headline_keys"] = metrics[HEADLINE_KEY]
    notebook = run_dir / "notebook.ipynb"
    if notebook.exists():
        try:
            export_html(notebook, run_dir / "report.html", show_code=show_code,
                        title=f"{manifest['stage']} {manifest['run_id']} ({status})")
        except Exception as exc:  # a report problem must not lose the run's record
            manifest["report_error"] = f"{type(exc).__name__}: {exc}"
    mf.write_manifest(run_dir, manifest)
    rebuild_index(outputs)


def export_html(notebook: Path, target: Path, show_code: bool = False, title: str | None = None) -> Path:
    """Render an executed notebook as one standalone HTML file (images inline)."""
    import nbformat
    from nbconvert import HTMLExporter

    nb = nbformat.read(notebook, as_version=4)
    if title:
        nb.metadata["title"] = title
    exporter = HTMLExporter(exclude_input=not show_code, exclude_input_prompt=not show_code,
                            exclude_output_prompt=True, embed_images=True)
    body, _ = exporter.from_notebook_node(nb)
    return write_text_atomic(target, body)
