"""Casework (hwutils.casework): bad input refused in one line,
scale normalisation, calibration trials, enrolment with texture + CNN
evidence, the open-set answer, and the stage end to end on smoke params."""

from __future__ import annotations

import json

import numpy as np
import pytest
from conftest import run_smoke

from hwutils import casework as cw
from hwutils.errors import DataError, ImageError, ParamsError
from hwutils.images import read_gray, save_gray

PATTERN = r"w(?P<writer>\d+)_s(?P<session>\d+)_p(?P<prompt>[A-Za-z]+)_r(?P<rep>\d+)"


# --- bad input ---------------------------------------------------------------------------------


def test_check_case_refuses_bad_folders_and_names(tmp_path):
    known, quest = tmp_path / "known", tmp_path / "questioned"
    with pytest.raises(DataError, match="no such folder"):
        cw.check_case(known, quest, PATTERN)
    known.mkdir()
    quest.mkdir()
    with pytest.raises(DataError, match="empty, no image files"):
        cw.check_case(known, quest, PATTERN)
    page = np.full((60, 200), 250, np.uint8)
    page[20:40, 20:180] = 0
    save_gray(page, known / "w0001_s01_pLND_r01.png")
    save_gray(page, known / "scan_of_someone.png")
    with pytest.raises(
        DataError, match=r"scan_of_someone\.png: known document whose file name does not match"
    ):
        cw.check_case(known, quest, PATTERN)
    (known / "scan_of_someone.png").unlink()
    with pytest.raises(DataError, match="questioned.*empty"):
        cw.check_case(known, quest, PATTERN)
    (quest / "q1.png").write_bytes(b"not an image")
    with pytest.raises(ImageError, match=r"q1\.png: not a readable image"):
        cw.check_case(known, quest, PATTERN)
    (quest / "q1.png").unlink()
    save_gray(page, quest / "q1.png")  # a questioned name need not carry the writer
    k, q = cw.check_case(known, quest, PATTERN)
    assert k == [(known / "w0001_s01_pLND_r01.png", "0001")] and q == [(quest / "q1.png", None)]
    with pytest.raises(ParamsError, match="known_writers: no document of 0002"):
        cw.check_case(known, quest, PATTERN, known_writers=["0002"])
    with pytest.raises(ParamsError, match="writer"):
        cw.check_name_pattern(r"w(\d+)")
    with pytest.raises(ParamsError, match="not a regular expression"):
        cw.check_name_pattern(r"w(?P<writer>\d+")


def test_one_folder_per_person(tmp_path):
    page = np.full((60, 200), 250, np.uint8)
    page[20:40, 20:180] = 0
    save_gray(page, tmp_path / "alice" / "letter.png")
    save_gray(page, tmp_path / "bob" / "note.png")
    docs = cw.list_documents(tmp_path, PATTERN)
    assert [w for _, w in docs] == ["alice", "bob"]


def test_blank_page_refused_naming_it(tmp_path):
    save_gray(np.full((300, 400), 250, np.uint8), tmp_path / "w0001_s01_pLND_r01.png")
    with pytest.raises(ImageError, match=r"w0001_s01_pLND_r01\.png: no ink found"):
        cw.load_document(tmp_path / "w0001_s01_pLND_r01.png", "0001")


def test_writer_run_must_be_a_finished_writer_id_run(tmp_path):
    with pytest.raises(ParamsError, match="neither a run folder nor a writer_id run id"):
        cw.resolve_writer_run("20990101-000000-nope", outputs=tmp_path)
    run = tmp_path / "run"
    run.mkdir()
    with pytest.raises(ParamsError, match="no manifest.json"):
        cw.resolve_writer_run(run)
    manifest = {
        "run_id": "x",
        "stage": "signatures",
        "status": "ok",
        "label": "",
        "start": "2026-01-01T00:00:00",
    }
    (run / "manifest.json").write_text(json.dumps(manifest))
    problem = None
    try:
        cw.resolve_writer_run(run)
    except ParamsError as exc:
        problem = str(exc)
    assert problem and ("not a writer_id run" in problem or "broken" in problem)
    cw.check_writer_run("")  # empty: train one
    cw.check_case_folder("")  # empty: the synthetic case


