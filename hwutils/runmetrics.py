"""A run's ``metrics.json``: its reserved keys, reading it back, and which metrics are the headline."""

from __future__ import annotations

import json
import os
from pathlib import Path

from hwutils.runfolder import METRICS

HEADLINE_KEY = "_headline"
DATA_KEY = "_data"
RESULTS_KEY = "_results"
CAVEATS_KEY = "_caveats"


def load_metrics(run_dir: str | os.PathLike) -> dict:
    """The metrics saved so far in the run folder ``run_dir`` (empty dict if none)."""
    path = Path(run_dir) / METRICS
    if not path.exists():
        return {}
    with open(path) as fh:
        return json.load(fh)


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
