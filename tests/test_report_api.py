"""The report API notebooks call (results with yardsticks, data, tables), the
summary block built from a run folder, and the run-folder module."""

from __future__ import annotations

import json

import nbformat
import pytest

from hwutils import current_run, report, runfolder
from hwutils.errors import ArtifactError
from hwutils.runs import summary


@pytest.fixture
def run_dir(tmp_path, monkeypatch):
    d = tmp_path / "run"
    d.mkdir()
    monkeypatch.setenv("HW_RUN_DIR", str(d))
    return d


def test_result_beats_its_yardstick_in_the_stated_direction():
    assert report.Result("top-1", 0.9, yardstick="chance", yardstick_value=0.1).beats is True
    assert report.Result("F1", 0.774, yardstick="all valid", yardstick_value=0.842).beats is False
    assert report.Result("EER", 0.05, better="lower", yardstick="rule", yardstick_value=0.17).beats is True
    assert report.Result("EER", 0.2, better="lower", yardstick="rule", yardstick_value=0.17).beats is False
    assert report.Result("time", 3.0, kind="seconds").beats is None  # no yardstick
    assert report.Result("x", float("nan"), yardstick="y", yardstick_value=1).beats is None
    tie = report.Result("top-1", 1.0, yardstick="CNN alone", yardstick_value=1.0)
    assert tie.beats is False and tie.verdict == "tie"  # equal: does not beat it, and is said to tie
    assert report.Result("F1", 0.774, yardstick="all valid", yardstick_value=0.842).verdict == "NOT better"
    assert report.Result("time", 3.0, kind="seconds").verdict == ""
    html = report.results_html([tie])
    assert "ties its yardstick" in html and "does not beat its yardstick" not in html
    assert "; ties it" in repr(report.results_table([tie]))
    with pytest.raises(ValueError, match="kind"):
        report.Result("x", 1, kind="percentage")
    with pytest.raises(ValueError, match="better"):
        report.Result("x", 1, better="more")


@pytest.mark.parametrize(
    "value, kind, text",
    [
        (0.8745, "percent", "87.5%"),
        (1.0, "percent", "100.0%"),
        (42.34, "seconds", "42.3 s"),
        (1204, "count", "1,204"),
        (0.41234, "number", "0.412"),
        (None, "percent", "-"),
        (float("inf"), "number", "-"),
    ],
)
def test_numbers_are_formatted_for_people(value, kind, text):
    assert report.format_number(value, kind) == text


def test_record_results_and_data_land_in_metrics_and_merge_by_name(run_dir):
    report.save_metrics({"line_top1": 0.9})
    report.record_data("synthetic writers", None, writers=12, lines=360)
    report.record_results([report.Result("line top-1", 0.9, yardstick="chance", yardstick_value=1 / 12)])
    report.record_results([report.Result("line top-1", 0.95), report.Result("time", 3.0, kind="seconds")])
    m = json.loads((run_dir / "metrics.json").read_text())
    assert m["line_top1"] == 0.9
    assert m["_data"] == {
        "description": "synthetic writers",
        "location": None,
        "counts": {"writers": 12, "lines": 360},
    }
    assert [r["name"] for r in m["_results"]] == ["line top-1", "time"]
    assert m["_results"][0]["value"] == 0.95 and m["_results"][0]["beats"] is None


def test_tables_display_as_html_never_as_a_repr():
    rows = [
        report.Result(
            "screening F1", 0.774, group="screening", yardstick="call everything valid", yardstick_value=0.842
        )
    ]
    table = report.results_table(rows)
    assert "does not beat its yardstick" in table._repr_html_()
    assert "77.4%" in repr(table) and "does not beat it" in repr(table)
    metrics = {
        "line_top1": 0.98765,
        "n_writers": 12,
        "train_seconds": 41.26,
        "model": "deepwriter",
        "_headline": ["x"],
    }
    mt = report.metrics_table(metrics, {"identification": ["line_top1"], "run": ["train_seconds"]})
    html = mt._repr_html_()
    assert html.index("identification") < html.index("98.8%") < html.index("run") < html.index("41.3 s")
    assert "other" in html and "deepwriter" in html and "_headline" not in html
    assert "{" not in repr(mt)


