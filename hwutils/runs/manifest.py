"""Run ids, run folders and ``manifest.json``.

A run id is ``YYYYMMDD-HHMMSS-micro-xxxx``: it sorts by start time and the
random suffix plus an exclusive ``mkdir`` keep it unique even for runs
started in the same microsecond.
"""

from __future__ import annotations

import hashlib
import json
import platform
import secrets
import subprocess
import sys
from datetime import datetime, timezone
from pathlib import Path

from hwutils.report import write_json_atomic
from hwutils.repro import package_versions

STATUSES = ("running", "ok", "failed", "interrupted")
RUN_ID_FORMAT = "%Y%m%d-%H%M%S-%f"


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
    return datetime.now(timezone.utc).astimezone().isoformat(timespec="milliseconds")


def start_manifest(run_id: str, stage: str, label: str, argv: list[str], params: dict, sources: dict,
                   seed, root: Path) -> dict:
    return {
        "run_id": run_id,
        "stage": stage,
        "label": label,
        "status": "running",
        "start": now_iso(),
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
    return write_json_atomic(run_dir / "manifest.json", manifest)


def read_manifest(run_dir: Path) -> dict | None:
    """The manifest of a run folder, or None if missing or unreadable."""
    try:
        with open(run_dir / "manifest.json") as fh:
            return json.load(fh)
    except (OSError, ValueError):
        return None
