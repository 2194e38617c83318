"""Writer-identification likelihood ratios (hwutils.writer_id.lr) on made-up
evidence whose truth is known: writers are points, lines noisy copies."""

from __future__ import annotations

import numpy as np
import pytest

from hwutils.writer_id import lr


def _lines(writers, pages_per_writer=2, lines_per_page=4, noise=0.6, seed=0, dim=16, tex_dim=24):
    # a writer's style: the same in every split
    fixed = {w: np.random.default_rng(int(w[1:])) for w in writers}
    centre = {w: fixed[w].normal(size=dim) for w in writers}
    tex_centre = {w: fixed[w].uniform(0.5, 2.0, size=tex_dim) for w in writers}
    rng = np.random.default_rng(seed)
    emb, tex, ws, ps = [], [], [], []
    for w in writers:
        for p in range(pages_per_writer):
            for _ in range(lines_per_page):
                emb.append(centre[w] + noise * rng.normal(size=dim))
                tex.append(np.abs(tex_centre[w] + 0.3 * rng.normal(size=tex_dim)))
                ws.append(w)
                ps.append(f"{w}-p{p}-s{seed}")
    return lr.Lines(np.array(emb), np.array(tex), ws, ps)


WRITERS = [f"w{i:02d}" for i in range(8)]


def test_documents_group_lines_by_page_and_pseudo_pages_keep_writers():
    lines = _lines(WRITERS[:3])
    owner, doc_writer = lines.documents("page")
    assert len(doc_writer) == 6 and np.bincount(owner).tolist() == [4] * 6
    owner, doc_writer = lines.documents("line")
    assert len(doc_writer) == len(lines)
    pseudo = lines.pseudo_pages(2, repeats=3)
    owner, doc_writer = pseudo.documents("page")
    assert len(doc_writer) == 3 * 3 * 4  # 3 draws x 3 writers x 8 lines / 2
    assert sorted(set(doc_writer.tolist())) == WRITERS[:3]
    with pytest.raises(ValueError, match="unit"):
        lines.documents("word")


def test_trials_pair_every_document_with_every_reference():
    train = _lines(WRITERS[:4], seed=1)
    refs = lr.References.fit(train, leg=12, bins=16)
    sims, same = lr.trials(refs, _lines(WRITERS[:4], seed=2), "page")
    assert sims.shape == (8 * 4, 2) and same.sum() == 8
    assert np.all(sims[:, 0] <= 0) and np.all(np.abs(sims[:, 1]) <= 1 + 1e-6)  # -chi2, cosine


def test_fitted_lrs_favour_the_true_writer_and_are_measured_on_unseen_trials(tmp_path):
    train, val, test = (_lines(WRITERS, seed=s) for s in (1, 2, 3))
    model, metrics, trials = lr.fit_and_measure(train, val, test, leg=12, bins=16)
    for unit in ("line", "page"):
        assert metrics[f"{unit}_cllr"] < 1  # better than no evidence where the writers are this separable
        assert metrics[f"{unit}_cllr_min"] <= metrics[f"{unit}_cllr"] + 1e-9
        assert metrics[f"{unit}_mean_log10_lr_same"] > 0 > metrics[f"{unit}_mean_log10_lr_different"]
        llr, same = trials[("known", unit)]
        assert len(llr) == len(same) and same.sum() == metrics[f"{unit}_n_same"]
    model.save(tmp_path)
    back = lr.LRModel.load(tmp_path)
    assert back.refs.names == model.refs.names
    assert np.allclose(back.log10_lr(test, "page"), model.log10_lr(test, "page"))
    assert lr.LRModel.load(tmp_path / "nothing-here") is None


def test_new_writers_are_added_as_references_and_measured_separately():
    known, new = WRITERS[:5], WRITERS[5:]
    train, val, test = (_lines(known, seed=s) for s in (1, 2, 3))
    new_lines = _lines(new, seed=4)
    first = np.array([p.endswith("p0-s4") for p in new_lines.pages])
    model, metrics, trials = lr.fit_and_measure(
        train,
        val,
        test,
        leg=12,
        bins=16,
        enrolment=new_lines.subset(np.flatnonzero(first)),
        queries=new_lines.subset(np.flatnonzero(~first)),
    )
    assert model.refs.names == sorted(known) + sorted(new)
    assert metrics["new_page_n_same"] == len(new)
    assert metrics["new_page_n_different"] == len(new) * (len(WRITERS) - 1)
    assert ("new", "line") in trials
    for unit in ("line", "page"):  # separable writers: the largest LR names the writer, known or enrolled
        assert metrics[f"new_{unit}_evidence_top1"] > 0.8 and metrics[f"{unit}_evidence_top1"] > 0.8
    assert "the new writers get " in lr.sentence(metrics)


