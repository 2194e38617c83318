"""Running a sweep: a grid of parameters (and seeds) of one stage, run as a batch on Dask,
each run recorded as it ends.

``hw sweep STAGE -f base.yaml -g lr=0.001,0.01 -g hidden="[8]","[16]" --seeds 0-4``
(or a sweep YAML) is planned into points by :mod:`hwutils.runs.sweep_plan`.
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

import sys
from pathlib import Path

import yaml

from hwutils.errors import HwError
from hwutils.fileio import write_json_atomic, write_text_atomic
from hwutils.runs.batch import BatchItem
from hwutils.runs.project import outputs_root
from hwutils.runs.sweep_plan import SweepPlan, plan_sweep, point_label  # noqa: F401  (hw sweep plans here)
from hwutils.runs.sweep_record import SWEEP_FILE, sweep_dir
from hwutils.runs.sweep_report import sweep_runs_table, write_report  # noqa: F401  (hw runs --sweep)


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
