"""Pairs, losses, Siamese model, evaluation protocol, verifier API and screener."""

from __future__ import annotations

import numpy as np
import pytest

from hwutils.datasets.sign_data import GENUINE, SKILLED, SignatureRecord
from hwutils.errors import HwError, ImageError, ParamsError
from hwutils.signatures import siamese, verify, writer_net
from hwutils.signatures import writer_dependent as wd
from hwutils.signatures.preprocess import ink_geometry, scan_features_many
from hwutils.signatures.screening import Screener


def _records(n_persons=4, n_gen=6, n_forg=3):
    recs = []
    for p in range(n_persons):
        pid = f"{p:03d}"
        recs += [SignatureRecord(f"{pid}/{pid}_{k}.png", pid, GENUINE) for k in range(n_gen)]
        recs += [SignatureRecord(f"{pid}_forg/9{pid}_{k}.png", pid, SKILLED, "9") for k in range(n_forg)]
    return recs


def _person_images(recs, h=16, w=32):
    """Each person a distinct bar position; forgeries shifted: learnable toy data."""
    x = np.zeros((len(recs), h, w), np.uint8)
    for i, r in enumerate(recs):
        col = 4 + 6 * int(r.person)
        x[i, 2:14, col : col + 3] = 255
        if r.kind == SKILLED:
            x[i, 6:9, :] = 255
    return x


def test_pairs_are_balanced_and_stay_within_the_persons():
    recs = _records()
    rows = siamese.make_pairs(recs, ["000", "001", "002"], pairs_per_person=8, seed=0)
    assert rows.shape[1] == 3
    assert (rows[:, 2] == 1).sum() == (rows[:, 2] == 0).sum() == 24
    assert {recs[i].person for i in rows[:, :2].ravel()} <= {"000", "001", "002"}
    pos = rows[rows[:, 2] == 1]
    assert all(
        recs[i].person == recs[j].person and recs[i].kind == recs[j].kind == GENUINE for i, j, _ in pos
    )
    neg = rows[rows[:, 2] == 0]
    skilled = [recs[j].kind == SKILLED for _, j, _ in neg]
    other = [recs[i].person != recs[j].person for i, j, _ in neg]
    assert sum(skilled) == 12 and sum(other) == 12
    assert all(recs[i].kind == GENUINE for i, _, _ in neg)


def test_triplets_anchor_positive_same_person():
    recs = _records()
    rows = siamese.make_triplets(recs, ["000", "001"], 5, seed=0)
    assert len(rows) == 10
    for a, p, n in rows:
        assert recs[a].person == recs[p].person
        assert recs[n].kind == SKILLED or recs[n].person != recs[a].person


def test_contrastive_loss_values():
    loss = siamese.contrastive_loss(margin=1.0)
    d = np.array([[0.0], [0.5], [2.0]], np.float32)
    same = float(loss(np.ones(3, np.float32), d))
    diff = float(loss(np.zeros(3, np.float32), d))
    assert same == pytest.approx((0 + 0.25 + 4.0) / 3 / 2, rel=1e-5)
    assert diff == pytest.approx((1.0 + 0.25 + 0.0) / 3 / 2, rel=1e-5)


def test_siamese_outputs_a_distance_without_sigmoid():
    tower = siamese.build_tower(16, 32, embedding_dim=8, base_filters=8)
    model = siamese.build_siamese(tower)
    x = np.random.default_rng(0).random((4, 16, 32, 1)).astype(np.float32)
    d = np.asarray(model([x, x[::-1]]))
    assert d.shape == (4, 1)
    assert np.allclose(d[:, 0], d[::-1, 0], atol=1e-5)  # symmetric
    assert np.all(d >= 0) and np.all(d <= 2 + 1e-5)  # unit-length embeddings
    assert float(np.asarray(model([x, x])).max()) < 1e-3
    assert not any("sigmoid" in str(getattr(l, "activation", "")) for l in model.layers)
    with pytest.raises(ParamsError, match="loss"):
        siamese.compile_model(tower, loss="hinge")


