"""Both word readers together: candidate strings scored by both models.

The segmentation reader (:mod:`hwutils.ocr.seg_reader`) and the CTC reader
(:mod:`hwutils.ocr.ctc_reader`) make different errors: the first fails where
a word cannot be cut into its letters, the second where its composed training
words differ from real writing. :class:`CombinedReader` reads a word with both
and chooses among candidate strings:

- the segmentation reader's reading (with and without the language model) and,
  at each of its characters, that character replaced by one of the
  classifier's next ``alternatives`` letters;
- the CTC reader's beam (with its language model and without).

Each candidate ``s`` gets the score

    (1 - weight) * seg(s) + weight * ctc(s) + lm_weight * lm(s)

``seg(s)``: the best segmentation-by-recognition score of reading the word's
pieces as exactly ``s`` (:func:`segmentation_score`, a Viterbi pass over piece
boundaries and positions in ``s``; spaces aside, as the segmentation places
them from gaps); ``ctc(s)``: the CTC log-likelihood of ``s``
(:func:`hwutils.ocr.ctc.ctc_log_likelihood`, spaces included); ``lm(s)``: the
character bigram model's log-probability of ``s`` (word boundaries at both
ends). ``weight`` and ``lm_weight`` (by default the segmentation reader's)
are chosen on validation words (:func:`tune_weight`). A candidate the pieces cannot be
read as (more characters than pieces) has ``seg`` of -inf: it is chosen only
when no candidate can be covered, then by ``ctc`` and ``lm`` alone.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from hwutils import metrics
from hwutils.errors import ParamsError
from hwutils.ocr.ctc_reader import CTCReader, load_ctc_reader
from hwutils.ocr.seg_reader import MODEL_FILE, Lattice, Reader, load_reader
from hwutils.ocr.words import CharReading, WordReading, check_lm_weight, scoreable_words, word_grays

COMBINED_FILE = "combined_reader.json"
COMBINED_WEIGHTS = (0.0, 0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9, 1.0)
"""The weights of the CTC log-likelihood tried on the validation words."""
COMBINED_LM_WEIGHTS = (0.5, 0.75, 1.0, 1.5)
"""The language-model weights tried with them (``combined_lm_weight`` -1)."""


def check_weight(weight) -> float:
    """``weight`` as a float in [0, 1], else :class:`ParamsError` naming it."""
    if isinstance(weight, bool) or not (
        isinstance(weight, (int, float)) and np.isfinite(weight) and 0 <= weight <= 1
    ):
        raise ParamsError(f"combined weight: must be a number in [0, 1], got {weight!r}")
    return float(weight)


def segmentation_score(lattice: Lattice, tokens: list[int]) -> tuple[float, list[tuple[int, int]]]:
    """The best score of reading the lattice's pieces as exactly ``tokens``
    (column indices of ``lattice.emissions``: the letters, then the hyphen) and
    its cover of the pieces by runs, one run per token; ``(-inf, [])`` when no
    cover has that many runs (or a token cannot be read from any run)."""
    n, m = len(lattice.pieces), len(tokens)
    if m == 0:
        return (0.0 if n == 0 else -np.inf), []
    emissions = np.asarray(lattice.emissions)[:, tokens]  # (runs, m): run read as the p-th token
    best = np.full((n + 1, m + 1), -np.inf)
    best[0, 0] = 0.0
    back = np.zeros((n + 1, m + 1), int)
    for k in sorted(range(len(lattice.runs)), key=lambda k: lattice.runs[k][1]):
        i, j = lattice.runs[k]
        value = best[i, :-1] + emissions[k]
        better = value > best[j, 1:]
        best[j, 1:][better] = value[better]
        back[j, 1:][better] = i
    if not np.isfinite(best[n, m]):
        return -np.inf, []
    cover, j = [], n
    for p in range(m, 0, -1):
        i = int(back[j, p])
        cover.append((i, j))
        j = i
    return float(best[n, m]), cover[::-1]


def lm_score(table: np.ndarray | None, tokens: list[int]) -> float:
    """``log P`` of a token sequence under a bigram table (:meth:`CharBigram.log_probs`,
    the last index the word boundary), boundaries at both ends; 0 without a table."""
    if table is None:
        return 0.0
    boundary = table.shape[0] - 1
    seq = [boundary, *tokens, boundary]
    return float(table[seq[:-1], seq[1:]].sum())


def combine(seg: np.ndarray, ctc: np.ndarray, lm: np.ndarray, weight: float, lm_weight: float) -> np.ndarray:
    """``(1 - weight) * seg + weight * ctc + lm_weight * lm`` with a term of
    weight 0 left out (so its -inf counts for nothing); when every ``seg`` is
    -inf, the segmentation term is left out for all candidates."""
    seg, ctc, lm = (np.asarray(a, np.float64) for a in (seg, ctc, lm))
    total = lm_weight * lm if lm_weight > 0 else np.zeros_like(seg)
    if weight < 1 and np.isfinite(seg).any():
        total = total + (1 - weight) * seg
    if weight > 0:
        total = total + weight * ctc
    return total


@dataclass
class Scored:
    """One word's candidates and their scores (:meth:`CombinedReader.score`)."""

    texts: list[str]
    seg: np.ndarray
    ctc: np.ndarray
    lm: np.ndarray
    covers: list = field(default_factory=list)
    lattice: Lattice | None = None
    log_probs: np.ndarray | None = None
    geometry: object = None
    scale: float = 1.0

    def pick(self, weight: float, lm_weight: float) -> int:
        """The index of the best candidate at these weights."""
        return int(np.argmax(combine(self.seg, self.ctc, self.lm, weight, lm_weight)))


