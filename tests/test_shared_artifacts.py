"""hwutils.artifacts: a run's models, configs and arrays load safely (nothing
unpickled, no Lambda code run) or fail with one line naming the file; every
save is atomic."""

import json
import os
import zipfile

import keras
import numpy as np
import pytest

from hwutils import artifacts as A
from hwutils import training
from hwutils.errors import ArtifactError, HwError


def _tiny_model():
    inp = keras.Input((3,))
    return keras.Model(inp, keras.layers.Dense(2, name="out")(inp))


def test_save_and_load_keras_round_trip(tmp_path):
    model = _tiny_model()
    path = A.save_keras(model, tmp_path / "sub" / "m.keras")
    assert path == tmp_path / "sub" / "m.keras" and path.is_file()
    assert sorted(p.name for p in path.parent.iterdir()) == ["m.keras"]  # no temporary left behind
    loaded = A.load_keras(path)
    x = np.ones((1, 3), np.float32)
    np.testing.assert_array_equal(loaded(x), model(x))
    assert issubclass(ArtifactError, HwError)


def test_save_keras_is_atomic_a_failed_save_leaves_the_old_model(tmp_path, monkeypatch):
    path = A.save_keras(_tiny_model(), tmp_path / "m.keras")
    before = path.read_bytes()

    def disk_full(self, filepath, *a, **kw):
        with open(filepath, "wb") as fh:
            fh.write(b"PK\x03\x04 half a zip")
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(keras.Model, "save", disk_full)
    with pytest.raises(OSError, match="No space left"):
        A.save_keras(_tiny_model(), path)
    assert path.read_bytes() == before  # the final name still holds the whole old model
    assert sorted(p.name for p in tmp_path.iterdir()) == ["m.keras"]
    with pytest.raises(OSError, match="No space left"):
        training.save_model(_tiny_model(), tmp_path / "new.keras")
    assert not (tmp_path / "new.keras").exists()