def test_training_separates_toy_persons_and_round_trips(tmp_path):
    recs = _records(n_persons=4, n_gen=6, n_forg=3)
    x = _person_images(recs)
    tower = siamese.build_tower(16, 32, embedding_dim=16, base_filters=8)
    out = siamese.train(
        tower,
        x,
        recs,
        ["000", "001", "002"],
        ["003"],
        pairs_per_person=10,
        epochs=3,
        batch_size=16,
        learning_rate=3e-3,
        augment_strength=0.0,
        patience=5,
    )
    assert out["n_train"] == 60
    assert out["history"]["loss"][-1] < out["history"]["loss"][0]
    emb = siamese.embed(tower, x)
    scores = verify.score_trials(emb, verify.make_trials(recs, ["000", "001", "002"], 3, seed=0))
    thr = verify.calibrate_threshold(scores)
    verifier = verify.Verifier(tower, thr, 16, 32, "min")
    verifier.save(tmp_path / "run" / "artifacts" / "verifier")
    loaded = verify.load_verifier(tmp_path / "run")
    img = (255 - x[0]).astype(np.uint8)  # paper-white image
    refs = [(255 - x[k]).astype(np.uint8) for k in (1, 2, 3)]
    a, b = verifier.verify(refs, img), loaded.verify(refs, img)
    assert set(a) == {"decision", "genuine", "score", "threshold", "log10_lr", "details"}
    assert a["log10_lr"] is None and b["log10_lr"] is None  # no LR calibration saved with this run
    assert a["decision"] in ("genuine", "forgery")
    assert a["score"] == pytest.approx(b["score"], abs=1e-5)
    assert a["details"]["n_references"] == 3 and len(a["details"]["distances"]) == 3
    assert a["score"] == pytest.approx(min(a["details"]["distances"]))

    # writer-dependent decision on the same tower: SVMs on pooled CNN features, HOG, directions and
    # ink geometry (references shifted by 1 px as extra positives), fused, saved and reloaded
    pooled = siamese.pooled_features(tower, x)
    assert pooled.shape == (len(x), 2 * 4 * 8)
    both = siamese.embed(siamese.embedding_and_pooled_model(tower), x, batch_size=5)  # one pass, two outputs
    np.testing.assert_allclose(both[0], siamese.embed(tower, x), atol=1e-6)
    np.testing.assert_allclose(both[1], pooled, atol=1e-6)
    scan = scan_features_many([(255 - im).astype(np.uint8) for im in x])
    features = "cnn+hog+dir+geom+pressure+glcm"
    assert wd.scan_names(features) == ["geom", "pressure", "glcm"]
    sets = wd.feature_sets(features, x, {"cnn": pooled}, scan)
    assert np.allclose(sets["glcm"] ** 2, scan["glcm"])  # Hellinger map
    neg_idx = [i for i, r in enumerate(recs) if r.person in ("001", "002") and r.kind == GENUINE]
    negatives = {k: v[neg_idx] for k, v in sets.items()}
    prot = verify.make_trials(recs, ["000", "003"], 3, seed=0)
    extra = wd.shifted_copies(wd.parse_features(features), x, 1)
    assert set(extra) == {"hog", "dir"} and extra["hog"].shape == (4, *sets["hog"].shape)
    raw = wd.score_trials(sets, prot, negatives, extra=extra)
    scales = wd.fit_scales(raw, sets)
    ws = wd.as_distance_scores(raw, scales)
    assert verify.evaluate(ws, verify.calibrate_threshold(ws))["eer_random"] == 0.0
    fitted = verify.fit_writer_dependent(tower, x, scan, neg_idx, prot, x, scan, prot, features, shift=1)
    assert fitted["scales"] == pytest.approx(scales)
    np.testing.assert_allclose(fitted["val_scores"]["distance"], ws["distance"], atol=1e-6)
    np.testing.assert_allclose(fitted["test_scores"]["distance"], ws["distance"], atol=1e-6)
    assert [r["set"] for r in fitted["ablation"]] == ["cnn", "hog", "dir", "geom", "pressure", "glcm"]
    # the reference level: with norm, each person's scores drop by norm x the mean leave-one-out score
    normed = wd.score_trials(sets, prot, negatives, extra=extra, norm=0.5)
    p0 = prot["references"]["000"]
    loo = np.mean(
        [
            wd.person_scorer(
                np.concatenate(
                    [sets["hog"][[r for r in p0 if r != j]], *extra["hog"][:, [r for r in p0 if r != j]]]
                ),
                negatives["hog"],
            )(sets["hog"][j])[0]
            for j in p0
        ]
    )
    m = normed["person"] == "000"
    np.testing.assert_allclose(normed["hog"][m], raw["hog"][m] - 0.5 * loo, atol=1e-9)
    assert not np.allclose(normed["hog"][~m], raw["hog"][~m])  # the other person has its own level
    # cross-fitted calibration trials: persons 001-003 out of fold (negatives: the other folds' persons)
    crossed = verify.fit_writer_dependent(
        tower,
        x,
        scan,
        neg_idx,
        prot,
        x,
        scan,
        prot,
        features,
        shift=1,
        dev_records=recs,
        dev_persons=["001", "002", "003"],
        folds=3,
        seed=0,
    )
    assert sorted(set(crossed["dev_scores"]["person"].tolist())) == ["001", "002", "003"]
    assert crossed["cal_scores"] is not None and crossed["raw_cal"] is crossed["raw_dev"]
    assert crossed["scales"] == pytest.approx(wd.fit_scales(crossed["raw_dev"], sets))
    assert fitted["raw_cal"] is fitted["raw_val"] and fitted["dev_scores"] is None  # folds 0: as before
    assert fitted["weights"] == {k: 1.0 for k in sets} and fitted["other_weights"][0] == "learned"
    learned = verify.fit_writer_dependent(
        tower, x, scan, neg_idx, prot, x, scan, prot, features, shift=1, weights="learned"
    )
    assert learned["weights"] == pytest.approx(fitted["other_weights"][2])
    assert learned["scales"] == pytest.approx(wd.weighted_scales(fitted["scales"], learned["weights"]))
    with pytest.raises(ParamsError, match="wd_folds"):
        verify.fit_writer_dependent(tower, x, scan, neg_idx, prot, x, scan, prot, features, folds=3)
    with pytest.raises(ParamsError, match="wd_norm"):
        verify.fit_writer_dependent(tower, x, scan, neg_idx, prot, x, scan, prot, features, norm=2.0)
    v = verify.Verifier(
        tower,
        verify.calibrate_threshold(ws),
        16,
        32,
        decision="wd",
        features=features,
        negatives=negatives,
        scales=scales,
        shift=1,
        norm=0.5,
        spread=0.5,
        spread_prior=1.2,
    )
    v.save(tmp_path / "wd" / "artifacts" / "verifier")
    back = verify.load_verifier(tmp_path / "wd")
    a, b = v.verify(refs, img), back.verify(refs, img)
    assert back.decision == "wd" and back.shift == 1 and back.norm == 0.5
    assert (back.spread, back.spread_prior) == (0.5, 1.2)
    assert set(a["details"]["wd_scores"]) == {"cnn", "hog", "dir", "geom", "pressure", "glcm"}
    assert a["score"] == pytest.approx(b["score"], abs=1e-5)
    fused = sum(a["details"]["wd_scores"][k] / scales[k] for k in scales)  # raw per-set values, fused
    person = back.enrol(refs)  # fitted once, then several questioned signatures
    # relative to the references: their fused leave-one-out level and spread (shrunk halfway to 1.2)
    assert person.loo.shape == (3,) and a["details"]["reference_level"] == pytest.approx(np.mean(person.loo))
    assert a["score"] == pytest.approx(-wd.relative_score(fused, person.loo, 0.5, 0.5, 1.2))
    for q in (img, (255 - x[5]).astype(np.uint8)):
        assert person.verify(q)["score"] == pytest.approx(back.verify(refs, q)["score"], abs=1e-6)
    (tmp_path / "wd" / "artifacts" / "verifier" / "negatives_hog.npy").unlink()
    with pytest.raises(HwError, match="negatives_hog.npy"):
        verify.load_verifier(tmp_path / "wd")


