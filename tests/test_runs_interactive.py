"""Notebooks run outside ``hw run`` (JupyterLab, plain papermill) get their own
interactive run folders, named by the stage the notebook declares, and are
listed in the index."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import nbformat
import pytest
from conftest import ROOT, run_hw

CELLS = [
    ("code", 'label: str = "a"  # free text', ["parameters"]),
    ("code", 'from hwutils import report\n\nrun_dir = report.start_run("quick")', []),
    ("code", 'report.save_metrics({"label_len": len(label), "pid": __import__("os").getpid()})', []),
]


def _project(tmp_path):
    project = tmp_path / "project"
    (project / "notebooks").mkdir(parents=True)
    (project / "params" / "quick").mkdir(parents=True)
    nb = nbformat.v4.new_notebook()
    nb.cells = [nbformat.v4.new_markdown_cell("# Quick")]
    for _kind, source, tags in CELLS:
        cell = nbformat.v4.new_code_cell(source)
        cell.metadata["tags"] = tags
        nb.cells.append(cell)
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
    nbformat.write(nb, project / "notebooks" / "quick.ipynb")
    return project


def _env(project, outputs):
    env = {k: v for k, v in os.environ.items() if k not in ("HW_RUN_DIR", "HW_STAGE", "HW_RUN_ID")}
    env.update(HW_PROJECT=str(project), HW_OUTPUTS=str(outputs), PYTHONPATH=str(ROOT))
    return env


LAB = """
import sys, nbformat
from nbclient import NotebookClient
nb = nbformat.read(sys.argv[1], as_version=4)
NotebookClient(nb, kernel_name="python3", resources={"metadata": {"path": sys.argv[2]}}).execute()
"""


@pytest.mark.slow
def test_two_lab_sessions_and_one_papermill_run_leave_three_interactive_runs(tmp_path):
    project = _project(tmp_path)
    outputs = tmp_path / "outputs"
    env = _env(project, outputs)
    notebook = project / "notebooks" / "quick.ipynb"
    for _ in range(2):  # as JupyterLab runs it: a kernel in the notebook's folder, no HW_RUN_DIR
        subprocess.run(
            [sys.executable, "-c", LAB, str(notebook), str(notebook.parent)], env=env, check=True, timeout=120
        )
    subprocess.run(
        [sys.executable, "-m", "papermill", str(notebook), str(tmp_path / "out.ipynb"), "-p", "label", "bbb"],
        env=env,
        check=True,
        timeout=120,
        capture_output=True,
        cwd=tmp_path,
    )
    runs = sorted(p for p in (outputs / "interactive" / "quick").iterdir() if p.is_dir())
    assert len(runs) == 3
    metrics = [json.loads((r / "metrics.json").read_text()) for r in runs]
    assert [m["label_len"] for m in metrics] == [1, 1, 3]  # each run kept its own metrics
    assert len({m["pid"] for m in metrics}) == 3
    for r in runs:
        manifest = json.loads((r / "manifest.json").read_text())
        assert manifest["interactive"] is True and manifest["stage"] == "quick"
        assert manifest["status"] == "ok" and manifest["end"]
    assert not (outputs / "interactive" / "notebook").exists()
    listing = run_hw("runs", outputs=outputs, project=project, check=True).stdout
    assert sum(r.name in listing for r in runs) == 3
    run_hw("index", outputs=outputs, project=project, check=True)
    index = (outputs / "index.html").read_text()
    assert index.count('<span class="badge">interactive</span>') == 3
    assert all(f"interactive/quick/{r.name}/metrics.json" in index for r in runs)