def test_evidence_top1_counts_the_true_writer_first_and_shares_ties():
    same = np.array([[1, 0, 0], [0, 1, 0], [0, 0, 1], [0, 0, 0]])  # the last document has no reference
    scores = np.array([[2.0, 1.0, 0.0], [3.0, 1.0, 0.0], [0.5, 0.0, 0.5], [9.0, 0.0, 0.0]])
    assert lr.evidence_top1(scores.ravel(), same.ravel(), 3) == pytest.approx((1 + 0 + 0.5) / 3)
    assert lr.evidence_top1(scores[3:].ravel(), same[3:].ravel(), 3) is None


def test_the_sentence_flags_a_system_worse_than_no_evidence():
    m = {
        "line_cllr": 1.3,
        "line_cllr_min": 0.4,
        "line_cllr_cal": 0.9,
        "line_n_same": 10,
        "line_n_different": 90,
    }
    text = lr.sentence(m)
    assert "worse than stating no evidence" in text and "calibration loss above" in text
    assert "could not be measured" in lr.sentence({})


def test_held_out_calibration_writers_give_trials_of_their_own_halves_only():
    train = _lines(WRITERS[:4])
    calib = _lines(WRITERS[4:7], pages_per_writer=1, lines_per_page=6, seed=2)
    refs = lr.References.fit(train, 12, 16)
    sims, same = lr.calibration_trials(calib, refs, "line", draws=2)
    # 3 writers x 3 query lines x 3 half-set references, per draw
    assert sims.shape == (2 * 9 * 3, 2) and same.sum() == 2 * 9
    sims_p, same_p = lr.calibration_trials(calib, refs, "page", draws=2)
    assert sims_p.shape == (2 * 3 * 3, 2) and same_p.sum() == 2 * 3
    assert refs.names == sorted(WRITERS[:4])  # the run's references are not touched
    model = lr.LRModel.fit(refs, _lines(WRITERS[:4], seed=1), calib)
    assert "held-out calibration writers" in model.scorers["line"].source
    metrics, _ = lr.evaluate(model, _lines(WRITERS[:4], seed=3))
    assert metrics["line_cllr"] < 0.5  # the writers are well separated: strong and calibrated enough


def test_calibration_lines_round_trip_and_refuse_nan(tmp_path):
    from hwutils.errors import ArtifactError

    calib = _lines(WRITERS[4:6], pages_per_writer=1, lines_per_page=3)
    lr.save_calibration_lines(tmp_path, calib)
    back = lr.load_calibration_lines(tmp_path)
    assert back.writers.tolist() == calib.writers.tolist()
    assert np.allclose(back.embeddings, calib.embeddings, atol=1e-5)
    assert lr.load_calibration_lines(tmp_path / "none") is None
    bad = lr.Lines(calib.embeddings, calib.texture, calib.writers, calib.pages)
    bad.embeddings[1, 2] = np.nan
    lr.save_calibration_lines(tmp_path, bad)
    with pytest.raises(ArtifactError, match="calibration_lines.npz: key 'embeddings' holds 1 non-finite"):
        lr.load_calibration_lines(tmp_path)


def test_run_writers_reads_roles_and_falls_back_to_the_training_writers(tmp_path):
    import json

    from hwutils.writer_id import roles, run_writers

    art = tmp_path / "artifacts"
    art.mkdir()
    (art / "writer_id.json").write_text(json.dumps({"writers": ["b", "a"]}))
    assert run_writers(tmp_path) == {"train": ["a", "b"], "calibration": [], "heldout": []}
    roles.save_roles(art, ["a", "b"], ["c"], ["e", "d"])
    assert run_writers(tmp_path) == {"train": ["a", "b"], "calibration": ["c"], "heldout": ["d", "e"]}


