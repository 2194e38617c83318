"""Several runs, N at a time, each its own ``hw run`` process, on Dask.

An item is a params file in ``params/<stage>/`` (``params/writer_id/smoke.yaml``)
or ``STAGE:FILE`` (``writer_id:smoke``). All items are checked before any
runs; one failure does not stop the others.

:func:`run_dask` submits every run to a Dask cluster (:mod:`hwutils.runs.cluster`:
an embedded ``LocalCluster`` by default), shows one live progress line, rebuilds
the index (the client alone writes it) as runs finish, and prints a summary.
:func:`run_batch` is the former thread pool of local processes (``--local``),
kept as the baseline of ``benchmarks/bench_dask.py``.
"""

from __future__ import annotations

import contextlib
import os
import re
import signal
import subprocess
import sys
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

from hwutils.errors import ParamsError
from hwutils.runs.index import format_duration, text_table
from hwutils.runs.params import check_together, check_value, notebook_parameters, read_params_file
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
    extra_files: list[Path] = field(default_factory=list)  # more -f files after params_file
    label: str | None = None
    point: dict = field(default_factory=dict)  # a sweep point: its parameters
    run_dir: str = ""
    note: str = ""  # a retry, a refusal, a lost worker, the failing lines

    def command(self, extra: list[str] | None = None) -> list[str]:
        """The ``hw run`` arguments of this item (without the interpreter)."""
        cmd = ["run", self.stage, "-f", str(self.params_file)]
        for f in self.extra_files:
            cmd += ["-f", str(f)]
        if self.label:
            cmd += ["--label", self.label]
        return cmd + list(extra or [])


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
    given = {
        key: check_value(stage.name, specs, key, value, str(params_file))
        for key, value in read_params_file(params_file).items()
    }
    try:
        check_together(stage.name, {**{n: spec.default for n, spec in specs.items()}, **given})
    except ParamsError as exc:
        raise ParamsError(f"{params_file}: {exc}") from None
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
    cmd = [sys.executable, "-m", "hwutils", *item.command(extra)]
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
    print_summary(done, supervisor.signal_name if supervisor.stopping.is_set() else "")
    if supervisor.stopping.is_set():
        return 130
    return 1 if any(it.status != "ok" for it in done) else 0


STATUS_OF_EXIT = {0: "ok", 130: "interrupted", 2: "invalid"}


def print_summary(done: list[BatchItem], stopped_by: str = "") -> None:
    """The batch's table (item, run id, status, duration, exit) and the failures' reasons."""
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
    print("\nBatch summary" + (f" (stopped by {stopped_by})" if stopped_by else ""))
    print(text_table(rows, ["item", "run id", "status", "duration", "exit"]))
    for it in done:
        if it.note:
            print(f"  {it.name}: {it.note}")
    failed = [it for it in done if it.status != "ok"]
    print(f"{len(done) - len(failed)} of {len(done)} runs ok")


class Progress:
    """One live line: done / running / failed / queued and the elapsed time.

    On a terminal the line is rewritten in place; elsewhere (a log file, CI)
    a plain line is printed when the counts change, at most every few seconds."""

    def __init__(self, items: list[BatchItem], stream=None, every: float = 5.0):
        self.items, self.stream, self.every = items, stream or sys.stderr, every
        self.start = time.monotonic()
        self.tty = bool(getattr(self.stream, "isatty", lambda: False)())
        self.last_text, self.last_time = "", 0.0

    def counts(self) -> dict:
        c = {"done": 0, "running": 0, "failed": 0, "queued": 0}
        for it in self.items:
            if it.status == "ok":
                c["done"] += 1
            elif it.status == "running":
                c["running"] += 1
            elif it.status in ("pending", "queued"):
                c["queued"] += 1
            else:
                c["failed"] += 1
        return c

    def line(self) -> str:
        c = self.counts()
        elapsed = format_duration(time.monotonic() - self.start)
        return (
            f"batch: {c['done']} done, {c['running']} running, {c['failed']} failed, "
            f"{c['queued']} queued, {elapsed} elapsed"
        )

    def show(self, final: bool = False) -> None:
        text = self.line()
        now = time.monotonic()
        if self.tty:
            self.stream.write("\r" + text.ljust(len(self.last_text)) + ("\n" if final else ""))
        else:
            counts = text.rsplit(",", 1)[0]
            if not final and (
                counts == self.last_text.rsplit(",", 1)[0] or now - self.last_time < self.every
            ):
                return
            self.stream.write(text + "\n")
        self.stream.flush()
        self.last_text, self.last_time = text, now


def _status_from_manifest(item: BatchItem, fallback: str) -> str:
    """The run's state as its manifest tells it (``lost`` for a run whose worker died)."""
    if not item.run_dir:
        return fallback
    from hwutils.runs.manifest import load_run, status_of

    run = load_run(Path(item.run_dir))
    return status_of(run) if run else fallback


def _failure_line(tail: str) -> str:
    lines = [line.strip() for line in tail.splitlines() if line.strip()]
    for line in reversed(lines):
        if line.startswith("hw: "):
            return line[4:]
    return lines[-1] if lines else ""


