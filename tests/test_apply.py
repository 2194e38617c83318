"""hw identify / verify / read / screen / generate on the session's smoke runs
(tests/conftest.py: run_smoke), with bad input. The library calls run in
this process (one TensorFlow start); the command line is checked for its
table, JSON, exit status and one-line errors."""

from __future__ import annotations

import json
import shutil

import numpy as np
import pytest
from conftest import run_hw, run_smoke, smoke_outputs
from PIL import Image

from hwutils import apply
from hwutils.errors import HwError

pytestmark = pytest.mark.slow


def _png(path, gray) -> str:
    Image.fromarray(np.asarray(gray, np.uint8)).save(path)
    return str(path)


@pytest.fixture(scope="module")
def writer_run(tmp_path_factory):
    run, _ = run_smoke(None, "writer_id")
    return run


def _lines(run, form_index: int = 0, n: int = 3) -> list:
    forms = sorted(p for p in (run / "artifacts" / "synthetic_iam" / "lines").glob("*/*") if p.is_dir())
    return sorted(forms[form_index].glob("*.png"))[:n]


def test_identify_lines_and_page_give_ranked_writers_with_lrs(writer_run, tmp_path):
    lines = _lines(writer_run)
    res = apply.identify(writer_run, lines[:2], lines=True, top=3)
    assert [r["rank"] for r in res.rows] == [1, 2, 3, 1, 2, 3]
    for r in res.rows:
        assert np.isfinite(r["log10_lr"]) and r["lr_unit"] == "line"
        assert r["lr"] == pytest.approx(10 ** r["log10_lr"])
        assert r["support"]
    first = [r for r in res.rows if r["image"] == str(lines[0])]
    # ranked by the calibrated evidence, enrolled writers included (the classifier knows only its own)
    assert first[0]["log10_lr"] >= first[1]["log10_lr"] >= first[2]["log10_lr"]
    assert any(n.startswith("writers ranked by log10 LR") for n in res.notes)

    from hwutils.casework import compose_page
    from hwutils.images import as_gray

    page = _png(tmp_path / "page.png", compose_page([as_gray(p) for p in lines]))
    res = apply.identify(writer_run, [page], top=2)
    assert len(res.rows) == 2 and res.rows[0]["lines"] == len(lines)
    assert "log10 LR" in res.table() and "page.png" in res.table()
    # a page shorter than the calibration writers' pages is judged by the page calibration of its own size
    # (the smoke run holds out 2 writers with 4-line pages: sizes 2 and 3 besides 4), with no caveat
    from hwutils.writer_id.lr import LRModel

    model = LRModel.load(writer_run / "artifacts")
    assert model.scorers["page"].calibrator.conditions["page_lines"] == 4
    assert sorted(model.scorers) == ["line", "page", "page:2", "page:3"]
    assert res.rows[0]["lr_unit"] == "page:3"
    assert any("per 3-line page, on held-out calibration writers: pages of 3 lines" in n for n in res.notes)
    short = _png(tmp_path / "short.png", compose_page([as_gray(p) for p in lines[:2]]))
    said = apply.identify(writer_run, [short])
    assert said.rows[0]["lines"] == 2 and said.rows[0]["lr_unit"] == "page:2"
    assert not any("caveat" in n for n in said.notes + res.notes)


def test_identify_warns_on_writing_at_another_resolution(writer_run, tmp_path):
    """A page and a line of the run's own writers as scanned get no caveat; the
    same at half the resolution get one naming what lies outside the run's
    development lines (in --json too), and are still identified."""
    from hwutils.casework import compose_page
    from hwutils.images import as_gray
    from hwutils.writer_id.conditions import resampled

    lines = [as_gray(p) for p in _lines(writer_run)]
    page = _png(tmp_path / "page.png", compose_page(lines))
    small = _png(tmp_path / "small.png", compose_page([resampled(g, 0.5) for g in lines]))
    line = _png(tmp_path / "line.png", resampled(lines[0], 0.5))
    assert not any("caveat" in n for n in apply.identify(writer_run, [page]).notes)
    res = apply.identify(writer_run, [small])
    said = [n for n in res.notes if n.startswith(f"{small}: caveat: outside the conditions")]
    assert len(said) == 1 and f"the document (median of {len(lines)} lines): " in said[0]
    assert "writing height" in said[0] and "development writers" in said[0]
    row = json.loads(json.dumps(res.to_dict(), allow_nan=False))["results"][0]
    assert row["outside_conditions"] and row["writer"]
    one = apply.identify(writer_run, [line], lines=True)
    assert any("the line: " in n and "development lines" in n for n in one.notes)


