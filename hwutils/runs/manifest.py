"""Run ids, run folders and ``manifest.json``: writing them, reading them
back, and telling what state a run is really in.

A run id is ``YYYYMMDD-HHMMSS-micro-xxxx``: it sorts by start time and the
random suffix plus an exclusive ``mkdir`` keep it unique even for runs
started in the same microsecond.

A running run's manifest carries who runs it (``host``, ``pid``,
``pid_start``: the process's start time, so a reused pid is not mistaken for
it) and a ``heartbeat`` the ``hw run`` process refreshes every
``heartbeat_interval_s`` seconds and on every saved cell. A reader
(:func:`run_state`) reports a ``running`` manifest as ``lost`` when its
process is gone (same host) or its heartbeat is older than
:data:`LOST_AFTER_BEATS` intervals (any host), so a run killed without
recording its end never stays ``running``. A manifest that cannot be read or
lacks required fields is reported as ``broken`` with the reason, and never
stops the other runs from being listed.
"""

from __future__ import annotations

import hashlib
import json
import os
import platform
import secrets
import socket
import subprocess
import sys
import threading
import time
from datetime import UTC, datetime
from pathlib import Path

from hwutils.environment import package_versions
from hwutils.fileio import write_json_atomic
from hwutils.runfolder import MANIFEST

# Recorded statuses; readers also derive "lost" and "broken" (never written by a run).
STATUSES = ("running", "ok", "failed", "interrupted")
RUN_ID_FORMAT = "%Y%m%d-%H%M%S-%f"
HEARTBEAT_ENV = "HW_HEARTBEAT_S"
DEFAULT_HEARTBEAT_S = 15.0
LOST_AFTER_BEATS = 4  # a heartbeat older than this many intervals means the run is lost
REQUIRED_FIELDS = {"run_id": str, "stage": str, "status": str, "start": str}


def new_run_id(now: datetime | None = None) -> str:
    now = now or datetime.now()
    return f"{now.strftime(RUN_ID_FORMAT)}-{secrets.token_hex(2)}"


def create_run_dir(stage_dir: Path) -> tuple[str, Path]:
    """Make a fresh ``stage_dir/<run id>/`` (never reusing an existing folder)."""
    stage_dir.mkdir(parents=True, exist_ok=True)
    while True:
        run_id = new_run_id()
        path = stage_dir / run_id
        try:
            path.mkdir()
        except FileExistsError:
            continue
        return run_id, path


def params_hash(params: dict) -> str:
    """A short, order-independent hash of the effective parameters."""
    blob = json.dumps(params, sort_keys=True, default=str).encode()
    return hashlib.sha256(blob).hexdigest()[:16]


def git_info(root: Path) -> dict:
    """The commit of the checkout at ``root`` and whether its tree is dirty (None outside git)."""

    def git(*args):
        return subprocess.run(["git", "-C", str(root), *args], capture_output=True, text=True, timeout=10)

    try:
        head = git("rev-parse", "HEAD")
        if head.returncode != 0:
            return {"commit": None, "dirty": None}
        status = git("status", "--porcelain", "--untracked-files=no")
        return {"commit": head.stdout.strip(), "dirty": bool(status.stdout.strip())}
    except (OSError, subprocess.SubprocessError):
        return {"commit": None, "dirty": None}


def now_iso() -> str:
    return datetime.now(UTC).astimezone().isoformat(timespec="milliseconds")


def heartbeat_interval() -> float:
    """Seconds between heartbeats: ``$HW_HEARTBEAT_S`` or 15."""
    try:
        value = float(os.environ.get(HEARTBEAT_ENV, DEFAULT_HEARTBEAT_S))
    except ValueError:
        value = DEFAULT_HEARTBEAT_S
    return value if value > 0 else DEFAULT_HEARTBEAT_S


def process_identity(pid: int | None = None) -> dict:
    """``host``, ``pid`` and ``pid_start`` (the process's start time, epoch seconds) of a process."""
    import psutil

    pid = os.getpid() if pid is None else pid
    return {
        "host": socket.gethostname(),
        "pid": pid,
        "pid_start": round(psutil.Process(pid).create_time(), 3),
    }


def start_manifest(
    run_id: str, stage: str, label: str, argv: list[str], params: dict, sources: dict, seed, root: Path
) -> dict:
    started = now_iso()
    return {
        "run_id": run_id,
        "stage": stage,
        "label": label,
        "status": "running",
        "start": started,
        **process_identity(),
        "heartbeat": started,
        "heartbeat_interval_s": heartbeat_interval(),
        "end": None,
        "duration_s": None,
        "command": argv,
        "params": params,
        "params_sources": sources,
        "params_hash": params_hash(params),
        "seed": seed,
        "git": git_info(root),
        "python": sys.version.split()[0],
        "platform": platform.platform(),
        "devices": None,
        "packages": package_versions(),
        "headline": {},
        "error": None,
    }


def write_manifest(run_dir: Path, manifest: dict) -> Path:
    return write_json_atomic(run_dir / MANIFEST, manifest)


