"""Listing runs: the ``hw runs`` table and ``outputs/index.html``.

The index is rebuilt from every manifest on disk (not appended to), under a
file lock and with an atomic rename, so it is right whichever of two
concurrent runs finishes last.
"""

from __future__ import annotations

import fcntl
import html
from contextlib import contextmanager
from pathlib import Path

from hwutils.errors import HwError
from hwutils.report import write_text_atomic
from hwutils.runs.manifest import load_run


def all_runs(outputs: Path, stage: str | None = None) -> list[dict]:
    """Every run under ``outputs`` (newest first): its manifest with ``_dir``
    and ``_state`` (the status as it really is: ``lost`` for a run whose
    process died unrecorded, ``broken`` for an unreadable manifest) added.
    One broken run folder never hides the others."""
    runs = []
    if not outputs.is_dir():
        return runs
    for stage_dir in sorted(p for p in outputs.iterdir() if p.is_dir()):
        if stage and stage_dir.name != stage:
            continue
        try:
            run_dirs = [d for d in stage_dir.iterdir() if d.is_dir()]
        except OSError:
            continue
        for run_dir in run_dirs:
            run = load_run(run_dir)
            if run is not None:
                runs.append(run)
    runs.sort(key=lambda m: str(m.get("run_id", "")), reverse=True)
    return runs


def status_of(run: dict) -> str:
    """The status to show: the derived state when known, else the recorded one."""
    return (run.get("_state") or {}).get("status") or str(run.get("status", ""))


def status_text(run: dict) -> str:
    """The status with its reason, e.g. ``lost (its process 123 on h is gone; last heartbeat ...)``."""
    state = run.get("_state") or {}
    reason = state.get("reason")
    return f"{status_of(run)} ({reason})" if reason else status_of(run)


def find_run(outputs: Path, run_id: str) -> dict:
    """The run whose id is ``run_id`` or uniquely starts with it (a folder path works too)."""
    path = Path(run_id)
    if path.is_dir() and (path / "manifest.json").exists():
        run = load_run(path)
        if run is not None:
            if status_of(run) == "broken":
                raise HwError(f"run folder {path}: {run['_state']['reason']}")
            return run
    matches = [m for m in all_runs(outputs) if m["run_id"] == run_id] or [
        m for m in all_runs(outputs) if m["run_id"].startswith(run_id)
    ]
    if not matches:
        raise HwError(f"no run '{run_id}' under {outputs}")
    if len(matches) > 1:
        raise HwError(f"run id '{run_id}' is ambiguous: {', '.join(m['run_id'] for m in matches[:5])}")
    return matches[0]


def format_value(value) -> str:
    if isinstance(value, float):
        return f"{value:.4g}"
    return "" if value is None else str(value)


def format_duration(seconds) -> str:
    if seconds is None:
        return ""
    seconds = float(seconds)
    return f"{seconds:.1f}s" if seconds < 120 else f"{int(seconds // 60)}m{int(seconds % 60):02d}s"


def headline_text(manifest: dict) -> str:
    return "  ".join(f"{k}={format_value(v)}" for k, v in (manifest.get("headline") or {}).items())


def text_table(rows: list[list[str]], header: list[str]) -> str:
    """A plain fixed-width table."""
    rows = [[str(c) for c in r] for r in rows]
    widths = [max(len(h), *(len(r[i]) for r in rows)) if rows else len(h) for i, h in enumerate(header)]
    line = lambda cells: "  ".join(c.ljust(w) for c, w in zip(cells, widths)).rstrip()  # noqa: E731
    return "\n".join([line(header), line(["-" * w for w in widths]), *map(line, rows)])


def runs_table(outputs: Path, stage: str | None = None) -> str:
    runs = all_runs(outputs, stage)
    if not runs:
        return f"no runs under {outputs}" + (f" for stage {stage}" if stage else "")
    rows = [
        [
            m["run_id"],
            m.get("stage", ""),
            m.get("label", ""),
            status_text(m),
            format_duration(m.get("duration_s")),
            headline_text(m),
        ]
        for m in runs
    ]
    return text_table(rows, ["run id", "stage", "label", "status", "duration", "headline metrics"])


@contextmanager
def _locked(outputs: Path):
    outputs.mkdir(parents=True, exist_ok=True)
    with open(outputs / ".index.lock", "w") as fh:
        fcntl.flock(fh, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(fh, fcntl.LOCK_UN)


_STATUS_COLOURS = {
    "ok": "#1a7f37",
    "failed": "#cf222e",
    "interrupted": "#9a6700",
    "running": "#0969da",
    "lost": "#8250df",
    "broken": "#cf222e",
}


def render_index(runs: list[dict]) -> str:
    esc = html.escape
    rows = []
    for m in runs:
        rel = f"{m['stage']}/{m['run_id']}"
        status = status_of(m)
        colour = _STATUS_COLOURS.get(status, "#57606a")
        links = " ".join(
            f'<a href="{rel}/{name}">{label}</a>'
            for name, label in (
                ("report.html", "report"),
                ("notebook.ipynb", "notebook"),
                ("metrics.json", "metrics"),
                ("manifest.json", "manifest"),
            )
            if (Path(m["_dir"]) / name).exists()
        )
        headline = "<br>".join(
            f"{esc(k)} = {esc(format_value(v))}" for k, v in (m.get("headline") or {}).items()
        )
        error = m.get("error") if isinstance(m.get("error"), dict) else {}
        reason = (m.get("_state") or {}).get("reason") or error.get("message", "")
        err_text = f'<div class="err">{esc(str(reason))}</div>' if reason else ""
        rows.append(
            f"<tr><td><code>{esc(str(m['run_id']))}</code></td><td>{esc(str(m['stage']))}</td>"
            f"<td>{esc(str(m.get('label') or ''))}</td>"
            f'<td style="color:{colour};font-weight:600">{esc(status)}{err_text}</td>'
            f"<td>{esc(str(m.get('start') or '')[:19].replace('T', ' '))}</td>"
            f"<td>{esc(format_duration(m.get('duration_s')))}</td><td>{headline}</td><td>{links}</td></tr>"
        )
    body = "\n".join(rows) or '<tr><td colspan="8">no runs yet</td></tr>'
    return f"""<!doctype html>
<html><head><meta charset="utf-8"><title>Handwriting runs</title>
<style>
body {{ font-family: system-ui, sans-serif; margin: 2em; color: #24292f; }}
table {{ border-collapse: collapse; width: 100%; font-size: 14px; }}
th, td {{ border-bottom: 1px solid #d0d7de; padding: 6px 8px; text-align: left; vertical-align: top; }}
th {{ background: #f6f8fa; }}
.err {{ color: #cf222e; font-weight: normal; font-size: 12px; max-width: 30em; }}
</style></head><body>
<h1>Runs</h1><p>{len(runs)} runs, newest first. Each run folder holds the executed notebook, an HTML report,
params.yaml, metrics.json, artifacts/ and manifest.json.</p>
<table><thead><tr><th>run id</th><th>stage</th><th>label</th><th>status</th><th>started</th><th>duration</th>
<th>headline metrics</th><th>files</th></tr></thead>
<tbody>
{body}
</tbody></table></body></html>
"""


def rebuild_index(outputs: Path) -> Path:
    """Rewrite ``outputs/index.html`` from every manifest on disk."""
    with _locked(outputs):
        return write_text_atomic(outputs / "index.html", render_index(all_runs(outputs)))
