"""A sweep's record on disk (``outputs/sweeps/<ID>/sweep.json``): reading it back, its runs
with their states and headline metrics, and every sweep listed for the index."""

from __future__ import annotations

import json
from pathlib import Path

from hwutils.errors import HwError
from hwutils.runmetrics import headline_metrics
from hwutils.runs.manifest import load_run, status_of

SWEEPS = "sweeps"
SWEEP_FILE = "sweep.json"


def sweep_dir(outputs: Path, sweep_id: str) -> Path:
    return outputs / SWEEPS / sweep_id


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
