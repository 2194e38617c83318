"""Two runs side by side: parameters and metrics, differences marked."""

from __future__ import annotations

import json
from pathlib import Path

from hwutils.runfolder import RunFolder
from hwutils.runs.index import format_value, text_table


def _metrics(run_dir: Path) -> dict:
    try:
        with open(RunFolder(run_dir).metrics) as fh:
            data = json.load(fh)
    except (OSError, ValueError):
        return {}
    return {k: v for k, v in data.items() if not k.startswith("_")}


def _rows(a: dict, b: dict) -> list[list[str]]:
    keys = list(dict.fromkeys([*a, *b]))
    rows = []
    for k in keys:
        va, vb = a.get(k), b.get(k)
        if isinstance(va, (dict, list)) or isinstance(vb, (dict, list)):
            va, vb = json.dumps(va), json.dumps(vb)
            va, vb = (va if len(va) < 40 else va[:37] + "..."), (vb if len(vb) < 40 else vb[:37] + "...")
        rows.append(["*" if a.get(k) != b.get(k) else "", k, format_value(va), format_value(vb)])
    return rows


def compare_runs(run_a: dict, run_b: dict) -> str:
    """A text report of two manifests' params and metrics (``*`` = differs)."""
    header = ["", "name", run_a["run_id"], run_b["run_id"]]
    info = [
        [
            "*" if run_a.get(k) != run_b.get(k) else "",
            k,
            format_value(run_a.get(k)),
            format_value(run_b.get(k)),
        ]
        for k in ("stage", "label", "status", "duration_s", "params_hash")
    ]
    out = [
        "Runs",
        text_table(info, header),
        "",
        "Parameters",
        text_table(_rows(run_a.get("params", {}), run_b.get("params", {})), header),
        "",
        "Metrics",
        text_table(_rows(_metrics(run_a["_dir"]), _metrics(run_b["_dir"])), header),
    ]
    return "\n".join(out)
