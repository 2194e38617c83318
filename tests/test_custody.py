"""Chain of custody (hwutils.custody): a run records the sha256 and size of
its artifacts; a changed byte, a removed or an added file is found; every
apply command, the casework stage's run check and ``hw check`` refuse a
tampered run in one line; a NaN written into a calibration is an
ArtifactError naming the file and key, never an LR; --json is strict JSON."""

from __future__ import annotations

import json
import math
import shutil

import numpy as np
import pytest
from conftest import run_hw, run_smoke, smoke_outputs

from hwutils import apply, custody
from hwutils.calibration import LRCalibrator, verbal_scale
from hwutils.errors import ArtifactError, HwError


def _fake_run(root, stage: str = "writer_id"):
    run = root / stage / "20260101-000000-abcd"
    (run / "artifacts" / "sub").mkdir(parents=True)
    (run / "artifacts" / "model.bin").write_bytes(b"\x00\x01\x02weights")
    (run / "artifacts" / "sub" / "refs.json").write_text('{"a": 1}')
    (run / "metrics.json").write_text("{}")
    manifest = {"stage": stage, "run_id": run.name, "status": "ok", "start": "2026-01-01T00:00:00+00:00"}
    manifest["artifacts"] = custody.record(run)
    (run / "manifest.json").write_text(json.dumps(manifest))
    return run


def test_record_lists_every_artifact_with_sha256_and_size(tmp_path):
    run = _fake_run(tmp_path)
    rec = custody.recorded(run)
    assert sorted(rec) == ["artifacts/model.bin", "artifacts/sub/refs.json", "metrics.json"]
    assert rec["artifacts/model.bin"]["size"] == 10
    import hashlib

    assert rec["artifacts/model.bin"]["sha256"] == hashlib.sha256(b"\x00\x01\x02weights").hexdigest()
    assert custody.differences(run) == []
    custody.require_intact(run)  # no error


def test_one_changed_byte_a_removed_and_an_added_file_are_found(tmp_path):
    run = _fake_run(tmp_path)
    data = bytearray((run / "artifacts" / "model.bin").read_bytes())
    data[3] ^= 1  # same size, one bit
    (run / "artifacts" / "model.bin").write_bytes(bytes(data))
    (run / "artifacts" / "sub" / "refs.json").unlink()
    (run / "artifacts" / "extra.npz").write_bytes(b"x")
    (run / "artifacts" / ".extra.npz.abc.tmp.npz").write_bytes(b"half")  # a write in progress: ignored
    found = {d.path: d.what for d in custody.differences(run)}
    assert found == {
        "artifacts/model.bin": "changed",
        "artifacts/sub/refs.json": "missing",
        "artifacts/extra.npz": "added",
    }
    with pytest.raises(ArtifactError, match=r"extra\.npz: added since the run recorded it; 2 more"):
        custody.require_intact(run)


def test_a_run_without_a_record_is_said_so(tmp_path):
    run = _fake_run(tmp_path)
    m = json.loads((run / "manifest.json").read_text())
    del m["artifacts"]
    (run / "manifest.json").write_text(json.dumps(m))
    assert custody.recorded(run) is None
    custody.require_intact(run)  # nothing to verify against: passes
    with pytest.raises(ArtifactError, match="recorded no artifact hashes"):
        custody.differences(run)
    m["artifacts"] = ["not", "a", "record"]
    (run / "manifest.json").write_text(json.dumps(m))
    with pytest.raises(ArtifactError, match="not a record of files"):
        custody.recorded(run)


@pytest.mark.parametrize(
    "stage, call",
    [
        ("writer_id", lambda run, img, tmp: apply.identify(run, [img])),
        ("signatures", lambda run, img, tmp: apply.verify(run, [img], [img])),
        ("signatures", lambda run, img, tmp: apply.screen(run, [img])),
        ("char_ocr", lambda run, img, tmp: apply.read(run, [img])),
        ("single_image_vae", lambda run, img, tmp: apply.generate(run, 2, tmp / "out")),
    ],
)
def test_every_apply_command_refuses_a_changed_artifact(tmp_path, stage, call):
    run = _fake_run(tmp_path, stage)
    img = tmp_path / "x.png"
    from PIL import Image

    Image.fromarray(np.pad(np.full((20, 60), 0, np.uint8), 10, constant_values=255)).save(img)
    (run / "artifacts" / "model.bin").write_bytes(b"\x00\x01\x02weightS")
    with pytest.raises(ArtifactError, match=r"artifacts/model\.bin: changed since the run recorded it"):
        call(run, str(img), tmp_path)
    assert not (tmp_path / "out").exists()


def test_hw_check_exit_status_and_lines(tmp_path):
    run = _fake_run(tmp_path)
    proc = run_hw("check", run, outputs=tmp_path)
    assert proc.returncode == 0 and "intact, 3 recorded files" in proc.stdout, proc.stderr
    (run / "metrics.json").write_text('{"top1": 1.0}')
    (run / "artifacts" / "sub" / "refs.json").unlink()
    proc = run_hw("check", run, "--json", outputs=tmp_path)
    assert proc.returncode == 1
    data = json.loads(proc.stdout)
    assert data["intact"] is False
    assert {d["path"]: d["what"] for d in data["differences"]} == {
        "artifacts/sub/refs.json": "missing",
        "metrics.json": "changed",
    }
    proc = run_hw("check", tmp_path / "nowhere", outputs=tmp_path)
    assert proc.returncode == 2 and len(proc.stderr.strip().splitlines()) == 1


