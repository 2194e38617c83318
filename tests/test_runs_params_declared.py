"""Choices and ranges declared in a notebook's parameters cell, checked
before any run folder is made or kernel started (no notebook execution)."""

import math
import os
from pathlib import Path

import nbformat
import pytest

from hwutils import cli
from hwutils.errors import ParamsError, StageError
from hwutils.runs import params as P

ROOT = Path(__file__).resolve().parents[1]
STAGES = ("writer_id", "signatures", "char_ocr", "single_image_vae")


def parse(line: str):
    return P.parse_parameters_source(line + "\n")[line.split(":")[0].strip()]


# ------------------------------------------------------------------ the convention
@pytest.mark.parametrize(
    "text,lo,hi,lo_open,hi_open",
    [
        ("[1, 10]", 1, 10, False, False),
        ("(0, 1)", 0, 1, True, True),
        ("[0, 1)", 0, 1, False, True),
        ("(0, 1]", 0, 1, True, False),
        ("[1, inf)", 1, math.inf, False, True),
        ("(-inf, 0]", -math.inf, 0, True, False),
        ("(-inf, inf)", -math.inf, math.inf, True, True),
        ("[0.5, 2.5]", 0.5, 2.5, False, False),
        ("[ -3 ,1e3 ]", -3, 1000, False, False),
    ],
)
def test_range_notations(text, lo, hi, lo_open, hi_open):
    inside = (
        (lo + hi) / 2
        if math.isfinite(lo) and math.isfinite(hi)
        else lo + 1
        if math.isfinite(lo)
        else hi - 1
        if math.isfinite(hi)
        else 0
    )
    spec = parse(f"x: float = {inside}  # {text} the help")
    r = spec.bounds
    assert (r.lo, r.hi, r.lo_open, r.hi_open) == (lo, hi, lo_open, hi_open)
    assert spec.help == "the help" and spec.choices is None
    assert spec.allowed == text.replace(" ", "").replace(",", ", ")


def test_range_membership_by_its_ends():
    r = parse("x: float = 0.5  # (0, 1] a share").bounds
    assert [r.contains(v) for v in (0, 1e-9, 0.5, 1, 1.0000001, math.nan)] == [
        False,
        True,
        True,
        True,
        False,
        False,
    ]
    r = parse("n: int = 3  # [1, inf) a count").bounds
    assert r.contains(1) and r.contains(10**12) and not r.contains(0) and not r.contains(-1)


@pytest.mark.parametrize(
    "help_text,why",
    [
        ("[1, 10", "malformed declaration"),
        ("[1 10] no comma", "malformed declaration"),
        ("[a, 10] words", "not a number"),
        ("[10, 1] reversed", "empty range"),
        ("(1, 1) empty", "empty range"),
        ("[1, inf] closed at infinity", "infinite end must be open"),
        ("[-inf, 1) closed at infinity", "infinite end must be open"),
        ("[1, 2, 3] three ends", "malformed declaration"),
        ("(optional) brackets open a declaration", "malformed declaration"),
        ("{} empty choices", "no choices"),
        ("{a, a} twice", "repeated choice"),
        ("{a, b c} space", "malformed choice"),
        ("{a, b no closing brace", "malformed declaration"),
        ("<not a name> validator", "malformed validator"),
        ("<hwutils> a module alone", "malformed validator"),
    ],
)
def test_malformed_declaration_is_a_stage_error_naming_the_line(help_text, why):
    line = 'x: str = "a"  # ' if help_text.startswith("{") else "x: int = 1  # "
    source = "seed: int = 0  # a seed\n" + line + help_text + "\n"
    with pytest.raises(StageError) as err:
        P.parse_parameters_source(source)
    assert str(err.value).startswith("parameters cell line 2: ") and why in str(err.value), str(err.value)


def test_malformed_declaration_in_a_notebook_names_notebook_and_line(tmp_path):
    nb = nbformat.v4.new_notebook()
    nb.cells.append(
        nbformat.v4.new_code_cell(
            "seed: int = 0  # [0, inf) seed\nx: int = 1  # [1, ten] bad\n", metadata={"tags": ["parameters"]}
        )
    )
    path = tmp_path / "bad.ipynb"
    nbformat.write(nb, path)
    with pytest.raises(StageError) as err:
        P.notebook_parameters(path)
    assert str(err.value).startswith(f"{path}: parameters cell line 2: ") and "'ten'" in str(err.value)


