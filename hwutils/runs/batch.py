"""Several runs, N at a time, each in its own process.

An item is a params file in ``params/<stage>/`` (``params/writer_id/smoke.yaml``)
or ``STAGE:FILE`` (``writer_id:smoke``). All items are checked before any
runs; one failure does not stop the others.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

from hwutils.errors import ParamsError
from hwutils.runs.index import format_duration, text_table
from hwutils.runs.params import notebook_parameters, read_params_file, check_value
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
            raise ParamsError(f"batch item '{item}': no such params file (use params/STAGE/FILE.yaml or STAGE:FILE)")
        stage_name, file = path.resolve().parent.name, str(path)
    stage = get_stage(stage_name)
    params_file = resolve_params_file(stage, file)
    specs = notebook_parameters(stage.notebook)
    for key, value in read_params_file(params_file).items():
        check_value(stage.name, specs, key, value, str(params_file))
    return BatchItem(stage.name, params_file, f"{stage.name}:{params_file.stem}")


def default_items() -> list[BatchItem]:
    """Every stage that has ``params/<stage>/default.yaml``, in pipeline order."""
    items = [parse_item(str(s.params_dir / "default.yaml")) for s in list_stages()
             if (s.params_dir / "default.yaml").is_file()]
    if not items:
        raise ParamsError("no stage has a params/<stage>/default.yaml")
    return items


def _run_one(item: BatchItem, extra: list[str], lock: threading.Lock, prefix: bool) -> BatchItem:
    cmd = [sys.executable, "-m", "hwutils", "run", item.stage, "-f", str(item.params_file), *extra]
    start = time.monotonic()
    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, bufsize=1,
                            env=dict(os.environ, PYTHONUNBUFFERED="1"), cwd=project_root())
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
    """Run the items ``jobs`` at a time; print a summary; exit code 0 only if all succeeded."""
    lock = threading.Lock()
    jobs = max(1, jobs)
    with ThreadPoolExecutor(max_workers=jobs) as pool:
        done = list(pool.map(lambda it: _run_one(it, list(extra or []), lock, jobs > 1 or len(items) > 1), items))
    rows = [[it.name, it.run_id, it.status, format_duration(it.duration), str(it.exit_code)] for it in done]
    print("\nBatch summary")
    print(text_table(rows, ["item", "run id", "status", "duration", "exit"]))
    failed = [it for it in done if it.status != "ok"]
    print(f"{len(done) - len(failed)} of {len(done)} runs ok")
    return 1 if failed else 0
