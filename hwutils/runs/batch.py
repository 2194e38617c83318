"""Several runs, N at a time, each in its own process.

An item is a params file in ``params/<stage>/`` (``params/writer_id/smoke.yaml``)
or ``STAGE:FILE`` (``writer_id:smoke``). All items are checked before any
runs; one failure does not stop the others.
"""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

from hwutils.errors import ParamsError
from hwutils.runs.index import format_duration, text_table
from hwutils.runs.params import check_value, notebook_parameters, read_params_file
from hwutils.runs.project import get_stage, list_stages, project_root, resolve_params_file

_STARTED = re.compile(r"^hw: run (\S+)/(\S+) started")


@dataclass
class BatchItem:
    stage: str
    params_file: Path
    name: str
    run_id: str = ""
    status: str = "pending"
    exit_code: int | None = None
    duration: float | None = None


def parse_item(item: str) -> BatchItem:
    """``STAGE:FILE`` or a path ``params/STAGE/FILE.yaml``, validated now."""
    if ":" in item and not Path(item).exists():
        stage_name, file = item.split(":", 1)
    else:
        path = Path(item)
        if not path.is_absolute() and not path.exists():
            path = project_root() / path
        if not path.is_file():
            raise ParamsError(
                f"batch item '{item}': no such params file (use params/STAGE/FILE.yaml or STAGE:FILE)"
            )
        stage_name, file = path.resolve().parent.name, str(path)
    stage = get_stage(stage_name)
    params_file = resolve_params_file(stage, file)
    specs = notebook_parameters(stage.notebook)
    for key, value in read_params_file(params_file).items():
        check_value(stage.name, specs, key, value, str(params_file))
    return BatchItem(stage.name, params_file, f"{stage.name}:{params_file.stem}")


def default_items() -> list[BatchItem]:
    """Every stage that has ``params/<stage>/default.yaml``, in pipeline order."""
    items = [
        parse_item(str(s.params_dir / "default.yaml"))
        for s in list_stages()
        if (s.params_dir / "default.yaml").is_file()
    ]
    if not items:
        raise ParamsError("no stage has a params/<stage>/default.yaml")
    return items


class _Supervisor:
    """The batch's child processes, and the stop request that ends them all.

    Children run in their own sessions, so a terminal's Ctrl-C reaches only
    the batch, which then sends each child SIGTERM: every child records its
    run ``interrupted`` itself, and runs not yet started are not started.
    """

    def __init__(self):
        self.lock = threading.Lock()
        self.children: list[subprocess.Popen] = []
        self.stopping = threading.Event()
        self.signal_name = ""

    def start(self, cmd) -> subprocess.Popen | None:
        with self.lock:
            if self.stopping.is_set():
                return None
            proc = subprocess.Popen(
                cmd,
                stdout=subprocess.PIPE,
                stderr=subprocess.STDOUT,
                text=True,
                bufsize=1,
                env=dict(os.environ, PYTHONUNBUFFERED="1"),
                cwd=project_root(),
                start_new_session=True,
            )
            self.children.append(proc)
            return proc

    def stop(self, signame: str) -> None:
        with self.lock:
            if not self.stopping.is_set():
                self.signal_name = signame
            self.stopping.set()
            for proc in self.children:
                if proc.poll() is None:
                    try:
                        proc.send_signal(signal.SIGTERM)
                    except OSError:
                        pass


def _run_one(
    item: BatchItem, extra: list[str], lock: threading.Lock, prefix: bool, supervisor: _Supervisor
) -> BatchItem:
    cmd = [sys.executable, "-m", "hwutils", "run", item.stage, "-f", str(item.params_file), *extra]
    start = time.monotonic()
    proc = supervisor.start(cmd)
    if proc is None:
        item.status = "not started"
        return item
    item.status = "running"
    for line in proc.stdout:
        m = _STARTED.match(line)
        if m:
            item.run_id = m.group(2)
        with lock:
            sys.stdout.write(f"[{item.name}] {line}" if prefix else line)
            sys.stdout.flush()
    item.exit_code = proc.wait()
    item.duration = time.monotonic() - start
    item.status = {0: "ok", 130: "interrupted", 2: "invalid"}.get(item.exit_code, "failed")
    return item


def run_batch(items: list[BatchItem], jobs: int = 1, extra: list[str] | None = None) -> int:
    """Run the items ``jobs`` at a time; print a summary. Exit code 0 if all
    succeeded, 1 if any failed, 130 when stopped by SIGTERM or Ctrl-C (each
    running child is stopped and records its run ``interrupted``)."""
    lock = threading.Lock()
    jobs = max(1, jobs)
    supervisor = _Supervisor()
    prefix = jobs > 1 or len(items) > 1

    def on_signal(signum, frame):
        supervisor.stop("SIGTERM" if signum == signal.SIGTERM else "Ctrl-C")

    old = {s: signal.signal(s, on_signal) for s in (signal.SIGTERM, signal.SIGINT)}
    try:
        pool = ThreadPoolExecutor(max_workers=jobs)
        futures = [pool.submit(_run_one, it, list(extra or []), lock, prefix, supervisor) for it in items]
        while not all(f.done() for f in futures):
            time.sleep(0.2)  # the main thread stays free to take signals
        done = [f.result() for f in futures]
        pool.shutdown()
    finally:
        for s, handler in old.items():
            signal.signal(s, handler)
    rows = [
        [
            it.name,
            it.run_id,
            it.status,
            format_duration(it.duration),
            "" if it.exit_code is None else str(it.exit_code),
        ]
        for it in done
    ]
    print(
        "\nBatch summary"
        + (f" (stopped by {supervisor.signal_name})" if supervisor.stopping.is_set() else "")
    )
    print(text_table(rows, ["item", "run id", "status", "duration", "exit"]))
    failed = [it for it in done if it.status != "ok"]
    print(f"{len(done) - len(failed)} of {len(done)} runs ok")
    if supervisor.stopping.is_set():
        return 130
    return 1 if failed else 0
