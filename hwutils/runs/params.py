"""Parameters: read YAML files, expand ``${VAR}``, validate against the
notebook's ``parameters`` cell, before anything executes.

A notebook declares its parameters in its first code cell, tagged
``parameters``, one per line: ``epochs: int = 5  # passes over the data``.
Values from params files and ``-p NAME VALUE`` are checked against those
annotations; unknown names and wrong types are errors (papermill alone only
warns).

What a parameter allows is declared at the start of its help comment, so
plain papermill (``--help-notebook`` shows it) and JupyterLab still read the
cell as ordinary Python:

* ``[1, inf)``, ``(0, 1)``, ``[0, 1]``, ``(-inf, 0]``: a range in interval
  notation (``[``/``]`` closed, ``(``/``)`` open; an infinite end is open);
* ``{seed_cnn, half_deepwriter}``: a closed set of values, written as the
  annotated type reads them (bare words or quoted strings for ``str``);
* ``<hwutils.signatures.writer_dependent.parse_features>``: a string with a
  grammar, checked by the library function the notebook itself calls (it
  raises :class:`~hwutils.errors.ParamsError` on a bad value).

A ``Literal[...]`` annotation is read as a closed set too (papermill 2.7
cannot read string ``Literal`` annotations, so the stage notebooks use the
``{...}`` form). A help text that starts with ``[``, ``(``, ``{`` or ``<`` is
a declaration and must parse; a default outside its declaration is a
:class:`~hwutils.errors.StageError` naming the cell line.
"""

from __future__ import annotations

import ast
import functools
import importlib
import math
import os
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from hwutils.errors import HwError, ParamsError, StageError
from hwutils.runs.project import closest

ENV_PATTERN = re.compile(r"\$\{([A-Za-z_][A-Za-z0-9_]*)\}")


@dataclass(frozen=True)
class Range:
    """An interval of numbers; ``lo``/``hi`` may be -inf/inf (then open)."""

    lo: float
    hi: float
    lo_open: bool
    hi_open: bool
    text: str

    def contains(self, value) -> bool:
        above = value > self.lo if self.lo_open else value >= self.lo
        below = value < self.hi if self.hi_open else value <= self.hi
        return bool(above and below)  # NaN is in no range


@dataclass(frozen=True)
class ParamSpec:
    """One parameter of a notebook: name, annotated type, default and help
    (the text after its declaration), and what it allows: ``choices`` (a
    tuple), ``bounds`` (a :class:`Range`) or ``check`` (the dotted name of a
    library function), at most one of them."""

    name: str
    type_name: str
    default: Any
    default_source: str
    help: str
    choices: tuple | None = None
    bounds: Range | None = None
    check: str | None = None

    @property
    def allowed(self) -> str:
        """The declaration as ``hw params`` shows it ("" when none)."""
        if self.choices is not None:
            return "{" + ", ".join(_choice_text(c) for c in self.choices) + "}"
        if self.bounds is not None:
            return self.bounds.text
        return f"<{self.check}>" if self.check else ""


_NUMBER = re.compile(r"[+-]?(\d+(\.\d*)?|\.\d+)([eE][+-]?\d+)?")
_WORD = re.compile(r"[A-Za-z0-9_.+\-]+")
_CHOICE_ITEM = re.compile(r"\s*('[^']*'|\"[^\"]*\"|[^,'\"]*?)\s*(,|$)")
_DOTTED = re.compile(r"[A-Za-z_]\w*(\.[A-Za-z_]\w*)+")


def _choice_text(value) -> str:
    return value if isinstance(value, str) and _WORD.fullmatch(value) else repr(value)


def _decl_error(lineno: int, message: str) -> StageError:
    return StageError(f"parameters cell line {lineno}: {message}")


def _split_declaration(help_text: str, lineno: int) -> tuple[str | None, str]:
    """``"[1, inf) passes"`` -> ``("[1, inf)", "passes")``; no declaration -> ``(None, help)``."""
    closer = {"[": "])", "(": "])", "{": "}", "<": ">"}.get(help_text[:1])
    if closer is None:
        return None, help_text
    m = re.match(
        r"[\[(][^\[\]()]*[\])]"
        if help_text[0] in "[("
        else r"\{(?:[^{}'\"]|'[^']*'|\"[^\"]*\")*\}"
        if help_text[0] == "{"
        else r"<[^<>]*>",
        help_text,
    )
    if m is None or (len(help_text) > m.end() and not help_text[m.end()].isspace()):
        raise _decl_error(
            lineno,
            f"malformed declaration at the start of the help {help_text!r} (a range like "
            "[1, inf) or (0, 1), choices like {a, b}, or <module.function>)",
        )
    return m.group(0), help_text[m.end() :].strip()


