"""Sweeps: a grid of parameters (and seeds) of one stage, run as a batch on Dask.

``hw sweep STAGE -f base.yaml -g lr=0.001,0.01 -g hidden="[8]","[16]" --seeds 0-4``
expands the product of the ``-g`` values (each read as YAML, as ``-p`` reads
them) times the seeds into points, or reads a sweep YAML::

    base: params/tiny/smoke.yaml      # a params file, a list of them, or a mapping of values
    grid:                             # the product of these lists
      lr: [0.001, 0.01]
    list:                             # and these points as they are
      - {lr: 0.1, epochs: 4}
    seeds: 0-2                        # or [0, 3]

Every point is checked as ``hw run`` checks its parameters before anything
starts. Each point's values are written to ``outputs/sweeps/<ID>/points/NNN.yaml``
and run as ``hw run STAGE -f BASE... -f NNN.yaml --label "lr=0.001 seed=1"``.
``sweep.json`` beside them records the points and their runs as they end;
``report.html`` (self-contained) and ``plot.png`` are written when the sweep
ends: every point with its status, headline metrics and a link to its report,
the mean and standard deviation over seeds of each point, and each headline
metric against each swept parameter.
"""

from __future__ import annotations

import base64
import hashlib
import html
import itertools
import json
import math
import os
import re
import secrets
import sys
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path

import yaml

from hwutils.errors import HwError, ParamsError
from hwutils.report import write_json_atomic, write_text_atomic
from hwutils.runs.params import (
    _split_top,
    check_value,
    notebook_parameters,
    parse_cli_value,
    read_params_file,
)
from hwutils.runs.project import get_stage, outputs_root, resolve_params_file

SWEEPS = "sweeps"
SWEEP_FILE = "sweep.json"


@dataclass
class SweepPlan:
    stage: str
    base_files: list[Path]
    base_values: dict
    swept: list[str]  # the swept parameter names, in order (seed last when seeds are given)
    points: list[dict]  # each point's values (seed included)
    sweep_id: str
    created: str = ""
    extra: dict = field(default_factory=dict)


def point_label(point: dict) -> str:
    """``lr=0.001 seed=1``: a point's values in one line (YAML flow style for lists)."""
    return " ".join(f"{k}={_text(v)}" for k, v in point.items())


def _text(value) -> str:
    if isinstance(value, str):
        return value
    return yaml.safe_dump(value, default_flow_style=True).strip().removesuffix("...").strip()


def parse_seeds(text) -> list[int]:
    """``0-4`` (inclusive), ``0,3``, a single number, or a YAML list of whole numbers."""
    if isinstance(text, list):
        items = text
    elif isinstance(text, int) and not isinstance(text, bool):
        items = [text]
    else:
        raw = str(text).strip()
        m = re.fullmatch(r"(-?\d+)\s*-\s*(-?\d+)", raw)
        if m:
            lo, hi = int(m.group(1)), int(m.group(2))
            if hi < lo:
                raise ParamsError(f"--seeds {raw}: the range ends before it starts")
            return list(range(lo, hi + 1))
        items = [s.strip() for s in raw.split(",") if s.strip()]
    seeds = []
    for s in items:
        try:
            if isinstance(s, bool):
                raise ValueError
            seeds.append(int(s))
        except (TypeError, ValueError):
            raise ParamsError(f"--seeds {text}: not a whole number: {s!r} (use 0-4 or 0,3)") from None
    if not seeds:
        raise ParamsError(f"--seeds {text!r}: no seeds (use 0-4 or 0,3)")
    return seeds


def _parse_grid_arg(arg: str, specs) -> tuple[str, list]:
    name, sep, values = arg.partition("=")
    name = name.strip()
    if not sep or not name or not values.strip():
        raise ParamsError(f"-g {arg}: expected NAME=V1,V2,...")
    raw_values = [v.strip() for v in _split_top(values, ",")]
    if any(not v for v in raw_values):
        raise ParamsError(f"-g {arg}: an empty value")
    spec = specs.get(name)
    return name, [parse_cli_value(v, spec) if spec else v for v in raw_values]


