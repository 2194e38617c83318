"""What notebooks call to save metrics, figures and artifacts of the current run,
and to state their results for the report.

Inside ``hw run`` the run folder comes from the ``HW_RUN_DIR`` environment
variable; in JupyterLab or plain papermill (no variable) :func:`start_run`
makes ``outputs/interactive/<stage>/<timestamp>/`` so a notebook still runs
top to bottom and two stages (or two sessions) never share a folder.

For the report's summary block (rendered by ``hw run`` above the narrative):

- :func:`record_data` says what the run looked at (dataset or generator,
  where, and its counts);
- :func:`record_results` gives the headline figures, each with the yardstick
  that gives it meaning (:class:`Result`).

For the narrative: :func:`results_table`, :func:`metrics_table` (the final
metrics grouped by topic, formatted for people) and :func:`say` (a sentence
that depends on the numbers).

Layout of a run folder::

    metrics.json        flat JSON of numbers and short strings (save_metrics)
    artifacts/          models, generated data
    artifacts/figures/  PNG figures (save_figure)
"""

from __future__ import annotations

import contextlib
import json
import math
import os
import re
import tempfile
from dataclasses import asdict, dataclass
from pathlib import Path

from hwutils.runfolder import ARTIFACTS, METRICS, RUN_DIR_ENV  # noqa: E402, F401  (the layout lives there; RUN_DIR_ENV re-exported)

HEADLINE_KEY = "_headline"
DATA_KEY = "_data"
RESULTS_KEY = "_results"


def write_json_atomic(path: str | os.PathLike, data) -> Path:
    """Write JSON to a temporary file beside ``path`` then rename it into place,
    so a reader never sees half a file."""
    return write_text_atomic(path, json.dumps(_jsonable(data), indent=2, sort_keys=False) + "\n")


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