@pytest.mark.parametrize(
    "line,why",
    [
        ("x: int = 0  # [1, inf) a count", "default 0 is not in [1, inf)"),
        ('m: str = "c"  # {a, b} a mode', "default 'c' is not one of 'a', 'b'"),
        ("n: int = 5  # {1, two} mixed", "choice 'two' is not int"),
        ('m: Literal["a", "b"] = "c"  # a mode', "default 'c' is not one of 'a', 'b'"),
        ('m: Literal["a", "b"] = "a"  # {a, b} twice', "choices declared twice"),
        ("n: str = 'a'  # [1, 2] a range on text", "a range needs a number type"),
    ],
)
def test_default_must_satisfy_its_declaration(line, why):
    with pytest.raises(StageError) as err:
        P.parse_parameters_source(line + "\n")
    assert str(err.value).startswith(f"parameters cell line 1: {why}"), str(err.value)


def test_choices_in_the_help_take_the_annotated_type():
    s = parse('mode: str = "b"  # {a, b, "c d"} the mode')
    assert s.choices == ("a", "b", "c d") and s.help == "the mode" and s.allowed == "{a, b, 'c d'}"
    s = parse("k: int = 4  # {2, 4, 8} the width")
    assert s.choices == (2, 4, 8) and all(type(c) is int for c in s.choices)
    s = parse("f: float = 1  # {1, 0.5} a factor")
    assert s.choices == (1.0, 0.5) and all(type(c) is float for c in s.choices)
    s = parse("d: str = '1'  # {1, 2} digits kept as text for str")
    assert s.choices == ("1", "2")


def test_literal_annotations_with_str_and_int_members():
    specs = P.parse_parameters_source(
        "from typing import Literal\n"
        'model: Literal["seed_cnn", "deepwriter"] = "seed_cnn"  # the network\n'
        "digit: typing.Literal[0, 1, 2] = 2  # a digit\n"
    )
    assert list(specs) == ["model", "digit"]
    assert specs["model"].choices == ("seed_cnn", "deepwriter") and specs["model"].help == "the network"
    assert specs["digit"].choices == (0, 1, 2)
    assert P.check_value("s", specs, "model", "deepwriter", "f.yaml") == "deepwriter"
    assert P.check_value("s", specs, "digit", 1, "f.yaml") == 1
    with pytest.raises(ParamsError) as err:
        P.check_value("s", specs, "model", "seed", "f.yaml")
    assert str(err.value) == (
        "f.yaml: parameter 'model' must be one of 'seed_cnn', 'deepwriter', got 'seed' "
        "(did you mean 'seed_cnn'?)"
    )
    with pytest.raises(
        ParamsError, match=r"parameter 'digit' expects typing.Literal\[0, 1, 2\], got str \('1'\)"
    ):
        P.check_value("s", specs, "digit", "1", "f.yaml")
    with pytest.raises(ParamsError, match=r"parameter 'digit' expects typing.Literal\[0, 1, 2\], got bool"):
        P.check_value("s", specs, "digit", True, "f.yaml")


def test_validator_named_in_the_help_is_the_library_function():
    specs = P.parse_parameters_source(
        'features: str = "cnn+hog"  # <hwutils.signatures.writer_dependent.parse_features> sets joined by +\n'
    )
    spec = specs["features"]
    assert (
        spec.check == "hwutils.signatures.writer_dependent.parse_features" and spec.help == "sets joined by +"
    )
    assert spec.allowed == "<hwutils.signatures.writer_dependent.parse_features>"
    assert P.check_value("s", specs, "features", "hog+dir", "-p features") == "hog+dir"
    with pytest.raises(ParamsError) as err:
        P.check_value("s", specs, "features", "hog+nope", "-p features")
    assert str(err.value).startswith(
        "-p features: parameter 'features': unknown or repeated set in 'hog+nope'; "
        "join some of cnn, signet, hog"
    )