def _sweep_file(path: str) -> dict:
    p = Path(path)
    if not p.is_file():
        raise ParamsError(f"sweep file not found: {path}")
    try:
        data = yaml.safe_load(p.read_text(encoding="utf-8"))
    except (UnicodeDecodeError, OSError):
        raise ParamsError(f"sweep file {path}: cannot be read as UTF-8 text") from None
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        raise ParamsError(
            f"sweep file {path}{f' line {mark.line + 1}' if mark else ''}: not valid YAML"
        ) from None
    if not isinstance(data, dict):
        raise ParamsError(f"sweep file {path}: must be a mapping with grid:, list:, base:, seeds:")
    unknown = sorted(set(data) - {"base", "grid", "list", "seeds"})
    if unknown:
        raise ParamsError(f"sweep file {path}: unknown key {unknown[0]!r} (use base, grid, list, seeds)")
    return data


def plan_sweep(
    stage_name: str,
    files: list[str] | None = None,
    grid_args: list[str] | None = None,
    seeds=None,
    sweep_file: str | None = None,
) -> SweepPlan:
    """Every point of the sweep, each value checked as ``hw run`` checks it; nothing runs."""
    stage = get_stage(stage_name)
    specs = notebook_parameters(stage.notebook)
    data = _sweep_file(sweep_file) if sweep_file else {}
    where = f"sweep file {sweep_file}" if sweep_file else ""
    base_files = [resolve_params_file(stage, f) for f in (files or [])]
    base_values: dict = {}
    base = data.get("base")
    if isinstance(base, dict):
        base_values = {k: check_value(stage.name, specs, k, v, f"{where} base") for k, v in base.items()}
    elif base is not None:
        base_files += [resolve_params_file(stage, f) for f in (base if isinstance(base, list) else [base])]
    for f in base_files:
        for k, v in read_params_file(f).items():
            check_value(stage.name, specs, k, v, str(f))
    grid: dict[str, list] = {}
    for name, values in (data.get("grid") or {}).items():
        if not isinstance(values, list) or not values:
            raise ParamsError(f"{where} grid: {name} must be a non-empty list of values")
        grid[str(name)] = [
            check_value(stage.name, specs, str(name), v, f"{where} grid {name}") for v in values
        ]
    for arg in grid_args or []:
        name, values = _parse_grid_arg(arg, specs)
        grid[name] = [check_value(stage.name, specs, name, v, f"-g {name}") for v in values]
    points: list[dict] = []
    if grid:
        names = list(grid)
        points = [dict(zip(names, combo)) for combo in itertools.product(*grid.values())]
    listed = data.get("list") or []
    if not isinstance(listed, list) or not all(isinstance(p, dict) for p in listed):
        raise ParamsError(f"{where} list: must be a list of mappings of parameter values")
    for i, p in enumerate(listed):
        points.append({k: check_value(stage.name, specs, k, v, f"{where} list[{i}]") for k, v in p.items()})
    swept = list(dict.fromkeys(k for p in points for k in p))
    seed_text = seeds if seeds is not None else data.get("seeds")
    if seed_text is not None:
        values = [check_value(stage.name, specs, "seed", s, "--seeds") for s in parse_seeds(seed_text)]
        points = [{**p, "seed": s} for p in (points or [{}]) for s in values]
        swept = [k for k in swept if k != "seed"] + ["seed"]
    if not points:
        raise ParamsError(
            "sweep: nothing to sweep (give -g NAME=V1,V2, --seeds or a sweep file with grid:/list:)"
        )
    created = datetime.now().astimezone()
    digest = hashlib.sha256(
        json.dumps([stage.name, [str(f) for f in base_files], base_values, points], default=str).encode()
    ).hexdigest()[:6]
    sweep_id = f"{stage.name}-{created.strftime('%Y%m%d-%H%M%S')}-{digest}{secrets.token_hex(1)}"
    return SweepPlan(
        stage.name, base_files, base_values, swept, points, sweep_id, created.isoformat(timespec="seconds")
    )


