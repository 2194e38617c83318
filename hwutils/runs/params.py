"""Parameters: read YAML files, expand ``${VAR}``, validate against the
notebook's ``parameters`` cell, before anything executes.

A notebook declares its parameters in its first code cell, tagged
``parameters``, one per line: ``epochs: int = 5  # passes over the data``.
Values from params files and ``-p NAME VALUE`` are checked against those
annotations; unknown names and wrong types are errors (papermill alone only
warns).
"""

from __future__ import annotations

import ast
import os
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from hwutils.errors import ParamsError, StageError
from hwutils.runs.project import closest

ENV_PATTERN = re.compile(r"\$\{([A-Za-z_][A-Za-z0-9_]*)\}")


@dataclass(frozen=True)
class ParamSpec:
    """One parameter of a notebook: name, annotated type, default and help."""

    name: str
    type_name: str
    default: Any
    default_source: str
    help: str


def notebook_parameters(notebook: Path) -> dict[str, ParamSpec]:
    """The parameters declared in a notebook's ``parameters`` cell, in order."""
    import nbformat

    try:
        nb = nbformat.read(notebook, as_version=4)
    except Exception as exc:
        raise StageError(f"{notebook}: cannot read notebook ({exc})") from None
    cell = next((c for c in nb.cells if c.cell_type == "code" and "parameters" in c.metadata.get("tags", [])), None)
    if cell is None:
        raise StageError(f"{notebook}: no code cell tagged 'parameters'")
    try:
        return parse_parameters_source(cell.source)
    except SyntaxError as exc:
        raise StageError(f"{notebook}: parameters cell line {exc.lineno}: {exc.msg}") from None


def parse_parameters_source(source: str) -> dict[str, ParamSpec]:
    """Read ``name: type = default  # help`` lines (plain ``name = default``
    too, its type taken from the default) with Python's own parser, so any
    text may follow the ``#``."""
    import io
    import tokenize

    tree = ast.parse(source)
    comments = {}
    for tok in tokenize.generate_tokens(io.StringIO(source).readline):
        if tok.type == tokenize.COMMENT:
            comments[tok.start[0]] = tok.string.lstrip("#").strip()
    specs = {}
    for node in tree.body:
        if isinstance(node, ast.AnnAssign) and isinstance(node.target, ast.Name) and node.value is not None:
            name, type_name = node.target.id, ast.get_source_segment(source, node.annotation)
        elif isinstance(node, ast.Assign) and len(node.targets) == 1 and isinstance(node.targets[0], ast.Name):
            name, type_name = node.targets[0].id, None
        else:
            continue
        default_source = ast.get_source_segment(source, node.value)
        try:
            default = ast.literal_eval(default_source)
        except (ValueError, SyntaxError):
            default = default_source
        if type_name is None:
            type_name = type(default).__name__ if default is not None else "Any"
        specs[name] = ParamSpec(name, type_name, default, default_source, comments.get(node.end_lineno, ""))
    return specs


def read_params_file(path: Path) -> dict:
    """The mapping in a YAML params file ({} for an empty file); errors name file and line."""
    try:
        text = Path(path).read_text()
    except OSError as exc:
        raise ParamsError(f"{path}: cannot read params file ({exc.strerror})") from None
    try:
        data = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f"{path}:{mark.line + 1}" if mark is not None else str(path)
        problem = getattr(exc, "problem", None) or str(exc).splitlines()[0]
        raise ParamsError(f"{where}: YAML error: {problem}") from None
    if data is None:
        return {}
    if not isinstance(data, dict):
        raise ParamsError(f"{path}: expected a mapping of parameter names to values, got {type(data).__name__}")
    for key in data:
        if not isinstance(key, str):
            raise ParamsError(f"{path}: parameter names must be strings, got {key!r}")
    return data


def expand_env(value, source: str, key: str):
    """Replace ``${NAME}`` in strings (recursively in lists/dicts) from the environment."""
    if isinstance(value, str):
        def sub(m):
            name = m.group(1)
            if name not in os.environ:
                raise ParamsError(f"{source}: parameter '{key}' uses ${{{name}}} but environment variable {name} is not set")
            return os.environ[name]
        return ENV_PATTERN.sub(sub, value)
    if isinstance(value, list):
        return [expand_env(v, source, key) for v in value]
    if isinstance(value, dict):
        return {k: expand_env(v, source, key) for k, v in value.items()}
    return value