def _made_up_trials(tex_sep, cnn_sep, n_writers=20, draws=3, seed=0):
    """Mirror-like trials of ``n_writers`` writers: each similarity is its
    separation for same-writer trials plus unit noise."""
    rng = np.random.default_rng(seed)
    names = [f"w{i:02d}" for i in range(n_writers)]
    pairs = np.array([(q, r) for _ in range(draws) for q in names for r in names])
    same = (pairs[:, 0] == pairs[:, 1]).astype(int)
    sims = np.stack([tex_sep * same, cnn_sep * same], -1) + rng.normal(size=(len(same), 2))
    return sims, same, pairs


@pytest.mark.parametrize(
    "tex_sep, cnn_sep, expected",
    [(3.0, 0.0, "texture only"), (0.0, 3.0, "CNN only"), (2.0, 2.0, "texture and CNN")],
)
def test_the_similarities_to_fuse_are_chosen_across_writers(tex_sep, cnn_sep, expected):
    from hwutils.writer_id.evidence import CaseScorer, choose_features

    sims, same, pairs = _made_up_trials(tex_sep, cnn_sep)
    cols, cv = choose_features(sims, same, pairs)
    assert {(0,): "texture only", (1,): "CNN only", (0, 1): "texture and CNN"}[cols] == expected
    assert set(cv) == {"texture only", "CNN only", "texture and CNN"}
    assert cv[expected] <= 1.05 * min(cv.values())  # a similarity of pure noise never helps by more
    scorer = CaseScorer.fit(sims, same, "made up", pairs=pairs)
    assert scorer.selection["features"] == expected
    dropped = {"texture only": 1, "CNN only": 0}.get(expected)
    if dropped is not None:
        assert scorer.weights[dropped] == 0 and scorer.weights[1 - dropped] > 0
    assert scorer.to_dict()["selection"]["features"] == expected


def test_too_few_writers_fuse_both_similarities_unchosen():
    from hwutils.writer_id.evidence import CaseScorer, choose_features

    sims, same, pairs = _made_up_trials(3.0, 0.0, n_writers=9)
    assert choose_features(sims, same, pairs) == ((0, 1), {})
    scorer = CaseScorer.fit(sims, same, "made up", pairs=pairs)
    assert scorer.selection == {} and np.all(scorer.weights != 0)


def test_texture_lines_round_trip_without_embeddings_and_refuse_nan(tmp_path):
    from hwutils.errors import ArtifactError

    train = lr.Lines.concat(
        [_lines(WRITERS[:2], pages_per_writer=1), _lines(WRITERS[2:3], pages_per_writer=1)]
    )
    assert len(train) == sum(len(_lines([w], pages_per_writer=1)) for w in WRITERS[:3])
    lr.save_texture_lines(tmp_path, train)
    back = lr.load_texture_lines(tmp_path)
    assert back.embeddings.shape == (len(train), 0)  # the CNN trained on these writers: not kept
    assert back.writers.tolist() == train.writers.tolist()
    assert np.allclose(back.texture, train.texture, atol=1e-5)
    assert lr.load_texture_lines(tmp_path / "none") is None
    bad = lr.Lines(train.embeddings, train.texture.copy(), train.writers, train.pages)
    bad.texture[0, 0] = np.inf
    lr.save_texture_lines(tmp_path, bad)
    with pytest.raises(ArtifactError, match="texture_lines.npz: key 'texture' holds 1 non-finite"):
        lr.load_texture_lines(tmp_path)