@contextlib.contextmanager
def atomic_path(path: str | os.PathLike, keep_suffix: bool = True):
    """Yield a temporary path beside ``path`` (same folder; ending in the same
    suffix with ``keep_suffix``, which Keras and NumPy need) to write to; on
    success it is renamed onto ``path`` (with the usual permissions), on any
    failure it is removed and ``path`` is left as it was: a killed process or
    a full disk never leaves half a file at ``path``. Parent folders are created."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(
        dir=path.parent, prefix=f".{path.name}.", suffix=f".tmp{path.suffix}" if keep_suffix else ".tmp"
    )
    os.close(fd)
    try:
        yield Path(tmp)
        os.chmod(tmp, 0o666 & ~_umask())
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(tmp)
        raise


def write_text_atomic(path: str | os.PathLike, text: str) -> Path:
    """Write text to a temporary file beside ``path``, then rename it into
    place (:func:`atomic_path`)."""
    path = Path(path)
    with atomic_path(path, keep_suffix=False) as tmp:
        with open(tmp, "w") as fh:
            fh.write(text)
    return path


def _jsonable(value):
    """Convert NumPy scalars/arrays and paths so ``json`` accepts them; NaN -> None."""
    if isinstance(value, dict):
        return {str(k): _jsonable(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_jsonable(v) for v in value]
    if isinstance(value, Path):
        return str(value)
    if hasattr(value, "tolist") and not isinstance(value, (str, bytes)):
        return _jsonable(value.tolist())
    if isinstance(value, float) and not math.isfinite(value):
        return None
    return value


def start_run(stage: str) -> Path:
    """Begin this notebook's run and return its folder.

    Inside ``hw run`` that is ``HW_RUN_DIR``. Otherwise (JupyterLab, plain
    ``papermill``) a new interactive run folder
    ``outputs/interactive/<stage>/<timestamp>/`` is made with a manifest
    (marked interactive, listed in the index), so two stages or two sessions
    never share a ``metrics.json`` or an artifacts folder.
    """
    from hwutils import runfolder

    return runfolder.start(stage)


def current_run_dir(create: bool = True, stage: str | None = None) -> Path | None:
    """The folder of the run in progress: ``HW_RUN_DIR`` under ``hw run``,
    else the interactive run begun by :func:`start_run` (with ``create``, one
    is begun for ``stage`` if none was)."""
    from hwutils import runfolder

    return runfolder.current(create=create, stage=stage)


def artifacts_dir(sub: str | None = None) -> Path:
    """``<run>/artifacts`` (or a sub-folder of it), created if needed."""
    path = current_run_dir() / ARTIFACTS
    if sub:
        path = path / sub
    path.mkdir(parents=True, exist_ok=True)
    return path


def artifact_path(name: str) -> Path:
    """Path for an artifact file ``name`` inside ``<run>/artifacts`` (parents created)."""
    path = artifacts_dir() / name
    path.parent.mkdir(parents=True, exist_ok=True)
    return path


def load_metrics(run_dir: str | os.PathLike | None = None) -> dict:
    """The metrics saved so far in a run folder (empty dict if none)."""
    path = Path(run_dir or current_run_dir()) / METRICS
    if not path.exists():
        return {}
    with open(path) as fh:
        return json.load(fh)


def save_metrics(metrics: dict | None = None, headline: list[str] | None = None, **more) -> None:
    """Merge metrics into ``<run>/metrics.json`` (:func:`load_metrics` reads them back).

    Values should be numbers, short strings, or small lists/dicts. ``headline``
    names the keys shown in ``hw runs`` and the index (kept across calls).
    Returns nothing, so a cell ending in this call shows no dict in the report.
    """
    data = load_metrics()
    data.update(_jsonable(dict(metrics or {}, **more)))
    if headline:
        known = list(data.get(HEADLINE_KEY, []))
        data[HEADLINE_KEY] = known + [k for k in headline if k not in known]
    write_json_atomic(current_run_dir() / METRICS, data)


def headline_metrics(metrics: dict, limit: int = 6) -> dict:
    """The metrics named as headline, else the first ``limit`` numeric ones."""
    keys = metrics.get(HEADLINE_KEY)
    if not keys:
        keys = [
            k
            for k, v in metrics.items()
            if not k.startswith("_") and isinstance(v, (int, float)) and not isinstance(v, bool)
        ][:limit]
    return {k: metrics[k] for k in keys if k in metrics}


def figure_path(name: str) -> Path:
    """Where :func:`save_figure` puts figure ``name``: ``artifacts/figures/<name>.png``."""
    return artifacts_dir("figures") / f"{name}.png"


def save_figure(fig, name: str, dpi: int = 110, close: bool = False) -> None:
    """Save a matplotlib figure as ``artifacts/figures/<name>.png`` (atomically;
    :func:`figure_path` says where).

    The figure still shows inline in the notebook (and hence the HTML report)
    unless ``close`` is set. Returns nothing, so a cell ending in this call
    shows no ``PosixPath(...)`` line in the report.
    """
    path = figure_path(name)
    with atomic_path(path) as tmp:
        fig.savefig(tmp, dpi=dpi, bbox_inches="tight")
    if close:
        import matplotlib.pyplot as plt

        plt.close(fig)


def save_table(rows: list[dict], name: str) -> Path:
    """Save a list of dicts as ``artifacts/<name>.csv``."""
    import csv

    path = artifact_path(f"{name}.csv")
    fields: list[str] = []
    for row in rows:
        fields += [k for k in row if k not in fields]
    with open(path, "w", newline="") as fh:
        writer = csv.DictWriter(fh, fieldnames=fields)
        writer.writeheader()
        writer.writerows(_jsonable(rows))
    return path


# --- what the run looked at, and what it found -------------------------------------------------

KINDS = ("percent", "seconds", "count", "number")


@dataclass
class Result:
    """One headline figure and the yardstick that gives it meaning.

    ``kind`` sets how people read it: ``percent`` (a fraction in [0, 1],
    shown with one decimal), ``seconds``, ``count`` (an integer) or
    ``number``. ``yardstick`` names what it is compared with (chance, a
    trivial baseline, the simpler method measured in the same run, the
    README's goal) and ``yardstick_value`` is that figure; ``better`` says
    which direction wins. ``group`` gathers results by topic.
    """

    name: str
    value: float | None
    kind: str = "percent"
    group: str = ""
    yardstick: str = ""
    yardstick_value: float | None = None
    better: str = "higher"
    note: str = ""

    def __post_init__(self):
        if self.kind not in KINDS:
            raise ValueError(
                f"Result {self.name!r}: kind must be one of {', '.join(KINDS)}, got {self.kind!r}"
            )
        if self.better not in ("higher", "lower"):
            raise ValueError(f"Result {self.name!r}: better must be 'higher' or 'lower', got {self.better!r}")
        self.value = _number_or_none(self.value)
        self.yardstick_value = _number_or_none(self.yardstick_value)

    @property
    def beats(self) -> bool | None:
        """Whether the value beats its yardstick (None when either is missing)."""
        if self.value is None or self.yardstick_value is None:
            return None
        if self.better == "higher":
            return self.value > self.yardstick_value
        return self.value < self.yardstick_value

    @property
    def verdict(self) -> str:
        """``better``, ``tie`` (equal to its yardstick), ``NOT better`` or
        ``""`` (no yardstick figure)."""
        if self.beats is None:
            return ""
        if self.beats:
            return "better"
        return "tie" if self.value == self.yardstick_value else "NOT better"

    def to_dict(self) -> dict:
        return {**asdict(self), "beats": self.beats}

    @classmethod
    def from_dict(cls, data: dict) -> Result:
        fields = {k: data.get(k) for k in cls.__dataclass_fields__ if k in data}
        return cls(**fields)


def _number_or_none(value):
    if value is None:
        return None
    try:
        value = float(value)
    except (TypeError, ValueError):
        return None
    return value if math.isfinite(value) else None


def format_number(value, kind: str = "number") -> str:
    """A figure as people read it: ``87.5%``, ``12.3 s``, ``1,204``, ``0.412``; ``-`` when missing."""
    value = _number_or_none(value)
    if value is None:
        return "-"
    if kind == "percent":
        return f"{100 * value:.1f}%"
    if kind == "seconds":
        return f"{value:.1f} s" if value < 600 else f"{value / 60:.1f} min"
    if kind == "count":
        return f"{int(round(value)):,}"
    if value != 0 and (abs(value) >= 1e5 or abs(value) < 1e-3):
        return f"{value:.3g}"
    if float(value).is_integer() and abs(value) < 1e5:
        return f"{int(value):,}"
    return f"{value:.3f}"


def pct(value) -> str:
    """A fraction as a percentage with one decimal (``0.8745`` -> ``87.5%``)."""
    return format_number(value, "percent")


def markdown_table(rows: list[dict], columns: dict[str, str]) -> str:
    """A Markdown table of ``rows`` with ``columns`` (``{key: heading}``);
    backslashes, ``|`` and line breaks in cells are escaped so a label (a
    writer name, a word read) cannot break it."""

    def cell(value) -> str:
        text = "" if value is None else str(value)
        return text.replace("\\", "\\\\").replace("|", "\\|").replace("\n", " ") or " "

    lines = ["| " + " | ".join(columns.values()) + " |", "|" + " --- |" * len(columns)]
    lines += ["| " + " | ".join(cell(r.get(k)) for k in columns) + " |" for r in rows]
    return "\n".join(lines)


def record_data(description: str, location: str | os.PathLike | None = None, **counts) -> None:
    """Say what the run looked at, for the summary block of its report: a
    description of the dataset or generator, where it is (``None`` for
    generated data) and its counts (``writers=15, lines=360``)."""
    data = {
        "description": str(description),
        "location": str(location) if location else None,
        "counts": {k: _jsonable(v) for k, v in counts.items()},
    }
    save_metrics({DATA_KEY: data})


def record_results(results: list[Result]) -> None:
    """Record the run's headline figures with their yardsticks (metrics.json
    ``_results``, merged by name with earlier calls); the report's summary
    block shows them first and flags any that does not beat its yardstick."""
    rows = [r if isinstance(r, Result) else Result(**r) for r in results]
    known = {row["name"]: row for row in load_metrics().get(RESULTS_KEY, []) if isinstance(row, dict)}
    for row in rows:
        known[row.name] = row.to_dict()
    save_metrics({RESULTS_KEY: list(known.values())})


def _esc(text) -> str:
    import html

    return html.escape(str(text), quote=True)


class HTMLTable:
    """Something a notebook displays as an HTML table (and as plain text
    elsewhere), never as an object repr."""

    def __init__(self, html_text: str, text: str, rows: list[dict] | None = None):
        self._html, self._text = html_text, text
        self.rows = rows  # the rows shown, when made by rows_table

    def _repr_html_(self) -> str:
        return self._html

    def __repr__(self) -> str:
        return self._text

    __str__ = __repr__


def rows_table(rows: list[dict], title: str = "", formats: dict | None = None) -> HTMLTable:
    """Rows of dicts (one column per key of the first row) as a table for
    the notebook; ``formats`` maps a column to a format string for its float
    cells (``{"log10 LR": "{:+.2f}"}``; others ``{:.3g}``); ``title`` is its caption."""
    formats = formats or {}
    keys = list(rows[0]) if rows else []

    def cell(key, value) -> str:
        if isinstance(value, float):
            return formats.get(key, "{:.3g}").format(value)
        return "" if value is None else str(value)

    head = "".join(f"<th>{_esc(k)}</th>" for k in keys)
    body = "".join(
        "<tr>" + "".join(f"<td>{_esc(cell(k, r.get(k)))}</td>" for k in keys) + "</tr>" for r in rows
    )
    caption = f"<caption style='text-align:left'><b>{_esc(title)}</b></caption>" if title else ""
    html_text = f'{TABLE_STYLE}<table class="hw-table">{caption}<thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>'
    lines = ([title] if title else []) + [" | ".join(keys)]
    lines += [" | ".join(cell(k, r.get(k)) for k in keys) for r in rows]
    return HTMLTable(html_text, "\n".join(lines), rows)


TABLE_STYLE = (
    "<style>.hw-table{border-collapse:collapse;font-size:13px;margin:6px 0}"
    ".hw-table th,.hw-table td{border-bottom:1px solid #ddd;padding:3px 10px;text-align:left}"
    ".hw-table td.num{text-align:right;font-variant-numeric:tabular-nums}"
    ".hw-table tr.group th{background:#f3f3f3;font-weight:600}"
    ".hw-table .miss{color:#a40000;font-weight:600}.hw-table .tie{color:#7a5200;font-weight:600}</style>"
)


VERDICT_MARKS = {
    "NOT better": '<span class="miss">does not beat its yardstick</span>',
    "tie": '<span class="tie">ties its yardstick (does not beat it)</span>',
}
VERDICT_NOTES = {"NOT better": "; does not beat it", "tie": "; ties it"}  # the plain-text table's words


def result_rows(results) -> list[dict]:
    """Rows of a results table (formatted strings) from Result objects or their dicts."""
    rows = []
    for r in results:
        r = r if isinstance(r, Result) else Result.from_dict(r)
        verdict = r.verdict
        rows.append(
            {
                "group": r.group,
                "result": r.name,
                "value": format_number(r.value, r.kind),
                "yardstick": r.yardstick,
                "yardstick value": format_number(r.yardstick_value, r.kind) if r.yardstick else "",
                "verdict": verdict,
                "note": r.note,
            }
        )
    return rows


def results_html(results, table_class: str = "hw-table hw-results") -> str:
    """The results as an HTML table (grouped; a result that does not beat its
    yardstick is marked in words)."""
    out = [
        f'<table class="{table_class}"><thead><tr><th>result</th><th>value</th>'
        "<th>yardstick</th><th></th><th></th></tr></thead><tbody>"
    ]
    group = None
    for row in result_rows(results):
        if row["group"] and row["group"] != group:
            group = row["group"]
            out.append(f'<tr class="group"><th colspan="5">{_esc(group)}</th></tr>')
        verdict = row["verdict"]
        mark = VERDICT_MARKS.get(verdict, "")
        yard = f"{_esc(row['yardstick'])}: {_esc(row['yardstick value'])}" if row["yardstick"] else ""
        out.append(
            f'<tr><td>{_esc(row["result"])}</td><td class="num">{_esc(row["value"])}</td>'
            f"<td>{yard}</td><td>{mark}</td><td>{_esc(row['note'])}</td></tr>"
        )
    out.append("</tbody></table>")
    return "".join(out)


def results_table(results) -> HTMLTable:
    """The results with their yardsticks, for the narrative (displays as a table)."""
    rows = result_rows(results)
    text = "\n".join(
        f"{r['result']}: {r['value']}"
        + (
            f" ({r['yardstick']}: {r['yardstick value']}{VERDICT_NOTES.get(r['verdict'], '')})"
            if r["yardstick"]
            else ""
        )
        for r in rows
    )
    return HTMLTable(TABLE_STYLE + results_html(results), text)


def readable_name(key: str) -> str:
    """``test_eer_skilled`` -> ``test EER skilled``: a metric key as people read it."""
    words = key.strip("_").split("_")
    upper = {
        "eer",
        "far",
        "frr",
        "auroc",
        "auc",
        "cer",
        "wer",
        "f1",
        "lr",
        "cnn",
        "roc",
        "ece",
        "cllr",
        "ssim",
    }
    return " ".join(
        w.upper() if w in upper else ("top-" + w[3:] if w.startswith("top") and w[3:].isdigit() else w)
        for w in words
    )


PERCENT_WORDS = frozenset(
    "top1 top3 top5 eer far frr f1 precision recall rate auroc auc fraction share cer wer misleading".split()
)


def _kind_of(key: str, value) -> str:
    if isinstance(value, bool):
        return "number"
    k = key.lower()
    if k.endswith(("_seconds", "_s")) or k in ("seconds",):
        return "seconds"
    if (
        k.startswith(("n_", "num_"))
        or k.endswith(("_count", "_n", "_lines", "_writers", "_images", "_pages"))
        or (isinstance(value, int) and not isinstance(value, bool))
    ):
        return "count"
    # whole words of the key, so "generated" is not a rate nor "farthest" a false-accept rate
    words = [w for w in re.split(r"[^a-z0-9]+", k) if w]
    if (
        isinstance(value, float)
        and 0 <= value <= 1
        and any(w in PERCENT_WORDS or w.startswith("acc") for w in words)
    ):
        return "percent"
    return "number"


def metrics_table(
    metrics: dict, groups: dict[str, list[str]] | None = None, names: dict[str, str] | None = None
) -> HTMLTable:
    """The final metrics as a table grouped by topic, formatted for people
    (percentages with one decimal, seconds, integers). Keys not named in
    ``groups`` go under "other"; keys starting with ``_`` and nested values
    are left out (they stay in metrics.json)."""
    names = names or {}
    scalar = {
        k: v
        for k, v in metrics.items()
        if not str(k).startswith("_") and (isinstance(v, (int, float, str)) or v is None)
    }
    placed: list[tuple[str, list[str]]] = []
    used: set[str] = set()
    for group, keys in (groups or {}).items():
        keys = [k for k in keys if k in scalar]
        used.update(keys)
        if keys:
            placed.append((group, keys))
    rest = [k for k in scalar if k not in used]
    if rest:
        placed.append(("other" if placed else "", rest))
    html_rows, text_rows = [], []
    for group, keys in placed:
        if group:
            html_rows.append(f'<tr class="group"><th colspan="2">{_esc(group)}</th></tr>')
            text_rows.append(f"[{group}]")
        for k in keys:
            v = scalar[k]
            shown = v if isinstance(v, str) else format_number(v, _kind_of(k, v))
            label = names.get(k, readable_name(k))
            html_rows.append(f'<tr><td>{_esc(label)}</td><td class="num">{_esc(shown)}</td></tr>')
            text_rows.append(f"  {label}: {shown}")
    html_text = (
        TABLE_STYLE + '<table class="hw-table hw-metrics"><tbody>' + "".join(html_rows) + "</tbody></table>"
    )
    return HTMLTable(html_text, "\n".join(text_rows))


def say(markdown_text: str) -> None:
    """Display a sentence (Markdown) in the notebook: a conclusion that depends
    on the numbers, or a warning that matters to the result, in words."""
    try:
        from IPython.display import Markdown, display
    except ImportError:  # outside IPython: plain text
        print(markdown_text)
        return
    display(Markdown(markdown_text))