class CombinedReader:
    """Read a word with both readers and choose among their candidate strings
    by a combined score (see the module docstring). ``weight``: the CTC
    log-likelihood's share in [0, 1] (0: the segmentation reader's score
    alone, 1: the CTC reader's alone, both plus the language model);
    ``alternatives``: classifier alternatives tried at each character of the
    segmentation reader's reading. Same interface as the readers it combines."""

    def __init__(
        self,
        seg_reader: Reader,
        ctc_reader: CTCReader,
        weight: float = 0.5,
        alternatives: int = 2,
        lm_weight: float | None = None,
    ):
        if seg_reader.search is None:
            raise ParamsError("combined reader: the segmentation reader needs the search (search: true)")
        self.seg_reader = seg_reader
        self.ctc_reader = ctc_reader
        self.weight = check_weight(weight)
        if (
            isinstance(alternatives, bool)
            or not isinstance(alternatives, (int, np.integer))
            or alternatives < 0
        ):
            raise ParamsError(f"combined alternatives: must be a whole number >= 0, got {alternatives!r}")
        self.alternatives = int(alternatives)
        self.max_side = seg_reader.max_side
        if lm_weight is None:
            lm_weight = seg_reader.lm_weight
        self.lm_weight = check_lm_weight(lm_weight, seg_reader.language_model is not None, True)

    def with_settings(self, **changes) -> CombinedReader:
        """The same readers (shared) with ``weight``, ``alternatives`` or ``lm_weight`` changed."""
        settings = {"weight": self.weight, "alternatives": self.alternatives, "lm_weight": self.lm_weight}
        settings.update(changes)
        return CombinedReader(self.seg_reader, self.ctc_reader, **settings)

    # -------------------------------------------------------------- candidates
    def _seg_candidates(self, lattice: Lattice, tokens: str) -> list[str]:
        """The segmentation reader's readings (with and without the language
        model; spaces from gaps) and single-character alternatives of the first."""
        from hwutils.ocr.search import best_reading

        seg = self.seg_reader
        out = []
        paths = [
            best_reading(
                len(lattice.pieces), lattice.runs, lattice.emissions, seg.transitions(), seg.lm_weight
            )
        ]
        if seg.transitions() is not None:
            paths.append(best_reading(len(lattice.pieces), lattice.runs, lattice.emissions, None, 0.0))
        run_index = {run: k for k, run in enumerate(lattice.runs)}
        for n, path in enumerate(paths):
            segments = seg.cover_segments(lattice, [run for run, _ in path])
            chars = [tokens[tok] for _, tok in path]
            spaces = ["" if not s.space_before else " " for s in segments]
            out.append("".join(sp + c for sp, c in zip(spaces, chars)))
            if n > 0 or not self.alternatives:
                continue
            for p, (run, tok) in enumerate(path):
                if tokens[tok] == "-":
                    continue
                order = np.argsort(-lattice.log_probs[run_index[run]])
                for alt in [int(a) for a in order if a != tok][: self.alternatives]:
                    alt_chars = chars[:p] + [tokens[alt]] + chars[p + 1 :]
                    out.append("".join(sp + c for sp, c in zip(spaces, alt_chars)))
        return out

    def _ctc_candidates(self, log_probs: np.ndarray) -> list[str]:
        from hwutils.ocr import ctc

        reader = self.ctc_reader
        lp = ctc.allowed_log_probs(log_probs, reader.allowed)
        table, index = reader._lm
        out = []
        weights = [reader.lm_weight, 0.0] if reader.lm_weight > 0 else [0.0]
        for w in weights:
            for tokens, _ in ctc.beam_candidates(lp, reader.beam_width, table, index, w):
                out.append(ctc.decode_tokens(tokens).strip())
        return out

    def score(self, images, blank: str = "empty") -> list[Scored]:
        """Each word's candidates (both readers, both models run in one batch
        each) and their ``seg``, ``ctc`` and ``lm`` scores."""
        from hwutils.ocr import ctc

        grays, scales = word_grays(images, blank, self.max_side)
        lattices = self.seg_reader.lattices(grays)
        strips = [ctc.word_strip(g, **self.ctc_reader.segment_kwargs) for g in grays]
        all_lp = ctc.predict_log_probs(self.ctc_reader.model, np.stack([s for s, _ in strips]))
        seg_tokens = self.seg_reader.letters + "-"
        lm = self.seg_reader.language_model
        table = lm.log_probs(seg_tokens) if lm is not None else None
        out = []
        for lattice, lp, (_, geometry), scale in zip(lattices, all_lp, strips, scales):
            texts = [""] if lattice is None else self._seg_candidates(lattice, seg_tokens)
            if geometry is not None:
                texts += self._ctc_candidates(lp)
            texts = list(dict.fromkeys(" ".join(t.split()) for t in texts))  # unique, spaces single
            seg_scores, lm_scores, covers, ctc_texts = [], [], [], []
            for text in texts:
                chars = text.replace(" ", "")
                if any(c not in seg_tokens for c in chars):
                    seg_scores.append(-np.inf)
                    lm_scores.append(-np.inf)
                    covers.append([])
                else:
                    toks = [seg_tokens.index(c) for c in chars]
                    if lattice is None:
                        s, cover = (0.0 if not toks else -np.inf), []
                    else:
                        s, cover = segmentation_score(lattice, toks)
                    seg_scores.append(s)
                    lm_scores.append(lm_score(table, toks))
                    covers.append(cover)
                ctc_texts.append([ctc.TOKENS.index(c) + 1 for c in text if c in ctc.TOKENS])
            ctc_lp = ctc.allowed_log_probs(lp, self.ctc_reader.allowed)
            ctc_scores = ctc.ctc_log_likelihood(ctc_lp, ctc_texts) if texts else np.zeros(0)
            out.append(
                Scored(
                    texts,
                    np.array(seg_scores, np.float64),
                    np.asarray(ctc_scores, np.float64),
                    np.array(lm_scores, np.float64),
                    covers,
                    lattice,
                    lp,
                    geometry,
                    scale,
                )
            )
        return out

    # -------------------------------------------------------------- reading
    def reading(
        self, scored: Scored, weight: float | None = None, lm_weight: float | None = None
    ) -> WordReading:
        """The reading of one scored word: its best candidate, each character
        with the box of its run of pieces and the classifier's probability
        (or, when the pieces cannot be read as the candidate, the CTC
        alignment's columns and probability)."""
        from hwutils.ocr import ctc

        if not scored.texts:
            return WordReading("")
        k = scored.pick(
            self.weight if weight is None else weight, self.lm_weight if lm_weight is None else lm_weight
        )
        text = scored.texts[k]
        if not text:
            return WordReading("")
        letters = text.replace(" ", "")
        spaces = []
        for n, c in enumerate(text):
            if c != " ":
                spaces.append(n > 0 and text[n - 1] == " ")
        chars = []
        cover = scored.covers[k] if k < len(scored.covers) else []
        if cover and scored.lattice is not None:
            run_index = {run: r for r, run in enumerate(scored.lattice.runs)}
            seg_letters = self.seg_reader.letters
            for c, run, space in zip(letters, cover, spaces):
                seg = scored.lattice.pieces.segment(*run)
                box = tuple(int(round(v * scored.scale)) for v in seg.box)
                conf = (
                    1.0
                    if c == "-"
                    else float(np.exp(scored.lattice.log_probs[run_index[run], seg_letters.index(c)]))
                )
                chars.append(CharReading(c, box, conf, space))
        else:
            tokens = [ctc.TOKENS.index(c) + 1 for c in letters]
            for c, (t0, t1, p), space in zip(letters, ctc.align(scored.log_probs, tokens), spaces):
                box = (0, 0, 0, 0)
                if scored.geometry is not None:
                    box = scored.geometry.box(t0 * ctc.DOWNSAMPLE, (t1 + 1) * ctc.DOWNSAMPLE)
                chars.append(CharReading(c, tuple(int(round(v * scored.scale)) for v in box), p, space))
        return WordReading(text, chars)

    def read_word(self, image, blank: str = "error") -> WordReading:
        """As :meth:`hwutils.ocr.seg_reader.Reader.read_word`: raises
        :class:`ImageError` for an unreadable or (with ``blank="error"``) blank image."""
        return self.read_words([image], blank=blank)[0]

    def read_words(self, images, blank: str = "empty") -> list[WordReading]:
        """Read many words; ``blank`` as :meth:`hwutils.ocr.seg_reader.Reader.read_words`."""
        return [self.reading(s) for s in self.score(images, blank=blank)]