@pytest.mark.parametrize("content,expected", [
    (b"", r"empty file \(0 bytes\)"),
    (b"this is not a model", "not a .keras model file"),
    (None, "truncated or corrupt"),  # the first half of a real model
])
def test_corrupt_keras_files_are_named(tmp_path, content, expected):
    path = tmp_path / "model.keras"
    if content is None:
        A.save_keras(_tiny_model(), path)
        data = path.read_bytes()
        path.write_bytes(data[: len(data) // 2])
    else:
        path.write_bytes(content)
    for load in (A.load_keras, training.load_model):
        with pytest.raises(ArtifactError, match=expected) as err:
            load(path)
        assert str(err.value).startswith(f"{path}: ")


def test_missing_keras_file_and_folder(tmp_path):
    with pytest.raises(ArtifactError, match=f"^{tmp_path / 'nope.keras'}: missing$"):
        A.load_keras(tmp_path / "nope.keras")
    (tmp_path / "dir.keras").mkdir()
    with pytest.raises(ArtifactError, match="is a folder"):
        A.load_keras(tmp_path / "dir.keras")


def test_a_keras_zip_without_its_config_is_named(tmp_path):
    path = tmp_path / "m.keras"
    with zipfile.ZipFile(path, "w") as z:
        z.writestr("metadata.json", "{}")
    with pytest.raises(ArtifactError, match=f"^{path}: not a Keras model"):
        A.load_keras(path)


def test_lambda_layers_are_refused_and_their_code_never_runs(tmp_path, monkeypatch):
    marker = tmp_path / "ran.txt"
    code = f"lambda x: (open({str(marker)!r}, 'w').write('ran'), x)[1]"
    model = keras.Sequential([keras.Input((2,)), keras.layers.Lambda(eval(code))])
    model(np.ones((1, 2), np.float32))  # building runs the lambda once here, on purpose
    assert marker.is_file()
    marker.unlink()
    path = tmp_path / "lambda.keras"
    model.save(path)
    for load in (A.load_keras, training.load_model):
        with pytest.raises(ArtifactError, match="Lambda layer .*refused") as err:
            load(path)
        assert str(path) in str(err.value)
    assert not marker.exists()  # the lambda's code never ran
    # keras' own safe_mode stays on behind the scan of config.json: with the scan fooled, still refused
    monkeypatch.setattr(A, "_unsafe_objects", lambda config: [])
    with pytest.raises(ArtifactError, match="refused"):
        A.load_keras(path)
    assert not marker.exists()


def test_load_json_names_the_file_and_what_is_wrong(tmp_path):
    good = tmp_path / "good.json"
    good.write_text('{"a": 1, "b": [2]}')
    assert A.load_json(good, required=("a",)) == {"a": 1, "b": [2]}
    cases = {"bad.json": ('{"a": 1,', "not valid JSON"), "list.json": ("[1, 2]", "expected a JSON object, got a list"),
             "empty.json": ("", "empty file"), "bytes.json": (b"\xff\xfe\x00", "not valid JSON")}
    for name, (text, expected) in cases.items():
        path = tmp_path / name
        path.write_bytes(text if isinstance(text, bytes) else text.encode())
        with pytest.raises(ArtifactError, match=expected) as err:
            A.load_json(path)
        assert str(err.value).startswith(f"{path}: ")
    with pytest.raises(ArtifactError, match=f"^{tmp_path / 'none.json'}: missing$"):
        A.load_json(tmp_path / "none.json")
    with pytest.raises(ArtifactError, match=f"^{good}: missing key 'threshold'$"):
        A.load_json(good, required=("a", "threshold"))


def test_npz_round_trip_missing_key_and_pickled_arrays(tmp_path):
    path = A.save_npz(tmp_path / "g.npz", a=np.arange(3), names=np.array('["x"]'))
    assert sorted(p.name for p in tmp_path.iterdir()) == ["g.npz"]
    data = A.load_npz(path, keys=("a", "names"))
    assert data["a"].tolist() == [0, 1, 2] and str(data["names"]) == '["x"]'
    assert set(A.load_npz(path)) == {"a", "names"}
    A.save_npz(tmp_path / "c.npz", compressed=True, a=np.ones(4))
    assert A.load_npz(tmp_path / "c.npz", keys=("a",))["a"].sum() == 4
    with pytest.raises(ArtifactError, match=f"^{path}: missing array 'centroids' \\(it holds: a, names\\)$"):
        A.load_npz(path, keys=("a", "centroids"))
    with pytest.raises(ValueError, match="object array"):
        A.save_npz(tmp_path / "o.npz", a=np.array([{"x": 1}], object))

    pickled = tmp_path / "pickled.npz"
    np.savez(pickled, a=np.array([{"x": 1}], object))  # numpy pickles object arrays
    for keys in (("a",), None):
        with pytest.raises(ArtifactError, match="pickled data is refused") as err:
            A.load_npz(pickled, keys=keys)
        assert str(pickled) in str(err.value)
    bad = tmp_path / "bad.npz"
    bad.write_bytes(b"not a zip at all")
    with pytest.raises(ArtifactError, match="not an .npz file"):
        A.load_npz(bad)
    (tmp_path / "zero.npz").write_bytes(b"")
    with pytest.raises(ArtifactError, match="empty file"):
        A.load_npz(tmp_path / "zero.npz")
    with pytest.raises(ArtifactError, match="missing$"):
        A.load_npz(tmp_path / "none.npz")


def test_npy_round_trip_and_pickled_npy(tmp_path):
    path = A.save_npy(tmp_path / "codes.npy", np.eye(2, dtype=np.float32))
    assert A.load_npy(path).tolist() == [[1, 0], [0, 1]]
    pickled = tmp_path / "p.npy"
    np.save(pickled, np.array([None, 1], object), allow_pickle=True)
    with pytest.raises(ArtifactError, match="pickled data is refused"):
        A.load_npy(pickled)
    junk = tmp_path / "junk.npy"
    junk.write_bytes(b"hello")
    with pytest.raises(ArtifactError, match="not an .npy file"):
        A.load_npy(junk)


def test_atomic_path_cleans_up_after_a_failure(tmp_path):
    target = tmp_path / "x.bin"
    target.write_bytes(b"old")
    with pytest.raises(RuntimeError):
        with A.atomic_path(target) as tmp:
            assert tmp.parent == tmp_path and tmp.name.endswith(".bin") and tmp != target
            tmp.write_bytes(b"ne")
            raise RuntimeError("killed")
    assert target.read_bytes() == b"old" and sorted(os.listdir(tmp_path)) == ["x.bin"]
    with A.atomic_path(target) as tmp:
        tmp.write_bytes(b"new")
    assert target.read_bytes() == b"new"
    assert oct(target.stat().st_mode & 0o777) == oct(0o666 & ~_umask())


def _umask():
    mask = os.umask(0)
    os.umask(mask)
    return mask


def test_config_json_written_by_report_loads(tmp_path):
    from hwutils.report import write_json_atomic

    write_json_atomic(tmp_path / "c.json", {"x": 1})
    assert A.load_json(tmp_path / "c.json") == {"x": 1}
    assert json.loads((tmp_path / "c.json").read_text()) == {"x": 1}