def test_validator_that_cannot_be_imported_is_a_stage_error():
    specs = P.parse_parameters_source('x: str = "a"  # <hwutils.no_such_module.check> text\n')
    with pytest.raises(StageError, match="hwutils.no_such_module.check"):
        P.check_value("s", specs, "x", "b", "-p x")


def test_lists_are_checked_element_by_element():
    specs = P.parse_parameters_source("hidden: list[int] = [8]  # [1, inf) layer sizes\n")
    assert P.check_value("s", specs, "hidden", [4, 2], "f") == [4, 2]
    with pytest.raises(
        ParamsError, match=r"^f: parameter 'hidden' must be in \[1, inf\), got 0 \(in \[4, 0\]\)$"
    ):
        P.check_value("s", specs, "hidden", [4, 0], "f")


def test_none_is_not_range_checked_for_optional_parameters():
    specs = P.parse_parameters_source("cap: int | None = None  # [1, inf) most items, None is all\n")
    assert P.check_value("s", specs, "cap", None, "f") is None
    with pytest.raises(ParamsError, match=r"must be in \[1, inf\), got 0$"):
        P.check_value("s", specs, "cap", 0, "f")


def test_nan_is_outside_every_range():
    specs = P.parse_parameters_source("x: float = 0.5  # [0, 1] a share\n")
    with pytest.raises(ParamsError, match=r"must be in \[0, 1\], got nan"):
        P.check_value("s", specs, "x", float("nan"), "f")


# ------------------------------------------------------------------ the four stages
def stage_specs(stage):
    return P.notebook_parameters(ROOT / "notebooks" / f"{stage}.ipynb")


@pytest.mark.parametrize("stage", STAGES)
def test_every_default_satisfies_its_declaration(stage):
    specs = stage_specs(stage)
    for name, spec in specs.items():
        if spec.check is None:
            continue  # choices and ranges: parse_parameters_source already refuses a default outside them
        assert P.check_value(stage, specs, name, spec.default, "default") == spec.default


@pytest.mark.parametrize("stage", STAGES)
def test_every_params_file_satisfies_the_declarations(stage, monkeypatch):
    specs = stage_specs(stage)
    files = sorted((ROOT / "params" / stage).glob("*.yaml"))
    assert files
    for path in files:  # ${VAR} names the real data's place: any value will do here
        for var in P.ENV_PATTERN.findall(path.read_text()):
            monkeypatch.setenv(var, "/data")
    for path in files:
        P.resolve(stage, specs, [path], [])


# parameters with a closed set of values or a range that every stage must declare
DECLARED = {
    "writer_id": [
        "seed",
        "data_format",
        "level",
        "top_writers",
        "min_forms",
        "split_by",
        "synth_writers",
        "synth_forms",
        "synth_lines",
        "unknown_writers",
        "val_fraction",
        "test_fraction",
        "height",
        "model",
        "width",
        "pooling",
        "dropout",
        "epochs",
        "patches_per_epoch",
        "hinge_leg",
        "hinge_bins",
        "batch_size",
        "learning_rate",
        "patience",
        "stride",
        "enrol_lines",
        "target_frr",
        "max_bad_fraction",
        "strategy",
    ],
    "signatures": [
        "seed",
        "strategy",
        "layout",
        "test_persons",
        "val_persons",
        "synth_persons",
        "synth_genuine",
        "synth_forgeries",
        "height",
        "width",
        "ink",
        "embedding_dim",
        "base_filters",
        "loss",
        "margin",
        "pairs_per_person",
        "skilled_share",
        "epochs",
        "batch_size",
        "learning_rate",
        "patience",
        "augment_strength",
        "n_references",
        "operating_point",
        "reducer",
        "decision",
        "features",
        "wd_C",
        "wd_shift",
        "wd_norm",
        "signet_epochs",
        "signet_forgery_weight",
        "siamese_init",
        "finetune_learning_rate",
        "screen_epochs",
        "screen_height",
        "screen_width",
        "screen_invalid",
    ],
    "char_ocr": [
        "seed",
        "epochs",
        "batch_size",
        "strategy",
        "model_width",
        "patience",
        "lr_patience",
        "ensemble",
        "elastic",
        "val_fraction",
        "test_fraction",
        "digits",
        "digits_train_fraction",
        "synthetic_letters_per_class",
        "synthetic_digits_per_class",
        "az_per_class",
        "char_folder_cap",
        "harvest_fraction",
        "harvest_repeat",
        "lm_weight",
        "max_eval_words",
        "synthetic_eval_words",
        "n_sample_words",
    ],
    "single_image_vae": [
        "seed",
        "digit",
        "n_augment",
        "n_generate",
        "latent_dim",
        "beta",
        "vae_epochs",
        "vae_steps_per_epoch",
        "batch_size",
        "classifier_epochs",
        "n_user_train_samples",
        "n_user_test",
        "heldout_fraction",
        "max_train_digits",
        "tsne_real",
        "strategy",
    ],
}


