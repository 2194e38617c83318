"""Run states as readers see them: ``lost`` runs, ``broken`` manifests, and
recording that cannot finish (no notebook execution; fast)."""

import errno
import json
import os
import socket
import subprocess
import sys
from datetime import UTC, datetime, timedelta

import psutil
import pytest
from conftest import ROOT

from hwutils.errors import HwError
from hwutils.runs import execute, index, manifest


def _running(**over) -> dict:
    me = psutil.Process()
    m = {
        "run_id": "20260101-000000-000001-aaaa",
        "stage": "s",
        "label": "x",
        "status": "running",
        "start": manifest.now_iso(),
        "heartbeat": manifest.now_iso(),
        "heartbeat_interval_s": 15.0,
        "host": socket.gethostname(),
        "pid": me.pid,
        "pid_start": me.create_time(),
    }
    m.update(over)
    return m


def _dead_pid() -> int:
    proc = subprocess.Popen([sys.executable, "-c", "pass"])
    proc.wait()
    return proc.pid


def test_a_live_process_on_this_host_is_running():
    assert manifest.run_state(_running()) == {"status": "running", "reason": ""}


def test_a_dead_process_on_this_host_is_lost_at_once_with_its_last_heartbeat():
    state = manifest.run_state(_running(pid=_dead_pid(), heartbeat="2026-01-01T10:11:12.000+00:00"))
    assert state["status"] == "lost"
    assert "is gone" in state["reason"] and "last heartbeat 2026-01-01 10:11:12" in state["reason"]


def test_a_reused_pid_is_not_mistaken_for_the_run():
    # Our own pid, but a start time that is not ours: the run's process is gone.
    state = manifest.run_state(_running(pid_start=psutil.Process().create_time() - 3600))
    assert state["status"] == "lost"


def test_another_host_is_judged_by_its_heartbeat_alone():
    now = datetime.now(UTC)
    fresh = (now - timedelta(seconds=20)).isoformat()
    stale = (now - timedelta(seconds=61)).isoformat()
    other = dict(host="some-other-node", pid=1, pid_start=0.0)
    assert manifest.run_state(_running(heartbeat=fresh, **other), now=now)["status"] == "running"
    state = manifest.run_state(_running(heartbeat=stale, **other), now=now)
    assert state["status"] == "lost" and "some-other-node" in state["reason"] and "60 s" in state["reason"]
    # The window follows the interval the writer recorded.
    slow = _running(heartbeat=stale, heartbeat_interval_s=60.0, **other)
    assert manifest.run_state(slow, now=now)["status"] == "running"


def test_recorded_end_states_are_kept():
    for status in ("ok", "failed", "interrupted"):
        assert manifest.run_state(_running(status=status, pid=_dead_pid()))["status"] == status


def test_heartbeat_thread_refreshes_the_manifest(tmp_path, monkeypatch):
    monkeypatch.setenv(manifest.HEARTBEAT_ENV, "0.1")
    m = manifest.start_manifest("20260101-000000-000001-aaaa", "s", "x", ["hw"], {}, {}, 0, tmp_path)
    assert m["heartbeat_interval_s"] == 0.1 and m["pid"] == os.getpid() and m["host"] == socket.gethostname()
    writer = manifest.ManifestWriter(tmp_path, m)
    writer.write(heartbeat="2000-01-01T00:00:00+00:00")
    writer.start_heartbeat()
    try:
        import time

        deadline = time.time() + 5
        while time.time() < deadline:
            beat = json.loads((tmp_path / "manifest.json").read_text())["heartbeat"]
            if not beat.startswith("2000"):
                break
            time.sleep(0.05)
    finally:
        writer.stop_heartbeat()
    assert not beat.startswith("2000")


BROKEN = {
    "truncated": '{"run_id": "20260101-000000-000009-cccc", "stage": "s", "sta',
    "not json": "this is not json at all",
    "fields missing": '{"status": "ok"}',
    "a list": "[1, 2, 3]",
    "unknown status": json.dumps({"run_id": "r", "stage": "s", "status": "done", "start": "2026"}),
    "not utf-8": b"\xff\xfe\x00garbage",
}


def _fake(outputs, stage, run_id, status="ok"):
    d = outputs / stage / run_id
    d.mkdir(parents=True)
    manifest.write_manifest(
        d,
        {
            "run_id": run_id,
            "stage": stage,
            "label": "x",
            "status": status,
            "start": "2026-01-01T00:00:00",
            "duration_s": 1.0,
            "headline": {"acc": 0.5},
        },
    )
    return d


@pytest.mark.parametrize("kind", list(BROKEN))
def test_one_broken_manifest_never_hides_the_others(tmp_path, kind):
    _fake(tmp_path, "s", "20260101-000000-000001-aaaa")
    bad = tmp_path / "s" / "20260101-000000-000002-bbbb"
    bad.mkdir()
    text = BROKEN[kind]
    (bad / "manifest.json").write_bytes(text if isinstance(text, bytes) else text.encode())
    runs = index.all_runs(tmp_path)
    assert [index.status_of(r) for r in runs] == ["broken", "ok"]
    assert runs[0]["run_id"] == bad.name and runs[0]["_state"]["reason"].startswith("manifest.json")
    table = index.runs_table(tmp_path)
    assert "broken (manifest.json" in table and "000001-aaaa" in table
    html = index.rebuild_index(tmp_path).read_text()
    assert "000001-aaaa" in html and "000002-bbbb" in html and ">broken<" in html
    with pytest.raises(HwError, match="manifest.json"):
        index.find_run(tmp_path, str(bad))


