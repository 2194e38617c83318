"""Run ids, atomic manifests, the index and comparisons (no notebook execution)."""

import json
import os
import threading
from datetime import datetime

from hwutils import fileio, report
from hwutils.runs import compare, index, manifest


def test_run_ids_sort_by_time_and_are_unique_within_one_second(tmp_path):
    t1 = datetime(2026, 1, 2, 3, 4, 5, 100)
    t2 = datetime(2026, 1, 2, 3, 4, 5, 200)
    assert manifest.new_run_id(t1) < manifest.new_run_id(t2)
    ids = set()
    lock = threading.Lock()

    def make():
        for _ in range(50):
            run_id, path = manifest.create_run_dir(tmp_path / "stage")
            with lock:
                ids.add(run_id)

    threads = [threading.Thread(target=make) for _ in range(4)]
    [t.start() for t in threads]
    [t.join() for t in threads]
    assert len(ids) == 200 and len(os.listdir(tmp_path / "stage")) == 200


def test_atomic_json_leaves_no_partial_file(tmp_path, monkeypatch):
    target = tmp_path / "m.json"
    report.write_json_atomic(target, {"a": 1})

    def broken_dumps(*a, **k):
        raise RuntimeError("killed while writing")

    monkeypatch.setattr(fileio.json, "dumps", broken_dumps)
    try:
        report.write_json_atomic(target, {"a": 2})
    except RuntimeError:
        pass
    assert json.loads(target.read_text()) == {"a": 1}
    assert [p.name for p in tmp_path.iterdir()] == ["m.json"]


def test_params_hash_ignores_key_order():
    assert manifest.params_hash({"a": 1, "b": [1, 2]}) == manifest.params_hash({"b": [1, 2], "a": 1})
    assert manifest.params_hash({"a": 1}) != manifest.params_hash({"a": 2})


def _fake_run(outputs, stage, run_id, status="ok", metrics=None, params=None):
    d = outputs / stage / run_id
    d.mkdir(parents=True)
    m = {
        "run_id": run_id,
        "stage": stage,
        "label": "x",
        "status": status,
        "start": "2026-01-01T00:00:00",
        "duration_s": 3.0,
        "params": params or {"a": 1},
        "params_hash": "h",
        "headline": metrics or {},
    }
    manifest.write_manifest(d, m)
    if metrics:
        report.write_json_atomic(d / "metrics.json", metrics)
    return d


def test_index_lists_every_run_newest_first_with_links(tmp_path):
    _fake_run(tmp_path, "s1", "20260101-000000-000001-aaaa", metrics={"acc": 0.5})
    _fake_run(tmp_path, "s2", "20260101-000000-000002-bbbb", status="failed")
    path = index.rebuild_index(tmp_path)
    html = path.read_text()
    assert html.index("000002-bbbb") < html.index("000001-aaaa")
    assert (
        "failed" in html
        and "acc: <b>50.0%</b>" in html
        and "s1/20260101-000000-000001-aaaa/metrics.json" in html
    )
    table = index.runs_table(tmp_path, "s1")
    assert "000001-aaaa" in table and "000002-bbbb" not in table


def test_index_says_which_headlines_tie_or_fall_below_their_yardsticks(tmp_path):
    rows = [
        report.Result("top-1, fused", 1.0, yardstick="CNN alone", yardstick_value=1.0),
        report.Result("F1", 0.774, yardstick="all valid", yardstick_value=0.842),
        report.Result("AUROC", 0.9, yardstick="chance", yardstick_value=0.5),
    ]
    metrics = {report.RESULTS_KEY: [r.to_dict() for r in rows]}
    _fake_run(tmp_path, "s", "20260101-000000-000001-aaaa", metrics=metrics)
    html = index.rebuild_index(tmp_path).read_text()
    cells = html[html.index("top-1, fused") :]
    assert cells.index("(ties yardstick)") < cells.index("F1: ") < cells.index("(below yardstick)")
    assert cells.index("AUROC") > cells.index("(below yardstick)") and html.count("(below yardstick)") == 1


def test_index_is_right_when_runs_finish_at_the_same_moment(tmp_path):
    for i in range(8):
        _fake_run(tmp_path, "s", f"20260101-000000-00000{i}-abcd")
    threads = [threading.Thread(target=index.rebuild_index, args=(tmp_path,)) for _ in range(8)]
    [t.start() for t in threads]
    [t.join() for t in threads]
    html = (tmp_path / "index.html").read_text()
    assert all(f"00000{i}-abcd" in html for i in range(8))


def test_find_run_by_prefix_and_compare_marks_differences(tmp_path):
    _fake_run(tmp_path, "s", "20260101-000000-000001-aaaa", metrics={"acc": 0.5}, params={"a": 1, "b": 2})
    _fake_run(tmp_path, "s", "20260101-000000-000002-bbbb", metrics={"acc": 0.7}, params={"a": 1, "b": 3})
    a = index.find_run(tmp_path, "20260101-000000-000001")
    b = index.find_run(tmp_path, "20260101-000000-000002-bbbb")
    text = compare.compare_runs(a, b)
    lines = {l.split()[1] if l.startswith("*") else l.split()[0]: l for l in text.splitlines() if l.strip()}
    assert lines["b"].startswith("*") and not lines["a"].startswith("*") and lines["acc"].startswith("*")