def test_writer_network_learns_writers_and_serves_the_signet_set(tmp_path):
    recs = _records(n_persons=4, n_gen=8, n_forg=3)
    x = _person_images(recs)
    with pytest.raises(ParamsError, match="2 training persons"):
        writer_net.build_writer_net(16, 32, 1, base_filters=8)
    with pytest.raises(ParamsError, match="signet_forgery_weight"):
        writer_net.train_writer_net(x, recs, ["000", "001"], forgery_weight=1.5)
    net = writer_net.train_writer_net(x, recs, ["000", "001", "002"], epochs=12, base_filters=8, seed=0)
    assert net["n_writers"] == 3 and net["n_train"] == 3 * 11
    assert net["history"]["loss"][-1] < net["history"]["loss"][0]
    feats = siamese.embed(net["features"], x)
    assert feats.shape == (len(x), 2 * 4 * 8)
    # the features tell the training writers apart: nearest other genuine signature is the same writer
    g = [i for i, r in enumerate(recs) if r.kind == GENUINE and r.person != "003"]
    d = np.linalg.norm(feats[g][:, None] - feats[g][None], axis=-1) + np.eye(len(g)) * 1e9
    same = [recs[g[i]].person == recs[g[int(np.argmin(d[i]))]].person for i in range(len(g))]
    assert np.mean(same) > 0.9
    # the signet set in the writer-dependent decision: needs the network, saves and reloads with it
    tower = siamese.build_tower(16, 32, embedding_dim=8, base_filters=8)
    with pytest.raises(ParamsError, match="signet"):
        verify.Verifier(
            tower, 0.0, 16, 32, decision="wd", features="signet+hog", negatives={"hog": x}, scales={"hog": 1}
        )
    neg_idx = [i for i, r in enumerate(recs) if r.person in ("001", "002") and r.kind == GENUINE]
    prot = verify.make_trials(recs, ["000", "003"], 3, seed=0)
    fitted = verify.fit_writer_dependent(
        tower, x, None, neg_idx, prot, x, None, prot, "signet+hog", signet=net["features"]
    )
    assert set(fitted["scales"]) == {"signet", "hog"}
    v = verify.Verifier(
        tower,
        0.0,
        16,
        32,
        decision="wd",
        features="signet+hog",
        negatives=fitted["negatives"],
        scales=fitted["scales"],
        signet=net["features"],
    )
    v.save(tmp_path / "v")
    assert (tmp_path / "v" / "signet.keras").is_file()
    back = verify.load_verifier(tmp_path / "v")
    refs = [(255 - x[k]).astype(np.uint8) for k in (1, 2, 3)]
    q = (255 - x[0]).astype(np.uint8)
    a, b = v.verify(refs, q), back.verify(refs, q)
    assert set(a["details"]["wd_scores"]) == {"signet", "hog"}
    assert a["score"] == pytest.approx(b["score"], abs=1e-5)
    (tmp_path / "v" / "signet.keras").unlink()
    with pytest.raises(HwError, match="signet.keras"):
        verify.load_verifier(tmp_path / "v")
    # a verifier that does not use the signet set neither keeps nor saves the network
    hog_only = verify.Verifier(
        tower,
        0.0,
        16,
        32,
        decision="wd",
        features="hog",
        negatives=fitted["negatives"],
        scales={"hog": fitted["scales"]["hog"]},
        signet=net["features"],
    )
    assert hog_only.signet is None
    hog_only.save(tmp_path / "h")
    assert not (tmp_path / "h" / "signet.keras").exists()


