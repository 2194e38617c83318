"""A sweep's report: ``report.html`` and ``plot.png`` (every run, the mean and standard deviation
over seeds of each point, each headline metric against each swept parameter) and the
``hw runs --sweep`` table."""

from __future__ import annotations

import base64
import html
import json
import math
import os
from pathlib import Path

from hwutils.fileio import atomic_path, write_text_atomic
from hwutils.runs.index import format_duration, format_value, status_text, text_table
from hwutils.runs.sweep_plan import value_text
from hwutils.runs.sweep_record import read_sweep, sweep_dir, sweep_runs


def sweep_runs_table(outputs: Path, sweep_id: str) -> str:
    """``hw runs --sweep ID``: the sweep's runs (run id, point, status, duration, headline metrics)."""
    record = read_sweep(outputs, sweep_id)
    rows = []
    for r in sweep_runs(outputs, record):
        m = r["manifest"]
        rows.append(
            [
                m["run_id"] if m else r.get("run_id", "") or "-",
                r["label"],
                status_text(m) if m else r["state"],
                format_duration(m.get("duration_s")) if m else "",
                ", ".join(f"{k}={format_value(v)}" for k, v in r["headline"].items()),
            ]
        )
    title = f"sweep {record['sweep_id']} ({record['stage']}, {record.get('status', '')})"
    return title + "\n" + text_table(rows, ["run id", "point", "status", "duration", "headline metrics"])


def mean_std(values: list[float]) -> tuple[float, float | None]:
    """Mean and sample standard deviation (None for fewer than two values)."""
    n = len(values)
    mean = sum(values) / n
    if n < 2:
        return mean, None
    return mean, math.sqrt(sum((v - mean) ** 2 for v in values) / (n - 1))


def _group(rows: list[dict]) -> list[tuple[dict, list[dict]]]:
    """The rows grouped by point without the seed, in order of first appearance."""
    groups: dict[str, tuple[dict, list[dict]]] = {}
    for r in rows:
        key_point = {k: v for k, v in r["point"].items() if k != "seed"}
        key = json.dumps(key_point, sort_keys=True, default=str)
        groups.setdefault(key, (key_point, []))[1].append(r)
    return list(groups.values())


def _fmt(v) -> str:
    return format_value(v) if isinstance(v, (int, float)) else html.escape(value_text(v))


def _plot(rows: list[dict], swept: list[str], metrics: list[str], target: Path) -> Path | None:
    """Each headline metric (rows of panels) against each swept parameter (columns): every run
    as a dot, the mean over the other parameters' runs with its standard deviation as a bar."""
    params = [p for p in swept if p != "seed"] or [p for p in swept]
    ok = [r for r in rows if r["headline"]]
    if not ok or not metrics or not params:
        return None
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, axes = plt.subplots(
        len(metrics), len(params), figsize=(4.2 * len(params), 3.2 * len(metrics)), squeeze=False
    )
    for i, metric in enumerate(metrics):
        for j, param in enumerate(params):
            ax = axes[i][j]
            values = list(dict.fromkeys(value_text(r["point"].get(param)) for r in ok))
            numeric = all(
                isinstance(r["point"].get(param), (int, float))
                and not isinstance(r["point"].get(param), bool)
                for r in ok
            )
            xs_of = (lambda v: float(v)) if numeric else (lambda v, vs=values: vs.index(value_text(v)))
            xs, ys = [], []
            for r in ok:
                if metric in r["headline"]:
                    xs.append(xs_of(r["point"].get(param)))
                    ys.append(r["headline"][metric])
            ax.scatter(xs, ys, s=18, alpha=0.6, label="each run")
            mx, my, me = [], [], []
            for x in sorted(set(xs)):
                group = [y for xx, y in zip(xs, ys) if xx == x]
                m, s = mean_std(group)
                mx.append(x)
                my.append(m)
                me.append(s or 0.0)
            ax.errorbar(mx, my, yerr=me, fmt="o-", color="black", capsize=4, label="mean ± std")
            if numeric:
                positive = all(x > 0 for x in xs)
                if positive and max(xs) / min(xs) >= 100:
                    ax.set_xscale("log")
            else:
                ax.set_xticks(range(len(values)), values)
            ax.set_xlabel(param)
            ax.set_ylabel(metric)
            ax.set_title(f"{metric} against {param}")
            if i == 0 and j == 0:
                ax.legend(fontsize=8)
    fig.tight_layout()
    with atomic_path(target) as tmp:
        fig.savefig(tmp, format="png", dpi=100)
    plt.close(fig)
    return target


