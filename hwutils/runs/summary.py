"""The summary block that opens every report: which run, on what data, with
which parameters and code, on which machine, and what it found.

Built from the run folder alone (manifest, metrics.json's ``_data`` and
``_results``, the executed notebook's parameters cell, environment.json,
run.log), so a reviewer can judge a run from its page.
"""

from __future__ import annotations

import html
import json
from pathlib import Path

from hwutils.results import format_number, readable_name
from hwutils.runfolder import LOG, RunFolder
from hwutils.runlog import count_warnings
from hwutils.runmetrics import CAVEATS_KEY, DATA_KEY, HEADLINE_KEY, RESULTS_KEY
from hwutils.tables import TABLE_STYLE, results_html

SUMMARY_ID = "hw-summary"
KEY_VERSIONS = ("tensorflow", "keras", "numpy", "scikit-learn", "papermill", "hwutils")
STATUS_COLOURS = {
    "ok": "#1a7f37",
    "failed": "#cf222e",
    "interrupted": "#9a6700",
    "running": "#0969da",
    "lost": "#8250df",
    "broken": "#6e7781",
}

STYLE = (
    "<style>"
    f"#{SUMMARY_ID}{{font-family:system-ui,-apple-system,'Segoe UI',sans-serif;max-width:1100px;"
    "margin:12px auto 24px;padding:14px 20px;border:1px solid #d0d7de;border-radius:8px;background:#f6f8fa}"
    f"#{SUMMARY_ID} h1{{font-size:22px;margin:0 0 4px}}"
    f"#{SUMMARY_ID} h2{{font-size:15px;margin:14px 0 4px}}"
    f"#{SUMMARY_ID} .sub{{color:#57606a;margin:0 0 8px}}"
    f"#{SUMMARY_ID} .status{{color:#fff;padding:1px 8px;border-radius:10px;font-weight:600}}"
    f"#{SUMMARY_ID} dl{{display:grid;grid-template-columns:max-content 1fr;gap:2px 14px;margin:4px 0}}"
    f"#{SUMMARY_ID} dt{{color:#57606a}} #{SUMMARY_ID} dd{{margin:0}}"
    f"#{SUMMARY_ID} .error{{color:#cf222e;font-weight:600}}"
    f"#{SUMMARY_ID} .caveats{{border-left:4px solid #bf8700;background:#fff8c5;padding:4px 10px;margin:8px 0}}"
    f"#{SUMMARY_ID} code{{font-size:12px}}"
    f"#{SUMMARY_ID} td:nth-child(2){{white-space:nowrap}}"  # a value ("174.2 s") on one line
    "</style>"
)


def _e(text) -> str:
    return html.escape(str(text), quote=True)


def _read_json(path: Path) -> dict:
    try:
        with open(path, encoding="utf-8") as fh:
            data = json.load(fh)
        return data if isinstance(data, dict) else {}
    except (OSError, ValueError):
        return {}


def stage_title(notebook: Path) -> str:
    """The notebook's first Markdown heading (``# Writer identification ...``)."""
    try:
        import nbformat

        nb = nbformat.read(notebook, as_version=4)
    except Exception:
        return ""
    for cell in nb.cells:
        if cell.cell_type == "markdown":
            for line in cell.source.splitlines():
                if line.startswith("# "):
                    return line[2:].strip().replace("`", "").replace("*", "")
    return ""


def changed_parameters(notebook: Path, params: dict) -> list[tuple[str, object, object]]:
    """``(name, value, default)`` for each parameter whose value differs from
    the default in the notebook's parameters cell."""
    from hwutils.runs.params import notebook_parameters

    try:
        specs = notebook_parameters(notebook)
    except Exception:
        return [(k, v, None) for k, v in params.items()]
    return [(k, v, specs[k].default) for k, v in params.items() if k in specs and v != specs[k].default]


def format_duration(seconds) -> str:
    """One duration format for the summary and the index: ``42 s``, ``3 min 05 s``, ``1 h 02 min``."""
    if seconds is None:
        return "-"
    s = int(round(float(seconds)))
    if s < 60:
        return f"{float(seconds):.1f} s" if seconds < 10 else f"{s} s"
    if s < 3600:
        return f"{s // 60} min {s % 60:02d} s"
    return f"{s // 3600} h {(s % 3600) // 60:02d} min"


def data_text(data: dict) -> str:
    """``synthetic writers (generated): 15 writers, 360 lines`` from a ``_data`` record."""
    if not isinstance(data, dict) or not data:
        return ""
    counts = data.get("counts") or {}
    parts = [
        f"{format_number(v, 'count') if isinstance(v, (int, float)) else _e(v)} {k.replace('_', ' ')}"
        for k, v in counts.items()
    ]
    where = f" ({data['location']})" if data.get("location") else ""
    return f"{data.get('description', '')}{where}" + (": " + ", ".join(parts) if parts else "")


