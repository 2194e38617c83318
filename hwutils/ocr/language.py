"""A character bigram model of word labels, for reading words.

Segmentation by recognition (:mod:`hwutils.ocr.search`) chooses each
character from the classifier alone; where two letters look alike (``U``/``V``,
``N``/``M``, ``I``/``L``) the neighbours tell them apart in real names. The
model counts the character pairs of known labels (for example the labels of
the words harvested for training letters), with word boundaries as an extra
token, and gives add-``smoothing`` conditional log-probabilities
``log P(next | previous)``. The search adds ``weight`` times them to the
classifier's log-probabilities.

Counts are kept over the 36 classes and the hyphen (:data:`TOKENS`) whatever
the reader may output; :meth:`CharBigram.log_probs` normalises over the tokens
a reader actually uses. Spaces and characters outside the tokens are dropped
from the labels (a space does not end a name here: the reader places spaces
from gaps, after the search).
"""

from __future__ import annotations

import numpy as np

from hwutils.errors import HwError, ParamsError
from hwutils.ocr import CLASSES

TOKENS = CLASSES + "-"


class CharBigram:
    """Counts of character pairs; index ``len(TOKENS)`` is the word boundary."""

    def __init__(self, counts, smoothing: float = 0.5):
        counts = np.asarray(counts, np.float64)
        n = len(TOKENS) + 1
        if counts.shape != (n, n) or not np.all(np.isfinite(counts)) or np.any(counts < 0):
            raise HwError(
                f"character bigram: counts must be a {n}x{n} table of non-negative numbers, "
                f"got shape {counts.shape}"
            )
        if not smoothing > 0:
            raise ParamsError(f"character bigram: smoothing must be > 0, got {smoothing}")
        self.counts = counts
        self.smoothing = float(smoothing)

    @classmethod
    def fit(cls, texts, smoothing: float = 0.5) -> CharBigram:
        """Count the pairs of ``texts`` (upper-cased; spaces and characters outside
        :data:`TOKENS` dropped), each text between two word boundaries."""
        n = len(TOKENS)
        counts = np.zeros((n + 1, n + 1))
        for text in texts:
            seq = [n] + [TOKENS.index(c) for c in str(text).upper() if c in TOKENS] + [n]
            if len(seq) > 2:
                np.add.at(counts, (seq[:-1], seq[1:]), 1)
        return cls(counts, smoothing)

    @property
    def n_words(self) -> int:
        """Texts counted (pairs leaving the word boundary)."""
        return int(self.counts[len(TOKENS)].sum())

    def log_probs(self, tokens: str) -> np.ndarray:
        """``(t + 1, t + 1)`` table of ``log P(next | previous)`` over ``tokens``
        (a string of :data:`TOKENS`) plus the word boundary (last index), each row
        normalised over that set with add-``smoothing`` counts."""
        bad = sorted(set(tokens) - set(TOKENS))
        if bad:
            raise ParamsError(f"character bigram: tokens {''.join(bad)!r} are not among {TOKENS}")
        idx = [TOKENS.index(c) for c in tokens] + [len(TOKENS)]
        c = self.counts[np.ix_(idx, idx)] + self.smoothing
        return np.log(c / c.sum(1, keepdims=True))

    def to_dict(self) -> dict:
        """JSON-ready form (see :meth:`from_dict`)."""
        return {"tokens": TOKENS, "smoothing": self.smoothing, "counts": self.counts.astype(int).tolist()}

    @classmethod
    def from_dict(cls, values: dict) -> CharBigram:
        """Inverse of :meth:`to_dict`; raises :class:`HwError` on a malformed dict."""
        if not isinstance(values, dict) or values.get("tokens") != TOKENS or "counts" not in values:
            raise HwError(f"character bigram: expected a dict with tokens {TOKENS!r} and counts")
        return cls(values["counts"], values.get("smoothing", 0.5))
