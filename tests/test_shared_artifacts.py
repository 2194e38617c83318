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


@pytest.mark.parametrize(
    "content,expected",
    [
        (b"", r"empty file \(0 bytes\)"),
        (b"this is not a model", "not a .keras model file"),
        (None, "truncated or corrupt"),  # the first half of a real model
    ],
)
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
    cases = {
        "bad.json": ('{"a": 1,', "not valid JSON"),
        "list.json": ("[1, 2]", "expected a JSON object, got a list"),
        "empty.json": ("", "empty file"),
        "bytes.json": (b"\xff\xfe\x00", "not valid JSON"),
    }
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


# ------------------------------------------------------------------ the stage loaders
@pytest.fixture(scope="module")
def writer_run(tmp_path_factory):
    """A writer_id run folder with a tiny untrained model, its config and gallery."""
    from hwutils.writer_id import enrol, identify, models

    m = models.build_model("half_deepwriter", 3, height=24, width=0.1)
    g = enrol.Gallery.from_embeddings(
        np.random.default_rng(0).random((3, m.get_layer("embedding").units)), ["a", "b", "c"]
    )
    run = tmp_path_factory.mktemp("writer_run")
    identify.save_for_identification(run / "artifacts", m, ["a", "b", "c"], 24, 24, 0, 0.5, g)
    return run


def _copy_run(src, dst):
    import shutil

    shutil.copytree(src, dst)
    return dst, dst / "artifacts"


def test_writer_identifier_load_names_each_bad_artifact(writer_run, tmp_path):
    from hwutils.writer_id.identify import WriterIdentifier

    assert WriterIdentifier.load(writer_run).writers == ["a", "b", "c"]
    assert sorted(p.name for p in (writer_run / "artifacts").iterdir()) == [
        "gallery.npz",
        "model.keras",
        "writer_id.json",
    ]
    run, art = _copy_run(writer_run, tmp_path / "bad_json")
    (art / "writer_id.json").write_text('{"writers": ["a", "b", "c"], "height": 24')
    with pytest.raises(ArtifactError, match=f"^{art / 'writer_id.json'}: not valid JSON"):
        WriterIdentifier.load(run)
    cfg = json.loads((writer_run / "artifacts" / "writer_id.json").read_text())
    del cfg["threshold"]
    (art / "writer_id.json").write_text(json.dumps(cfg))
    with pytest.raises(ArtifactError, match=f"^{art / 'writer_id.json'}: missing key 'threshold'$"):
        WriterIdentifier.load(run)

    run, art = _copy_run(writer_run, tmp_path / "bad_model")
    (art / "model.keras").write_bytes(b"")
    with pytest.raises(ArtifactError, match=f"^{art / 'model.keras'}: empty file"):
        WriterIdentifier.load(run)
    (art / "model.keras").unlink()
    with pytest.raises(ArtifactError, match=f"^{art / 'model.keras'}: missing$"):
        WriterIdentifier.load(run)

    run, art = _copy_run(writer_run, tmp_path / "pickled_gallery")
    np.savez(art / "gallery.npz", names=np.array([["a"], "b", None], object), centroids=np.zeros((3, 4)))
    with pytest.raises(ArtifactError, match=f"^{art / 'gallery.npz'}: .*pickled data is refused"):
        WriterIdentifier.load(run)
    np.savez(art / "gallery.npz", names=np.array('["a", "b", "c"]'))
    with pytest.raises(ArtifactError, match="missing array 'centroids'"):
        WriterIdentifier.load(run)
    np.savez(art / "gallery.npz", names=np.array("not json"), centroids=np.zeros((3, 4)))
    with pytest.raises(ArtifactError, match="'names' is not a JSON list"):
        WriterIdentifier.load(run)
    np.savez(art / "gallery.npz", names=np.array('["a", "b"]'), centroids=np.zeros((3, 4)))
    with pytest.raises(ArtifactError, match="'centroids' has shape \\(3, 4\\)"):
        WriterIdentifier.load(run)
    np.savez(art / "texture.npz", mean=np.zeros(3))
    (art / "gallery.npz").unlink()
    with pytest.raises(ArtifactError, match=f"^{art / 'texture.npz'}: missing array 'scale'"):
        WriterIdentifier.load(run)