def test_siamese_tower_warm_starts_from_the_writer_network():
    _, features = writer_net.build_writer_net(16, 32, 3, base_filters=8)
    x = np.random.default_rng(0).random((4, 16, 32, 1)).astype(np.float32)
    tower = siamese.build_tower(16, 32, embedding_dim=8, base_filters=8)
    before = siamese.pooled_features(tower, x)
    assert writer_net.warm_start_tower(tower, features) == 8  # stem + 3 blocks, each conv + batch norm
    after = siamese.pooled_features(tower, x)
    assert np.allclose(after, siamese.embed(features, x), atol=1e-5)
    assert not np.allclose(after, before)
    with pytest.raises(ParamsError, match="siamese_init"):
        writer_net.warm_start_tower(siamese.build_tower(16, 32, embedding_dim=8, base_filters=16), features)
    with pytest.raises(ParamsError, match="siamese_init"):
        writer_net.check_siamese_init("imagenet")


def test_hog_features_shape_and_orientation():
    x = np.zeros((2, 32, 64), np.uint8)
    x[0, 8:24, 30:33] = 255  # vertical stroke -> horizontal gradients
    x[1, 15:18, 10:54] = 255  # horizontal stroke -> vertical gradients
    f = wd.hog_features(x, cell=8, bins=9)
    assert f.shape == (2, 3 * 7 * 4 * 9) and np.all(f >= 0)
    hist = lambda k: f[k].reshape(-1, 9).sum(0)
    assert np.argmax(hist(0)) == 0 and np.argmax(hist(1)) == 4  # 0 rad vs pi/2
    assert np.allclose(wd.hog_features(x.astype(np.float32) / 255, cell=8), f, atol=1e-5)
    with pytest.raises(ParamsError, match="hog cell"):
        wd.hog_features(np.zeros((1, 16, 16), np.uint8), cell=16)
    with pytest.raises(ParamsError, match="features"):
        wd.feature_sets("pixels", x)
    with pytest.raises(ParamsError, match="features"):
        wd.parse_features("hog+hog")
    with pytest.raises(ParamsError, match="geom"):
        wd.feature_sets("hog+geom", x)
    with pytest.raises(ParamsError, match="pressure"):
        wd.feature_sets("hog+pressure", x, None, {"geom": np.zeros((2, 12))})
    with pytest.raises(ParamsError, match="signet"):
        wd.feature_sets("signet+hog", x, {"cnn": np.zeros((2, 4))})
    with pytest.raises(ParamsError, match="decision|features"):
        verify.Verifier(
            None, 0.0, 32, 64, decision="wd", features="hog+lbp", negatives={"hog": f}, scales={"hog": 1}
        )