def test_hw_refuses_a_missing_known_dir_before_any_kernel(hw, tmp_path):
    proc = hw("run", "writer_casework", "-p", "known_dir", str(tmp_path / "nowhere"))
    assert proc.returncode == 2
    lines = [l for l in proc.stderr.strip().splitlines() if l.strip()]
    assert len(lines) == 1 and "known_dir" in lines[0] and "nowhere" in lines[0], proc.stderr
    assert not (hw.outputs / "writer_casework").exists()


# --- scale ---------------------------------------------------------------------------------------


def test_scale_factor_rules():
    assert cw.scale_factor(2.0, 4.0, dpi=150, train_dpi=300) == 2.0
    assert cw.scale_factor(2.0, 4.0) == 1.0  # no dpi, no estimate: the run's resolution
    assert cw.scale_factor(3.0, 4.0, estimate=True) == 1.0  # a thinner pen stays evidence
    assert cw.scale_factor(1.9, 4.0, estimate=True) == 2.0  # half the resolution
    assert cw.scale_factor(1.0, 4.0, estimate=True) == 4.0
    assert cw.scale_factor(8.5, 4.0, estimate=True) == 0.5
    assert cw.scale_factor(2.0, None, estimate=True) == 1.0


def test_stroke_width_scales_with_resolution():
    img = np.full((200, 400), 250, np.uint8)
    for x in range(20, 380, 40):
        img[30:170, x : x + 8] = 10
    import cv2

    full, half = (
        cw.stroke_width(img),
        cw.stroke_width(cv2.resize(img, (200, 100), interpolation=cv2.INTER_AREA)),
    )
    assert 7 <= full <= 9 and 1.7 <= full / half <= 2.3


# --- calibration trials --------------------------------------------------------------------------


def test_pseudo_documents_are_disjoint_and_sized():
    writers = np.repeat(["a", "b", "c"], [6, 5, 1])
    idx, owner, doc_writer = cw.pseudo_documents(writers, doc_lines=2, repeats=2, seed=0)
    assert list(doc_writer) == ["a", "a", "b", "b"] * 2  # c has one line: left out
    for d in range(len(doc_writer)):
        assert len(idx[owner == d]) == 2 and set(writers[idx[owner == d]]) == {doc_writer[d]}
    for r in range(2):  # the two pseudo-documents of a writer in one draw share no line
        a, b = idx[owner == 4 * r], idx[owner == 4 * r + 1]
        assert not set(a) & set(b)


class _FakeIdentifier:
    """Embeddings without a network: a fixed random projection of the line's mean column profile."""

    texture = None

    def line_embeddings(self, lines):
        rng = np.random.default_rng(0)
        proj = rng.normal(size=(32, 8))
        out = []
        for l in lines:
            prof = np.interp(np.linspace(0, 1, 32), np.linspace(0, 1, l.shape[0]), (255 - l).mean(1))
            out.append(prof @ proj)
        return np.array(out)


# --- the case end to end, in process ------------------------------------------------------------


@pytest.fixture(scope="module")
def synthetic_case(tmp_path_factory):
    """A synthetic case, and a stand-in writer run: its "training writers" are
    other synthetic writers (the background of the calibration trials)."""
    pytest.importorskip("hwutils.calibration")
    from hwutils.synth.handwriting import write_iam_dataset

    root = tmp_path_factory.mktemp("case")
    known_dir, q_dir = cw.write_synthetic_case(
        root, persons=3, questioned=2, strangers=1, lines_per_form=3, seed=7
    )
    run = root / "run"
    write_iam_dataset(
        run / "artifacts" / "synthetic_iam", n_writers=8, forms_per_writer=1, lines_per_form=6, seed=50
    )
    known_files, q_files = cw.check_case(known_dir, q_dir, PATTERN)
    known = cw.load_documents(known_files)
    space = cw.EvidenceSpace(_FakeIdentifier(), 12, 16)
    evidence = space.line_evidence(known)
    case = cw.Case.enrol(space, known, evidence)
    scorer = cw.fit_scorer(space, run, known, evidence, repeats=3, seed=0)
    return root, q_files, case, scorer, space