def _parse_range(text: str, lineno: int) -> Range:
    ends = [e.strip() for e in text[1:-1].split(",")]
    if len(ends) != 2:
        raise _decl_error(lineno, f"malformed declaration {text!r}: a range has two ends, e.g. [1, inf)")
    values = []
    for end, _sign in zip(ends, (-1, 1)):
        if end in ("inf", "+inf", "-inf"):
            values.append(-math.inf if end.startswith("-") else math.inf)
        elif _NUMBER.fullmatch(end):
            values.append(int(end) if re.fullmatch(r"[+-]?\d+", end) else float(end))
        else:
            raise _decl_error(lineno, f"range {text!r}: {end!r} is not a number (or inf)")
    lo, hi = values
    lo_open, hi_open = text[0] == "(", text[-1] == ")"
    if (math.isinf(lo) and not lo_open) or (math.isinf(hi) and not hi_open):
        raise _decl_error(lineno, f"range {text!r}: an infinite end must be open, e.g. [1, inf)")
    if (
        lo > hi
        or (lo == hi and (lo_open or hi_open))
        or math.isinf(lo)
        and lo > 0
        or math.isinf(hi)
        and hi < 0
    ):
        raise _decl_error(lineno, f"range {text!r} is an empty range")
    return Range(lo, hi, lo_open, hi_open, f"{text[0]}{ends[0]}, {ends[1]}{text[-1]}")


def _parse_choices(text: str, type_name: str, lineno: int) -> tuple:
    inner = text[1:-1].strip()
    if not inner:
        raise _decl_error(lineno, f"{text!r} has no choices")
    plain_str = _base(type_name) == "str"
    choices, items, pos = [], [], 0
    while True:
        m = _CHOICE_ITEM.match(inner, pos)
        if m is None or not m.group(1):
            raise _decl_error(lineno, f"malformed choices {text!r}: separate them with commas")
        items.append(m.group(1))
        if not m.group(2):
            break
        pos = m.end()
    for item in items:
        if item[0] in "'\"":
            value = ast.literal_eval(item)
        elif not _WORD.fullmatch(item):
            raise _decl_error(
                lineno, f"malformed choice {item!r} in {text!r} (quote values with spaces or commas)"
            )
        elif plain_str:
            value = item
        else:
            try:
                value = ast.literal_eval(item)
            except (ValueError, SyntaxError):
                value = item
        try:
            value = coerce(value, type_name)
        except _Mismatch:
            raise _decl_error(lineno, f"choice {item!r} is not {type_name}") from None
        if value in choices:
            raise _decl_error(lineno, f"repeated choice {item!r} in {text!r}")
        choices.append(value)
    return tuple(choices)


def _literal_members(annotation: ast.expr) -> tuple | None:
    """The members of a ``Literal[...]`` / ``typing.Literal[...]`` annotation, else None."""
    if not isinstance(annotation, ast.Subscript):
        return None
    head = annotation.value
    if not (
        (isinstance(head, ast.Name) and head.id == "Literal")
        or (isinstance(head, ast.Attribute) and head.attr == "Literal")
    ):
        return None
    items = annotation.slice.elts if isinstance(annotation.slice, ast.Tuple) else [annotation.slice]
    return tuple(ast.literal_eval(item) for item in items)


def _base(type_name: str) -> str:
    t = type_name.strip().replace("typing.", "")
    m = re.fullmatch(r"(\w+)\[(.*)\]", t)
    return (m.group(1) if m else t).lower()


