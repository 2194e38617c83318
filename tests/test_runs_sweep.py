"""hw sweep: a 2x2 sweep (learning rate x seed) of the tiny notebook on two workers, its
sweep.json, hw runs --sweep, and its report; bad grid values refused before anything runs."""

import base64
import json
import re
from pathlib import Path

import pytest
from conftest import run_hw

from hwutils.runs.sweep_plan import parse_seeds
from hwutils.runs.sweep_record import list_sweeps
from hwutils.runs.sweep_report import mean_std

PROJECT = Path(__file__).parent / "project"
QUICK_CONNECT = {"HW_DASK_CONNECT_TIMEOUT": "2"}  # an unreachable scheduler is named after 2 s, not 10


@pytest.mark.slow
def test_a_2x2_sweep_and_its_report(tmp_path):
    outputs = tmp_path / "outputs"
    proc = run_hw(
        "sweep",
        "tiny",
        "-f",
        "smoke",
        "-g",
        "lr=0.01,0.1",
        "--seeds",
        "0-1",
        "-j",
        "2",
        outputs=outputs,
        project=PROJECT,
        timeout=400,
    )
    assert proc.returncode == 0, proc.stderr[-3000:]
    (folder,) = (outputs / "sweeps").iterdir()
    record = json.loads((folder / "sweep.json").read_text())
    assert record["status"] == "ok" and record["swept"] == ["lr", "seed"]
    points = record["points"]
    assert sorted((p["point"]["lr"], p["point"]["seed"]) for p in points) == [
        (0.01, 0),
        (0.01, 1),
        (0.1, 0),
        (0.1, 1),
    ]
    labels = set()
    for p in points:  # each run has its point as label and the point's values as parameters
        manifest = json.loads((outputs / p["run"] / "manifest.json").read_text())
        assert manifest["status"] == "ok" and manifest["label"] == p["label"]
        assert (
            manifest["params"]["lr"] == p["point"]["lr"] and manifest["params"]["seed"] == p["point"]["seed"]
        )
        labels.add(manifest["label"])
    assert labels == {"lr=0.01 seed=0", "lr=0.01 seed=1", "lr=0.1 seed=0", "lr=0.1 seed=1"}
    page = (folder / "report.html").read_text()
    links = re.findall(r'href="([^"]+/report\.html)"', page)
    assert len(links) == 4 and all((folder / link).resolve().is_file() for link in links)
    assert len(re.findall(r'<tr class="run">', page)) == 4
    rows = re.findall(r'<tr class="point">(.*?)</tr>', page)
    assert len(rows) == 2  # one per learning rate, over its two seeds
    acc = {}
    for p in points:
        m = json.loads((outputs / p["run"] / "metrics.json").read_text())
        acc.setdefault(p["point"]["lr"], []).append(m["accuracy"])
    cells = re.findall(r"<td>([^<]*)</td>", rows[0])
    mean, std = mean_std(acc[0.01])
    assert cells[1] == "2 of 2" and abs(float(cells[2]) - mean) < 1e-3 and abs(float(cells[3]) - std) < 1e-3
    src = re.search(r'<img id="plot"[^>]*src="data:image/png;base64,([^"]+)"', page).group(1)
    assert base64.b64decode(src)[:8] == b"\x89PNG\r\n\x1a\n" and (folder / "plot.png").stat().st_size > 1000
    listing = run_hw("runs", "--sweep", folder.name[:12], outputs=outputs, project=PROJECT)
    assert listing.returncode == 0 and listing.stdout.count(" ok ") == 4 and "lr=0.1 seed=1" in listing.stdout
    (sweep,) = list_sweeps(outputs)
    assert sweep["runs"] == 4 and sweep["points"] == 2 and sweep["status_counts"] == {"ok": 4}
    assert (outputs / sweep["report"]).is_file() and folder.name in (outputs / "index.html").read_text()


@pytest.mark.parametrize(
    "args, words",
    [
        (["-g", "nope=1,2"], ["unknown parameter 'nope'"]),
        (["-g", "lr=0.1,-1"], ["parameter 'lr' must be in (0, inf), got -1"]),
        (["-g", "epochs=two"], ["parameter 'epochs' expects int"]),
        (["-g", "lr"], ["expected NAME=V1,V2"]),
        (["--seeds", "3-1"], ["--seeds 3-1"]),
        (["-g", "lr=0.1", "--scheduler", "tcp://127.0.0.1:9"], ["unreachable"]),
        ([], ["nothing to sweep"]),
    ],
)
def test_bad_sweeps_are_one_line_exit_2_and_make_nothing(tmp_path, args, words):
    outputs = tmp_path / "outputs"
    proc = run_hw(
        "sweep",
        "tiny",
        "-f",
        "smoke",
        *args,
        outputs=outputs,
        project=PROJECT,
        timeout=120,
        env=QUICK_CONNECT,
    )
    assert proc.returncode == 2, proc.stderr[-2000:]
    lines = [line for line in proc.stderr.splitlines() if line.strip()]
    assert len(lines) == 1 and all(w in lines[0] for w in words), proc.stderr
    assert not list(outputs.glob("*/*/manifest.json"))


def test_seeds_are_ranges_or_lists():
    assert parse_seeds("0-4") == [0, 1, 2, 3, 4] and parse_seeds("0,3") == [0, 3] and parse_seeds([2]) == [2]
    with pytest.raises(Exception, match="not a whole number"):
        parse_seeds("a,b")