def test_direction_features_tell_stroke_directions_apart():
    x = np.zeros((2, 32, 64), np.float32)
    x[0, 4:28, 20:24] = 1.0  # vertical bar: gradients point right (left edge) and left (right edge)
    x[1, 14:18, 8:56] = 1.0  # horizontal bar: gradients point down and up
    f = wd.direction_features(x, bins=8, grid=(1, 1))
    assert f.shape == (2, 8) and np.allclose((f**2).sum(1), 1.0, atol=1e-4)
    assert set(np.argsort(f[0])[-2:]) == {0, 4} and set(np.argsort(f[1])[-2:]) == {2, 6}
    assert wd.direction_features(x).shape == (2, 2 * 4 * 16)
    moved = wd.shifted_copies(["dir", "geom"], x, 2)
    assert set(moved) == {"dir"} and moved["dir"].shape == (4, 2, 128)
    assert wd.shifted_copies(["hog"], x, 0) == {}


def test_ink_geometry_measures_the_uncropped_ink():
    page = np.full((100, 300), 255, np.uint8)
    page[20:40, 50:250] = 0  # a 20 x 200 block of ink
    g = dict(
        zip(
            ("log_height", "log_width", "log_aspect", "log_ink_area", "ink_density", "stroke_width"),
            ink_geometry(page),
        )
    )
    assert np.exp(g["log_height"]) == pytest.approx(20, abs=1) and np.exp(g["log_width"]) == pytest.approx(
        200, abs=1
    )
    assert g["ink_density"] == pytest.approx(1.0, abs=0.05)
    thin = np.full((100, 300), 255, np.uint8)
    for c in range(50, 250, 10):
        thin[20:40, c : c + 2] = 0  # vertical strokes 2 px wide (the median denoise removes 1 px lines)
    assert ink_geometry(thin)[5] < g["stroke_width"]
    rgb = np.stack([page] * 3, -1)
    assert np.allclose(ink_geometry(rgb), ink_geometry(page))
    with pytest.raises(ImageError, match="no ink"):
        ink_geometry(np.full((50, 50), 255, np.uint8))