def test_a_texture_only_choice_is_calibrated_on_the_larger_texture_pool():
    from hwutils.calibration import writer_sources
    from hwutils.writer_id.evidence import CaseScorer, TexturePool

    sims, same, pairs = _made_up_trials(3.0, 0.0)  # 20 held-out writers; the CNN is noise
    pool_sims, pool_same, _ = _made_up_trials(3.0, 0.0, n_writers=45, seed=1)
    pool_sims[:, 1] = 0.0
    pool = TexturePool(pool_sims, pool_same, writer_sources(45), "45 writers on texture alone")  # no pairs
    scorer = CaseScorer.fit(
        sims, same, "held out", sources=writer_sources(20), pairs=pairs, texture_pool=pool
    )
    assert scorer.selection["features"] == "texture only" and scorer.selection["texture_writers"] == 45
    assert scorer.source == "45 writers on texture alone" and len(scorer.trial_same) == len(pool_same)
    assert scorer.calibrator.source_bounds[0] == pytest.approx(-np.log10(45))  # was -log10(20)
    assert scorer.weights[1] == 0
    # the pool is only for texture alone: a CNN that informs keeps the held-out writers' trials and bounds
    sims, same, pairs = _made_up_trials(2.0, 2.0)
    both = CaseScorer.fit(sims, same, "held out", sources=writer_sources(20), pairs=pairs, texture_pool=pool)
    assert both.selection["features"] == "texture and CNN" and "texture_writers" not in both.selection
    assert both.source == "held out" and both.calibrator.source_bounds[0] == pytest.approx(-np.log10(20))


def test_the_texture_pool_competes_as_a_system_of_its_own():
    from hwutils.calibration import writer_sources
    from hwutils.writer_id.evidence import CaseScorer, TexturePool

    # on the 20 held-out writers the CNN helps a little: fused wins there
    sims, same, pairs = _made_up_trials(2.0, 1.0)
    alone = CaseScorer.fit(sims, same, "held out", sources=writer_sources(20), pairs=pairs)
    assert alone.selection["features"] == "texture and CNN"
    # texture alone on 45 writers (wider bounds, better estimated) beats it: chosen, calibrated on the pool
    pool_sims, pool_same, pool_pairs = _made_up_trials(3.0, 0.0, n_writers=45, seed=1)
    pool_sims[:, 1] = 0.0
    pool = TexturePool(pool_sims, pool_same, writer_sources(45), "45 writers", pool_pairs)
    scorer = CaseScorer.fit(
        sims, same, "held out", sources=writer_sources(20), pairs=pairs, texture_pool=pool
    )
    assert scorer.selection["features"] == "texture only" and scorer.source == "45 writers"
    cv = scorer.selection["cv_cllr"]
    assert cv["texture only on 45 writers"] < min(v for k, v in cv.items() if "45" not in k)
    # a pool whose texture says little loses to the CNN the held-out writers show
    weak_sims, weak_same, weak_pairs = _made_up_trials(0.5, 0.0, n_writers=45, seed=2)
    weak = TexturePool(weak_sims, weak_same, writer_sources(45), "45 writers", weak_pairs)
    kept = CaseScorer.fit(sims, same, "held out", sources=writer_sources(20), pairs=pairs, texture_pool=weak)
    assert kept.selection["features"] == "texture and CNN" and kept.source == "held out"


def test_the_run_s_own_lrs_offer_texture_on_the_training_writers_as_a_candidate():
    many = [f"w{i:02d}" for i in range(22)]
    train, calib = _lines(many[:10]), _lines(many[10:], pages_per_writer=1, lines_per_page=6)
    refs = lr.References.fit(train, 12, 16)
    pool = lr.Lines.concat([train, _lines(many[:10], seed=1)])
    model = lr.LRModel.fit(refs, _lines(many[:10], seed=2), calib, ref_lines=8, texture_lines=pool)
    for unit in lr.UNITS:
        sel = model.scorers[unit].selection
        assert "texture only on 22 writers" in sel["cv_cllr"]  # 12 held out + 10 trained on
        if sel["features"] == "texture only":  # chosen: calibrated on the pool and bounded by its writers
            assert sel.get("texture_writers") == 22 and model.scorers[unit].source.startswith("22 writers")
            assert model.scorers[unit].calibrator.source_bounds[0] == pytest.approx(-np.log10(22))
    alone = lr.LRModel.fit(refs, _lines(many[:10], seed=2), calib, ref_lines=8)
    assert not any("22" in k for k in alone.scorers["line"].selection["cv_cllr"])


