"""The CTC reader: a word image read whole by the run's CRNN
(:mod:`hwutils.ocr.ctc`), decoded by beam search with the character bigram
model and an optional lexicon (:class:`CTCReader`); saved and loaded with a
run, measured and tuned on validation words."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from hwutils.errors import HwError, ParamsError
from hwutils.ocr.language import CharBigram
from hwutils.ocr.seg_reader import MODEL_FILE
from hwutils.ocr.words import (
    CharReading,
    WordReading,
    check_lm_weight,
    evaluate_words,
    label_kind,
    reader_figures,
    scoreable_words,
    word_grays,
)

CTC_MODEL_FILE = "ctc_reader.keras"
CTC_READER_FILE = "ctc_reader.json"


def check_lexicon_margin(margin) -> float:
    """``margin`` as a float when it is a number >= 0, else :class:`ParamsError`."""
    if isinstance(margin, bool) or not (
        isinstance(margin, (int, float)) and np.isfinite(margin) and margin >= 0
    ):
        raise ParamsError(f"lexicon_margin: must be a number >= 0, got {margin!r}")
    return float(margin)


class CTCReader:
    """Read a word image whole, without cutting it into characters: the
    run's CRNN (:mod:`hwutils.ocr.ctc`) gives per-column character
    probabilities, decoded by a CTC prefix beam search with the character
    bigram model (``lm_weight`` > 0) and, with a ``lexicon``, the most likely
    lexicon word when it is within ``lexicon_margin`` (natural log) of the
    free reading. ``allowed``: the characters a reading may use (empty = all,
    hyphen and space included); ``beam_width`` 1 without a language model is
    the best path (greedy). Same interface as :class:`Reader`."""

    def __init__(
        self,
        model,
        allowed: str = "",
        language_model: CharBigram | None = None,
        lm_weight: float = 0.0,
        beam_width: int = 8,
        lexicon=(),
        lexicon_margin: float = 2.0,
        max_side: int = 2000,
        segment_kwargs: dict | None = None,
    ):
        from hwutils.ocr import ctc

        self.model = model
        bad = sorted(set(allowed) - set(ctc.TOKENS))
        if bad:
            raise HwError(
                f"allowed characters {''.join(bad)!r} are not tokens of the CTC reader ({ctc.TOKENS!r})"
            )
        self.allowed = allowed
        self.lm_weight = check_lm_weight(lm_weight, language_model is not None, True)
        self.language_model = language_model
        if isinstance(beam_width, bool) or not isinstance(beam_width, (int, np.integer)) or beam_width < 1:
            raise ParamsError(f"beam_width: must be a whole number >= 1, got {beam_width!r}")
        self.beam_width = int(beam_width)
        self.lexicon = [str(w).strip().upper() for w in lexicon if str(w).strip()]
        self.lexicon_margin = check_lexicon_margin(lexicon_margin)
        self._lexicon_tokens = [list(ctc.encode(w, 10_000)[: len(w)]) for w in self.lexicon]
        self._lexicon_tokens = [t for t in self._lexicon_tokens if t and all(t)]
        self.max_side = max_side
        self.segment_kwargs = dict(segment_kwargs or {})
        self._lm = ctc.lm_mapping(language_model, allowed) if language_model is not None else (None, None)

    def with_settings(self, **changes) -> CTCReader:
        """The same reader (model shared) with some settings changed
        (``lm_weight``, ``beam_width``, ``lexicon``, ``lexicon_margin``, ``allowed``)."""
        settings = {
            "allowed": self.allowed,
            "language_model": self.language_model,
            "lm_weight": self.lm_weight,
            "beam_width": self.beam_width,
            "lexicon": self.lexicon,
            "lexicon_margin": self.lexicon_margin,
            "max_side": self.max_side,
            "segment_kwargs": self.segment_kwargs,
        }
        settings.update(changes)
        return CTCReader(self.model, **settings)

    def decode(self, log_probs: np.ndarray) -> list[int]:
        """The tokens (1-based) read from one word's per-column log-probabilities."""
        from hwutils.ocr import ctc

        lp = ctc.allowed_log_probs(log_probs, self.allowed)
        table, index = self._lm
        if self.beam_width == 1 and not self.lm_weight:
            tokens = ctc.greedy_decode(lp)
        else:
            tokens, _ = ctc.beam_search(lp, self.beam_width, table, index, self.lm_weight)
        if self._lexicon_tokens:
            tokens = ctc.lexicon_choice(lp, tokens, self._lexicon_tokens, self.lexicon_margin)
        return tokens

    def read_word(self, image, blank: str = "error") -> WordReading:
        """As :meth:`Reader.read_word`: raises :class:`ImageError` for an
        unreadable or (with ``blank="error"``) blank image."""
        return self.read_words([image], blank=blank)[0]

    def read_words(self, images, blank: str = "empty") -> list[WordReading]:
        """Read many words (one batch through the network). Each character
        comes with the box of the columns it was read in and the largest
        probability it had there; ``blank`` as :meth:`Reader.read_words`."""
        from hwutils.ocr import ctc

        grays, scales = word_grays(images, blank, self.max_side)
        strips = [ctc.word_strip(g, **self.segment_kwargs) for g in grays]
        log_probs = ctc.predict_log_probs(self.model, np.stack([s for s, _ in strips]))
        readings = []
        for lp, (_, geometry), scale in zip(log_probs, strips, scales):
            if geometry is None:
                readings.append(WordReading(""))
                continue
            tokens = self.decode(lp)
            chars, space = [], False
            for tok, (t0, t1, p) in zip(tokens, ctc.align(lp, tokens)):
                char = ctc.TOKENS[tok - 1]
                if char == " ":
                    space = bool(chars)
                    continue
                box = geometry.box(t0 * ctc.DOWNSAMPLE, (t1 + 1) * ctc.DOWNSAMPLE)
                chars.append(CharReading(char, tuple(int(round(v * scale)) for v in box), p, space))
                space = False
            readings.append(WordReading.of_chars(chars))
        return readings


