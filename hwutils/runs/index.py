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
from hwutils.fileio import write_text_atomic
from hwutils.runfolder import INTERACTIVE, RunFolder
from hwutils.runs.manifest import load_run, status_of, status_text
from hwutils.runs.sweep_record import list_sweeps


def all_runs(outputs: Path, stage: str | None = None) -> list[dict]:
    """Every run under ``outputs`` (newest first): its manifest with ``_dir``
    and ``_state`` (the status as it really is: ``lost`` for a run whose
    process died unrecorded, ``broken`` for an unreadable manifest) added.
    One broken run folder never hides the others."""
    runs = []
    if not outputs.is_dir():
        return runs
    stage_dirs = [p for p in outputs.iterdir() if p.is_dir() and p.name not in (INTERACTIVE, "sweeps")]
    interactive = outputs / INTERACTIVE
    if interactive.is_dir():  # outputs/interactive/<stage>/<run id>/: notebooks run outside hw run
        stage_dirs += [p for p in interactive.iterdir() if p.is_dir()]
    for stage_dir in sorted(stage_dirs):
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
    """One duration format everywhere (``42 s``, ``3 min 05 s``); empty when unknown."""
    from hwutils.runs.summary import format_duration as fmt

    return "" if seconds is None else fmt(seconds)


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


def _run_metrics(run: dict) -> dict:
    import json

    try:
        with open(RunFolder(run["_dir"]).metrics, encoding="utf-8") as fh:
            data = json.load(fh)
        return data if isinstance(data, dict) else {}
    except (OSError, ValueError, KeyError):
        return {}


INDEX_MARKS = {
    "NOT better": ' <span class="miss" title="does not beat its yardstick">(below yardstick)</span>',
    "tie": ' <span class="tie" title="equal to its yardstick: does not beat it">(ties yardstick)</span>',
}


def headline_cells(run: dict, metrics: dict) -> list[tuple[str, str, str]]:
    """``(name, formatted value, verdict against its yardstick)`` (see
    :attr:`hwutils.report.Result.verdict`; ``""`` for none) of a run's headline
    results: the notebook's recorded results, else its headline metrics."""
    from hwutils.results import Result, format_number, kind_of, readable_name
    from hwutils.runmetrics import RESULTS_KEY

    rows = metrics.get(RESULTS_KEY)
    if isinstance(rows, list) and rows:
        out = []
        for row in rows[:6]:
            try:
                r = Result.from_dict(row)
            except (TypeError, ValueError):
                continue
            out.append((r.name, format_number(r.value, r.kind), r.verdict))
        return out
    return [
        (readable_name(k), format_number(v, kind_of(k, v)) if isinstance(v, (int, float)) else str(v), "")
        for k, v in (run.get("headline") or {}).items()
    ]


def data_cell(metrics: dict) -> str:
    from hwutils.runmetrics import DATA_KEY
    from hwutils.runs.summary import data_text

    return data_text(metrics.get(DATA_KEY) or {})


