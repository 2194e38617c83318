"""Parameter reading and validation (no notebook execution)."""

from pathlib import Path

import pytest

from hwutils.errors import ParamsError, StageError
from hwutils.runs import params as P
from hwutils.runs import project

TEST_PROJECT = Path(__file__).parent / "project"


@pytest.fixture(autouse=True)
def _project(monkeypatch):
    monkeypatch.setenv("HW_PROJECT", str(TEST_PROJECT))


def specs():
    return P.notebook_parameters(project.get_stage("tiny").notebook)


def test_notebook_parameters_read_types_defaults_and_help():
    s = specs()
    assert list(s)[:3] == ["seed", "n", "epochs"]
    assert s["epochs"].type_name == "int" and s["epochs"].default == 2
    assert s["lr"].type_name == "float" and s["lr"].default == 0.01
    assert s["hidden"].default == [8]
    assert s["epochs"].help == "passes over the data"


@pytest.mark.parametrize(
    "value,type_name,expected",
    [
        (3, "int", 3),
        (3, "float", 3.0),
        ("a", "str", "a"),
        (True, "bool", True),
        ([1, 2], "list[int]", [1, 2]),
        (None, "str | None", None),
        ("x", "Optional[str]", "x"),
        ({"a": 1}, "dict[str, float]", {"a": 1.0}),
    ],
)
def test_coerce_accepts(value, type_name, expected):
    assert P.coerce(value, type_name) == expected


@pytest.mark.parametrize(
    "value,type_name",
    [
        (1.5, "int"),
        (True, "int"),
        ("3", "int"),
        (["a"], "list[int]"),
        (1, "str"),
        ("yes", "bool"),
        (3, "list"),
    ],
)
def test_coerce_rejects(value, type_name):
    with pytest.raises(P.Mismatch):
        P.coerce(value, type_name)


def test_unknown_parameter_lists_valid_names_and_closest_match():
    with pytest.raises(ParamsError) as err:
        P.check_value("tiny", specs(), "epoch", 3, "file.yaml")
    msg = str(err.value)
    assert (
        "file.yaml" in msg
        and "'epoch'" in msg
        and "did you mean 'epochs'" in msg
        and "seed, n, epochs" in msg
    )


def test_wrong_type_names_file_key_expected_and_given(tmp_path):
    f = tmp_path / "p.yaml"
    f.write_text("epochs: two\n")
    with pytest.raises(ParamsError) as err:
        P.resolve("tiny", specs(), [f], [])
    msg = str(err.value)
    assert str(f) in msg and "'epochs'" in msg and "expects int" in msg and "got str" in msg


def test_yaml_error_names_file_and_line(tmp_path):
    f = tmp_path / "bad.yaml"
    f.write_text("n: 3\nepochs: [1, 2\n")
    with pytest.raises(ParamsError) as err:
        P.read_params_file(f)
    assert str(err.value).startswith(f"{f}:") and "YAML error" in str(err.value)


def test_params_file_must_be_a_mapping(tmp_path):
    f = tmp_path / "list.yaml"
    f.write_text("- 1\n- 2\n")
    with pytest.raises(ParamsError, match="expected a mapping"):
        P.read_params_file(f)


def test_env_expansion_and_unset_variable(monkeypatch, tmp_path):
    f = tmp_path / "e.yaml"
    f.write_text("data_dir: ${HW_X_ROOT}/pages\n")
    monkeypatch.setenv("HW_X_ROOT", "/data")
    effective, given, sources = P.resolve("tiny", specs(), [f], [])
    assert given == {"data_dir": "/data/pages"} and sources["data_dir"] == str(f)
    monkeypatch.delenv("HW_X_ROOT")
    with pytest.raises(ParamsError, match="HW_X_ROOT is not set"):
        P.resolve("tiny", specs(), [f], [])