def test_hw_runs_shows_a_lost_run_and_a_broken_one(tmp_path):
    d = tmp_path / "s" / "20260101-000000-000003-dddd"
    d.mkdir(parents=True)
    manifest.write_manifest(d, _running(pid=_dead_pid()))
    (d.parent / "20260101-000000-000004-eeee").mkdir()
    (d.parent / "20260101-000000-000004-eeee" / "manifest.json").write_text('{"status": "ok"}')
    env = dict(os.environ, HW_OUTPUTS=str(tmp_path))
    proc = subprocess.run(
        [sys.executable, "-m", "hwutils", "runs"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert proc.returncode == 0, proc.stderr
    assert (
        "lost (its process" in proc.stdout
        and "broken (manifest.json lacks run_id, stage, start)" in proc.stdout
    )
    proc = subprocess.run(
        [sys.executable, "-m", "hwutils", "index"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert proc.returncode == 0, proc.stderr
    html = (tmp_path / "index.html").read_text()
    assert ">lost<" in html and ">broken<" in html


class _FullDiskWriter:
    """A ManifestWriter whose first ``fail`` writes hit a full disk."""

    def __init__(self, manifest_dict, fail):
        self.manifest, self.fail, self.written = manifest_dict, fail, []

    def write(self, **fields):
        if self.fail:
            self.fail -= 1
            raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))
        self.manifest.update(fields)
        self.written.append(dict(self.manifest))


def test_a_run_that_cannot_record_its_end_says_failed_and_why(tmp_path, monkeypatch):
    monkeypatch.setattr(execute, "rebuild_index", lambda outputs: None)
    (tmp_path / execute.RESERVE_FILE).write_bytes(b"\0" * 10)
    writer = _FullDiskWriter(_running(), fail=1)
    status, problem = execute._finish(tmp_path, writer, "ok", None, 1.0, False, tmp_path)
    assert status == "failed"
    assert problem == "could not record the run: manifest.json: No space left on device"
    assert writer.written[-1]["status"] == "failed" and writer.written[-1]["error"]["message"] == problem
    assert not (tmp_path / execute.RESERVE_FILE).exists()  # the space held back was given to the record


def test_a_report_that_cannot_be_written_fails_the_run(tmp_path, monkeypatch):
    monkeypatch.setattr(execute, "rebuild_index", lambda outputs: None)
    (tmp_path / "notebook.ipynb").write_text("{}")

    def full(*a, **k):
        raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))

    monkeypatch.setattr(execute, "export_html", full)
    writer = _FullDiskWriter(_running(), fail=0)
    status, problem = execute._finish(tmp_path, writer, "ok", None, 1.0, False, tmp_path)
    assert status == "failed" and problem == "could not record the run: report.html: No space left on device"
    assert writer.written[-1]["status"] == "failed"


def test_an_unwritable_stage_folder_is_bad_input(tmp_path):
    (tmp_path / "tiny").write_text("a file where the stage folder should be")
    env = dict(os.environ, HW_OUTPUTS=str(tmp_path), HW_PROJECT=str(ROOT / "tests" / "project"))
    proc = subprocess.run(
        [sys.executable, "-m", "hwutils", "run", "tiny"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert proc.returncode == 2
    assert proc.stderr.strip().splitlines() == [
        f"hw: error: stage folder {tmp_path / 'tiny'} is not a folder"
    ]
    if os.geteuid() != 0:  # root ignores permission bits
        (tmp_path / "tiny").unlink()
        (tmp_path / "tiny").mkdir(mode=0o500)
        proc = subprocess.run(
            [sys.executable, "-m", "hwutils", "run", "tiny"],
            cwd=ROOT,
            env=env,
            capture_output=True,
            text=True,
            timeout=60,
        )
        assert proc.returncode == 2 and "not writable" in proc.stderr


def test_an_exception_after_the_first_manifest_is_recorded_failed(tmp_path, monkeypatch):
    monkeypatch.setenv("HW_PROJECT", str(ROOT / "tests" / "project"))
    monkeypatch.setenv("HW_OUTPUTS", str(tmp_path))

    def broken(run_dir):
        raise RuntimeError("broke before papermill started")

    monkeypatch.setattr(execute, "_reserve_space", broken)
    result = execute.execute(execute.RunRequest("tiny", [], []))
    assert result.status == "failed" and result.exit_code == 1
    assert result.message.endswith("failed: RuntimeError: broke before papermill started")
    recorded = json.loads((result.run_dir / "manifest.json").read_text())
    assert recorded["status"] == "failed" and recorded["end"]
    assert [index.status_of(r) for r in index.all_runs(tmp_path)] == ["failed"]