def _judge(case, scorer, space, files, **kw):
    docs = cw.load_documents(files, **kw)
    return docs, case.judge(docs, space.line_evidence(docs), scorer)


def test_enrolment_uses_texture_and_cnn_evidence(synthetic_case):
    _, _, case, scorer, space = synthetic_case
    tex, cnn = case.vectors
    assert case.persons == ["0101", "0102", "0103"]
    assert tex.shape == (3, 288 + 240) and cnn.shape == (3, 8)
    # mean histograms: each block (hinge, direction, four run-length blocks) sums to 1
    assert np.allclose(tex[:, :256].sum(1), 1) and np.allclose(tex[:, 288:348].sum(1), 1)
    assert case.n_documents == {p: 2 for p in case.persons} and all(n == 6 for n in case.n_lines.values())
    assert scorer.weights.shape == (2,)
    assert scorer.source.startswith("known documents and 8 writers of the run's synthetic training writers")
    assert scorer.weights[0] > 0  # texture similarity raises the score


def test_known_writers_named_and_the_stranger_is_none_of_them(synthetic_case):
    _, q_files, case, scorer, space = synthetic_case
    _, verdicts = _judge(case, scorer, space, q_files)
    answers = {v.truth: v.answer for v in verdicts}
    assert answers == {"0101": "0101", "0102": "0102", "0104": cw.NONE_OF_THEM}
    for v in verdicts:
        assert np.isclose(v.posteriors.sum(), 1) and v.correct
    m = cw.case_metrics(verdicts)
    assert m["case_top1"] == 1 and m["case_none_correct"] == 1 and m["case_true_log10_lr_mean"] > 0
    rows = cw.verdict_table(verdicts[0]).rows
    assert rows[0]["person"] == "0101" and "verbal scale" in rows[0]
    assert "<table" in cw.summary_table(verdicts)._repr_html_()