def test_summary_block_from_a_run_folder(tmp_path):
    run = tmp_path / "run"
    run.mkdir()
    nb = nbformat.v4.new_notebook()
    nb.cells = [
        nbformat.v4.new_markdown_cell("# Writer identification with `DeepWriter`"),
        nbformat.v4.new_code_cell("epochs: int = 12  # [1, inf) passes\nmodel: str = 'a'  # {a, b} which"),
    ]
    nb.cells[1].metadata["tags"] = ["parameters"]
    nbformat.write(nb, run / "notebook.ipynb")
    (run / "metrics.json").write_text(
        json.dumps(
            {
                "_data": {"description": "CSAFE pages", "location": "/data/csafe", "counts": {"writers": 50}},
                "_results": [
                    report.Result("line top-1", 0.982, yardstick="CNN alone", yardstick_value=0.764).to_dict()
                ],
            }
        )
    )
    (run / "run.log").write_text(
        "12:00:00 WARNING py.warnings: x.py:1: UserWarning: a\n12:00:01 WARNING py.warnings: y.py:2: UserWarning: b\n"
    )
    manifest = {
        "run_id": "20261202-1",
        "stage": "writer_id",
        "label": "csafe",
        "status": "ok",
        "start": "2026-12-02T12:00:00",
        "duration_s": 185.0,
        "params": {"epochs": 30, "model": "a"},
        "params_sources": {"epochs": "/p/params/writer_id/csafe.yaml", "model": "default"},
        "git": {"commit": "0123456789abcdef", "dirty": True},
        "host": "box",
        "devices": ["CPU:0"],
    }
    block = summary.summary_html(run, manifest)
    assert block.count('id="hw-summary"') == 1
    assert "Writer identification with DeepWriter" in block
    assert "98.2%" in block and "CNN alone: 76.4%" in block
    assert "CSAFE pages (/data/csafe): 50 writers" in block
    assert "epochs</code> = 30" in block and "default 12; csafe.yaml" in block and "model</code>" not in block
    assert "0123456789" in block and "uncommitted" in block
    assert "3 min 05 s" in block and "CPU:0" in block
    assert "2 Python warnings" in block and 'href="run.log"' in block
    page = "<html><body><main><div>cells</div></main></body></html>"
    assert (
        summary.inject(page, "<section>S</section>")
        == "<html><body><main><section>S</section><div>cells</div></main></body></html>"
    )


def test_artifacts_folder_names_what_is_wrong(tmp_path):
    with pytest.raises(ArtifactError, match="no such run folder"):
        runfolder.artifacts_folder(tmp_path / "nope", "model.keras", "char_ocr")
    (tmp_path / "f").write_text("x")
    with pytest.raises(ArtifactError, match="not a run folder"):
        runfolder.artifacts_folder(tmp_path / "f", "model.keras")
    run = tmp_path / "run"
    (run / "artifacts" / "screener").mkdir(parents=True)
    with pytest.raises(ArtifactError, match="not a char_ocr run folder"):
        runfolder.artifacts_folder(run, "model.keras", "char_ocr")
    (run / "artifacts" / "model.keras").write_text("x")
    (run / "artifacts" / "screener" / "screener.json").write_text("{}")
    assert runfolder.artifacts_folder(run, "model.keras") == run / "artifacts"
    assert runfolder.artifacts_folder(run / "artifacts", "model.keras") == run / "artifacts"
    assert runfolder.artifacts_folder(run, "screener/screener.json") == run / "artifacts" / "screener"


def test_an_interactive_run_gets_its_own_folder_and_ends_ok(tmp_path, monkeypatch):
    monkeypatch.delenv("HW_RUN_DIR", raising=False)
    monkeypatch.setenv("HW_OUTPUTS", str(tmp_path / "outputs"))
    monkeypatch.setattr(current_run, "_interactive", {})
    first = report.start_run("writer_id")
    assert first.parent == tmp_path / "outputs" / "interactive" / "writer_id"
    assert report.current_run_dir() == first
    report.save_metrics({"a": 1})
    second = report.start_run("writer_id")  # a second start in one kernel ends the first run
    assert second != first and report.current_run_dir() == second
    m1 = json.loads((first / "manifest.json").read_text())
    assert m1["interactive"] is True and m1["status"] == "ok" and m1["stage"] == "writer_id"
    assert json.loads((first / "metrics.json").read_text()) == {"a": 1}
    assert not (second / "metrics.json").exists()
    current_run._end_interactive(current_run._interactive["writer"])
    assert json.loads((second / "manifest.json").read_text())["status"] == "ok"


def test_inside_hw_run_start_run_is_the_run_folder(run_dir):
    assert report.start_run("writer_id") == run_dir
    assert not (run_dir / "manifest.json").exists()  # hw run writes that one


def test_metric_kinds_are_read_from_whole_words_of_the_key():
    from hwutils import report

    html = report.metrics_table(
        {"generated_quality": 0.5, "line_top1": 0.5, "false_accept_rate": 0.25, "farthest": 0.75}
    )._repr_html_()
    assert "50.0%" in html and "25.0%" in html  # top-1 and a rate are percentages
    assert "0.500" in html and "0.750" in html  # "generated" is no rate, "farthest" no false-accept rate


def test_one_epoch_is_said_in_the_singular():
    from hwutils.training import summary_line

    assert summary_line({"loss": [0.5]}).startswith("1 epoch,")
    assert summary_line({"loss": [0.5, 0.4]}, epochs=5).startswith("2 epochs of 5 (early stop)")


def test_rows_table_and_markdown_table_escape_and_format():
    rows = [{"person": "<b>0101</b>", "log10 LR": 2.3456, "posterior": 0.98765, "lines": 12}]
    table = report.rows_table(rows, "answers", {"log10 LR": "{:+.2f}"})
    html = table._repr_html_()
    assert "&lt;b&gt;0101&lt;/b&gt;" in html and "+2.35" in html and "0.988" in html and ">12<" in html
    assert "<caption" in html and repr(table).splitlines()[0] == "answers" and table.rows == rows
    md = report.markdown_table([{"a": "x|y\\z\nw", "b": None}], {"a": "A", "b": "B"})
    assert md.splitlines() == ["| A | B |", "| --- | --- |", "| x\\|y\\\\z w |   |"]
    assert report.pct(0.8745) == "87.5%"
