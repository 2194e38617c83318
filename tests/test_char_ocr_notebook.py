"""End to end: the notebook on smoke params through ``hw run``."""

import json

import pytest
from conftest import only_run_dir, run_smoke, write_idx


def _word_folder(tmp_path, n: int):
    """``tmp_path/words`` holding ``n`` synthetic word images ``wNN.png``: the
    folder, their labels and the CSV rows (header first) that list them."""
    from PIL import Image

    from hwutils.ocr import data as D

    words = tmp_path / "words"
    words.mkdir()
    images, labels = D.compose_words(D.synthetic_chars("ABEILMNORSTU", 4, seed=3), n, seed=3)
    rows = ["FILENAME,IDENTITY"]
    for k, (img, label) in enumerate(zip(images, labels)):
        Image.fromarray(img).save(words / f"w{k:02d}.png")
        rows.append(f"w{k:02d}.png,{label}")
    return words, labels, rows


@pytest.mark.slow
def test_smoke_run(hw):
    run, metrics = run_smoke(hw, "char_ocr")
    for key in ("char_accuracy", "cer", "word_accuracy", "classes_real", "classes_synthetic_only"):
        assert key in metrics
    assert metrics["classes_real"] == "0123456789"
    assert metrics["classes_synthetic_only"] == "ABCDEFGHIJKLMNOPQRSTUVWXYZ"
    figures = {p.stem for p in (run / "artifacts/figures").glob("*.png")}
    assert {"training_curves", "confusion_matrix", "per_class_accuracy", "word_00"} <= figures
    from hwutils.ocr.read import load_reader

    reader = load_reader(run)
    assert reader.read_word(__import__("numpy").full((30, 80), 255, "uint8"), blank="empty").text == ""
    # the CTC reader, measured on the same words, and the reader hw read uses, chosen on validation words
    for key in ("cer_ctc", "word_accuracy_ctc", "val_cer", "val_cer_ctc", "ctc_train_seconds"):
        assert key in metrics
    assert (
        metrics["reader_chosen"] in ("segmentation", "ctc", "combined") and metrics["val_words_scored"] == 10
    )
    # the combined reader: its weight chosen on the validation words, measured on the same words
    for key in ("cer_combined", "word_accuracy_combined", "val_cer_combined", "combined_weight"):
        assert key in metrics
    choice = json.loads((run / "artifacts/reader_choice.json").read_text())
    assert choice["reader"] == metrics["reader_chosen"]
    results = json.loads((run / "metrics.json").read_text())["_results"]
    ctc_rows = [r for r in results if "CTC reader" in r["name"]]
    assert len(ctc_rows) == 4  # word accuracy and CER, against each yardstick
    assert {r["yardstick"] for r in ctc_rows} == {
        "geometry-only segmentation",
        "the full segmentation reader",
    }
    from hwutils import apply

    word = __import__("numpy").full((40, 120), 255, "uint8")
    word[10:30, 20:26] = 0
    word[10:30, 60:66] = 0
    path = run / "w.png"
    __import__("PIL.Image").Image.fromarray(word).save(path)
    res = apply.read(run, [str(path)], reader="ctc")
    assert res.rows[0]["reader"] == "ctc" and res.notes == ["reader: ctc"]
    res = apply.read(run, [str(path)], reader="combined")
    assert res.rows[0]["reader"] == "combined"
    combined_rows = [r for r in results if "combined reader" in r["name"]]
    assert {r["yardstick"] for r in combined_rows} == {"the full segmentation reader"}
    res = apply.read(run, [str(path)])
    assert res.rows[0]["reader"] == metrics["reader_chosen"] and "choice" in res.notes[0]


def _idx_digits(folder):
    """Train and test IDX files of bar "digits" (60 and 17 images) in ``folder``;
    returns the ``-p`` arguments that name them."""
    import numpy as np

    rng = np.random.default_rng(0)
    for name, n in (("train", 60), ("test", 17)):
        labels = rng.integers(0, 10, n)
        images = np.zeros((n, 28, 28), np.uint8)
        for k, v in enumerate(labels):  # a bar whose position encodes the digit
            images[k, 4:24, 2 + 2 * v : 5 + 2 * v] = 255
        write_idx(folder / f"{name}-images.gz", images)
        write_idx(folder / f"{name}-labels.gz", labels)
    args = []
    for param, name in (
        ("digits_images", "train-images"),
        ("digits_labels", "train-labels"),
        ("digits_test_images", "test-images"),
        ("digits_test_labels", "test-labels"),
    ):
        args += ["-p", param, str(folder / f"{name}.gz")]
    return args