class _Mismatch(Exception):
    pass


def _split_top(text: str, sep: str) -> list[str]:
    parts, depth, cur = [], 0, ""
    for ch in text:
        depth += ch in "[(" 
        depth -= ch in "])"
        if ch == sep and depth == 0:
            parts.append(cur)
            cur = ""
        else:
            cur += ch
    return parts + [cur]


def coerce(value, type_name: str):
    """Check ``value`` against an annotation such as ``int``, ``float``,
    ``list[int]``, ``str | None``; returns the value (ints become floats for
    ``float``). Raises ``_Mismatch`` when it does not fit."""
    t = type_name.strip().replace("typing.", "")
    if not t or t in ("Any", "object"):
        return value
    union = _split_top(t, "|")
    if len(union) > 1:
        return _first_fit(value, union)
    m = re.fullmatch(r"(Optional|Union)\[(.*)\]", t)
    if m:
        members = _split_top(m.group(2), ",") + (["None"] if m.group(1) == "Optional" else [])
        return _first_fit(value, members)
    m = re.fullmatch(r"(\w+)\[(.*)\]", t)
    base, inner = (m.group(1), m.group(2)) if m else (t, None)
    base = base.lower()
    if base in ("none", "nonetype"):
        if value is None:
            return None
    elif base == "bool":
        if isinstance(value, bool):
            return value
    elif base == "int":
        if isinstance(value, int) and not isinstance(value, bool):
            return value
    elif base == "float":
        if isinstance(value, (int, float)) and not isinstance(value, bool):
            return float(value)
    elif base == "str":
        if isinstance(value, str):
            return value
    elif base in ("list", "tuple", "sequence"):
        if isinstance(value, (list, tuple)):
            if inner and base == "list":
                return [coerce(v, inner) for v in value]
            return list(value)
    elif base in ("dict", "mapping"):
        if isinstance(value, dict):
            if inner:
                kt, vt = (_split_top(inner, ",") + ["Any"])[:2]
                return {coerce(k, kt): coerce(v, vt) for k, v in value.items()}
            return value
    else:
        return value  # an annotation we cannot check (a class name): accept
    raise _Mismatch()


def _first_fit(value, members):
    for member in members:
        try:
            return coerce(value, member)
        except _Mismatch:
            continue
    raise _Mismatch()


def _type_label(value) -> str:
    return "null" if value is None else type(value).__name__


def parse_cli_value(raw: str, spec: ParamSpec):
    """A ``-p NAME VALUE`` string: kept as text for ``str`` parameters, else read as YAML."""
    if spec.type_name.strip() == "str":
        return raw
    try:
        return yaml.safe_load(raw)
    except yaml.YAMLError:
        return raw


def check_value(stage: str, specs: dict[str, ParamSpec], key: str, value, source: str):
    """Validate one value; returns it coerced, or raises a one-line :class:`ParamsError`."""
    if key not in specs:
        hint = closest(key, specs)
        raise ParamsError(f"{source}: unknown parameter '{key}' for stage {stage}"
                          + (f" (did you mean '{hint}'?)" if hint else "")
                          + f"; valid names: {', '.join(specs)}")
    value = expand_env(value, source, key)
    try:
        return coerce(value, specs[key].type_name)
    except _Mismatch:
        raise ParamsError(f"{source}: parameter '{key}' expects {specs[key].type_name}, "
                          f"got {_type_label(value)} ({value!r})") from None


def resolve(stage: str, specs: dict[str, ParamSpec], files: list[Path],
            overrides: list[tuple[str, str]]) -> tuple[dict, dict, dict]:
    """Merge notebook defaults, params files (in order) and ``-p`` overrides.

    Returns ``(effective, given, sources)``: every parameter's value, the
    ones set explicitly (what papermill injects), and where each came from.
    """
    effective = {name: spec.default for name, spec in specs.items()}
    sources = {name: "default" for name in specs}
    given: dict = {}
    for path in files:
        for key, value in read_params_file(path).items():
            given[key] = check_value(stage, specs, key, value, str(path))
            sources[key] = str(path)
    for key, raw in overrides:
        spec = specs.get(key)
        value = parse_cli_value(raw, spec) if spec else raw
        given[key] = check_value(stage, specs, key, value, f"-p {key}")
        sources[key] = "-p"
    effective.update(given)
    return effective, given, sources