def test_a_quarter_size_page_still_names_its_writer(synthetic_case, tmp_path):
    import cv2

    _, q_files, case, scorer, space = synthetic_case
    path, writer = q_files[0]
    page = read_gray(path)
    small = cv2.resize(page, (page.shape[1] // 2, page.shape[0] // 2), interpolation=cv2.INTER_AREA)
    save_gray(small, tmp_path / path.name)  # a quarter of the pixels: scanned at 150 dpi
    files = [(tmp_path / path.name, writer)]
    docs, (verdict,) = _judge(case, scorer, space, files, dpi=150, train_dpi=300)
    assert docs[0].scale == 2.0 and verdict.answer == writer
    docs, (verdict,) = _judge(case, scorer, space, files, reference_stroke=docs[0].stroke * 2, estimate=True)
    assert docs[0].scale == 2.0 and verdict.answer == writer
    _, (unscaled,) = _judge(case, scorer, space, files)  # left at half size it is another hand
    assert unscaled.log10_lr.max() < verdict.log10_lr.max()


def test_open_set_rule_threshold(synthetic_case):
    _, q_files, case, scorer, space = synthetic_case
    docs = cw.load_documents(q_files[:1])
    (v,) = case.judge(docs, space.line_evidence(docs), scorer, min_log10_lr=1e6)
    assert v.answer == cw.NONE_OF_THEM and not v.correct


def test_case_sentences_are_formatted_for_people():
    from hwutils.casework import summary as S

    assert S.case_sentence(8, ["0101", "0102"], 3) == (
        "8 known documents of 2 persons of interest (0101, 0102); 3 questioned documents."
    )
    run = S.writer_run_sentence("r1", 12, 64, True, 0.98765, 47.2)
    assert "trained here in 47.2 s" in run and "top-1 98.8%" in run and "with a texture" in run
    assert "a finished run" in S.writer_run_sentence("r1", 12, 64, False, None) and "top-1 -" in (
        S.writer_run_sentence("r1", 12, 64, False, None)
    )
    cal = S.calibration_sentence(
        "known documents", [1.234, 0.5], {"n_same": 1200, "n_different": 30, "cllr": 0.01734}
    )
    assert (
        "1,200 same-writer and 30 different-writer" in cal
        and "texture 1.23, CNN 0.50" in cal
        and "0.017" in cal
    )
    m = {
        "case_questioned_known": 2,
        "case_top1": 1.0,
        "case_questioned_strangers": 1,
        "case_none_correct": 0.0,
    }
    out = S.outcome_sentence({**m, "case_true_log10_lr_mean": 2.5})
    assert (
        out.startswith("**100.0%** of the 2 documents")
        and '**0.0%** of the 1 by other writers get "none' in out
    )
    assert out.endswith("Mean log10 LR of the true writer: +2.50.")
    assert "nothing to check" in S.outcome_sentence(
        {"case_questioned_known": 0, "case_questioned_strangers": 0}
    )


# --- the stage ----------------------------------------------------------------------------------


@pytest.mark.slow
def test_notebook_smoke_names_known_writers_and_refuses_the_stranger(hw):
    pytest.importorskip("hwutils.calibration")
    run, m = run_smoke(hw, "writer_casework")  # the run the report checks look at too
    assert m["case_questioned_known"] == 2 and m["case_top1"] == 1.0
    assert m["case_questioned_strangers"] == 1 and m["case_none_correct"] == 1.0
    assert m["answers"]["w0104_s03_pSYN_r01"] == cw.NONE_OF_THEM
    figures = sorted((run / "artifacts" / "figures").glob("questioned_*.png"))
    assert len(figures) == m["n_questioned_documents"] == 3
    nested = run / "artifacts" / "writer_run" / "writer_id"
    assert len([p for p in nested.iterdir() if p.is_dir()]) == 1  # the writer run trained for the case
    html = (run / "report.html").read_text()
    assert "none of them" in html and "log10 LR" in html


def test_cohort_standardises_each_reference_by_strangers_only():
    from hwutils.writer_id import Cohort, texture_similarity

    rng = np.random.default_rng(0)
    unit = lambda x: x / np.linalg.norm(x, axis=-1, keepdims=True)  # noqa: E731
    hist = lambda n: rng.dirichlet(np.ones(8), size=n)  # noqa: E731 - hinge histograms of 2 bins: 4 + 4 values
    cohort_t, cohort_c = hist(12), unit(rng.normal(size=(12, 4)))
    writers = np.repeat(["a", "b", "c", "d"], 3)
    cohort = Cohort(cohort_t, cohort_c, writers, bins=2)
    refs = (hist(2), unit(rng.normal(size=(2, 4))))
    mean, sd = cohort.stats(refs, ["a", "zz"])
    tex = texture_similarity(cohort_t, refs[0], bins=2)  # (12, 2)
    assert tex.max() <= 0 and np.isclose(texture_similarity(refs[0], refs[0], 2)[0, 0], 0)
    own_left_out = np.stack([tex[3:, 0], cohort_c[3:] @ refs[1][0]], -1)
    assert np.allclose(mean[0], own_left_out.mean(0)) and np.allclose(
        sd[0], np.maximum(own_left_out.std(0), 0.02)
    )
    everyone = np.stack([tex[:, 1], cohort_c @ refs[1][1]], -1)
    assert np.allclose(mean[1], everyone.mean(0))
    sims = np.stack([np.full((3, 2), 0.5), np.full((3, 2), 0.5)], -1)
    z = cohort.normalise(sims, refs, ["a", "zz"])
    assert z.shape == (3, 2, 2) and np.allclose(z[:, 0], (0.5 - mean[0]) / sd[0])


def test_caveats_name_documents_outside_the_calibrated_or_validated_conditions(tmp_path):
    from pathlib import Path

    def doc(name, n_lines, scale=1.0):
        line = np.zeros((10, 40), np.uint8)
        return cw.Document(Path(f"{name}.png"), "0001", line, [line] * n_lines, [], 3.0, scale)

    known = [doc("k1", 4), doc("k2", 4)]
    questioned = [doc("q_short", 2), doc("q_ok", 4), doc("q_lowres", 4, scale=4.0)]
    out = cw.caveats(questioned, known, 300)
    assert any(
        c.startswith("q_short: 2 line(s)") and "calibrated on questioned documents of 4 lines" in c
        for c in out
    )
    assert not any(c.startswith("q_ok") for c in out)
    assert any(c.startswith("q_lowres: resampled by 4 from about 75 dpi") for c in out)
    assert "No validation run is named" in out[-1]
    validated = {"min_questioned_lines": 1, "min_dpi": 75}
    out = cw.caveats(questioned, known, 300, validated, "run-x")
    assert out == []  # validated down to 1 line and 75 dpi: nothing outside
    out = cw.caveats(questioned, known, 300, {"min_questioned_lines": 3, "min_dpi": 150}, "run-x")
    assert [c.split(":")[0] for c in out] == ["q_short", "q_lowres"] and "validated (run-x)" in out[0]
    out = cw.caveats(questioned, known, 300, calibrated={"scale": 4.0})  # calibration writers read at 75 dpi
    said = [c for c in out if c.startswith("q_lowres")][0]
    assert "calibrated at that resolution, not validated at it" in said and "dpis 75" in said
    out = cw.caveats(questioned, known, 300, {"min_dpi": 150}, "run-x", calibrated={"scale": 4.0})
    assert "validated down to 150 dpi only" in [c for c in out if c.startswith("q_lowres")][0]
    out = cw.caveats(questioned, known, 300, calibrated={"questioned_lines": 2})  # mirror trials of 2 lines
    assert not any(c.startswith("q_short") for c in out)


def test_misleading_results_and_sentence_of_a_case():
    from hwutils.casework import summary as S

    m = {"case_rmep": 0.125, "case_rmed": 0.0, "case_h2_log10_lr_max": 1.1, "case_other_log10_lr_max": 1.1}
    rows = {r.name: r for r in S.misleading_results(m)}
    assert rows["RMEP: the true writer's LR below 1"].verdict == "NOT better"
    assert rows["RMED: another person's LR above 1"].verdict == "better"
    assert rows["largest log10 LR of a wrong person"].yardstick_value == 2.0
    assert S.misleading_results({}) == []
    text = S.misleading_sentence({**m, "case_cllr": 0.4, "case_cllr_min": 0.3, "case_cllr_cal": 0.1})
    assert (
        "RMEP (true writer's LR below 1) 12.5%" in text and "+1.10" in text and "calibration loss 0.1" in text
    )


def test_a_collection_unlike_the_calibration_writers_is_a_caveat(tmp_path):
    from pathlib import Path

    from hwutils.writer_id.lr import Lines, save_calibration_lines

    rng = np.random.default_rng(0)
    width = 16 * 16 + 32  # hinge and direction histograms of 16 bins, no run lengths
    style = rng.dirichlet(np.ones(width) * 5, size=6)  # six writers of one collection
    lines = lambda centre, n: rng.dirichlet(centre * 400, size=n)  # noqa: E731 - a writer's lines
    (tmp_path / "artifacts").mkdir()
    cal = np.concatenate([lines(style[i], 6) for i in range(4)])
    save_calibration_lines(
        tmp_path / "artifacts",
        Lines(np.zeros((len(cal), 3)), cal, np.repeat(["c0", "c1", "c2", "c3"], 6), ["p"] * len(cal)),
    )
    line = np.zeros((10, 40), np.uint8)
    known = [cw.Document(Path(f"k{i}.png"), f"p{i}", line, [line] * 4, [], 3.0, 1.0) for i in range(2)]
    space = cw.EvidenceSpace(None, 12, 16)

    def evidence(texture):
        return cw.Evidence(np.zeros((8, 3)), texture, np.repeat([0, 1], 4))

    alike = evidence(
        np.concatenate([lines(style[4], 4), lines(style[5], 4)])
    )  # same collection, other writers
    assert cw.collection_caveat(space, tmp_path, known, alike) is None
    other = rng.dirichlet(np.ones(width) * 0.2, size=2)  # another collection: unlike every one of them
    unlike = evidence(np.concatenate([lines(other[0], 4), lines(other[1], 4)]))
    said = cw.collection_caveat(space, tmp_path, known, unlike)
    assert (
        said.startswith("The persons of interest write unlike every writer")
        and "4 calibration writers" in said
    )
    assert (
        cw.collection_caveat(space, None, known, unlike) is None
    )  # no calibration writers: nothing to compare


def test_the_texture_pool_adds_the_trained_on_writers_but_never_the_case_writers(tmp_path):
    from hwutils.casework.case import texture_pool
    from hwutils.writer_id.lr import Lines, save_texture_lines

    rng = np.random.default_rng(0)
    width = 16 * 16 + 32  # hinge and direction histograms of 16 bins, no run lengths
    style = rng.dirichlet(np.ones(width) * 5, size=6)
    lines = lambda i, n: rng.dirichlet(style[i] * 400, size=n)  # noqa: E731 - a writer's lines
    space = cw.EvidenceSpace(None, 12, 16)
    held = np.concatenate([lines(0, 6), lines(1, 6)])
    held_writers = np.repeat(["held-out:h0", "held-out:h1"], 6)
    assert texture_pool(space, tmp_path, held, held_writers, set(), 2, 2, 3, 0) is None  # no texture lines
    (tmp_path / "artifacts").mkdir()
    train = np.concatenate([lines(2, 6), lines(3, 6), lines(4, 6), lines(5, 1)])
    names = np.repeat(["t2", "t3", "case", "t5"], [6, 6, 6, 1])
    save_texture_lines(
        tmp_path / "artifacts", Lines(np.zeros((len(train), 0)), train, names, ["p"] * len(train))
    )
    pool = texture_pool(space, tmp_path, held, held_writers, {"case"}, 2, 2, 3, 0)
    sims, same, sources, said, pairs = pool.sims, pool.same, pool.sources, pool.source, pool.pairs
    assert sorted(set(pairs.ravel().tolist())) == [
        "held-out:h0",
        "held-out:h1",
        "trained-on:t2",
        "trained-on:t3",
    ]
    assert np.array_equal(same, (pairs[:, 0] == pairs[:, 1]).astype(int))
    # h0, h1, t2, t3: "case" is a writer of the case, t5 has a single line
    assert sources == (4, 12) and sims.shape == (3 * 4 * 4, 2) and same.sum() == 3 * 4
    assert np.all(sims[:, 1] == 0)  # no CNN similarity: the CNN trained on these writers
    assert np.median(sims[same == 1, 0]) > np.median(sims[same == 0, 0])
    assert said.startswith(
        "4 writers on texture alone: the 2 the run held out of training and 2 it trained on"
    )


def test_documents_of_two_resolutions_are_compared_at_the_coarser(tmp_path):
    assert cw.common_dpi(300, 72) == 72 and cw.common_dpi(0, 150, train_dpi=300) == 150
    assert cw.common_dpi(100, 0) == 0 and cw.common_dpi(300, 300) == 0 and cw.common_dpi(0, 0) == 0
    assert cw.common_dpi(75, 300) == 75  # the known side may be the coarser one
    page = np.full((400, 800), 250, np.uint8)
    for top in (40, 160, 280):  # three text lines of strokes
        for x in range(40, 760, 24):
            page[top : top + 60, x : x + 8] = 0
    save_gray(page, tmp_path / "w0001_s01_pLND_r01.png")
    as_is = cw.load_document(tmp_path / "w0001_s01_pLND_r01.png", "0001", dpi=300)
    down = cw.load_document(tmp_path / "w0001_s01_pLND_r01.png", "0001", dpi=300, compare_dpi=75)
    assert as_is.compared_at == 0 and as_is.scale == 1.0 and as_is.page.shape == (400, 800)
    assert down.compared_at == 75 and down.scale == 4.0 and down.page.shape == (100, 200)
    assert len(down.lines) == len(as_is.lines) == 3
    assert down.lines[0].shape[1] == pytest.approx(as_is.lines[0].shape[1], rel=0.05)  # at the run scale
    finer = cw.load_document(tmp_path / "w0001_s01_pLND_r01.png", "0001", dpi=72, compare_dpi=150)
    assert finer.compared_at == 0 and finer.scale == pytest.approx(300 / 72)  # never resampled up
    from hwutils.casework.summary import resolution_sentence

    said = resolution_sentence(72, 300, 72, 300)
    assert "known documents were scanned at 300 dpi and the questioned at 72" in said
    assert "the known documents are resampled down to 72 dpi" in said


def test_mirror_calibration_offers_the_texture_pool_to_the_scorer(tmp_path):
    from pathlib import Path

    from hwutils.calibration import writer_sources
    from hwutils.writer_id.lr import Lines, save_calibration_lines, save_texture_lines

    rng = np.random.default_rng(1)
    width = 16 * 16 + 32
    style = rng.dirichlet(np.ones(width) * 5, size=12)
    lines = lambda i, n: rng.dirichlet(style[i] * 400, size=n)  # noqa: E731 - a writer's lines
    art = tmp_path / "artifacts"
    art.mkdir()
    held = np.concatenate([lines(i, 6) for i in range(6)])
    names = np.repeat([f"h{i}" for i in range(6)], 6)
    save_calibration_lines(art, Lines(rng.normal(size=(len(held), 3)), held, names, ["p"] * len(held)))
    train = np.concatenate([lines(i, 6) for i in range(6, 10)])
    t_names = np.repeat(["t6", "t7", "t8", "p0"], 6)  # p0 is a person of interest: never in the pool
    save_texture_lines(art, Lines(np.zeros((len(train), 0)), train, t_names, ["p"] * len(train)))
    line = np.zeros((10, 40), np.uint8)
    known = [cw.Document(Path(f"k{i}.png"), f"p{i}", line, [line] * 4, [], 3.0, 1.0) for i in range(2)]
    evidence = cw.Evidence(
        rng.normal(size=(8, 3)), np.concatenate([lines(10, 4), lines(11, 4)]), np.repeat([0, 1], 4)
    )
    trials = cw.calibration_trials(cw.EvidenceSpace(None, 12, 16), tmp_path, known, evidence, 3, 0, known[:1])
    sims, same, source, cohort, sources, pairs, pool, conditions = trials
    assert conditions == {"reference_lines": 4, "questioned_lines": 4}  # at the run's resolution: no scale
    assert sources == writer_sources(6) and "6 writers the run held out of training" in source
    assert pool.sources == writer_sources(9) and pool.source.startswith("9 writers on texture alone")
    assert np.all(pool.sims[:, 1] == 0) and len(pool.same) == 10 * 9 * 9
    scorer = cw.CaseScorer.fit(*trials)  # 6 writers: too few to choose, both fused, the pool unused
    assert scorer.selection == {} and scorer.source == source


def test_the_run_s_writers_are_read_again_as_a_coarser_scan(tmp_path):
    import yaml

    from hwutils.casework.documents import case_scale, run_writer_lines

    data = tmp_path / "pages"
    page = np.full((400, 800), 250, np.uint8)
    for top in (40, 160, 280):
        for x in range(40, 760, 24):
            page[top : top + 60, x : x + 8] = 0
    for w in ("0001", "0002", "0003"):
        save_gray(page, data / f"w{w}_s01_pLND_r01.png")
    run = tmp_path / "run"
    run.mkdir()
    (run / "params.yaml").write_text(yaml.safe_dump({"data_dir": str(data), "data_format": "pages"}))
    lines, writers, where = run_writer_lines(run, ["0001", "0003"], scale=4.0)
    assert writers == ["0001"] * 3 + ["0003"] * 3 and str(data) in where
    full, _, _ = run_writer_lines(run, ["0001"], scale=1.0)
    assert lines[0].shape[1] == pytest.approx(full[0].shape[1], rel=0.05)  # back at the run's scale
    assert len(np.unique(lines[0])) > len(np.unique(full[0]))  # resampling down and up blurs the strokes
    assert run_writer_lines(tmp_path / "nowhere", ["0001"], 4.0) == (
        [],
        [],
        "the run's data could not be read",
    )

    def doc(scale):
        return cw.Document(tmp_path / "x.png", "0001", page, [page], [], 3.0, scale)

    assert case_scale([doc(4.0), doc(4.0)]) == 4.0
    assert case_scale([doc(4.0), doc(1.0)]) == 1.0 and case_scale([doc(1.0)]) == 1.0