def test_identify_ranks_by_lr_so_an_enrolled_writer_is_shown():
    """The classifier ranks only the writers it was trained on; a writer
    enrolled after training has an LR but no classifier score, and is shown
    where their LR puts them (ties by the classifier's score); without LRs the
    classifier's ranking stays."""
    from hwutils.writer_id.identify import Identification

    res = Identification(
        ranking=[("a", 0.7), ("b", 0.2), ("c", 0.1)],
        similarity=0.9,
        known=True,
        gallery_ranking=[],
        n_lines=3,
        n_windows=9,
        log10_lr=[("enrolled", 2.5), ("b", 1.0), ("c", 1.0), ("a", -1.0)],
    )
    assert apply._ranked(res) == [("enrolled", None), ("b", 0.2), ("c", 0.1), ("a", 0.7)]
    res.log10_lr = None
    assert apply._ranked(res) == [("a", 0.7), ("b", 0.2), ("c", 0.1)]


def test_the_lr_summary_says_none_one_or_several_writers_are_supported():
    assert apply.lr_summary(None) is None and apply.lr_summary([]) is None
    none = apply.lr_summary([("a", -1.5), ("b", -0.2)])
    assert none == "by the LRs no writer with a reference is supported (largest log10 LR -0.20, writer b)"
    assert apply.lr_summary([("a", 2.0), ("b", -1.0)]) == "by the LRs only writer a (+2.00) is supported"
    twins = apply.lr_summary([("a", 3.08), ("b", 3.08), ("c", 1.2), ("d", -1.0)])
    assert twins == (
        "by the LRs 3 writers are supported: a (+3.08), b (+3.08), c (+1.20); the evidence does not single one out"
    )
    apart = apply.lr_summary([("a", 3.0), ("b", 0.5)])
    assert apart.startswith("by the LRs 2 writers are supported") and "single" not in apart
    many = apply.lr_summary([(str(i), 1.0 + 0.5 * i) for i in range(7)])
    assert many.endswith("and 2 more; the evidence does not single one out")


def test_identify_works_from_a_copy_of_the_run_folder(writer_run, tmp_path):
    line = _lines(writer_run, 1, 1)
    copy = shutil.copytree(writer_run, tmp_path / "elsewhere" / "run")
    a = apply.identify(writer_run, line, lines=True).rows
    b = apply.identify(copy, line, lines=True).rows
    assert [(r["writer"], round(r["log10_lr"], 6)) for r in a] == [
        (r["writer"], round(r["log10_lr"], 6)) for r in b
    ]


def test_bad_input_is_refused_before_any_model_loads(writer_run, tmp_path):
    line = str(_lines(writer_run, 0, 1)[0])
    blank = _png(tmp_path / "blank.png", np.full((60, 300), 255))
    junk = tmp_path / "junk.png"
    junk.write_text("not an image")
    cases = [
        (lambda: apply.identify(tmp_path, [line]), "not a run folder"),
        (lambda: apply.identify(tmp_path / "missing", [line]), "no such run folder"),
        (lambda: apply.identify(writer_run, [blank]), "blank.png"),
        (lambda: apply.identify(writer_run, [str(junk)]), "junk.png"),
        (lambda: apply.identify(writer_run, [str(tmp_path / "nope.png")]), "nope.png: no such file"),
        (lambda: apply.identify(writer_run, []), "at least one image"),
        (lambda: apply.identify(writer_run, [line], top=0), "--top"),
        (lambda: apply.verify(writer_run, [line], [line]), "a writer_id run, not a signatures run"),
    ]
    for call, words in cases:
        with pytest.raises(HwError, match=words.replace(".", r"\.")):
            call()


