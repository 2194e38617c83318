"""Reading a field of a printed form: not the form's own printed words.

A crop of a form's field often shows more than the handwriting: the printed
label above it (``PRENOM``), a cut-off printed line below (``DATE DE
NAISSANCE``), the label before it (``NOM :``). The line finding
(:func:`hwutils.ocr.ink._ranked_lines`) picks the likeliest handwritten line
from its geometry; when that line reads as one of the form's printed labels,
:class:`FieldReader` reads the next likeliest line instead
(:func:`hwutils.ocr.ink.other_lines`), and it drops a label read in front of
the handwriting (``NOM: TRUMEAU`` read ``NOMI TRUMEAU``). With a ``probe`` (the run's
segmentation reader, all 36 classes) it also passes over a line whose
characters the classifier takes for digits (more than half their probability
on 0-9): a code written on the form (``CODE RNE / UAI : 0530061D``) above a
field of letters. The labels are the form's, given by its user
(``form_labels`` of the char_ocr stage); without them and without a probe a
reader reads as before.
"""

from __future__ import annotations

from dataclasses import replace

import numpy as np

from hwutils import images as I
from hwutils.errors import ParamsError
from hwutils.metrics import edit_distance
from hwutils.ocr.ink import other_lines
from hwutils.ocr.words import WordReading


def parse_labels(text) -> tuple[str, ...]:
    """The printed labels of a form from a comma-separated string (or a list):
    capitals, inner spaces and punctuation dropped (``"Date de naissance"`` ->
    ``DATEDENAISSANCE``), empty items left out. Raises :class:`ParamsError`
    naming ``form_labels`` for a label without a letter or digit."""
    items = text.split(",") if isinstance(text, str) else list(text)
    out = []
    for item in items:
        if not str(item).strip():
            continue
        squeezed = _squeeze(str(item))
        if not squeezed:
            raise ParamsError(f"form_labels: {str(item).strip()!r} has no letter or digit")
        out.append(squeezed)
    return tuple(dict.fromkeys(out))


def _squeeze(text: str) -> str:
    return "".join(c for c in text.upper() if c.isalnum())