@pytest.mark.parametrize("stage", STAGES)
def test_every_choice_and_range_parameter_is_declared(stage):
    specs = stage_specs(stage)
    undeclared = [n for n in DECLARED[stage] if not specs[n].allowed]
    assert not undeclared
    # and every int or float parameter without a declaration is listed here on purpose
    free = [n for n, s in specs.items() if s.type_name in ("int", "float") and not s.allowed]
    assert free == []


@pytest.mark.parametrize(
    "stage,name,value,allowed",
    [
        ("writer_id", "model", "nonsense", "must be one of 'seed_cnn', 'half_deepwriter', 'deepwriter'"),
        ("writer_id", "val_fraction", 1.5, "must be in (0, 1)"),
        ("writer_id", "strategy", "tpu", "must be one of 'default', 'mirrored'"),
        ("signatures", "screen_height", 4, "must be in [8, inf)"),
        ("signatures", "wd_norm", 1.5, "must be in [0, 1]"),
        ("signatures", "siamese_init", "imagenet", "must be one of 'scratch', 'signet'"),
        ("char_ocr", "digits", "mnist", "must be one of 'sklearn', 'idx'"),
        ("char_ocr", "harvest_fraction", 1, "must be in [0, 1)"),
        ("single_image_vae", "heldout_fraction", 0, "must be in (0, 1)"),
    ],
)
def test_stage_declarations_refuse_what_the_notebook_refuses(stage, name, value, allowed):
    with pytest.raises(ParamsError) as err:
        P.check_value(stage, stage_specs(stage), name, value, "f.yaml")
    assert str(err.value).startswith(f"f.yaml: parameter '{name}' {allowed}, got {value!r}")


# ------------------------------------------------------------------ through `hw`
@pytest.fixture
def outputs(tmp_path, monkeypatch):
    monkeypatch.setenv("HW_PROJECT", str(ROOT))
    monkeypatch.setenv("HW_OUTPUTS", str(tmp_path / "outputs"))
    return tmp_path / "outputs"


def hw(capsys, *args):
    code = cli.main(list(args))
    out = capsys.readouterr()
    return code, out.out, out.err


@pytest.mark.parametrize(
    "stage,name,value,expected",
    [
        ("writer_id", "epochs", "0", "-p epochs: parameter 'epochs' must be in [1, inf), got 0"),
        (
            "single_image_vae",
            "vae_epochs",
            "-1",
            "-p vae_epochs: parameter 'vae_epochs' must be in [1, inf), got -1",
        ),
        ("char_ocr", "batch_size", "0", "-p batch_size: parameter 'batch_size' must be in [1, inf), got 0"),
        ("char_ocr", "ensemble", "0", "-p ensemble: parameter 'ensemble' must be in [1, inf), got 0"),
        ("single_image_vae", "digit", "42", "-p digit: parameter 'digit' must be in [0, 9], got 42"),
        (
            "writer_id",
            "model",
            "nonsense",
            "-p model: parameter 'model' must be one of 'seed_cnn', 'half_deepwriter', "
            "'deepwriter', got 'nonsense'",
        ),
        (
            "writer_id",
            "val_fraction",
            "1.5",
            "-p val_fraction: parameter 'val_fraction' must be in (0, 1), got 1.5",
        ),
        (
            "char_ocr",
            "val_fraction",
            "1.5",
            "-p val_fraction: parameter 'val_fraction' must be in [0, 1), got 1.5",
        ),
        (
            "signatures",
            "operating_point",
            "far=0.1",
            "-p operating_point: parameter 'operating_point': 'far=0.1' is not "
            "eer, far_skilled=R, far_random=R or frr=R",
        ),
    ],
)
def test_hw_run_out_of_range_or_choice_exit_2_one_line_no_run_folder(
    outputs, capsys, stage, name, value, expected
):
    code, out, err = hw(capsys, "run", stage, "-p", name, value)
    assert code == 2
    assert err.count("\n") == 1 and err.startswith(f"hw: error: {expected}"), err
    assert not (outputs / stage).exists()


