"""The import contracts of pyproject.toml (`make lint` runs them): they hold, and they fail when the
run folder imports the report or one stage imports another; no import cycle between modules."""

import os
import shutil
import subprocess
import sys
from pathlib import Path

import grimp
import pytest

ROOT = Path(__file__).resolve().parents[1]
LINT_IMPORTS = Path(sys.executable).with_name("lint-imports")


def lint_imports(root: Path) -> subprocess.CompletedProcess:
    """``lint-imports`` on the hwutils under ``root`` with that folder's pyproject.toml."""
    env = dict(os.environ, PYTHONPATH=str(root))
    return subprocess.run(
        [str(LINT_IMPORTS), "--no-cache", "--no-logo", str(root / "pyproject.toml")],
        cwd=root,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )


@pytest.fixture
def copy_of_project(tmp_path):
    """hwutils and pyproject.toml copied to a folder of their own, to break a contract there."""
    shutil.copytree(ROOT / "hwutils", tmp_path / "hwutils", ignore=shutil.ignore_patterns("__pycache__"))
    shutil.copy(ROOT / "pyproject.toml", tmp_path / "pyproject.toml")
    return tmp_path


def add_import(path: Path, line: str) -> None:
    text = path.read_text()
    head, sep, rest = text.partition("from __future__ import annotations\n")
    path.write_text(head + sep + line + "\n" + rest if sep else line + "\n" + text)


def test_the_contracts_hold():
    result = lint_imports(ROOT)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "0 broken" in result.stdout


def test_the_run_folder_importing_the_report_breaks_the_layers_and_makes_a_cycle(copy_of_project):
    add_import(copy_of_project / "hwutils" / "runfolder.py", "from hwutils import report  # noqa: F401")
    result = lint_imports(copy_of_project)
    assert result.returncode != 0
    out = " ".join(result.stdout.split())
    assert "hwutils.runfolder -> hwutils.report" in out
    assert "Layers: the hw command" in out and "No import cycle" in out
    assert "BROKEN" in out


def test_a_stage_importing_another_stage_breaks_their_independence(copy_of_project):
    add_import(copy_of_project / "hwutils" / "vae" / "cnn.py", "from hwutils.ocr import model  # noqa: F401")
    result = lint_imports(copy_of_project)
    assert result.returncode != 0
    out = " ".join(result.stdout.split())
    assert "Stages are independent" in out and "BROKEN" in out
    assert "hwutils.vae.cnn -> hwutils.ocr.model" in out


def test_casework_importing_a_writer_id_module_breaks_the_public_api_contract(copy_of_project):
    add_import(
        copy_of_project / "hwutils" / "casework" / "summary.py",
        "from hwutils.writer_id import scan  # noqa: F401",
    )
    result = lint_imports(copy_of_project)
    assert result.returncode != 0
    out = " ".join(result.stdout.split())
    assert "casework uses writer_id through its public API only" in out
    assert "hwutils.casework.summary -> hwutils.writer_id.scan" in out


def strongly_connected(edges: dict[str, set[str]]) -> list[list[str]]:
    """The import cycles of ``edges``: its strongly connected components of more than one module
    (or one that imports itself), by Tarjan's algorithm without recursion."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    cycles = []
    for root in sorted(edges):
        if root in index:
            continue
        work = [(root, iter(sorted(edges[root])))]
        index[root] = low[root] = len(index)
        stack.append(root)
        on_stack.add(root)
        while work:
            node, children = work[-1]
            child = next(children, None)
            if child is not None:
                if child not in index:
                    index[child] = low[child] = len(index)
                    stack.append(child)
                    on_stack.add(child)
                    work.append((child, iter(sorted(edges[child]))))
                elif child in on_stack:
                    low[node] = min(low[node], index[child])
                continue
            work.pop()
            if work:
                low[work[-1][0]] = min(low[work[-1][0]], low[node])
            if low[node] == index[node]:
                component = []
                while True:
                    member = stack.pop()
                    on_stack.discard(member)
                    component.append(member)
                    if member == node:
                        break
                if len(component) > 1 or node in edges[node]:
                    cycles.append(sorted(component))
    return cycles


def test_the_cycle_finder_finds_a_cycle():
    assert strongly_connected({"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}) == [["a", "b", "c"]]
    assert strongly_connected({"a": {"b"}, "b": set()}) == []


def test_no_import_cycle_between_modules():
    """Every module of hwutils (imports inside functions included, as grimp reads them)."""
    graph = grimp.build_graph("hwutils", cache_dir=None)
    edges = {m: set(graph.find_modules_directly_imported_by(m)) for m in graph.modules}
    assert strongly_connected(edges) == []
