"""A notebook's ``parameters`` cell read into :class:`ParamSpec`: each parameter's type, default
and help, and the choices, range or validator its help declares.

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
import math
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from hwutils.errors import StageError
from hwutils.runs.coerce import Mismatch, coerce


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
        except Mismatch:
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
    except Mismatch:
        pass  # a default of another type than its annotation: papermill's business, not checked here
    problem = outside(ParamSpec(name, type_name, default, "", "", out["choices"], out.get("bounds")), default)
    if problem:
        raise _decl_error(lineno, f"default {problem}")
    return out


def outside(spec: ParamSpec, value) -> str | None:
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