def test_person_scorer_prefers_the_references():
    rng = np.random.default_rng(0)
    refs = rng.normal(3.0, 0.3, (5, 4))
    others = rng.normal(0.0, 1.0, (60, 4))
    score = wd.person_scorer(refs, others)
    assert score(rng.normal(3.0, 0.3, (1, 4)))[0] > score(rng.normal(0.0, 1.0, (1, 4)))[0]
    raw = {"a": np.array([1.0, 3.0]), "b": np.array([10.0, 30.0])}
    scales = wd.fit_scales(raw, ["a", "b"])
    assert np.allclose(wd.fuse(raw, scales), raw["a"] / 1.0 + raw["b"] / 10.0)


def test_protocol_keeps_references_out_of_the_questioned():
    recs = _records(n_persons=3, n_gen=7, n_forg=2)
    prot = verify.make_trials(recs, ["000", "001", "002"], n_references=5, seed=1)
    for p, refs in prot["references"].items():
        assert len(refs) == 5 and all(recs[i].person == p and recs[i].kind == GENUINE for i in refs)
    for p, i, t in prot["trials"]:
        assert i not in prot["references"][p]
        if t == "genuine":
            assert recs[i].person == p and recs[i].kind == GENUINE
        elif t == "skilled":
            assert recs[i].person == p and recs[i].kind == SKILLED
        else:
            assert recs[i].person != p and recs[i].kind == GENUINE
    types = [t for _, _, t in prot["trials"]]
    assert types.count("genuine") == 6 and types.count("skilled") == 6 and types.count("random") == 6


def test_evaluate_and_calibrate_on_known_scores():
    scores = {
        "person": np.array(["a"] * 6 + ["b"] * 6),
        "type": np.array(["genuine", "genuine", "skilled", "skilled", "random", "random"] * 2),
        "distance": np.array([0.1, 0.2, 0.5, 0.6, 0.9, 1.0, 0.1, 0.3, 0.35, 0.7, 0.8, 0.9]),
    }
    thr = verify.calibrate_threshold(scores)
    ev = verify.evaluate(scores, thr)
    assert 0 <= ev["eer_skilled"] <= 0.5 and ev["eer_random"] == 0.0
    assert ev["eer_skilled_per_user"] == pytest.approx(0.0)  # each person separable on their own
    assert ev["far_random"] == 0.0
    fixed = verify.evaluate(scores, 0.35)
    assert fixed["frr"] == 0.0 and fixed["far_skilled"] == 0.25
    rows = verify.per_user_table(scores, 0.35)
    assert [r["person"] for r in rows] == ["a", "b"] and rows[1]["far_skilled"] == 0.5


