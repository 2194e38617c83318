"""Planning a sweep: every point of a grid of parameters (and seeds) of one stage, each value
checked as ``hw run`` checks it, before anything runs.

The points come from ``-g NAME=V1,V2`` (each value read as YAML, as ``-p``
reads it), ``--seeds 0-4`` and a sweep YAML::

    base: params/tiny/smoke.yaml      # a params file, a list of them, or a mapping of values
    grid:                             # the product of these lists
      lr: [0.001, 0.01]
    list:                             # and these points as they are
      - {lr: 0.1, epochs: 4}
    seeds: 0-2                        # or [0, 3]
"""

from __future__ import annotations

import hashlib
import itertools
import json
import re
import secrets
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path

import yaml

from hwutils.errors import ParamsError
from hwutils.runs.coerce import parse_cli_value, split_top
from hwutils.runs.params import check_together, check_value, notebook_parameters, read_params_file
from hwutils.runs.project import get_stage, resolve_params_file


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
    return " ".join(f"{k}={value_text(v)}" for k, v in point.items())


def value_text(value) -> str:
    """A parameter value in one line: strings as they are, others in YAML flow style."""
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
    raw_values = [v.strip() for v in split_top(values, ",")]
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
    fixed = {name: spec.default for name, spec in specs.items()}
    for f in base_files:
        fixed.update(read_params_file(f))
    fixed.update(base_values)
    for i, p in enumerate(points):  # the stage's check of its parameters together, at every point
        try:
            check_together(stage.name, {**fixed, **p})
        except ParamsError as exc:
            shown = ", ".join(f"{k}={v}" for k, v in p.items())
            raise ParamsError(f"sweep point {i} ({shown}): {exc}") from None
    created = datetime.now().astimezone()
    digest = hashlib.sha256(
        json.dumps([stage.name, [str(f) for f in base_files], base_values, points], default=str).encode()
    ).hexdigest()[:6]
    sweep_id = f"{stage.name}-{created.strftime('%Y%m%d-%H%M%S')}-{digest}{secrets.token_hex(1)}"
    return SweepPlan(
        stage.name, base_files, base_values, swept, points, sweep_id, created.isoformat(timespec="seconds")
    )