class ManifestWriter:
    """The one writer of a running run's manifest: the ``hw run`` process's
    main thread records the outcome while a heartbeat thread refreshes
    ``heartbeat``; a lock keeps their writes whole and in order."""

    def __init__(self, run_dir: Path, manifest: dict):
        self.run_dir, self.manifest = Path(run_dir), manifest
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._last_beat = 0.0

    def write(self, **updates) -> Path:
        with self._lock:
            self.manifest.update(updates)
            return write_manifest(self.run_dir, self.manifest)

    def beat(self, min_gap: float = 1.0) -> None:
        """Refresh the heartbeat (at most once per ``min_gap`` seconds; a
        failed write is retried at the next beat)."""
        if self._stop.is_set() or time.monotonic() - self._last_beat < min_gap:
            return
        self._last_beat = time.monotonic()
        try:
            self.write(heartbeat=now_iso())
        except OSError:
            pass

    def start_heartbeat(self) -> ManifestWriter:
        interval = float(self.manifest.get("heartbeat_interval_s") or heartbeat_interval())

        def loop():
            while not self._stop.wait(interval):
                self.beat()

        self._thread = threading.Thread(target=loop, name="hw-heartbeat", daemon=True)
        self._thread.start()
        return self

    def stop_heartbeat(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=10)


def manifest_problem(data) -> str | None:
    """Why a parsed manifest cannot be used (None when it can)."""
    if not isinstance(data, dict):
        return f"manifest.json holds {type(data).__name__}, not a mapping"
    missing = [k for k in REQUIRED_FIELDS if k not in data]
    if missing:
        return f"manifest.json lacks {', '.join(missing)}"
    wrong = [k for k, t in REQUIRED_FIELDS.items() if not isinstance(data[k], t)]
    if wrong:
        return f"manifest.json has a non-text {', '.join(wrong)}"
    if data["status"] not in STATUSES:
        return f"manifest.json has unknown status {data['status']!r}"
    return None


def load_run(run_dir: Path) -> dict | None:
    """A run folder's manifest with ``_dir`` and ``_state`` added, the
    state derived by :func:`run_state`. A folder without ``manifest.json``
    gives None (not a run); one whose manifest is truncated, not JSON or
    missing required fields gives a ``broken`` record naming the reason."""
    run_dir = Path(run_dir)
    path = run_dir / MANIFEST
    if not path.exists():
        return None
    try:
        with open(path, encoding="utf-8") as fh:
            data = json.load(fh)
        problem = manifest_problem(data)
    except UnicodeDecodeError:
        problem = "manifest.json is not UTF-8 text"
    except ValueError as exc:
        problem = f"manifest.json is not valid JSON ({str(exc).splitlines()[0]})"
    except OSError as exc:
        problem = f"manifest.json cannot be read ({exc.strerror})"
    if problem:
        return {
            "run_id": run_dir.name,
            "stage": run_dir.parent.name,
            "status": "broken",
            "label": "",
            "error": {"message": problem},
            "_dir": run_dir,
            "_state": {"status": "broken", "reason": problem},
        }
    data["_dir"] = run_dir
    data["_state"] = run_state(data)
    return data


def _parse_time(text) -> datetime | None:
    try:
        t = datetime.fromisoformat(str(text))
    except (TypeError, ValueError):
        return None
    return t if t.tzinfo else t.astimezone()


def _process_alive(pid, pid_start) -> bool | None:
    """Whether that process (pid and start time) is still alive on this host; None if unknowable."""
    try:
        import psutil
    except ImportError:
        return None
    try:
        proc = psutil.Process(int(pid))
        if proc.status() == psutil.STATUS_ZOMBIE:
            return False
        return pid_start is None or abs(proc.create_time() - float(pid_start)) < 1.0
    except (psutil.NoSuchProcess, ValueError, TypeError):
        return False
    except psutil.Error:
        return None


def run_state(manifest: dict, now: datetime | None = None) -> dict:
    """What state a run is really in: ``{"status": ..., "reason": ...}``.

    Recorded end states are taken as they are. A ``running`` run is
    ``lost`` when it runs on this host and its process is gone, or (on any
    host) when its last heartbeat is older than ``LOST_AFTER_BEATS``
    intervals; the reason gives the time of the last heartbeat. A run on
    another host with a fresh heartbeat stays ``running``.
    """
    status = manifest.get("status")
    if status != "running":
        return {"status": status, "reason": ""}
    now = now or datetime.now(UTC)
    beat_text = manifest.get("heartbeat") or manifest.get("start")
    beat = _parse_time(beat_text)
    last = f"last heartbeat {str(beat_text)[:19].replace('T', ' ')}" if beat else "no heartbeat"
    host, pid = manifest.get("host"), manifest.get("pid")
    if host == socket.gethostname() and pid is not None:
        alive = _process_alive(pid, manifest.get("pid_start"))
        if alive is False:
            return {"status": "lost", "reason": f"its process {pid} on {host} is gone; {last}"}
        if alive:
            return {"status": "running", "reason": ""}
    interval = manifest.get("heartbeat_interval_s") or DEFAULT_HEARTBEAT_S
    try:
        window = LOST_AFTER_BEATS * float(interval)
    except (TypeError, ValueError):
        window = LOST_AFTER_BEATS * DEFAULT_HEARTBEAT_S
    if beat is None or (now - beat).total_seconds() > window:
        where = f" on {host}" if host else ""
        return {"status": "lost", "reason": f"no heartbeat{where} for over {window:.0f} s; {last}"}
    return {"status": "running", "reason": ""}


def status_of(run: dict) -> str:
    """The status to show: the derived state when known, else the recorded one."""
    return (run.get("_state") or {}).get("status") or str(run.get("status", ""))


def status_text(run: dict) -> str:
    """The status with its reason, e.g. ``lost (its process 123 on h is gone; last heartbeat ...)``."""
    state = run.get("_state") or {}
    reason = state.get("reason")
    return f"{status_of(run)} ({reason})" if reason else status_of(run)