def sweep_dir(outputs: Path, sweep_id: str) -> Path:
    return outputs / SWEEPS / sweep_id


def _record(plan: SweepPlan, status: str, runs: list[dict]) -> dict:
    return {
        "sweep_id": plan.sweep_id,
        "stage": plan.stage,
        "created": plan.created,
        "status": status,
        "base_files": [str(f) for f in plan.base_files],
        "base_values": plan.base_values,
        "swept": plan.swept,
        "points": runs,
        "command": ["hw", *sys.argv[1:]] if sys.argv and "hwutils" in " ".join(sys.argv[:1]) else None,
    }


def run_sweep(plan: SweepPlan, runner) -> int:
    """Write the points and ``sweep.json``, run them with ``runner(items, on_settled)`` (a batch on
    Dask), record each run as it ends, then write the report. Returns the batch's exit code."""
    from hwutils.runs.batch import BatchItem

    outputs = outputs_root()
    folder = sweep_dir(outputs, plan.sweep_id)
    try:
        (folder / "points").mkdir(parents=True, exist_ok=False)
    except OSError as exc:
        raise HwError(f"sweep folder {folder} cannot be created ({exc.strerror or exc})") from None
    items, runs = [], []
    for i, point in enumerate(plan.points):
        values = {**plan.base_values, **point}
        pfile = write_text_atomic(
            folder / "points" / f"{i:03d}.yaml", yaml.safe_dump(values, sort_keys=False, allow_unicode=True)
        )
        files = [*plan.base_files, pfile]
        label = point_label(point)
        items.append(
            BatchItem(
                plan.stage,
                files[0],
                f"{plan.stage}[{label}]",
                extra_files=files[1:],
                label=label,
                point=point,
            )
        )
        runs.append({"index": i, "point": point, "label": label, "run": "", "status": "queued"})
    write_json_atomic(folder / SWEEP_FILE, _record(plan, "running", runs))
    print(f"hw: sweep {plan.sweep_id}: {len(items)} runs -> {folder}", flush=True)

    def on_settled(item):
        i = items.index(item)
        run_dir = Path(item.run_dir) if item.run_dir else None
        runs[i].update(
            status=item.status,
            run=_relative(run_dir, outputs) if run_dir else "",
            run_id=item.run_id,
        )
        write_json_atomic(folder / SWEEP_FILE, _record(plan, "running", runs))

    code = 130
    try:
        code = runner(items, on_settled)
    finally:
        status = {0: "ok", 1: "ended with failures", 130: "interrupted"}.get(code, "ended")
        write_json_atomic(folder / SWEEP_FILE, _record(plan, status, runs))
        report = write_report(outputs, plan.sweep_id)
        _rebuild_index_quietly(outputs)
        print(f"hw: sweep {plan.sweep_id} {status}: report {report}", flush=True)
    return code


def _rebuild_index_quietly(outputs: Path) -> None:
    from hwutils.runs.index import rebuild_index

    try:
        rebuild_index(outputs)
    except OSError:
        pass


def _relative(path: Path, outputs: Path) -> str:
    try:
        return str(Path(path).resolve().relative_to(outputs.resolve()))
    except ValueError:
        return str(path)


# --- reading a sweep back --------------------------------------------------------------------