def write_report(outputs: Path, sweep_id: str) -> Path:
    """``outputs/sweeps/<ID>/report.html`` (self-contained: the plot is inlined, and also
    saved beside it as ``plot.png``), written atomically."""
    record = read_sweep(outputs, sweep_id)
    folder = sweep_dir(outputs, record["sweep_id"])
    rows = sweep_runs(outputs, record)
    swept = record.get("swept") or list(dict.fromkeys(k for r in rows for k in r["point"]))
    metrics = list(dict.fromkeys(k for r in rows for k in r["headline"]))
    esc = html.escape

    def link(r) -> str:
        if not r.get("run"):
            return ""
        rel = os.path.relpath(outputs / r["run"] / "report.html", folder)
        return f'<a href="{esc(rel)}">{esc(Path(r["run"]).name)}</a>'

    head = "".join(f"<th>{esc(p)}</th>" for p in swept)
    head += "<th>status</th>" + "".join(f"<th>{esc(m)}</th>" for m in metrics) + "<th>run</th>"
    body = ""
    for r in rows:
        cells = "".join(f"<td>{_fmt(r['point'].get(p, ''))}</td>" for p in swept)
        cells += f'<td class="status {esc(r["state"])}">{esc(r["state"] or "")}</td>'
        cells += "".join(f"<td>{_fmt(r['headline'][m]) if m in r['headline'] else ''}</td>" for m in metrics)
        body += f'<tr class="run">{cells}<td>{link(r)}</td></tr>\n'
    point_params = [p for p in swept if p != "seed"]
    stats_head = "".join(f"<th>{esc(p)}</th>" for p in point_params) + "<th>runs</th>"
    stats_head += "".join(f"<th>{esc(m)} mean</th><th>{esc(m)} std</th>" for m in metrics)
    stats_body = ""
    for point, group in _group(rows):
        cells = "".join(f"<td>{_fmt(point.get(p, ''))}</td>" for p in point_params)
        done = [r for r in group if r["headline"]]
        cells += f"<td>{len(done)} of {len(group)}</td>"
        for m in metrics:
            vals = [r["headline"][m] for r in done if m in r["headline"]]
            if vals:
                mean, std = mean_std(vals)
                cells += f"<td>{_fmt(mean)}</td><td>{_fmt(std) if std is not None else '-'}</td>"
            else:
                cells += "<td></td><td></td>"
        stats_body += f'<tr class="point">{cells}</tr>\n'
    plot = _plot(rows, swept, metrics, folder / "plot.png")
    figure = ""
    if plot is not None:
        data = base64.b64encode(plot.read_bytes()).decode()
        figure = (
            f"<h2>Headline metrics against the swept parameters</h2><figure>"
            f'<img id="plot" alt="each headline metric against each swept parameter" '
            f'src="data:image/png;base64,{data}" data-file="plot.png">'
            f"<figcaption>Each dot is one run; black: the mean with its standard deviation. "
            f'Also saved as <a href="plot.png">plot.png</a>.</figcaption></figure>'
        )
    counts: dict[str, int] = {}
    for r in rows:
        counts[r["state"] or "queued"] = counts.get(r["state"] or "queued", 0) + 1
    summary = ", ".join(f"{n} {s}" for s, n in sorted(counts.items()))
    base = ", ".join(Path(f).name for f in record.get("base_files") or []) or "the notebook's defaults"
    page = f"""<!doctype html>
<html><head><meta charset="utf-8"><title>Sweep {esc(record["sweep_id"])}</title>
<style>
body {{ font-family: system-ui, sans-serif; margin: 2em; color: #24292f; }}
table {{ border-collapse: collapse; margin: 1em 0; }}
th, td {{ border: 1px solid #d0d7de; padding: 4px 8px; text-align: right; }}
th {{ background: #f6f8fa; }}
td.status.ok {{ color: #1a7f37; }} td.status.failed, td.status.lost {{ color: #cf222e; }}
img {{ max-width: 100%; }}
</style></head><body>
<h1>Sweep {esc(record["sweep_id"])}</h1>
<p>Stage <b>{esc(record["stage"])}</b>, started {esc(record.get("created", ""))}, {esc(record.get("status", ""))}:
{len(rows)} runs ({esc(summary)}) on {esc(base)}, sweeping {esc(", ".join(swept))}.
<a href="../../index.html">All runs</a>.</p>
<h2>Every run</h2>
<table id="runs"><thead><tr>{head}</tr></thead><tbody>
{body}</tbody></table>
<h2>Mean and standard deviation over seeds</h2>
<p>Per point, over its runs that ended with metrics (sample standard deviation; - for one run).</p>
<table id="points"><thead><tr>{stats_head}</tr></thead><tbody>
{stats_body}</tbody></table>
{figure}
</body></html>
"""
    return write_text_atomic(folder / "report.html", page)
