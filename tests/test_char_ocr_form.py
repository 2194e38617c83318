"""Reading fields of a printed form (hwutils.ocr.form): a printed label or a line of
digits read as the main line is passed over for the next line; known-truth images."""

import json

import numpy as np
import pytest

from hwutils.artifacts import ArtifactError
from hwutils.errors import ParamsError
from hwutils.ocr import form as F
from hwutils.ocr import read as R
from hwutils.ocr.ink import other_lines
from hwutils.ocr.model import build_classifier
from hwutils.ocr.words import CharReading, WordReading

TOP, BOTTOM = slice(8, 30), slice(40, 56)


def _field():
    """A crop with a bold line of six blocks on top (ranked first: more ink,
    taller) and a line of four thinner blocks below it."""
    img = np.full((64, 260), 250, np.uint8)
    for i in range(6):
        img[TOP, 20 + 36 * i : 44 + 36 * i] = 0
    for i in range(4):
        img[BOTTOM, 30 + 40 * i : 42 + 40 * i] = 20
    return img


class _ByBand:
    """A stand-in reader that reads what the image shows: ``top`` when the top
    band has ink, else ``bottom`` when the bottom band has, else nothing."""

    def __init__(self, top="PRENOM", bottom="LISA"):
        self.top, self.bottom, self.calls = top, bottom, 0

    def read_words(self, images, blank="empty"):
        self.calls += 1
        out = []
        for image in images:
            gray = np.asarray(image)
            text = self.top if (gray[TOP] < 128).any() else self.bottom if (gray[BOTTOM] < 128).any() else ""
            out.append(WordReading(text, [CharReading(c, (0, 0, 1, 1), 1.0) for c in text]))
        return out


def test_labels_are_parsed_to_letters_and_a_bad_one_is_refused():
    assert F.parse_labels("Nom :, PRENOM,, date de naissance") == ("NOM", "PRENOM", "DATEDENAISSANCE")
    assert F.parse_labels(["NOM", "NOM"]) == ("NOM",)
    assert F.parse_labels("") == ()
    with pytest.raises(ParamsError, match="form_labels: ':'"):
        F.parse_labels("NOM, :")


def test_a_reading_is_a_label_within_a_few_edits_but_short_labels_exactly():
    labels = F.parse_labels("NOM, PRENOM, DATE DE NAISSANCE")
    assert F.is_label("PENOM", labels) and F.is_label("PRENON", labels) and F.is_label("NOM", labels)
    assert F.is_label("DATE DE NAISANCE", labels)
    assert not F.is_label("NOE", labels)  # a name one edit from NOM
    assert not F.is_label("PAULIN", labels) and not F.is_label("", labels)


def test_a_label_read_before_the_name_is_dropped():
    labels = F.parse_labels("NOM")
    chars = [CharReading(c, (i, 0, 1, 1), 0.9, space_before=(i == 4)) for i, c in enumerate("NOMIGRUSON")]
    reading = F.drop_label_prefix(WordReading("NOMI GRUSON", chars), labels)
    assert reading.text == "GRUSON" and [c.char for c in reading.chars] == list("GRUSON")
    assert reading.chars[0].box == (4, 0, 1, 1) and not reading.chars[0].space_before
    for text in ("NOMADE", "JEAN PAUL", "NOM"):  # no label before a name: unchanged
        plain = WordReading(text, [CharReading(c, (0, 0, 1, 1), 0.9) for c in text.replace(" ", "")])
        assert F.drop_label_prefix(plain, labels) is plain


def test_other_lines_paint_over_every_other_line():
    img = _field()
    alts = other_lines(img)
    assert len(alts) == 1
    alt = alts[0]
    assert alt.shape == img.shape
    assert not (alt[TOP] < 128).any()  # the first line is painted over ...
    assert np.array_equal(alt[BOTTOM], img[BOTTOM])  # ... the second kept as it was
    assert other_lines(img, max_lines=1) == []
    one_line = np.full((40, 200), 250, np.uint8)
    one_line[10:30, 20:40] = 0
    assert other_lines(one_line) == []


def test_a_printed_label_read_as_the_main_line_gives_way_to_the_next_line():
    reader = F.FieldReader(_ByBand("PENOM", "LISA"), "NOM, PRENOM")
    assert reader.read_word(_field()).text == "LISA"
    plain = F.FieldReader(_ByBand("MARIE", "LISA"), "NOM, PRENOM")
    assert plain.read_word(_field()).text == "MARIE"  # not a label: the main line stays
    both = F.FieldReader(_ByBand("PRENOM", "NOM"), "NOM, PRENOM")
    assert both.read_word(_field()).text == "PRENOM"  # no line that is not a label: the first reading
    unset = F.FieldReader(_ByBand("PRENOM", "LISA"), "")
    assert unset.read_word(_field()).text == "PRENOM"  # no labels, no probe: read as before


class _DigitProbe:
    """A stand-in for the classifier: every character of a crop whose top band
    has ink is a digit (probability 0.9 on '7'), any other a letter."""

    segment_kwargs: dict = {}
    classes = "0123456789ABC"

    def char_probs(self, chars):
        out = np.zeros((len(chars), len(self.classes)))
        out[:, 10] = 1.0
        return out


def test_a_line_of_digits_gives_way_to_the_next_line(monkeypatch):
    shares = iter([[0.9], [0.1]])  # the main line reads as digits, the next as letters
    monkeypatch.setattr(F, "digit_shares", lambda probe, grays: np.array(next(shares)))
    reader = F.FieldReader(_ByBand("OTBOSATX", "GORON"), "", probe=object())
    assert reader.read_word(_field()).text == "GORON"


def test_digit_shares_average_the_classifier_over_each_lines_characters():
    probe = _DigitProbe()
    img = _field()
    assert F.digit_shares(probe, [img]).tolist() == [0.0]
    probe.char_probs = lambda chars: np.tile([0.5] * 2 + [0.0] * 11, (len(chars), 1))
    assert F.digit_shares(probe, [img, np.full((20, 20), 255, np.uint8)]) == pytest.approx([1.0, 0.0])


def test_a_runs_form_is_saved_loaded_and_applied_by_load_any_reader(tmp_path):
    art = tmp_path / "run" / "artifacts"
    R.save_reader(build_classifier(width=4), art, search={}, allowed="ABC")
    assert R.load_reader(tmp_path / "run")._allowed == "ABC"  # read with the classes it was measured with
    assert R.load_reader(tmp_path / "run", allowed="")._allowed == ""
    name, plain = R.load_any_reader(tmp_path / "run")
    assert name == "segmentation" and not isinstance(plain, F.FieldReader)
    F.save_form(art, "NOM, PRENOM", "ABC")  # a field of letters: digit lines passed over
    name, reader = R.load_any_reader(tmp_path / "run")
    assert isinstance(reader, F.FieldReader) and reader.labels == ("NOM", "PRENOM")
    assert reader.probe is not None and reader.probe._allowed == "" and reader.probe.search is None
    assert isinstance(reader.geometry_only(), F.FieldReader) and reader.search is not None
    assert len(reader.read_word(_field()).text) >= 1
    (art / F.FORM_FILE).write_text(json.dumps({"labels": ["NOM", "::"]}))
    with pytest.raises(ArtifactError, match="form.json"):
        R.load_any_reader(tmp_path / "run")
