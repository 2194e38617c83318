"""The run's log file, ``run.log`` beside the notebook.

Under ``hw run`` the kernel starts with :func:`install`, so nothing meant
for a log reaches the report: TensorFlow's C++ lines and anything else
written to the process's standard error (file descriptor 2), Python
warnings (each recorded once per place), ``logging`` records of
``hwutils`` (the per-epoch training lines) and libraries' warnings all go to
``run.log``. ``hw run`` itself appends what the terminal showed. The report's
summary counts the warnings (:func:`count_warnings`) and links the file.
"""

from __future__ import annotations

import logging
import os
import sys
import warnings
from pathlib import Path

from hwutils.runfolder import LOG, RUN_DIR_ENV

FORMAT = "%(asctime)s %(levelname)s %(name)s: %(message)s"
DATEFMT = "%H:%M:%S"
WARNING_MARK = " WARNING py.warnings: "

_installed: dict = {}


def log_path(run_dir: str | os.PathLike) -> Path:
    return Path(run_dir) / LOG


def install(run_dir: str | os.PathLike | None = None) -> Path | None:
    """Send this process's standard error, warnings and logs to the run's
    ``run.log`` (``HW_RUN_DIR`` when ``run_dir`` is not given; nothing is done
    without one). Called by the kernel ``hw run`` starts, before any cell."""
    run_dir = run_dir or os.environ.get(RUN_DIR_ENV)
    if not run_dir or _installed.get("path"):
        return _installed.get("path")
    path = log_path(run_dir)
    stream = open(path, "a", buffering=1, encoding="utf-8", errors="replace")  # noqa: SIM115  (lives as long as the kernel)
    try:
        os.dup2(stream.fileno(), 2)  # C++ logging (TensorFlow, CUDA) and child processes' stderr
    except OSError:
        pass
    sys.stderr = stream
    handler = logging.StreamHandler(stream)
    handler.setFormatter(logging.Formatter(FORMAT, DATEFMT))
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(logging.WARNING)
    logging.getLogger("hwutils").setLevel(logging.INFO)
    logging.captureWarnings(True)
    warnings.simplefilter("default")  # each warning once per place, not once per call
    _installed.update(path=path, stream=stream)
    return path


def terminal_handler(run_dir: str | os.PathLike) -> logging.Handler:
    """A logging handler that appends to ``run.log`` (``hw run`` adds it to
    the loggers whose lines the terminal shows)."""
    handler = logging.FileHandler(log_path(run_dir), encoding="utf-8")
    handler.setFormatter(logging.Formatter("%(message)s"))
    return handler


def count_warnings(run_dir: str | os.PathLike) -> int:
    """How many Python warnings the run's kernel recorded in ``run.log``."""
    try:
        with open(log_path(run_dir), encoding="utf-8", errors="replace") as fh:
            return sum(WARNING_MARK in line for line in fh)
    except OSError:
        return 0