def save_ctc_reader(reader: CTCReader, artifacts_dir) -> Path:
    """Write the CRNN and the CTC reader's settings into a run's ``artifacts/``
    (``ctc_reader.keras``, ``ctc_reader.json``); :func:`load_ctc_reader` reads them back."""
    from hwutils import training
    from hwutils.report import write_json_atomic

    artifacts_dir = Path(artifacts_dir)
    training.save_model(reader.model, artifacts_dir / CTC_MODEL_FILE)
    lm = reader.language_model
    write_json_atomic(
        artifacts_dir / CTC_READER_FILE,
        {
            "allowed": reader.allowed,
            "language_model": None if lm is None else lm.to_dict(),
            "lm_weight": reader.lm_weight,
            "beam_width": reader.beam_width,
            "lexicon": reader.lexicon,
            "lexicon_margin": reader.lexicon_margin,
        },
    )
    return artifacts_dir


def load_ctc_reader(run_dir, lm_weight: float | None = None) -> CTCReader:
    """The CTC reader of a finished ``char_ocr`` run (run folder or its
    ``artifacts/``); ``lm_weight`` overrides the saved weight (0 = without
    the language model). Raises :class:`HwError` naming what is missing."""
    from hwutils import artifacts, training
    from hwutils.runfolder import artifacts_folder

    art = artifacts_folder(Path(run_dir), MODEL_FILE, "char_ocr")
    if not (art / CTC_MODEL_FILE).exists():
        raise artifacts.ArtifactError(
            f"{art}: this run has no CTC reader ({CTC_MODEL_FILE}; trained with ctc_words > 0)"
        )
    settings = artifacts.load_json(art / CTC_READER_FILE)
    lm = settings.get("language_model")
    try:
        lm = None if lm is None else CharBigram.from_dict(lm)
    except HwError as exc:
        raise artifacts.ArtifactError(f"{art / CTC_READER_FILE}: 'language_model': {exc}") from None
    return CTCReader(
        training.load_model(art / CTC_MODEL_FILE),
        allowed=settings.get("allowed", ""),
        language_model=lm,
        lm_weight=settings.get("lm_weight", 0.0) if lm_weight is None else lm_weight,
        beam_width=settings.get("beam_width", 8),
        lexicon=settings.get("lexicon", []),
        lexicon_margin=settings.get("lexicon_margin", 2.0),
    )


CTC_LM_WEIGHTS = (0.0, 0.25, 0.5, 1.0)
"""The language-model weights the CTC reader tries on the validation words."""


def evaluate_ctc(reader: CTCReader, items, source=None) -> tuple[dict, list[dict]]:
    """Read and score the words with the CTC reader (:func:`evaluate_words`)
    and, when it uses a language model, without it on the same words.
    Returns metrics under ``_ctc`` keys (``cer_ctc``, ``word_accuracy_ctc``,
    the letters-only figures, the intervals ``cer_ctc_ci95`` and
    ``word_accuracy_ctc_ci95``, ``cer_ctc_without_lm``, ``read_seconds_ctc``)
    and the rows."""
    import time

    items = list(items)
    t0 = time.perf_counter()
    m, rows = evaluate_words(reader, items, source=source)
    out = reader_figures(m, "_ctc")
    out["read_seconds_ctc"] = time.perf_counter() - t0
    if reader.lm_weight > 0:
        plain, _ = evaluate_words(reader.with_settings(lm_weight=0.0), items, source=source)
        out.update({f"{k}_ctc_without_lm": plain[k] for k in ("cer", "word_accuracy")})
    return out, rows


def tune_ctc_lm_weight(reader: CTCReader, items, weights=CTC_LM_WEIGHTS, source=None) -> tuple[float, dict]:
    """The language-model weight of ``weights`` with the lowest CER on
    ``items`` (validation words, never the evaluation words; ties go to the
    smaller weight), and the CER of each. Without a language model: 0."""
    if reader.language_model is None:
        return 0.0, {}
    cers = {
        float(w): evaluate_words(reader.with_settings(lm_weight=w), items, source=source)[0]["cer"]
        for w in weights
    }
    return min(cers, key=lambda w: (cers[w], w)), cers


def lexicon_words(lexicon: str, labels=()) -> list[str]:
    """The words of the ``lexicon`` parameter: empty is none, ``harvest`` the
    ``labels`` given (the harvested words' labels, words only), else a UTF-8
    file of one word per line (upper-cased, blank lines skipped). Raises
    :class:`ParamsError` naming the file when it cannot be read."""
    if not lexicon:
        return []
    if lexicon == "harvest":
        words = [str(t).strip().upper() for t in labels if label_kind(str(t)) == "word"]
    else:
        try:
            text = Path(lexicon).read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError) as exc:
            raise ParamsError(f"lexicon: cannot read {lexicon}: {exc.__class__.__name__}: {exc}") from None
        words = [w.strip().upper() for w in text.splitlines() if w.strip()]
    return sorted(set(words))


def word_strips(items) -> tuple[np.ndarray, list[str]]:
    """The CTC reader's strips of the scoreable words among labelled items
    (kind ``word``, readable files) and their labels, e.g. validation words to
    watch the CTC reader's training with."""
    from hwutils.ocr import ctc

    strips, texts = scoreable_words(items, lambda image: ctc.word_strip(image)[0])
    shape = (0, ctc.STRIP_H, ctc.STRIP_W)
    return (np.stack(strips) if strips else np.zeros(shape, np.uint8)), texts
