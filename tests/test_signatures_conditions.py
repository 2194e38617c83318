"""The image conditions a run was developed under (hwutils.scan_conditions) and
the signatures stage's use of them (hwutils.signatures.conditions)."""

import json
from types import SimpleNamespace

import numpy as np
import pytest

from hwutils import scan_conditions as SC
from hwutils.errors import ArtifactError
from hwutils.signatures import conditions as C


def _bar(thickness: int = 4, ink: int = 40, paper: int = 255, length: int = 100) -> np.ndarray:
    """A horizontal stroke of known width, ink and paper on a 60 x 140 scan."""
    g = np.full((60, 140), paper, np.uint8)
    g[28 : 28 + thickness, 20 : 20 + length] = ink
    return g


def test_a_scan_is_measured_as_drawn():
    paper, ink, stroke, height = SC.measure(_bar(4, 40, 250))
    assert (paper, ink) == (250.0, 40.0)
    # twice the area (400) over the contour pixels (2 x 100 + 2 x 2): 3.92 px for a 4-px stroke
    assert stroke == pytest.approx(2 * 400 / 204)
    assert 2.9 <= height <= 3.0  # rows 28..31: the 2nd to 98th percentile
    assert SC.measure(_bar(8))[2] > SC.measure(_bar(4))[2] + 3
    assert np.isnan(SC.measure(np.full((20, 20), 255, np.uint8))).all()  # no ink: nothing measured


def _fitted():
    # three persons whose references' medians are paper 250/252/254, ink 40/50/60, stroke 3/4/5, height 50/60/70
    by_person = {
        p: np.array([[250 + 2 * i, 40 + 10 * i, 3.0 + i, 50 + 10 * i]] * 3) for i, p in enumerate("abc")
    }
    scans = np.concatenate(list(by_person.values()))
    return SC.Conditions.fit(by_person, scans, "persons", "scans")


def test_ranges_are_the_sources_widened_by_a_tenth_or_the_floor():
    cond = _fitted()
    assert (cond.n_sources, cond.n_scans) == (3, 9)
    # paper span 4: widened by its floor (12), not a tenth (0.4); height span 20: by its floor 4, not 2
    assert cond.sources["paper"] == pytest.approx((238.0, 266.0))
    assert cond.sources["stroke_px"] == pytest.approx((3.0 - 0.25, 5.0 + 0.25))
    assert cond.sources["height_px"] == pytest.approx((46.0, 74.0))
    inside = np.array([[252, 50, 4.0, 60]] * 5)
    assert C.outside(cond, inside, np.array([252, 50, 4.0, 60])) == []
    broad = inside.copy()
    broad[:, 2] = 6.5  # a broader pen
    assert C.outside(cond, broad) == [
        "the references (median of 5): stroke width 6.5 px (2.8-5.2 px), outside the ranges of its 3 development"
        " persons"
    ]
    q = C.outside(cond, inside, np.array([225, 50, 4.0, 90]))
    assert q == [
        "the questioned signature: paper grey level 225.0 (238.0-266.0), writing height 90.0 px (46.0-74.0 px),"
        " outside the ranges of its 9 development scans"
    ]
    assert cond.caveat([], C.CONSEQUENCE) is None
    said = cond.caveat(q, C.CONSEQUENCE)
    assert said.startswith("outside the conditions") and "forgeries through); validate the run" in said
    with pytest.raises(ValueError, match="two development persons"):
        SC.Conditions.fit({"a": np.ones((2, 4))}, np.ones((2, 4)), "persons")


def test_conditions_round_trip_and_a_bad_file_is_refused(tmp_path):
    cond = _fitted()
    path = C.save(cond, tmp_path / "artifacts" / C.FILE)
    back = SC.find(
        tmp_path / "artifacts" / "verifier", tmp_path / "artifacts"
    )  # the first folder that has one
    assert back == cond and SC.find(tmp_path / "elsewhere") is None
    good = json.loads(path.read_text())
    for change, key in (
        (lambda d: d["sources"]["ink"].__setitem__(0, float("nan")), "sources.ink"),
        (lambda d: d["scans"].__setitem__("stroke_px", [5.0, 3.0]), "scans.stroke_px"),
        (lambda d: d["sources"].pop("paper"), "sources.paper"),
        (lambda d: d.update({"scans": [1]}), "'scans' is not an object"),
        (lambda d: d.update({"n_sources": 0}), "'n_sources'"),
        (lambda d: d.update({"scan_word": 3}), "'scan_word'"),
    ):
        data = json.loads(json.dumps(good))
        change(data)
        path.write_text(json.dumps(data))
        with pytest.raises(ArtifactError, match=key):
            SC.load(path)


def test_protocol_flags_count_persons_and_questioned_scans():
    cond = _fitted()
    ok, broad = [252, 50, 4.0, 60], [252, 50, 7.0, 60]
    measured = np.array([ok, ok, ok, broad, broad, ok, ok, broad])
    protocol = {
        "references": {"x": [0, 1], "y": [3, 4]},  # y's references are broad
        "trials": [("x", 2, "genuine"), ("x", 7, "skilled"), ("y", 5, "genuine"), ("y", 6, "random")],
    }
    m = C.protocol_flags(cond, protocol, measured, "test")
    assert m == {
        "test_conditions_refs_flagged": 0.5,
        "test_conditions_questioned_flagged": pytest.approx(1 / 3),
    }
    records = [SimpleNamespace(person=p, kind=k) for p, k in zip("aabbccc", ["genuine"] * 6 + ["forgery"])]
    fitted = C.fit_records(records, np.array([ok] * 6 + [broad]), "genuine")
    assert (fitted.n_sources, fitted.n_scans, fitted.source_word) == (3, 7, "persons")
    assert fitted.sources["stroke_px"] == pytest.approx((3.75, 4.25))  # the forgery: single scans only
    assert np.isnan(SC.flagged_share([]))
    from hwutils.results import kind_of

    assert kind_of("test_conditions_refs_flagged", 0.5) == "percent"  # the report shows shares as percentages


def test_the_verifier_warns_outside_and_says_nothing_inside(tmp_path):
    from hwutils.signatures import siamese, verify

    tower = siamese.build_tower(16, 32, embedding_dim=4, base_filters=4)
    by_person = {p: SC.measure_many([_bar(t) for _ in range(3)]) for p, t in zip("abc", (3, 4, 5))}
    cond = SC.Conditions.fit(by_person, np.concatenate(list(by_person.values())), "persons")
    run = tmp_path / "run" / "artifacts"
    verify.Verifier(tower, 0.5, 16, 32).save(run / "verifier")
    C.save(cond, run / C.FILE)
    v = verify.load_verifier(tmp_path / "run")
    assert v.conditions == cond
    refs = [_bar(4) for _ in range(3)]
    assert "outside_conditions" not in v.verify(refs, _bar(4))["details"]
    out = v.verify(refs, _bar(12))["details"]["outside_conditions"]
    assert len(out) == 1 and out[0].startswith("the questioned signature: stroke width")  # and its height
    broad = v.verify([_bar(12) for _ in range(3)], _bar(4))["details"]["outside_conditions"]
    assert broad[0].startswith("the references (median of 3): stroke width")
    (run / C.FILE).write_text(json.dumps({**cond.to_dict(), "n_scans": -1}))
    with pytest.raises(ArtifactError, match="conditions.json"):
        verify.load_verifier(tmp_path / "run")