def test_identify_command_line_table_json_and_exit_status(writer_run, tmp_path):
    line = str(_lines(writer_run, 0, 1)[0])
    out = smoke_outputs()
    proc = run_hw("identify", writer_run, "--lines", line, "--top", "2", outputs=out)
    assert proc.returncode == 0, proc.stderr
    assert "log10 LR" in proc.stdout and proc.stderr == ""
    # by run id, as `hw runs` lists it, and as JSON
    proc = run_hw("identify", writer_run.name, line, "--lines", "--json", outputs=out)
    assert proc.returncode == 0, proc.stderr
    data = json.loads(proc.stdout)
    assert data["stage"] == "writer_id" and len(data["results"]) == 3
    assert all(isinstance(r["log10_lr"], float) for r in data["results"])
    blank = _png(tmp_path / "blank.png", np.full((60, 300), 255))
    proc = run_hw("identify", writer_run, "--lines", blank, outputs=out)
    assert proc.returncode == 2 and len(proc.stderr.strip().splitlines()) == 1
    assert "blank.png" in proc.stderr and proc.stdout == ""


@pytest.fixture(scope="module")
def signatures_run():
    run, _ = run_smoke(None, "signatures")
    return run


def test_verify_gives_decisions_scores_and_lrs(signatures_run):
    g = signatures_run / "artifacts" / "synthetic_signatures"
    person = sorted(p for p in g.iterdir() if p.is_dir() and not p.name.endswith("_forg"))[0]
    genuine = sorted(person.glob("*.png"))
    forged = sorted((g / f"{person.name}_forg").glob("*.png"))
    res = apply.verify(signatures_run, genuine[:3], [genuine[-1], forged[0]])
    assert [r["image"] for r in res.rows] == [str(genuine[-1]), str(forged[0])]
    for r in res.rows:
        assert r["decision"] in ("genuine", "forgery")
        assert (r["decision"] == "genuine") == (r["score"] <= r["threshold"])
        assert np.isfinite(r["log10_lr"])
    with pytest.raises(HwError, match="reference signature"):
        apply.verify(signatures_run, [], [genuine[-1]])
    proc = run_hw(
        "verify", signatures_run, "--ref", genuine[0], forged[0], "--ref", genuine[1], outputs=smoke_outputs()
    )
    assert proc.returncode == 0, proc.stderr
    assert "log10 LR" in proc.stdout and "2 reference signature(s)" in proc.stdout
    # the smoke run calibrates verifications against its 3 references and against 2: with 2 an LR by the
    # 2-reference calibration, with 1 none, and it says why
    from hwutils.signatures.lr import find_fewer

    fewer = find_fewer(signatures_run / "artifacts")
    assert sorted(fewer) == [2] and fewer[2].conditions == {"n_references": 2}
    two = apply.verify(signatures_run, genuine[:2], [forged[0]])
    assert two.rows[0]["log10_lr"] == pytest.approx(float(fewer[2].log10_lr([-two.rows[0]["score"]])[0]))
    assert "calibrated on verifications" not in proc.stdout
    verifier_cfg = json.loads((signatures_run / "artifacts" / "verifier" / "verifier.json").read_text())
    assert two.rows[0]["threshold"] == pytest.approx(verifier_cfg["thresholds_by_references"]["2"])
    assert verifier_cfg["n_references"] == 3  # the count the run's own threshold was fixed with
    said = [n for n in two.notes if n.startswith("with 2 references the LRs come from the calibration")]
    assert len(said) == 1 and "on the run's test persons with 2 references: Cllr" in said[0]
    assert not any(
        "the LRs come from" in n for n in apply.verify(signatures_run, genuine[:3], [forged[0]]).notes
    )
    few = apply.verify(signatures_run, genuine[:1], [forged[0]])
    assert few.rows[0]["log10_lr"] is None and "too few references" in few.rows[0]["support"]
    assert any("against 3 references (and against 2) and 1 given" in n for n in few.notes)
    # nor a decision: no threshold was fixed with 1 reference (the score cannot be made relative to it)
    assert few.rows[0]["decision"] is None and few.rows[0]["threshold"] is None
    assert any(n.startswith("no decision: this run's thresholds are fixed for") for n in few.notes)
    assert "| -" in few.table() or " - " in few.table()
    assert json.loads(json.dumps(few.rows, allow_nan=False))[0]["log10_lr"] is None  # null in --json