def _declare(name: str, type_name: str, annotation, default, help_text: str, lineno: int) -> dict:
    """choices/bounds/check and the human help of one parameter line."""
    decl, help_text = _split_declaration(help_text, lineno)
    out = {"help": help_text, "choices": _literal_members(annotation) if annotation is not None else None}
    if decl is not None and decl[0] == "{":
        if out["choices"] is not None:
            raise _decl_error(lineno, "choices declared twice (Literal annotation and {...} in the help)")
        out["choices"] = _parse_choices(decl, type_name, lineno)
    elif decl is not None and decl[0] == "<":
        if not _DOTTED.fullmatch(decl[1:-1].strip()) or not decl[1:-1].strip().startswith("hwutils."):
            raise _decl_error(
                lineno, f"malformed validator {decl!r}: name a function as <hwutils.module.function>"
            )
        out["check"] = decl[1:-1].strip()
    elif decl is not None:
        if out["choices"] is not None:
            raise _decl_error(lineno, "a Literal annotation already lists the values; no range as well")
        if _base(type_name) not in ("int", "float", "list", "tuple", "sequence") and "|" not in type_name:
            raise _decl_error(lineno, f"a range needs a number type, not {type_name}")
        out["bounds"] = _parse_range(decl, lineno)
    try:
        default = coerce(default, type_name)
    except _Mismatch:
        pass  # a default of another type than its annotation: papermill's business, not checked here
    problem = _outside(
        ParamSpec(name, type_name, default, "", "", out["choices"], out.get("bounds")), default
    )
    if problem:
        raise _decl_error(lineno, f"default {problem}")
    return out


def _outside(spec: ParamSpec, value) -> str | None:
    """Why ``value`` (already of the right type) is not allowed by ``spec``'s
    choices or range, e.g. ``"0 is not in [1, inf)"``; None when it is."""
    items = value if isinstance(value, (list, tuple)) else [value]
    for item in items:
        if item is None:
            continue
        if spec.choices is not None and not any(item == c and type(item) is type(c) for c in spec.choices):
            return f"{item!r} is not one of {', '.join(repr(c) for c in spec.choices)}"
        if (
            spec.bounds is not None
            and not isinstance(item, bool)
            and isinstance(item, (int, float))
            and not spec.bounds.contains(item)
        ):
            return f"{item!r} is not in {spec.bounds.text}"
    return None


def notebook_parameters(notebook: Path) -> dict[str, ParamSpec]:
    """The parameters declared in a notebook's ``parameters`` cell, in order."""
    import nbformat

    try:
        nb = nbformat.read(notebook, as_version=4)
    except Exception as exc:
        raise StageError(f"{notebook}: cannot read notebook ({exc})") from None
    cell = next(
        (c for c in nb.cells if c.cell_type == "code" and "parameters" in c.metadata.get("tags", [])), None
    )
    if cell is None:
        raise StageError(f"{notebook}: no code cell tagged 'parameters'")
    try:
        return parse_parameters_source(cell.source)
    except SyntaxError as exc:
        raise StageError(f"{notebook}: parameters cell line {exc.lineno}: {exc.msg}") from None
    except StageError as exc:
        raise StageError(f"{notebook}: {exc}") from None


def parse_parameters_source(source: str) -> dict[str, ParamSpec]:
    """Read ``name: type = default  # help`` lines (plain ``name = default``
    too, its type taken from the default) with Python's own parser, so any
    text may follow the ``#``; the declaration that starts a help (see the
    module docstring) is parsed strictly, :class:`StageError` naming the line."""
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
            name, type_name, annotation = (
                node.target.id,
                ast.get_source_segment(source, node.annotation),
                node.annotation,
            )
        elif (
            isinstance(node, ast.Assign) and len(node.targets) == 1 and isinstance(node.targets[0], ast.Name)
        ):
            name, type_name, annotation = node.targets[0].id, None, None
        else:
            continue
        default_source = ast.get_source_segment(source, node.value)
        try:
            default = ast.literal_eval(default_source)
        except (ValueError, SyntaxError):
            default = default_source
        if type_name is None:
            type_name = type(default).__name__ if default is not None else "Any"
        declared = _declare(
            name, type_name, annotation, default, comments.get(node.end_lineno, ""), node.lineno
        )
        specs[name] = ParamSpec(name, type_name, default, default_source, **declared)
    return specs


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
    elif base == "literal" and inner:
        members = ast.literal_eval(f"({inner},)")
        return _first_fit(value, sorted({type(m).__name__ if m is not None else "None" for m in members}))
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
        raise ParamsError(
            f"{source}: unknown parameter '{key}' for stage {stage}"
            + (f" (did you mean '{hint}'?)" if hint else "")
            + f"; valid names: {', '.join(specs)}"
        )
    value = expand_env(value, source, key)
    spec = specs[key]
    try:
        value = coerce(value, spec.type_name)
    except _Mismatch:
        raise ParamsError(
            f"{source}: parameter '{key}' expects {spec.type_name}, got {_type_label(value)} ({value!r})"
        ) from None
    if _outside(spec, value):
        items = value if isinstance(value, (list, tuple)) else [value]
        bad = next(v for v in items if _outside(spec, v))
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
