"""Parameter values from params files and ``-p``: read the YAML, expand ``${VAR}``, and check each
value against the notebook's declarations (:mod:`hwutils.runs.paramspec`) before anything executes.

Values from params files and ``-p NAME VALUE`` are checked against the
annotations of the notebook's ``parameters`` cell; unknown names and wrong
types are errors (papermill alone only warns).
"""

from __future__ import annotations

import functools
import importlib
import os
import re
from pathlib import Path

import yaml

from hwutils.errors import HwError, ParamsError, StageError
from hwutils.runs.coerce import Mismatch, coerce, parse_cli_value, type_label
from hwutils.runs.paramspec import (  # noqa: F401  (the parameters cell's reader, named here for hw's callers)
    ParamSpec,
    Range,
    notebook_parameters,
    outside,
    parse_parameters_source,
)
from hwutils.runs.project import closest

ENV_PATTERN = re.compile(r"\$\{([A-Za-z_][A-Za-z0-9_]*)\}")


def read_params_file(path: Path) -> dict:
    """The mapping in a YAML params file ({} for an empty file); errors name file and line."""
    try:
        raw = Path(path).read_bytes()
    except OSError as exc:
        raise ParamsError(f"{path}: cannot read params file ({exc.strerror})") from None
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise ParamsError(
            f"{path}: not a UTF-8 text file (byte 0x{raw[exc.start]:02x} at offset {exc.start}); "
            "a params file is YAML text"
        ) from None
    if "\x00" in text:
        raise ParamsError(
            f"{path}: not a UTF-8 text file (NUL byte at offset {text.index(chr(0))}); "
            "a params file is YAML text"
        ) from None
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
        raise ParamsError(
            f"{path}: expected a mapping of parameter names to values, got {type(data).__name__}"
        )
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
                raise ParamsError(
                    f"{source}: parameter '{key}' uses ${{{name}}} but environment variable {name} is not set"
                )
            return os.environ[name]

        return ENV_PATTERN.sub(sub, value)
    if isinstance(value, list):
        return [expand_env(v, source, key) for v in value]
    if isinstance(value, dict):
        return {k: expand_env(v, source, key) for k, v in value.items()}
    return value


def check_value(stage: str, specs: dict[str, ParamSpec], key: str, value, source: str):
    """Validate one value; returns it coerced, or raises a one-line :class:`ParamsError`."""
    if key not in specs:
        hint = closest(key, specs)
        raise ParamsError(
            f"{source}: unknown parameter '{key}' for stage {stage}"
            + (f" (did you mean '{hint}'?)" if hint else "")
            + f"; valid names: {', '.join(specs)}"
        )
    value = expand_env(value, source, key)
    spec = specs[key]
    try:
        value = coerce(value, spec.type_name)
    except Mismatch:
        raise ParamsError(
            f"{source}: parameter '{key}' expects {spec.type_name}, got {type_label(value)} ({value!r})"
        ) from None
    if outside(spec, value):
        items = value if isinstance(value, (list, tuple)) else [value]
        bad = next(v for v in items if outside(spec, v))
        within = f" (in {value!r})" if isinstance(value, (list, tuple)) else ""
        if spec.choices is not None:
            hint = (
                closest(bad, [c for c in spec.choices if isinstance(c, str)])
                if isinstance(bad, str)
                else None
            )
            raise ParamsError(
                f"{source}: parameter '{key}' must be one of {', '.join(map(repr, spec.choices))}, "
                f"got {bad!r}{within}" + (f" (did you mean {hint!r}?)" if hint else "")
            )
        raise ParamsError(f"{source}: parameter '{key}' must be in {spec.bounds.text}, got {bad!r}{within}")
    if spec.check is not None and value is not None:
        validate = _validator(spec.check)
        try:
            validate(value)
        except (HwError, ValueError, TypeError) as exc:
            reason = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
            reason = reason[len(key) + 2 :] if reason.startswith(f"{key}: ") else reason
            raise ParamsError(f"{source}: parameter '{key}': {reason}") from None
    return value


@functools.cache
def _validator(dotted: str):
    """The function ``hwutils.x.y.f`` named by a ``<...>`` declaration."""
    module, _, attr = dotted.rpartition(".")
    try:
        fn = getattr(importlib.import_module(module), attr)
    except (ImportError, AttributeError) as exc:
        raise StageError(
            f"the parameters cell names validator <{dotted}>, which cannot be loaded ({exc})"
        ) from None
    if not callable(fn):
        raise StageError(f"the parameters cell names validator <{dotted}>, which is not a function")
    return fn


def resolve(
    stage: str, specs: dict[str, ParamSpec], files: list[Path], overrides: list[tuple[str, str]]
) -> tuple[dict, dict, dict]:
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


def check_together(stage: str, effective: dict) -> None:
    """The stage's check of its parameters taken together (``PARAMS_CHECKS``),
    on the effective values: a :class:`ParamsError` naming the parameter
    before any work starts."""
    from hwutils.runs.project import PARAMS_CHECKS

    if stage in PARAMS_CHECKS:
        _validator(PARAMS_CHECKS[stage])(effective)