def test_operating_points():
    scores = {
        "person": np.array(["a"] * 6 + ["b"] * 6),
        "type": np.array(["genuine", "genuine", "skilled", "skilled", "random", "random"] * 2),
        "distance": np.array([0.1, 0.2, 0.5, 0.6, 0.9, 1.0, 0.1, 0.3, 0.35, 0.7, 0.8, 0.9]),
    }
    # no skilled forgery accepted: accept everything below the closest one (0.35)
    strict = verify.calibrate_threshold(scores, "far_skilled=0")
    assert 0.3 <= strict < 0.35 and verify.evaluate(scores, strict)["far_skilled"] == 0.0
    # a quarter of the skilled forgeries may pass: the threshold moves up to just below the second (0.5)
    loose = verify.calibrate_threshold(scores, "far_skilled=0.25")
    assert 0.35 <= loose < 0.5 and verify.evaluate(scores, loose)["far_skilled"] == 0.25
    assert verify.calibrate_threshold(scores, "far_random=0") < 0.8
    assert verify.calibrate_threshold(scores, "frr=0") == pytest.approx(0.3)  # accepts every genuine, no more
    assert verify.calibrate_threshold(scores, "eer") == verify.calibrate_threshold(scores)
    for bad in ("far=0.1", "far_skilled", "far_skilled=1.5", "frr=-0.1", "eer=0.1", "median"):
        with pytest.raises(ParamsError, match="operating_point"):
            verify.calibrate_threshold(scores, bad)
    no_random = {k: v[scores["type"] != "random"] for k, v in scores.items()}
    with pytest.raises(HwError, match="random trials"):
        verify.calibrate_threshold(no_random, "far_random=0.1")


def test_verifier_bad_input(tmp_path):
    with pytest.raises(HwError, match="not a signatures run folder"):
        verify.load_verifier(tmp_path)
    tower = siamese.build_tower(16, 32, embedding_dim=8, base_filters=8)
    v = verify.Verifier(tower, 0.5, 16, 32)
    with pytest.raises(ParamsError, match="references"):
        v.verify([], np.zeros((10, 10), np.uint8))
    with pytest.raises(ParamsError, match="reducer"):
        verify.Verifier(tower, 0.5, 16, 32, reducer="median")
    with pytest.raises(ParamsError, match="decision"):
        verify.Verifier(tower, 0.5, 16, 32, decision="svm")
    with pytest.raises(ParamsError, match="negatives"):
        verify.Verifier(tower, 0.5, 16, 32, decision="wd")


def test_screener_fits_thresholds_on_validation_and_round_trips(tmp_path):
    rng = np.random.default_rng(0)

    def valid(n):  # horizontal strokes
        x = np.zeros((n, 16, 32, 1), np.float32)
        for i in range(n):
            r = rng.integers(4, 12)
            x[i, r : r + 2, 4:28] = 1
        return x

    def invalid(n):  # vertical strokes
        x = np.zeros((n, 16, 32, 1), np.float32)
        for i in range(n):
            c = rng.integers(4, 28)
            x[i, 2:14, c : c + 2] = 1
        return x

    untrained = Screener(16, 32, latent_dim=8, seed=0)
    scr = Screener(16, 32, latent_dim=8, seed=0)
    scr.fit(valid(40), invalid(40), valid(20), invalid(20), epochs=1, batch_size=16)
    # the networks' start depends on the seed only, not on what was drawn before (scr's training)
    again = Screener(16, 32, latent_dim=8, seed=0)
    for a, b in zip(
        untrained.classifier.get_weights() + untrained.encoder.get_weights(),
        again.classifier.get_weights() + again.encoder.get_weights(),
    ):
        assert np.array_equal(a, b)
    assert set(scr.thresholds) == {"reconstruction_error", "isolation_score", "classifier_probability"}
    ev = scr.evaluate(valid(20), invalid(20))
    for k in ("autoencoder", "isolation_forest", "classifier", "combined"):
        assert 0 <= ev[k]["f1"] <= 1 and np.sum(ev[k]["confusion"]) == 40
    scr.save(tmp_path / "screener")
    back = Screener.load(tmp_path / "screener")
    x = valid(5)
    s1, s2 = scr.scores(x), back.scores(x)
    for k in s1:
        assert np.allclose(s1[k], s2[k], atol=1e-5), k
    with pytest.raises(HwError, match="no such run folder"):
        Screener.load(tmp_path / "nothing")
    with pytest.raises(HwError, match="multiples of 8"):
        Screener(20, 30)