# ------------------------------------------------------------------ the weight, chosen on validation words
def tune_weight(
    reader: CombinedReader, items, weights=COMBINED_WEIGHTS, lm_weights=None
) -> tuple[float, dict] | tuple[float, float, dict]:
    """The weight of ``weights`` with the lowest CER on ``items`` (validation
    words, never the evaluation words; then the higher word accuracy, then the
    weight nearer 0.5), each word read once and chosen at every weight.
    Returns the weight and ``{weight: (cer, word accuracy)}``. With
    ``lm_weights`` (e.g. :data:`COMBINED_LM_WEIGHTS`) the language-model weight
    is chosen with it (ties: nearer the reader's own): returns ``(weight,
    lm_weight, {(weight, lm_weight): (cer, word accuracy)})``."""
    images, refs = scoreable_words(items)
    grid = [(float(w), lw) for lw in (lm_weights or [reader.lm_weight]) for w in weights]
    table = {}
    if refs:
        scored = reader.score(images)
        for w, lw in grid:
            hyps = [s.texts[s.pick(w, lw)] if s.texts else "" for s in scored]
            table[(w, float(lw))] = (metrics.cer(refs, hyps), metrics.word_accuracy(refs, hyps))
    if not table:
        best = (reader.weight, reader.lm_weight)
    else:
        best = min(
            table,
            key=lambda k: (table[k][0], -table[k][1], abs(k[0] - 0.5), abs(k[1] - reader.lm_weight)),
        )
    if lm_weights is None:
        return best[0], {w: v for (w, _), v in table.items()}
    return best[0], best[1], table