def _tolerance(label: str) -> int:
    """Edits allowed when matching a reading to ``label``: none up to 3
    characters (``NOM`` must read ``NOM``: ``NOE`` is a name), then one per
    further 3 characters (``PRENOM`` may read ``PENOM``)."""
    return max(0, (len(label) - 1) // 3)


def is_label(text: str, labels) -> bool:
    """Whether a reading is one of the form's printed ``labels`` (as
    :func:`parse_labels` gives them), within :func:`_tolerance` edits."""
    squeezed = _squeeze(text)
    return bool(squeezed) and any(edit_distance(squeezed, lab) <= _tolerance(lab) for lab in labels)


def _label_prefix(reading: WordReading, labels) -> int:
    """How many characters of ``reading`` are a printed label read before the
    handwriting (its first space-separated part, possibly with the label's
    colon read as one more character): 0 when none is."""
    words = reading.text.split(" ")
    if len(words) < 2 or not words[0] or not "".join(words[1:]).strip():
        return 0
    first = words[0]
    if is_label(first, labels) or (len(first) > 1 and first[-1] in "I1L:" and is_label(first[:-1], labels)):
        return len(first)
    return 0


def drop_label_prefix(reading: WordReading, labels) -> WordReading:
    """``reading`` without a printed label read in front of the handwriting."""
    n = _label_prefix(reading, labels)
    if not n or len(reading.chars) < n:
        return reading
    chars = list(reading.chars[n:])
    if chars:
        chars[0] = replace(chars[0], space_before=False)
    return WordReading.of_chars(chars)


def check_max_lines(max_lines) -> int:
    """``max_lines`` (lines of a crop tried in all) if a whole number >= 1, else :class:`ParamsError`."""
    if isinstance(max_lines, bool) or not isinstance(max_lines, int) or max_lines < 1:
        raise ParamsError(f"max_lines: must be a whole number >= 1, got {max_lines!r}")
    return max_lines


DIGIT_SHARE = 0.5
"""A line whose characters have on average more than this share of their
probability on the digits is a code, not a field of letters."""


def digit_shares(probe, grays) -> np.ndarray:
    """For each gray image, the mean probability the ``probe`` reader's
    classifier puts on the digits 0-9 over the characters of its main line,
    cut from its geometry (0 for a line without characters); one batch."""
    from hwutils.ocr.segment import segment_word

    per_image = [
        [s.image for s in segment_word(g, **probe.segment_kwargs) if s.kind == "char"] for g in grays
    ]
    chars = [c for cs in per_image for c in cs]
    if not chars:
        return np.zeros(len(grays))
    probs = probe.char_probs(np.stack(chars))
    digits = [k for k, c in enumerate(probe.classes) if c.isdigit()]
    share = probs[:, digits].sum(1)
    out, k = np.zeros(len(grays)), 0
    for n, cs in enumerate(per_image):
        if cs:
            out[n] = float(share[k : k + len(cs)].mean())
        k += len(cs)
    return out


class FieldReader:
    """A word reader (segmentation, CTC or combined) reading form fields: a
    reading that is one of the form's printed ``labels``, or (with a
    ``probe``, for fields of letters) a line read mostly as digits, is
    replaced by the reading of the next likeliest line (up to ``max_lines``
    lines in all; the first that is neither), and a label read in front of the
    handwriting is dropped. Same interface as the reader it wraps; its other
    attributes are the wrapped reader's."""

    def __init__(self, reader, labels=(), max_lines: int = 3, probe=None):
        self.reader = reader
        self.labels = parse_labels(labels)
        self.max_lines = check_max_lines(max_lines)
        self.probe = probe

    def _passed_over(self, readings, grays) -> list[bool]:
        """Whether each reading (of the main line of each gray image) is a
        printed label or, with a probe, a line of digits."""
        out = [is_label(r.text, self.labels) for r in readings]
        if self.probe is not None:
            shares = digit_shares(self.probe, grays)
            out = [o or bool(s > DIGIT_SHARE) for o, s in zip(out, shares)]
        return out

    def __getattr__(self, name):
        if name == "reader":  # not yet set (copying, unpickling): no recursion
            raise AttributeError(name)
        return getattr(self.reader, name)

    def describe(self) -> str:
        """One line saying how this reader reads form fields (``hw read``'s note)."""
        return (
            "read as form fields, as the run measured: a line read as a printed label ("
            + (", ".join(self.labels) or "none")
            + ")"
            + (" or as digits" if self.probe is not None else "")
            + " gives way to the next line"
        )

    def _like(self, reader) -> FieldReader:
        return FieldReader(reader, self.labels, self.max_lines, self.probe)

    def geometry_only(self) -> FieldReader:
        """The wrapped segmentation reader's geometry-only reading, reading fields alike."""
        return self._like(self.reader.geometry_only())

    def with_settings(self, **changes) -> FieldReader:
        """The wrapped CTC or combined reader with some settings changed, reading fields alike."""
        return self._like(self.reader.with_settings(**changes))

    def with_lm_weight(self, lm_weight: float) -> FieldReader:
        """The wrapped segmentation reader with another language-model weight, reading fields alike."""
        return self._like(self.reader.with_lm_weight(lm_weight))

    def read_word(self, image, blank: str = "error") -> WordReading:
        """As the wrapped reader's ``read_word``."""
        return self.read_words([image], blank=blank)[0]

    def read_words(self, images, blank: str = "empty") -> list[WordReading]:
        """As the wrapped reader's ``read_words``, each reading of a printed
        label (or, with a probe, of a line of digits) replaced by the next
        line's, a label before the handwriting dropped (the boxes stay in the
        image's pixels: the other lines are painted over, not cut away)."""
        images = list(images)
        readings = self.reader.read_words(images, blank=blank)
        if not self.labels and self.probe is None:
            return readings
        read = [k for k, r in enumerate(readings) if r.text.strip()]
        grays = {k: I.as_gray(images[k]) for k in read}
        passed = self._passed_over([readings[k] for k in read], [grays[k] for k in read])
        for k, over in zip(read, passed):
            if over:
                alts = other_lines(grays[k], max_lines=self.max_lines)
                others = self.reader.read_words(alts, blank="empty") if alts else []
                keep = [bool(o.text.strip()) for o in others]
                verdicts = self._passed_over(others, alts) if others else []
                for other, ok, bad in zip(others, keep, verdicts):
                    if ok and not bad:
                        readings[k] = other
                        break
            readings[k] = drop_label_prefix(readings[k], self.labels)
        return readings


FORM_FILE = "form.json"


def probe_reader(seg_reader):
    """The segmentation reader's classifier over all its classes, cutting
    from geometry alone: what :func:`digit_shares` asks which lines are digits."""
    from hwutils.ocr.seg_reader import Reader

    return Reader(
        seg_reader.model, seg_reader.classes, seg_reader.segment_kwargs, seg_reader.max_side, "", None
    )


def save_form(artifacts_dir, labels, read_charset: str = "", max_lines: int = 3):
    """Record how a run reads form fields (``form.json``): the form's printed
    labels, whether lines of digits are passed over (when the field's
    ``read_charset`` has no digit: a field of letters; empty is all classes)
    and how many lines are tried."""
    from pathlib import Path

    from hwutils.ocr import CLASSES
    from hwutils.report import write_json_atomic

    return write_json_atomic(
        Path(artifacts_dir) / FORM_FILE,
        {
            "labels": list(parse_labels(labels)),
            "digit_lines": not any(c.isdigit() for c in read_charset or CLASSES),
            "max_lines": check_max_lines(max_lines),
        },
    )


def load_form(art) -> dict | None:
    """A run's form settings from its ``artifacts/`` folder, or None when it
    reads words as they are. Raises :class:`hwutils.artifacts.ArtifactError`
    naming the file for a malformed one."""
    from pathlib import Path

    from hwutils import artifacts

    path = Path(art) / FORM_FILE
    if not path.exists():
        return None
    settings = artifacts.load_json(path, required=("labels",))
    try:
        labels = parse_labels(settings["labels"])
        max_lines = check_max_lines(settings.get("max_lines", 3))
    except (ParamsError, TypeError) as exc:
        raise artifacts.ArtifactError(f"{path}: {exc}") from None
    return {"labels": labels, "digit_lines": bool(settings.get("digit_lines", False)), "max_lines": max_lines}


def as_field_reader(reader, form: dict | None, seg_reader=None):
    """``reader`` reading form fields as ``form`` says (:func:`load_form`; the
    probe from ``seg_reader`` when lines of digits are passed over), or
    ``reader`` itself without a form."""
    if form is None:
        return reader
    probe = probe_reader(seg_reader) if form["digit_lines"] and seg_reader is not None else None
    return FieldReader(reader, form["labels"], form["max_lines"], probe)