def _settle(item: BatchItem, future, started: dict) -> None:
    """Fill ``item`` from its finished, failed or cancelled future."""
    info = started.get(future.key) or {}
    item.run_id = item.run_id or info.get("run_id", "")
    item.run_dir = item.run_dir or info.get("run_dir", "")
    if future.status == "finished":
        r = future.result()
        if r.get("refused"):
            item.status, item.note = "refused", r["refused"]
            return
        if r.get("not_started"):
            item.status = "not started"
            return
        item.run_id, item.run_dir = r.get("run_id", item.run_id), r.get("run_dir", item.run_dir)
        item.exit_code, item.duration = r["exit_code"], r["duration"]
        item.status = STATUS_OF_EXIT.get(item.exit_code, "failed")
        notes = []
        if r.get("retried_from"):
            notes.append(f"kernel died before its first cell in run {r['retried_from']}: retried once")
        if item.status not in ("ok", "interrupted"):
            notes.append(_failure_line(r.get("tail", "")))
            if item.run_dir:
                notes.append(f"log: {Path(item.run_dir) / 'run.log'}")
        item.note = "; ".join(n for n in notes if n)
        return
    if future.status == "cancelled":
        item.status = _status_from_manifest(item, "not started")
        return
    exc = None
    with contextlib.suppress(Exception):
        exc = future.exception(timeout=1)
    name = type(exc).__name__ if exc else "error"
    if name == "KilledWorker":
        item.status = _status_from_manifest(item, "lost")
        item.note = "its worker died; not resubmitted"
    else:
        item.status = _status_from_manifest(item, "failed")
        item.note = f"task error {name}: {str(exc).splitlines()[0] if exc and str(exc) else ''}"


def _rebuild_index_quietly() -> None:
    from hwutils.runs.index import rebuild_index
    from hwutils.runs.project import outputs_root

    try:
        rebuild_index(outputs_root())
    except OSError as exc:
        print(f"hw: warning: index not rebuilt ({exc.strerror or exc})", file=sys.stderr)


def run_dask(
    items: list[BatchItem],
    client,
    extra: list[str] | None = None,
    progress_stream=None,
    on_settled=None,
    stop_grace_s: float = 120.0,
) -> int:
    """Submit every item to the Dask cluster behind ``client`` (each once: ``pure=False``,
    ``retries=0``), show the progress line, rebuild the index as runs finish, print the
    summary. Exit code 0 all ok, 1 any not ok, 130 stopped by Ctrl-C or SIGTERM (the
    running runs are stopped and record ``interrupted``; queued ones are not started).
    ``on_settled(item)`` is called as each item ends (the sweep records its runs)."""
    import uuid

    from distributed import Event

    from hwutils.runs import cluster as cl

    batch_id = uuid.uuid4().hex[:10]
    stop_name, topic = f"hw-stop-{batch_id}", f"hw-batch-{batch_id}"
    stop_event = Event(stop_name, client=client)
    started: dict[str, dict] = {}
    by_key: dict[str, BatchItem] = {}

    def on_event(event):
        msg = event[1] if isinstance(event, tuple) else event
        if isinstance(msg, dict) and msg.get("key") in by_key:
            started[msg["key"]] = msg
            it = by_key[msg["key"]]
            if it.status in ("pending", "queued"):
                it.status = "running"
            it.run_id, it.run_dir = msg.get("run_id", ""), msg.get("run_dir", "")

    client.subscribe_topic(topic, on_event)
    env, client_env = cl.passed_env(), cl.environment_signature()
    env["HW_INDEX"] = "client"  # hw run on a worker leaves the index to us
    futures = {}
    for i, it in enumerate(items):
        it.status = "queued"
        key = f"hw-run-{batch_id}-{i:04d}-{re.sub(r'[^A-Za-z0-9_.=-]', '_', it.name)[:60]}"
        by_key[key] = it
        futures[key] = client.submit(
            cl.run_task,
            it.command(extra),
            env,
            client_env,
            stop_name,
            topic,
            key,
            key=key,
            pure=False,
            retries=0,
        )
    stopping = {"by": "", "at": 0.0}

    def on_signal(signum, frame):
        if not stopping["by"]:
            stopping["by"] = "SIGTERM" if signum == signal.SIGTERM else "Ctrl-C"

    old = {s: signal.signal(s, on_signal) for s in (signal.SIGTERM, signal.SIGINT)}
    progress = Progress(items, progress_stream)
    pending = dict(futures)
    try:
        while pending:
            if stopping["by"] and not stopping["at"]:
                stopping["at"] = time.monotonic()
                with contextlib.suppress(Exception):
                    stop_event.set()
                queued = [f for k, f in pending.items() if by_key[k].status == "queued"]
                with contextlib.suppress(Exception):
                    client.cancel(queued)
            if stopping["at"] and time.monotonic() - stopping["at"] > stop_grace_s:
                with contextlib.suppress(Exception):
                    client.cancel(list(pending.values()))
            for key, fut in list(pending.items()):
                if fut.done():
                    it = by_key[key]
                    _settle(it, fut, started)
                    del pending[key]
                    _rebuild_index_quietly()
                    if on_settled is not None:
                        on_settled(it)
            progress.show()
            time.sleep(0.2)
    finally:
        for s, handler in old.items():
            signal.signal(s, handler)
        with contextlib.suppress(Exception):
            client.unsubscribe_topic(topic)
    progress.show(final=True)
    _rebuild_index_quietly()
    print_summary(items, stopping["by"])
    if stopping["by"]:
        return 130
    return 0 if all(it.status == "ok" for it in items) else 1