def render_index(runs: list[dict], sweeps: list[dict] | None = None) -> str:
    """outputs/index.html: every run (filter by stage and status, sort by any
    column, no server), and the sweeps."""
    esc = html.escape
    rows = []
    for m in runs:
        run_dir = Path(m["_dir"])
        rel = (
            f"{INTERACTIVE}/{m['stage']}/{m['run_id']}"
            if m.get("interactive")
            else f"{m['stage']}/{m['run_id']}"
        )
        status = status_of(m)
        colour = _STATUS_COLOURS.get(status, "#57606a")
        links = " ".join(
            f'<a href="{rel}/{name}">{label}</a>'
            for name, label in (
                ("report.html", "report"),
                ("notebook.ipynb", "notebook"),
                ("run.log", "log"),
                ("metrics.json", "metrics"),
                ("manifest.json", "manifest"),
            )
            if (run_dir / name).exists()
        )
        metrics = _run_metrics(m)
        headline = "<br>".join(
            f"{esc(name)}: <b>{esc(value)}</b>" + INDEX_MARKS.get(verdict, "")
            for name, value, verdict in headline_cells(m, metrics)
        )
        error = m.get("error") if isinstance(m.get("error"), dict) else {}
        reason = (m.get("_state") or {}).get("reason") or error.get("message", "")
        err_text = f'<div class="err">{esc(str(reason))}</div>' if reason else ""
        badge = ' <span class="badge">interactive</span>' if m.get("interactive") else ""
        duration = m.get("duration_s")
        start = str(m.get("start") or "")[:19].replace("T", " ")
        rows.append(
            f'<tr data-stage="{esc(str(m["stage"]))}" data-status="{esc(status)}">'
            f'<td data-v="{esc(str(m["run_id"]))}"><code>{esc(str(m["run_id"]))}</code>{badge}</td>'
            f"<td>{esc(str(m['stage']))}</td>"
            f"<td>{esc(str(m.get('label') or ''))}</td>"
            f'<td data-v="{esc(status)}" style="color:{colour};font-weight:600">{esc(status)}{err_text}</td>'
            f'<td class="data">{esc(data_cell(metrics))}</td>'
            f"<td>{esc(start)}</td>"
            f'<td data-v="{duration if duration is not None else -1}">{esc(format_duration(duration))}</td>'
            f"<td>{headline}</td><td>{links}</td></tr>"
        )
    body = "\n".join(rows) or '<tr><td colspan="9">no runs yet</td></tr>'
    stages = sorted({str(m["stage"]) for m in runs})
    statuses = sorted({status_of(m) for m in runs})
    options = lambda values: "".join(f'<option value="{esc(v)}">{esc(v)}</option>' for v in values)  # noqa: E731
    sweep_rows = ""
    if sweeps:
        items = "".join(
            f'<li><a href="{esc(str(sw.get("report", "")))}">{esc(str(sw.get("id", "")))}</a> '
            f"{esc(str(sw.get('stage', '')))}: {esc(str(sw.get('runs', '')))} runs"
            f"{(' (' + esc(str(sw.get('status', ''))) + ')') if sw.get('status') else ''}</li>"
            for sw in sweeps
        )
        sweep_rows = f'<h2>Sweeps</h2><ul id="sweeps">{items}</ul>'
    return f"""<!doctype html>
<html><head><meta charset="utf-8"><title>Handwriting runs</title>
<style>
body {{ font-family: system-ui, sans-serif; margin: 2em; color: #24292f; }}
table {{ border-collapse: collapse; width: 100%; font-size: 14px; }}
th, td {{ border-bottom: 1px solid #d0d7de; padding: 6px 8px; text-align: left; vertical-align: top; }}
th {{ background: #f6f8fa; cursor: pointer; user-select: none; white-space: nowrap; }}
th.sorted-asc::after {{ content: " \\25B2"; }} th.sorted-desc::after {{ content: " \\25BC"; }}
td.data {{ max-width: 22em; font-size: 13px; color: #424a53; }}
.err {{ color: #cf222e; font-weight: normal; font-size: 12px; max-width: 30em; }}
.miss {{ color: #cf222e; font-size: 12px; }}
.tie {{ color: #7a5200; font-size: 12px; }}
.badge {{ background: #ddf4ff; color: #0969da; border-radius: 8px; padding: 0 6px; font-size: 11px; }}
.filters {{ margin: 0.6em 0 1em; }} .filters label {{ margin-right: 1.2em; }}
</style></head><body>
<h1>Runs</h1><p>{len(runs)} runs, newest first. Each run folder holds the executed notebook, an HTML report
(a summary first), its log, params.yaml, metrics.json, artifacts/ and manifest.json. Click a column heading to sort.</p>
<div class="filters"><label>stage <select id="f-stage"><option value="">all</option>{options(stages)}</select></label>
<label>status <select id="f-status"><option value="">all</option>{options(statuses)}</select></label>
<span id="shown"></span></div>
<table id="runs"><thead><tr><th>run id</th><th>stage</th><th>label</th><th>status</th><th>data</th><th>started</th>
<th>duration</th><th>headline results</th><th>files</th></tr></thead>
<tbody>
{body}
</tbody></table>
{sweep_rows}
<script>
(function () {{
  var table = document.getElementById("runs"), tbody = table.tBodies[0];
  var fStage = document.getElementById("f-stage"), fStatus = document.getElementById("f-status");
  function rows() {{ return Array.prototype.slice.call(tbody.rows).filter(function (r) {{ return r.dataset.stage; }}); }}
  function filter() {{
    var n = 0;
    rows().forEach(function (r) {{
      var show = (!fStage.value || r.dataset.stage === fStage.value) && (!fStatus.value || r.dataset.status === fStatus.value);
      r.style.display = show ? "" : "none"; if (show) n++;
    }});
    document.getElementById("shown").textContent = n + " shown";
  }}
  function key(cell) {{ return cell.dataset.v !== undefined ? cell.dataset.v : cell.textContent.trim(); }}
  Array.prototype.forEach.call(table.tHead.rows[0].cells, function (th, col) {{
    th.addEventListener("click", function () {{
      var asc = !th.classList.contains("sorted-asc");
      Array.prototype.forEach.call(table.tHead.rows[0].cells, function (h) {{ h.classList.remove("sorted-asc", "sorted-desc"); }});
      th.classList.add(asc ? "sorted-asc" : "sorted-desc");
      rows().sort(function (a, b) {{
        var x = key(a.cells[col]), y = key(b.cells[col]), nx = parseFloat(x), ny = parseFloat(y);
        var c = (!isNaN(nx) && !isNaN(ny) && String(nx) === x && String(ny) === y) ? nx - ny : x.localeCompare(y);
        return asc ? c : -c;
      }}).forEach(function (r) {{ tbody.appendChild(r); }});
    }});
  }});
  fStage.addEventListener("change", filter); fStatus.addEventListener("change", filter); filter();
}})();
</script>
</body></html>
"""


def _sweeps(outputs: Path) -> list[dict]:
    try:
        return list_sweeps(outputs)
    except Exception:  # a broken sweep record must not cost the index
        return []


def rebuild_index(outputs: Path) -> Path:
    """Rewrite ``outputs/index.html`` from every manifest on disk."""
    with _locked(outputs):
        return write_text_atomic(outputs / "index.html", render_index(all_runs(outputs), _sweeps(outputs)))
