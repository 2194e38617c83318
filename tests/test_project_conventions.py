"""Project-wide conventions: clean notebooks with a proper parameters cell,
pinned environment files in step, every stage with its params files."""

import ast
import re
from pathlib import Path

import nbformat
import pytest

from hwutils.envfile import normalise, read_environment_pins, read_lock

ROOT = Path(__file__).resolve().parents[1]
NOTEBOOKS = sorted((ROOT / "notebooks").glob("*.ipynb")) + sorted(
    (ROOT / "tests" / "project" / "notebooks").glob("*.ipynb")
)
STAGE_NOTEBOOKS = sorted((ROOT / "notebooks").glob("*.ipynb"))
PARAM_LINE = re.compile(r"^(\w+)\s*:\s*([^=]+?)\s*=\s*(.+?)\s+#\s*(\S.*)$")


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.name)
def test_notebook_committed_clean(path):
    nb = nbformat.read(path, as_version=4)
    nbformat.validate(nb)
    for cell in nb.cells:
        if cell.cell_type == "code":
            assert not cell.get("outputs"), f"{path.name}: a code cell has outputs"
            assert cell.get("execution_count") is None, f"{path.name}: a code cell has an execution count"


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.name)
def test_first_code_cell_is_annotated_parameters(path):
    nb = nbformat.read(path, as_version=4)
    first = next(c for c in nb.cells if c.cell_type == "code")
    assert "parameters" in first.metadata.get("tags", []), (
        f"{path.name}: first code cell not tagged 'parameters'"
    )
    lines = [l for l in first.source.splitlines() if l.strip() and not l.lstrip().startswith("#")]
    assert lines
    for line in lines:
        m = PARAM_LINE.match(line)
        assert m, f"{path.name}: parameter line needs 'name: type = default  # help': {line!r}"
        ast.literal_eval(m.group(3))


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.name)
def test_papermill_reads_every_parameter_with_its_help(path):
    # papermill --help-notebook skips a line with a second "=" (e.g. in its help comment)
    from papermill.translators import PythonTranslator

    first = next(c for c in nbformat.read(path, as_version=4).cells if c.cell_type == "code")
    names = [
        PARAM_LINE.match(l).group(1)
        for l in first.source.splitlines()
        if l.strip() and not l.lstrip().startswith("#")
    ]
    found = {p.name: p for p in PythonTranslator.inspect(first)}
    assert sorted(found) == sorted(names), (
        f"{path.name}: papermill cannot read {sorted(set(names) - set(found))}"
    )
    assert all(p.help for p in found.values())


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.name)
def test_papermill_help_shows_what_each_parameter_allows(path):
    # choices and ranges are declared at the start of the help comment, so
    # `papermill --help-notebook` shows them too; hw reads the same declaration
    from papermill.translators import PythonTranslator

    from hwutils.runs.params import notebook_parameters

    first = next(c for c in nbformat.read(path, as_version=4).cells if c.cell_type == "code")
    found = {p.name: p for p in PythonTranslator.inspect(first)}
    for name, spec in notebook_parameters(path).items():
        assert found[name].help == (f"{spec.allowed} {spec.help}" if spec.allowed else spec.help), name
        assert spec.help, f"{path.name}: {name} has a declaration but no words of help"


@pytest.mark.parametrize("path", STAGE_NOTEBOOKS, ids=lambda p: p.name)
def test_stage_has_default_and_smoke_params_seeds_and_records_its_environment(path):
    params = ROOT / "params" / path.stem
    assert (params / "default.yaml").is_file() and (params / "smoke.yaml").is_file()
    nb = nbformat.read(path, as_version=4)
    source = "\n".join(c.source for c in nb.cells if c.cell_type == "code")
    assert "seed_everything(seed" in source
    assert "record_environment(seed" in source  # versions and devices for the report's summary
    assert "print(" not in source  # sentences go through report.say, formatted for people, not as log lines


def test_environment_yml_matches_lock_file():
    lock = read_lock(ROOT / "requirements.lock")
    python, pins = read_environment_pins(ROOT / "environment.yml")
    assert python == "3.11"
    assert pins == lock, "environment.yml is out of step: run `make lock`"


def test_every_direct_dependency_is_pinned():
    import tomllib

    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    lock = read_lock(ROOT / "requirements.lock")
    deps = project["dependencies"] + project["optional-dependencies"]["dev"]
    for dep in deps:
        name = normalise(re.split(r"[<>=!~;\[ ]", dep, maxsplit=1)[0])
        assert name in lock, f"{name} is not pinned in requirements.lock"
    for pkg in (
        "jupyterlab",
        "papermill",
        "tensorflow",
        "keras",
        "numpy",
        "pillow",
        "albumentations",
        "bezier",
        "matplotlib",
        "scikit-learn",
    ):
        assert pkg in lock