def test_a_nan_or_absurd_calibration_is_an_artifact_error_naming_the_key(tmp_path):
    cal = LRCalibrator().fit(np.r_[np.linspace(0, 1, 20), np.linspace(0.6, 2, 20)], np.r_[[0] * 20, [1] * 20])
    d = cal.to_dict()
    cal.save(tmp_path / "ok.json")
    assert LRCalibrator.load(tmp_path / "ok.json").coef == pytest.approx(cal.coef)
    for key, value, words in [
        ("coef", float("nan"), "key 'coef'"),
        ("intercept", float("inf"), "key 'intercept'"),
        ("bounds", [3.0, -3.0], "key 'bounds'"),
        ("bounds", [-1.0, 1e9], "key 'bounds'"),
    ]:
        bad = tmp_path / f"bad_{key}.json"
        bad.write_text(json.dumps({**d, key: value}))  # json writes NaN as the (invalid) token NaN
        with pytest.raises(ArtifactError, match=f"bad_{key}.json: {words}"):
            LRCalibrator.load(bad)


def test_verbal_scale_of_a_non_finite_value_claims_nothing():
    assert "support" not in verbal_scale(float("nan")) and "no valid" in verbal_scale(float("nan"))


def test_print_json_is_strict(capsys):
    from hwutils.cli import print_json

    print_json({"log10_lr": float("nan"), "lr": float("inf"), "rows": [np.float64("nan"), 1.5]})
    out = capsys.readouterr().out
    assert "NaN" not in out and "Infinity" not in out
    assert json.loads(out) == {"log10_lr": None, "lr": None, "rows": [None, 1.5]}


# --- on real runs (the session's smoke runs, copied before they are changed) -------------------


@pytest.mark.slow
def test_real_writer_run_records_its_artifacts_and_refuses_tampering(tmp_path):
    from hwutils import casework

    run, _ = run_smoke(None, "writer_id")
    assert custody.differences(run) == []
    rec = custody.recorded(run)
    assert "artifacts/model.keras" in rec and "artifacts/lr_calibration.json" in rec
    copy = shutil.copytree(run, tmp_path / "writer_id" / run.name)
    line = sorted((copy / "artifacts" / "synthetic_iam" / "lines").glob("*/*/*.png"))[0]

    # one byte of the model changed: refused by identify, casework and hw check (exit 2 / 1)
    model = copy / "artifacts" / "model.keras"
    data = bytearray(model.read_bytes())
    data[len(data) // 2] ^= 0xFF
    model.write_bytes(bytes(data))
    with pytest.raises(ArtifactError, match=r"model\.keras: changed since the run recorded it"):
        apply.identify(copy, [str(line)], lines=True)
    with pytest.raises(HwError, match=r"model\.keras: changed"):
        casework.resolve_writer_run(copy)
    proc = run_hw("identify", copy, "--lines", line, "--json", outputs=smoke_outputs())
    assert proc.returncode == 2 and proc.stdout == "" and "model.keras: changed" in proc.stderr
    assert len(proc.stderr.strip().splitlines()) == 1
    assert run_hw("check", copy, outputs=smoke_outputs()).returncode == 1
    proc = run_hw("run", "writer_casework", "-p", "writer_run", copy, outputs=tmp_path / "out")
    assert proc.returncode == 2 and "model.keras: changed" in proc.stderr
    assert len(proc.stderr.strip().splitlines()) == 1 and not (tmp_path / "out" / "writer_casework").exists()
    shutil.copy2(run / "artifacts" / "model.keras", model)

    # the calibration removed: refused
    cal = copy / "artifacts" / "lr_calibration.json"
    saved = cal.read_text()
    cal.unlink()
    with pytest.raises(ArtifactError, match=r"lr_calibration\.json: missing"):
        apply.identify(copy, [str(line)], lines=True)

    # a NaN coefficient written as if by the run itself (record updated): never an LR
    d = json.loads(saved)
    d["units"]["line"]["calibrator"]["coef"] = float("nan")
    cal.write_text(json.dumps(d))
    m = json.loads((copy / "manifest.json").read_text())
    m["artifacts"] = custody.record(copy)
    (copy / "manifest.json").write_text(json.dumps(m))
    with pytest.raises(ArtifactError, match=r"lr_calibration\.json: units\.line: .*key 'coef'"):
        apply.identify(copy, [str(line)], lines=True)
    proc = run_hw("identify", copy, "--lines", line, "--json", outputs=smoke_outputs())
    assert proc.returncode == 2 and "NaN" not in proc.stdout and "key 'coef'" in proc.stderr


@pytest.mark.slow
def test_identify_json_of_an_intact_run_is_strict_json(tmp_path):
    run, _ = run_smoke(None, "writer_id")
    line = sorted((run / "artifacts" / "synthetic_iam" / "lines").glob("*/*/*.png"))[0]
    proc = run_hw("identify", run, "--lines", line, "--json", outputs=smoke_outputs())
    assert proc.returncode == 0, proc.stderr

    def strict(token):
        raise ValueError(f"not strict JSON: {token}")

    data = json.loads(proc.stdout, parse_constant=strict)
    assert all(math.isfinite(r["log10_lr"]) for r in data["results"])