def test_verifier_screener_reader_and_vae_loaders_name_bad_artifacts(tmp_path):
    from hwutils.ocr.read import load_reader
    from hwutils.signatures.screening import Screener
    from hwutils.signatures.verify import load_verifier
    from hwutils.vae.model import load_vae

    ver = tmp_path / "verifier"
    ver.mkdir()
    (ver / "verifier.json").write_text("[]")
    with pytest.raises(ArtifactError, match=f"^{ver / 'verifier.json'}: expected a JSON object, got a list$"):
        load_verifier(ver)
    (ver / "verifier.json").write_text('{"height": 10, "width": 20}')
    with pytest.raises(ArtifactError, match="missing key 'threshold'"):
        load_verifier(ver)
    (ver / "verifier.json").write_text('{"threshold": 1, "height": 10, "width": 20, "scales": {"hog": 1}}')
    A.save_keras(_tiny_model(), ver / "tower.keras")
    np.save(ver / "negatives_hog.npy", np.array([None], object), allow_pickle=True)
    with pytest.raises(ArtifactError, match=f"^{ver / 'negatives_hog.npy'}: .*pickled data is refused"):
        load_verifier(ver)

    scr = tmp_path / "screener"
    scr.mkdir()
    (scr / "screener.json").write_text("{not json")
    with pytest.raises(ArtifactError, match=f"^{scr / 'screener.json'}: not valid JSON"):
        Screener.load(scr)
    (scr / "screener.json").write_text(
        json.dumps(
            {
                "height": 16,
                "width": 32,
                "latent_dim": 4,
                "votes": 2,
                "seed": 0,
                "thresholds": {"reconstruction_error": 1},
            }
        )
    )
    with pytest.raises(ArtifactError, match="screener.json \\(thresholds\\): missing key 'isolation_score'"):
        Screener.load(scr)

    run = tmp_path / "ocr_run" / "artifacts"
    run.mkdir(parents=True)
    (run / "ocr_classifier.keras").write_bytes(b"PK\x03\x04 not really")
    (run / "reader.json").write_text('{"classes": ')
    with pytest.raises(ArtifactError, match=f"^{run / 'reader.json'}: not valid JSON"):
        load_reader(run.parent)
    (run / "reader.json").write_text('{"language_model": {"tokens": "x"}}')
    with pytest.raises(ArtifactError, match="reader.json: 'language_model': character bigram"):
        load_reader(run.parent)
    (run / "reader.json").write_text("{}")
    with pytest.raises(ArtifactError, match=f"^{run / 'ocr_classifier.keras'}: not a .keras model file"):
        load_reader(run.parent)

    with pytest.raises(ArtifactError, match=f"^{tmp_path / 'vae_run'}: no such run folder$"):
        load_vae(tmp_path / "vae_run")
    (tmp_path / "vae_run" / "artifacts").mkdir(parents=True)
    with pytest.raises(
        ArtifactError, match="vae_run: not a single_image_vae run folder \\(no artifacts/vae.keras"
    ):
        load_vae(tmp_path / "vae_run")


def test_nothing_loads_unsafely_or_saves_around_the_safe_helpers():
    """A scan of the package and the notebooks: models, arrays and YAML load only
    through the safe paths; arrays and models save only through hwutils.artifacts."""
    import re
    from pathlib import Path

    import nbformat

    root = Path(__file__).resolve().parents[1]
    sources = {p: p.read_text() for p in (root / "hwutils").rglob("*.py")}
    for nb in (root / "notebooks").glob("*.ipynb"):
        sources[nb] = "\n".join(c.source for c in nbformat.read(nb, 4).cells if c.cell_type == "code")
    never = re.compile(
        r"allow_pickle\s*=\s*True|safe_mode\s*=\s*False|enable_unsafe_deserialization|"
        r"import pickle|yaml\.load\(|yaml\.unsafe_load|cloudpickle|joblib\.load"
    )
    only_in_artifacts = re.compile(
        r"np\.load\(|np\.save\(|np\.savez|keras\.saving\.load_model|"
        r"keras\.models\.load_model|\bmodel\.save\("
    )
    found = []
    for path, text in sources.items():
        rel = path.relative_to(root).as_posix()
        for n, line in enumerate(text.splitlines(), 1):
            if never.search(line) or (only_in_artifacts.search(line) and rel != "hwutils/artifacts.py"):
                found.append(f"{rel}:{n}: {line.strip()}")
    assert found == []


def test_no_hwutils_module_turns_on_truncated_image_loading():
    import importlib
    import pkgutil

    from PIL import ImageFile

    import hwutils

    for mod in pkgutil.walk_packages(hwutils.__path__, "hwutils."):
        if not mod.name.endswith("__main__"):
            importlib.import_module(mod.name)
    assert ImageFile.LOAD_TRUNCATED_IMAGES is False