@pytest.mark.slow
def test_user_data_idx_digits_labelled_words_and_a_language_model(hw, tmp_path):
    """One run on a user's own data: IDX digits tested on another file (with
    elastic augmentation), labelled words harvested for letters, and the words
    read with a language model; then the parameters each of them refuses."""
    import numpy as np
    from PIL import Image

    words, labels, rows = _word_folder(tmp_path, 16)
    rows.append("w99.png,EMPTY")
    Image.fromarray(np.full((40, 90), 255, np.uint8)).save(words / "w99.png")
    (words / "labels.csv").write_text("\n".join(rows) + "\n")
    # user data handling, not the CTC reader (the shared smoke run trains that): no CTC training here
    common = ["run", "char_ocr", "-f", "params/char_ocr/smoke.yaml", "-p", "ctc_words", "0"]
    user_data = [
        *("-p", "read_charset", "ABCDEFGHIJKLMNOPQRSTUVWXYZ"),
        *("-p", "words_csv", str(words / "labels.csv")),
        *("-p", "harvest_fraction", "0.5", "-p", "lm_weight", "0.5"),
        *("-p", "digits", "idx", *_idx_digits(tmp_path), "-p", "elastic", "1.0"),
    ]
    proc = hw(*common, *user_data)
    assert proc.returncode == 0, proc.stderr[-3000:]
    run = only_run_dir(hw.outputs, "char_ocr")
    metrics = json.loads((run / "metrics.json").read_text())
    assert metrics["mnist_test_digits"] == 17  # the whole other file, none of the training file
    assert 0 <= metrics["mnist_accuracy"] <= 1
    assert metrics["words_source"] == "labelled" and metrics["words_scored"] >= 1
    assert 0 <= metrics["cer_without_lm"] <= 1 and 0 <= metrics["cer"] <= 1
    saved = json.loads((run / "artifacts/reader.json").read_text())
    assert saved["lm_weight"] == 0.5 and saved["language_model"]["counts"]
    bad = hw(*common, "-p", "lm_weight", "0.5", outputs=tmp_path / "bad")  # a language model needs words
    assert bad.returncode != 0 and "lm_weight" in bad.stderr
    bad = hw(*common, "-p", "elastic", "-2", outputs=tmp_path / "bad")
    assert bad.returncode != 0 and "elastic" in bad.stderr


@pytest.mark.slow
def test_unreadable_listed_words_are_counted_and_all_unreadable_fails_before_training(hw, tmp_path):
    import csv

    words, labels, rows = _word_folder(tmp_path, 6)
    (words / "w02.png").write_bytes(b"")  # zero bytes, in the middle
    (words / "w04.png").unlink()  # w04.png is listed but missing
    rows.append("w99.png")  # a row shorter than the header
    (words / "labels.csv").write_text("\n".join(rows) + "\n")
    common = ["run", "char_ocr", "-f", "params/char_ocr/smoke.yaml", "-p", "n_sample_words", "6"]
    common += ["-p", "ctc_words", "0"]  # listed-word handling, not the CTC reader

    # none readable: one line naming the CSV, before any training
    (tmp_path / "none").mkdir()
    (tmp_path / "none" / "labels.csv").write_text("FILENAME,IDENTITY\na.png,ANNA\nb.png,BOB\n")
    bad = hw(*common, "-p", "words_csv", str(tmp_path / "none" / "labels.csv"), outputs=tmp_path / "bad")
    assert bad.returncode == 1, bad.stderr[-3000:]  # a run that started and failed (hw's EXIT_FAILED)
    last = bad.stderr.strip().splitlines()[-1]
    assert (
        "raised DataError: " in last
        and "labels.csv: none of the 2 word images listed could be read (first: " in last
    )
    assert (
        "a.png: no such image file); " in last
        and "no image files, only 1 other file(s) such as labels.csv" in last
    )
    assert not list((tmp_path / "bad").rglob("training_curves.png"))

    proc = hw(*common, "-p", "words_csv", str(words / "labels.csv"))
    assert proc.returncode == 0, proc.stderr[-3000:]
    run = only_run_dir(hw.outputs, "char_ocr")
    metrics = json.loads((run / "metrics.json").read_text())
    assert (
        metrics["unreadable_files"] == 2 and metrics["words_scored"] == 4 and metrics["csv_rows_skipped"] == 1
    )
    with open(run / "artifacts/word_readings.csv", newline="") as fh:
        table = list(csv.DictReader(fh))
    assert [(r["file"], r["label"]) for r in table] == [(f"w{k:02d}.png", labels[k]) for k in range(6)]
    assert [r["kind"] for r in table] == [
        "word",
        "word",
        "unreadable_file",
        "word",
        "unreadable_file",
        "word",
    ]
    assert "empty file (0 bytes)" in table[2]["error"] and "no such image file" in table[4]["error"]
    figures = sorted(p.stem for p in (run / "artifacts/figures").glob("word_*.png"))
    assert figures == ["word_00", "word_01", "word_02", "word_03"]  # the four readable words, none unreadable