def test_hw_run_params_file_out_of_range(outputs, capsys, tmp_path):
    f = tmp_path / "x.yaml"
    f.write_text("epochs: 3\nmodel: nonsense\n")
    code, out, err = hw(capsys, "run", "writer_id", "-f", str(f))
    assert code == 2 and err == (
        f"hw: error: {f}: parameter 'model' must be one of 'seed_cnn', 'half_deepwriter', "
        "'deepwriter', got 'nonsense'\n"
    )
    assert not (outputs / "writer_id").exists()


def test_hw_batch_items_are_checked_the_same_way(outputs, capsys, tmp_path):
    f = tmp_path / "x.yaml"
    f.write_text("ensemble: 0\n")
    code, out, err = hw(capsys, "batch", "char_ocr:smoke", f"char_ocr:{f}")
    assert code == 2 and err == f"hw: error: {f}: parameter 'ensemble' must be in [1, inf), got 0\n"
    assert not outputs.exists() or not any(outputs.iterdir())


@pytest.mark.parametrize(
    "content",
    [
        os.urandom(0) + bytes(range(128, 256)) * 2,  # not UTF-8
        b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00\x00\x01",  # a PNG header
        b"\xff\xfee\x00p\x00o\x00c\x00h\x00s\x00",  # UTF-16 text
    ],
)
def test_hw_run_binary_params_file_exit_2_one_line(outputs, capsys, tmp_path, content):
    f = tmp_path / "binary.yaml"
    f.write_bytes(content)
    code, out, err = hw(capsys, "run", "writer_id", "-f", str(f))
    assert code == 2 and err.count("\n") == 1 and err.startswith(f"hw: error: {f}: not a UTF-8 text file"), (
        err
    )
    assert not (outputs / "writer_id").exists()


@pytest.mark.parametrize("text,kind", [("- 1\n- 2\n", "list"), ("3\n", "int"), ("just text\n", "str")])
def test_hw_run_non_mapping_params_file_exit_2_one_line(outputs, capsys, tmp_path, text, kind):
    f = tmp_path / "list.yaml"
    f.write_text(text)
    code, out, err = hw(capsys, "run", "writer_id", "-f", str(f))
    assert code == 2
    assert err == f"hw: error: {f}: expected a mapping of parameter names to values, got {kind}\n"
    assert not (outputs / "writer_id").exists()


def test_hw_params_shows_the_allowed_column(outputs, capsys):
    code, out, err = hw(capsys, "params", "writer_id")
    assert code == 0 and err == ""
    lines = out.splitlines()
    assert lines[0].split() == ["name", "type", "default", "allowed", "help"]
    row = {line.split()[0]: line for line in lines[2:]}
    assert "{seed_cnn, half_deepwriter, deepwriter}" in row["model"]
    assert "(0, 1)" in row["val_fraction"] and "[1, inf)" in row["epochs"]
    assert row["epochs"].rstrip().endswith("maximum passes (early stopping on validation loss)")
    assert "[1, inf)" not in row["epochs"].split("maximum passes")[1]  # shown once, not again in the help


def test_checking_a_grammar_parameter_does_not_start_tensorflow():
    # hw checks operating_point before any kernel starts; that check must stay light (no TensorFlow logs)
    code = (
        "import sys\n"
        "from hwutils.runs import params as P, project\n"
        "specs = P.notebook_parameters(project.get_stage('signatures').notebook)\n"
        "P.check_value('signatures', specs, 'operating_point', 'far_skilled=0.05', '-p operating_point')\n"
        "print('tensorflow' in sys.modules)\n"
    )
    import subprocess
    import sys

    out = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, timeout=120)
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip() == "False"