def headline_rows(metrics: dict) -> list[dict]:
    """Results to show when a notebook recorded none: its headline metrics, formatted."""
    from hwutils.results import Result, kind_of
    from hwutils.runmetrics import headline_metrics

    rows = []
    for key, value in headline_metrics(metrics).items():
        if isinstance(value, (int, float)) and not isinstance(value, bool):
            rows.append(Result(readable_name(key), value, kind=kind_of(key, value)).to_dict())
    return rows


def summary_html(run_dir: Path, manifest: dict) -> str:
    """The summary block (one ``<section id="hw-summary">``) of a run."""
    folder = RunFolder(run_dir)
    metrics = _read_json(folder.metrics)
    env = _read_json(folder.environment)
    status = str(manifest.get("status", ""))
    stage = manifest.get("stage", "")
    title = stage_title(folder.notebook) or stage
    colour = STATUS_COLOURS.get(status, "#6e7781")
    out = [STYLE, TABLE_STYLE, f'<section id="{SUMMARY_ID}">']
    out.append(f"<h1>{_e(title)}</h1>")
    out.append(
        f'<p class="sub">stage <b>{_e(stage)}</b> &middot; run <code>{_e(manifest.get("run_id", ""))}</code>'
        f" &middot; {_e(manifest.get('label') or '')} &middot; "
        f'<span class="status" style="background:{colour}">{_e(status)}</span></p>'
    )
    error = (manifest.get("error") or {}).get("message") if isinstance(manifest.get("error"), dict) else None
    if error:
        out.append(f'<p class="error">{_e(error)}</p>')

    results = metrics.get(RESULTS_KEY) if isinstance(metrics.get(RESULTS_KEY), list) else None
    rows = results or headline_rows(metrics)
    out.append("<h2>Results</h2>")
    if rows:
        out.append(results_html(rows))
        if not results:
            out.append('<p class="sub">headline metrics (this notebook states no yardsticks)</p>')
    else:
        out.append('<p class="sub">no results recorded (the run ended before its summary)</p>')
    caveats = metrics.get(CAVEATS_KEY) if isinstance(metrics.get(CAVEATS_KEY), list) else []
    if caveats:
        out.append('<div class="caveats"><b>Caveats</b><ul>')
        out += [f"<li>{_e(c)}</li>" for c in caveats]
        out.append("</ul></div>")

    facts: list[tuple[str, str]] = []
    facts.append(("data", _e(data_text(metrics.get(DATA_KEY))) or "not recorded"))
    changed = changed_parameters(folder.notebook, manifest.get("params") or {})
    sources = manifest.get("params_sources") if isinstance(manifest.get("params_sources"), dict) else {}

    def origin(name) -> str:
        src = str(sources.get(name) or "")
        return "" if src in ("", "default") else ("; -p" if src == "-p" else f"; {Path(src).name}")

    facts.append(
        (
            "parameters",
            "; ".join(
                f"<code>{_e(k)}</code> = {_e(v)} <span class='sub'>(default {_e(d)}{_e(origin(k))})</span>"
                for k, v, d in changed
            )
            if changed
            else "the notebook's defaults",
        )
    )
    facts.append(("started", _e(str(manifest.get("start", ""))[:19].replace("T", " "))))
    facts.append(("duration", _e(format_duration(manifest.get("duration_s")))))
    git = manifest.get("git") or {}
    if git.get("commit"):
        dirty = " <b>with uncommitted changes</b>" if git.get("dirty") else ""
        facts.append(("code", f"git <code>{_e(str(git['commit'])[:10])}</code>{dirty}"))
    else:
        facts.append(("code", "not a git checkout"))
    devices = env.get("devices") or manifest.get("devices")
    facts.append(
        (
            "host",
            _e(f"{manifest.get('host', '?')}; devices {', '.join(devices) if devices else 'not recorded'}"),
        )
    )
    packages = env.get("packages") or manifest.get("packages") or {}
    versions = [f"{k} {packages[k]}" for k in KEY_VERSIONS if packages.get(k)]
    python = env.get("python") or manifest.get("python")
    facts.append(("versions", _e(", ".join(([f"Python {python}"] if python else []) + versions))))
    n_warn = count_warnings(run_dir)
    log_link = f'<a href="{LOG}">{LOG}</a>' if folder.log.exists() else LOG
    facts.append(
        (
            "warnings",
            f"{n_warn} Python warning{'s' if n_warn != 1 else ''} during the run, in {log_link}"
            " (with TensorFlow's messages and the per-epoch training lines)",
        )
    )
    out.append("<h2>Run</h2><dl>" + "".join(f"<dt>{k}</dt><dd>{v}</dd>" for k, v in facts) + "</dl>")
    out.append("</section>")
    return "".join(out)


def inject(page: str, block: str) -> str:
    """Put ``block`` first in the page's body (before the notebook's cells)."""
    for marker in ("<main>", "<body"):
        i = page.find(marker)
        if i >= 0:
            j = page.find(">", i) + 1
            return page[:j] + block + page[j:]
    return block + page


__all__ = ["HEADLINE_KEY", "changed_parameters", "data_text", "format_duration", "inject", "summary_html"]