# ------------------------------------------------------------------ saved with a run
def save_combined_reader(reader: CombinedReader, artifacts_dir) -> Path:
    """Write the combined reader's settings (``combined_reader.json``: its
    weights, alternatives and the characters the segmentation reader may read);
    its two models are the run's segmentation and CTC readers."""
    from hwutils.report import write_json_atomic

    return write_json_atomic(
        Path(artifacts_dir) / COMBINED_FILE,
        {
            "weight": reader.weight,
            "alternatives": reader.alternatives,
            "lm_weight": reader.lm_weight,
            "allowed": reader.seg_reader._allowed,
        },
    )


def load_combined_reader(run_dir) -> CombinedReader:
    """The combined reader of a finished run: its segmentation reader (with
    the characters it was measured with), its CTC reader and the saved weight.
    Raises :class:`hwutils.artifacts.ArtifactError` naming what is missing."""
    from hwutils import artifacts
    from hwutils.runfolder import artifacts_folder

    art = artifacts_folder(Path(run_dir), MODEL_FILE, "char_ocr")
    if not (art / COMBINED_FILE).exists():
        raise artifacts.ArtifactError(
            f"{art}: this run has no combined reader ({COMBINED_FILE}; trained with ctc_words > 0)"
        )
    settings = artifacts.load_json(art / COMBINED_FILE, required=("weight",))
    try:
        return CombinedReader(
            load_reader(run_dir, allowed=settings.get("allowed", "")),
            load_ctc_reader(run_dir),
            settings["weight"],
            settings.get("alternatives", 2),
            settings.get("lm_weight"),
        )
    except ParamsError as exc:
        raise artifacts.ArtifactError(f"{art / COMBINED_FILE}: {exc}") from None
