"""Checking a value against a parameter's annotation (``int``, ``float``, ``list[int]``,
``str | None``, ``Optional[...]``, ``Literal[...]``, ``dict[str, int]``), and reading ``-p`` values."""

from __future__ import annotations

import ast
import re

import yaml


class Mismatch(Exception):
    """A value that does not fit its annotation."""


def split_top(text: str, sep: str) -> list[str]:
    """``text`` split at ``sep`` outside brackets (``"list[int] | None"`` at ``|``)."""
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
    ``float``). Raises ``Mismatch`` when it does not fit."""
    t = type_name.strip().replace("typing.", "")
    if not t or t in ("Any", "object"):
        return value
    union = split_top(t, "|")
    if len(union) > 1:
        return _first_fit(value, union)
    m = re.fullmatch(r"(Optional|Union)\[(.*)\]", t)
    if m:
        members = split_top(m.group(2), ",") + (["None"] if m.group(1) == "Optional" else [])
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
    elif base == "literal" and inner:
        members = ast.literal_eval(f"({inner},)")
        return _first_fit(value, sorted({type(m).__name__ if m is not None else "None" for m in members}))
    elif base in ("dict", "mapping"):
        if isinstance(value, dict):
            if inner:
                kt, vt = (split_top(inner, ",") + ["Any"])[:2]
                return {coerce(k, kt): coerce(v, vt) for k, v in value.items()}
            return value
    else:
        return value  # an annotation we cannot check (a class name): accept
    raise Mismatch()


def _first_fit(value, members):
    for member in members:
        try:
            return coerce(value, member)
        except Mismatch:
            continue
    raise Mismatch()


def type_label(value) -> str:
    return "null" if value is None else type(value).__name__


def parse_cli_value(raw: str, spec):
    """A ``-p NAME VALUE`` string: kept as text for ``str`` parameters, else read as YAML."""
    if spec.type_name.strip() == "str":
        return raw
    try:
        return yaml.safe_load(raw)
    except yaml.YAMLError:
        return raw