def test_precedence_defaults_files_then_cli(tmp_path):
    a, b = tmp_path / "a.yaml", tmp_path / "b.yaml"
    a.write_text("n: 10\nepochs: 3\n")
    b.write_text("n: 20\n")
    effective, given, sources = P.resolve("tiny", specs(), [a, b], [("epochs", "7"), ("name", "123")])
    assert effective["n"] == 20 and effective["epochs"] == 7 and effective["lr"] == 0.01
    assert effective["name"] == "123"  # str parameters keep -p values as text
    assert sources["n"] == str(b) and sources["epochs"] == "-p" and sources["lr"] == "default"
    assert set(given) == {"n", "epochs", "name"}


def test_int_given_for_float_is_accepted_as_float(tmp_path):
    effective, _, _ = P.resolve("tiny", specs(), [], [("lr", "1")])
    assert effective["lr"] == 1.0 and isinstance(effective["lr"], float)


def test_unknown_stage_and_missing_params_file():
    with pytest.raises(StageError, match="did you mean 'tiny'"):
        project.get_stage("tiny_")
    with pytest.raises(ParamsError, match="params file not found"):
        project.resolve_params_file(project.get_stage("tiny"), "nope.yaml")
    assert project.resolve_params_file(project.get_stage("tiny"), "smoke").name == "smoke.yaml"


def test_parameters_parser_keeps_any_help_text_and_plain_assignments():
    source = (
        "seed: int = 0  # seed; uses x = y (not parsed as code)\n"
        "sizes: list[int] = [1, 2]  # widths, e.g. [a=1]\n"
        "ratio = 0.5  # no annotation: type from the default\n"
        'name: str = "a # not a comment"\n'
    )
    specs = P.parse_parameters_source(source)
    assert list(specs) == ["seed", "sizes", "ratio", "name"]
    assert specs["seed"].help == "seed; uses x = y (not parsed as code)"
    assert specs["sizes"].type_name == "list[int]" and specs["sizes"].default == [1, 2]
    assert specs["ratio"].type_name == "float" and specs["name"].default == "a # not a comment"
    assert specs["name"].help == ""


def test_parameters_taken_together_are_checked_before_a_run_folder(monkeypatch, tmp_path):
    """writer_id: holding out more synthetic writers than leave 2 to train on is
    a ParamsError naming the parameter, before any folder is made (exit 2)."""
    from hwutils.runs.execute import RunRequest, prepare

    monkeypatch.setenv("HW_PROJECT", str(Path(__file__).resolve().parents[1]))
    monkeypatch.setenv("HW_OUTPUTS", str(tmp_path / "out"))
    with pytest.raises(ParamsError, match=r"^calibration_writers: 16 held out, with 3 unknown_writers"):
        prepare(RunRequest("writer_id", [], [("calibration_writers", "16")]))
    with pytest.raises(ParamsError, match=r"^unknown_writers: 17 held out leaves fewer than 2 of the 18"):
        prepare(RunRequest("writer_id", [], [("unknown_writers", "17")]))
    assert not (tmp_path / "out").exists()
    # 3 + 13 of 18 leaves 2: allowed; and the params file that holds 15 of 28 out
    assert (
        prepare(RunRequest("writer_id", [], [("calibration_writers", "13")]))[1]["calibration_writers"] == 13
    )
    assert prepare(RunRequest("writer_id", ["calibrated"], []))[1]["calibration_writers"] == 15
    # with data_dir the writers are counted once the data is read, in the notebook
    prepare(RunRequest("writer_id", [], [("data_dir", str(tmp_path)), ("calibration_writers", "40")]))
    # a sweep checks every point, a batch every item, before anything runs
    from hwutils.runs.batch import parse_item
    from hwutils.runs.sweep_plan import plan_sweep

    with pytest.raises(
        ParamsError, match=r"^sweep point 1 \(calibration_writers=16\): calibration_writers: 16"
    ):
        plan_sweep("writer_id", grid_args=["calibration_writers=5,16"])
    assert len(plan_sweep("writer_id", grid_args=["calibration_writers=5,13"]).points) == 2
    bad = tmp_path / "writer_id" / "bad.yaml"
    bad.parent.mkdir()
    bad.write_text("unknown_writers: 17\n")
    with pytest.raises(ParamsError, match=r"bad\.yaml: unknown_writers: 17 held out"):
        parse_item(str(bad))