def test_screen_says_whether_each_image_is_a_signature(signatures_run, tmp_path):
    g = signatures_run / "artifacts" / "synthetic_signatures"
    some = sorted(g.glob("*/*.png"))[:2]
    res = apply.screen(signatures_run, some)
    assert len(res.rows) == 2 and all(isinstance(r["signature"], bool) for r in res.rows)
    assert set(res.rows[0]["scores"]) == {"reconstruction_error", "isolation_score", "classifier_probability"}
    blank = _png(tmp_path / "empty.png", np.full((80, 200), 255))
    proc = run_hw("screen", signatures_run, blank, outputs=smoke_outputs())
    assert proc.returncode == 2 and "empty.png" in proc.stderr


def test_read_gives_the_text_of_word_images(tmp_path):
    from hwutils.ocr import CLASSES
    from hwutils.ocr.data import CharSet, compose_words
    from hwutils.synth.characters import make_characters

    run, _ = run_smoke(None, "char_ocr")
    imgs, labels = make_characters(CLASSES, 1, seed=3, size=32)
    words, _ = compose_words(CharSet(imgs, labels, np.array(["synthetic"] * len(labels))), 2, seed=1)
    files = [_png(tmp_path / f"w{i}.png", w) for i, w in enumerate(words)]
    res = apply.read(run, files)
    assert [r["image"] for r in res.rows] == files
    for r in res.rows:
        assert r["characters"] == len(r["chars"]) >= 1
        assert len(r["text"].replace(" ", "")) == r["characters"]
        assert 0 <= r["confidence"] <= 1
    with pytest.raises(HwError, match="a char_ocr run, not a single_image_vae run"):
        apply.generate(run, 2, tmp_path / "samples")


def test_generate_writes_pngs_and_never_overwrites(tmp_path):
    run, _ = run_smoke(None, "single_image_vae")
    out = tmp_path / "samples"
    res = apply.generate(run, 3, out, seed=1)
    files = sorted(out.glob("*.png"))
    assert [f.name for f in files] == ["sample_0000.png", "sample_0001.png", "sample_0002.png"]
    first = np.asarray(Image.open(files[0]))
    assert first.shape == (28, 28) and first.dtype == np.uint8 and len(res.rows) == 3
    again = apply.generate(run, 3, tmp_path / "again", seed=1)
    assert np.array_equal(np.asarray(Image.open(again.rows[0]["file"])), first)  # seeded
    proc = run_hw("generate", run, "-n", "2", "--out", out, outputs=smoke_outputs())
    assert proc.returncode == 2 and "already holds sample_0000.png" in proc.stderr
    assert np.array_equal(np.asarray(Image.open(files[0])), first)  # nothing overwritten
    proc = run_hw("generate", run, "-n", "0", "--out", tmp_path / "none", outputs=smoke_outputs())
    assert proc.returncode == 2 and "-n must be between 1" in proc.stderr
    assert not (tmp_path / "none").exists()


def test_verify_warns_on_scans_unlike_the_runs_development_scans(signatures_run, tmp_path):
    """The same signatures re-rendered as another collection (another scanner's
    paper tone, a broader pen) get a caveat naming what lies outside the run's
    development scans; the warning is in --json too (strict JSON)."""
    from hwutils.images import read_gray, save_gray
    from hwutils.signatures.collection import recollect

    g = signatures_run / "artifacts" / "synthetic_signatures"
    person = sorted(p for p in g.iterdir() if p.is_dir() and not p.name.endswith("_forg"))[0]
    genuine = sorted(person.glob("*.png"))[:4]
    other = [save_gray(recollect(read_gray(p)), tmp_path / f"other_{p.name}") for p in genuine]
    res = apply.verify(signatures_run, other[:3], [other[3]])
    caveat = [n for n in res.notes if n.startswith("caveat: outside the conditions this run was developed")]
    assert len(caveat) == 1 and "the references (median of 3): paper grey level" in caveat[0]
    assert f"; {other[3]}: paper grey level" in caveat[0]  # the questioned scan named
    row = json.loads(json.dumps(res.to_dict(), allow_nan=False))["results"][0]
    assert any(s.startswith("the questioned signature: paper grey level") for s in row["outside_conditions"])
    assert row["decision"] in ("genuine", "forgery")  # a warning, not a refusal