def test_the_calibration_sentence_names_the_texture_pool():
    from hwutils.writer_id.evidence import CaseScorer

    def scorer(selection):
        return CaseScorer(np.array([1.0, 0.0]), 0.0, None, "src", selection=selection)

    model = lr.LRModel(
        None,
        {
            "line": scorer({"features": "texture and CNN", "cv_cllr": {"x": 0.1}}),
            "page": scorer({"features": "texture only", "cv_cllr": {"x": 0.1}, "texture_writers": 35}),
        },
    )
    said = lr.calibration_sentence(model, ["a", "b"])
    assert "per line, texture and CNN; per page, texture only calibrated on 35 writers" in said
    assert said.startswith("The likelihood ratios are calibrated on 2 writers held out of training (a, b)")


def test_the_page_calibration_records_its_page_size_and_shorter_pages_get_a_caveat(tmp_path):
    import json

    from hwutils.artifacts import ArtifactError

    train, val, test = (_lines(WRITERS, seed=s) for s in (1, 2, 3))
    model, _, _ = lr.fit_and_measure(train, val, test, leg=12, bins=16)
    assert model.scorers["page"].calibrator.conditions == {
        "page_lines": 4
    }  # the validation pages' median size
    model.save(tmp_path)
    back = lr.LRModel.load(tmp_path)
    assert back.scorers["page"].calibrator.conditions == {"page_lines": 4}
    note = lr.short_document_note(back, 2)
    assert note is not None and note.startswith("2 lines, fewer than the 4-line pages")
    assert lr.short_document_note(back, 4) is None and lr.short_document_note(back, 9) is None
    assert lr.short_document_note(back, 1) is None  # one line: the line calibration, made for it
    assert lr.short_document_note(None, 2) is None
    path = tmp_path / lr.LR_FILE
    for bad in (0, 2.5, "4", True, [4]):
        data = json.loads(path.read_text())
        if isinstance(bad, list):
            data["units"]["page"]["calibrator"]["conditions"] = bad
        else:
            data["units"]["page"]["calibrator"]["conditions"] = {"page_lines": bad}
        path.write_text(json.dumps(data))
        with pytest.raises(ArtifactError, match="units.page"):
            lr.LRModel.load(tmp_path)


def test_pages_shorter_than_the_calibration_pages_get_a_scorer_of_their_own_size(tmp_path):
    import json

    from hwutils.artifacts import ArtifactError

    refs = lr.References.fit(_lines(WRITERS[:4]), leg=12, bins=16)
    calib = _lines(WRITERS[4:8], pages_per_writer=2, lines_per_page=5, seed=2)
    model = lr.LRModel.fit(refs, _lines(WRITERS[:4], seed=1), calib, ref_lines=4)
    assert sorted(model.scorers) == ["line", "page", "page:2", "page:3", "page:4"]
    for n in (2, 3, 4):
        scorer = model.scorers[f"page:{n}"]
        assert scorer.calibrator.conditions == {"page_lines": n}
        assert f"pages of {n} lines against references of 4 other lines" in scorer.source
    assert model.scorers["page"].calibrator.conditions == {"page_lines": 5}
    assert [model.unit_for(n) for n in (1, 2, 3, 4, 5, 9)] == [
        "line",
        "page:2",
        "page:3",
        "page:4",
        "page",
        "page",
    ]
    assert lr.page_sizes(8) == [2, 3, 4, 6] and lr.page_sizes(2) == []
    assert lr.unit_label("page:3") == "3-line page" and lr.unit_label("page") == "page"
    said = lr.calibration_sentence(model, WRITERS[4:8])
    assert (
        "calibrated on their pages of 5 lines and, for shorter documents, on pages of 2, 3, 4 lines" in said
    )
    # a page of a calibrated size gets no caveat
    assert all(lr.short_document_note(model, n) is None for n in (2, 3, 4, 5))
    model.save(tmp_path)
    back = lr.LRModel.load(tmp_path)
    assert sorted(back.scorers) == sorted(model.scorers)
    sims = np.array([[-0.2, 0.5], [-0.9, 0.1]])
    assert np.allclose(back.scorers["page:3"].log10_lr(sims), model.scorers["page:3"].log10_lr(sims))
    # a sized scorer is checked like the others
    data = json.loads((tmp_path / lr.LR_FILE).read_text())
    data["units"]["page:3"]["intercept"] = float("nan")
    (tmp_path / lr.LR_FILE).write_text(json.dumps(data))
    with pytest.raises(ArtifactError, match=r"units\.page:3"):
        lr.LRModel.load(tmp_path)