def read_sweep(outputs: Path, sweep_id: str) -> dict:
    """A sweep's record (``sweep.json``) by id or unique prefix; one-line error otherwise."""
    root = outputs / SWEEPS
    ids = sorted(p.name for p in root.iterdir() if (p / SWEEP_FILE).is_file()) if root.is_dir() else []
    matches = [i for i in ids if i == sweep_id] or [i for i in ids if i.startswith(sweep_id)]
    if not matches:
        raise HwError(
            f"no sweep '{sweep_id}' under {root}" + (f"; sweeps: {', '.join(ids[-5:])}" if ids else "")
        )
    if len(matches) > 1:
        raise HwError(f"sweep id '{sweep_id}' is ambiguous: {', '.join(matches[:5])}")
    path = root / matches[0] / SWEEP_FILE
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise HwError(f"{path}: cannot be read ({exc})") from None
    if not isinstance(data, dict) or not isinstance(data.get("points"), list):
        raise HwError(f"{path}: not a sweep record")
    return data


def sweep_runs(outputs: Path, record: dict) -> list[dict]:
    """Each point of the record with its run's manifest (``manifest``), status and headline metrics."""
    from hwutils.report import headline_metrics
    from hwutils.runs.index import status_of
    from hwutils.runs.manifest import load_run

    rows = []
    for p in record["points"]:
        run = load_run(outputs / p["run"]) if p.get("run") else None
        metrics = {}
        if run is not None:
            try:
                metrics = json.loads((outputs / p["run"] / "metrics.json").read_text())
            except (OSError, ValueError):
                metrics = {}
        headline = headline_metrics(metrics) if isinstance(metrics, dict) and metrics else {}
        headline = {
            k: v for k, v in headline.items() if isinstance(v, (int, float)) and not isinstance(v, bool)
        }
        rows.append(
            {
                **p,
                "manifest": run,
                "state": status_of(run) if run else p.get("status", ""),
                "headline": headline,
            }
        )
    return rows


def sweep_runs_table(outputs: Path, sweep_id: str) -> str:
    """``hw runs --sweep ID``: the sweep's runs (run id, point, status, duration, headline metrics)."""
    from hwutils.runs.index import format_duration, format_value, status_text, text_table

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


def list_sweeps(outputs: Path) -> list[dict]:
    """Every sweep under ``outputs/sweeps/``, newest first: id, stage, created, points, runs,
    status counts (from the runs' manifests), status text and the report's path relative to
    ``outputs`` (for the index)."""
    root = Path(outputs) / SWEEPS
    found = []
    if not root.is_dir():
        return found
    for folder in root.iterdir():
        if not (folder / SWEEP_FILE).is_file():
            continue
        try:
            record = read_sweep(Path(outputs), folder.name)
            rows = sweep_runs(Path(outputs), record)
        except HwError:
            continue
        counts: dict[str, int] = {}
        for r in rows:
            counts[r["state"] or "queued"] = counts.get(r["state"] or "queued", 0) + 1
        report = folder / "report.html"
        found.append(
            {
                "id": record.get("sweep_id", folder.name),
                "stage": record.get("stage", ""),
                "created": record.get("created", ""),
                "points": len(
                    {
                        json.dumps(
                            {k: v for k, v in r["point"].items() if k != "seed"}, default=str, sort_keys=True
                        )
                        for r in rows
                    }
                ),
                "runs": len(rows),
                "status_counts": counts,
                "status": ", ".join(f"{n} {s}" for s, n in sorted(counts.items())),
                "report": f"{SWEEPS}/{folder.name}/report.html" if report.is_file() else "",
            }
        )
    found.sort(key=lambda s: (s["created"], s["id"]), reverse=True)
    return found


# --- the report ------------------------------------------------------------------------------


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
    from hwutils.runs.index import format_value

    return format_value(v) if isinstance(v, (int, float)) else html.escape(_text(v))


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
            values = list(dict.fromkeys(_text(r["point"].get(param)) for r in ok))
            numeric = all(
                isinstance(r["point"].get(param), (int, float))
                and not isinstance(r["point"].get(param), bool)
                for r in ok
            )
            xs_of = (lambda v: float(v)) if numeric else (lambda v, vs=values: vs.index(_text(v)))
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
    from hwutils.report import atomic_path

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
