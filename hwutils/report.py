"""What a notebook calls to keep the results of its run: metrics, figures, tables and artifacts
in the run folder, what it looked at and what it found for the report's summary, and sentences.

Inside ``hw run`` the run folder comes from the ``HW_RUN_DIR`` environment
variable; in JupyterLab or plain papermill (no variable) :func:`start_run`
makes ``outputs/interactive/<stage>/<timestamp>/`` so a notebook still runs
top to bottom and two stages (or two sessions) never share a folder
(:mod:`hwutils.current_run`).

For the report's summary block (rendered by ``hw run`` above the narrative):

- :func:`record_data` says what the run looked at (dataset or generator,
  where, and its counts);
- :func:`record_results` gives the headline figures, each with the yardstick
  that gives it meaning (:class:`Result`).

For the narrative: :func:`results_table`, :func:`metrics_table` (the final
metrics grouped by topic, formatted for people) and :func:`say` (a sentence
that depends on the numbers).

The pieces live below this module, each with its own job, and are named
here too so a notebook needs only ``from hwutils import report``:
:mod:`hwutils.results` (:class:`Result`, numbers for people),
:mod:`hwutils.tables` (tables), :mod:`hwutils.runmetrics` (``metrics.json``'s
keys and headline), :mod:`hwutils.fileio` (atomic writes) and
:mod:`hwutils.runfolder` (the layout).

Layout of a run folder::

    metrics.json        flat JSON of numbers and short strings (save_metrics)
    artifacts/          models, generated data
    artifacts/figures/  PNG figures (save_figure)
"""

from __future__ import annotations

import os
from pathlib import Path

from hwutils import current_run, runmetrics
from hwutils.fileio import atomic_path, jsonable, write_json_atomic, write_text_atomic
from hwutils.results import KINDS, Result, format_number, pct, readable_name
from hwutils.runfolder import ARTIFACTS, METRICS, RUN_DIR_ENV
from hwutils.runmetrics import CAVEATS_KEY, DATA_KEY, HEADLINE_KEY, RESULTS_KEY, headline_metrics
from hwutils.tables import (
    TABLE_STYLE,
    VERDICT_MARKS,
    VERDICT_NOTES,
    HTMLTable,
    markdown_table,
    metrics_table,
    result_rows,
    results_html,
    results_table,
    rows_table,
)

__all__ = [  # what notebooks and stages read here (the names from the modules below are re-exported)
    "ARTIFACTS",
    "CAVEATS_KEY",
    "DATA_KEY",
    "HEADLINE_KEY",
    "KINDS",
    "METRICS",
    "RESULTS_KEY",
    "RUN_DIR_ENV",
    "TABLE_STYLE",
    "VERDICT_MARKS",
    "VERDICT_NOTES",
    "HTMLTable",
    "Result",
    "artifact_path",
    "artifacts_dir",
    "atomic_path",
    "current_run_dir",
    "figure_path",
    "format_number",
    "headline_metrics",
    "load_metrics",
    "markdown_table",
    "metrics_table",
    "pct",
    "readable_name",
    "record_caveats",
    "record_data",
    "record_results",
    "result_rows",
    "results_html",
    "results_table",
    "rows_table",
    "save_figure",
    "save_metrics",
    "save_table",
    "say",
    "start_run",
    "write_json_atomic",
    "write_text_atomic",
]


def start_run(stage: str) -> Path:
    """Begin this notebook's run and return its folder.

    Inside ``hw run`` that is ``HW_RUN_DIR``. Otherwise (JupyterLab, plain
    ``papermill``) a new interactive run folder
    ``outputs/interactive/<stage>/<timestamp>/`` is made with a manifest
    (marked interactive, listed in the index), so two stages or two sessions
    never share a ``metrics.json`` or an artifacts folder.
    """
    return current_run.start(stage)


def current_run_dir(create: bool = True, stage: str | None = None) -> Path | None:
    """The folder of the run in progress: ``HW_RUN_DIR`` under ``hw run``,
    else the interactive run begun by :func:`start_run` (with ``create``, one
    is begun for ``stage`` if none was)."""
    return current_run.current(create=create, stage=stage)


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
    """The metrics saved so far in a run folder (the current run's by default; empty dict if none)."""
    return runmetrics.load_metrics(run_dir or current_run_dir())


def save_metrics(metrics: dict | None = None, headline: list[str] | None = None, **more) -> None:
    """Merge metrics into ``<run>/metrics.json`` (:func:`load_metrics` reads them back).

    Values should be numbers, short strings, or small lists/dicts. ``headline``
    names the keys shown in ``hw runs`` and the index (kept across calls).
    Returns nothing, so a cell ending in this call shows no dict in the report.
    """
    data = load_metrics()
    data.update(jsonable(dict(metrics or {}, **more)))
    if headline:
        known = list(data.get(HEADLINE_KEY, []))
        data[HEADLINE_KEY] = known + [k for k in headline if k not in known]
    write_json_atomic(current_run_dir() / METRICS, data)


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
        writer.writerows(jsonable(rows))
    return path


def record_data(description: str, location: str | os.PathLike | None = None, **counts) -> None:
    """Say what the run looked at, for the summary block of its report: a
    description of the dataset or generator, where it is (``None`` for
    generated data) and its counts (``writers=15, lines=360``)."""
    data = {
        "description": str(description),
        "location": str(location) if location else None,
        "counts": {k: jsonable(v) for k, v in counts.items()},
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


def record_caveats(lines: list[str]) -> None:
    """Record warnings a reader must see beside the results (metrics.json
    ``_caveats``; replaces earlier ones): the report's summary block lists them
    under the results table, e.g. a questioned document outside the
    conditions its method was validated under."""
    save_metrics({CAVEATS_KEY: [str(x) for x in lines]})


def say(markdown_text: str) -> None:
    """Display a sentence (Markdown) in the notebook: a conclusion that depends
    on the numbers, or a warning that matters to the result, in words."""
    try:
        from IPython.display import Markdown, display
    except ImportError:  # outside IPython: plain text
        print(markdown_text)
        return
    display(Markdown(markdown_text))
