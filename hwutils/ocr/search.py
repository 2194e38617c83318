"""Segmentation by recognition: group a word's pieces into characters.

:func:`hwutils.ocr.segment.over_segment` cuts a word into pieces no wider
than about one character (it cuts joined letters at every plausible ink
minimum, so a wide letter such as ``M`` may come in two or three pieces, and a
broken stroke is two pieces). Every run of up to ``max_pieces`` consecutive
pieces is a candidate character; the classifier scores each, and a dynamic
programme picks the cover of the pieces by runs with the highest total

    sum over characters of  log p(best class) + char_bonus - wide_penalty - gap_penalty - cut_cost

``char_bonus`` balances the number of characters (without it, fewer and
larger characters always win, as every log-probability is negative);
``cut_cost`` is paid by a character that starts at a cut through
ink (most candidate cuts are not character boundaries, natural component
boundaries are); ``wide_penalty`` grows with a run's width beyond ``max_width`` typical
character widths, ``gap_penalty`` with empty columns inside a run (two
letters with space between them are not one character).

The reader maximises this total with :func:`best_reading`, which picks each
character's class together with the cover (so a character language model can
add its log-probabilities; without one it is the best class of each run);
:func:`best_cover` finds the best cover of an exact number of characters (used
to harvest letters from labelled words).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np


@dataclass(frozen=True)
class SearchSettings:
    """Weights of the search (see the module docstring)."""

    max_pieces: int = 3
    max_width: float = 1.5
    char_bonus: float = -0.3
    cut_cost: float = 1.5
    wide_weight: float = 4.0
    gap_weight: float = 6.0

    @classmethod
    def from_dict(cls, values: dict | None) -> SearchSettings:
        from hwutils.errors import ParamsError

        values = dict(values or {})
        unknown = sorted(set(values) - set(cls.__dataclass_fields__))
        if unknown:
            raise ParamsError(f"search settings: unknown {', '.join(unknown)}")
        return cls(**values)


def candidate_runs(pieces, settings: SearchSettings = SearchSettings()) -> list[tuple[int, int]]:
    """``(i, j)`` runs of pieces ``i..j-1`` that may form one character:
    every single piece, and up to ``max_pieces`` consecutive non-hyphen
    pieces at most twice ``max_width`` typical widths wide."""
    runs = []
    n = len(pieces)
    for i in range(n):
        runs.append((i, i + 1))
        if pieces.is_hyphen(i):
            continue
        for j in range(i + 2, min(n, i + settings.max_pieces) + 1):
            if pieces.is_hyphen(j - 1):
                break
            g = pieces.group(i, j)
            if g.width > 2 * settings.max_width * pieces.w_ref:
                break
            runs.append((i, j))
    return runs


def run_scores(pieces, runs, log_best: np.ndarray, settings: SearchSettings = SearchSettings()) -> np.ndarray:
    """The score of each run as one character, from the log-probability of
    its best class (0 for hyphens) and its geometry."""
    scores = np.empty(len(runs))
    for k, (i, j) in enumerate(runs):
        if j - i == 1 and pieces.is_hyphen(i):
            scores[k] = settings.char_bonus
            continue
        g = pieces.group(i, j)
        wide = max(0.0, g.width / (settings.max_width * pieces.w_ref) - 1.0)
        gap = pieces.inner_gap(i, j) / pieces.w_ref
        cut = settings.cut_cost if pieces.pieces[i].meta.get("cut_left") else 0.0
        scores[k] = (
            log_best[k] + settings.char_bonus - settings.wide_weight * wide - settings.gap_weight * gap - cut
        )
    return scores


def best_cover(n_pieces: int, runs, scores, n_chars: int | None = None) -> list[tuple[int, int]]:
    """The runs covering pieces ``0..n_pieces-1`` in order with the highest
    total score; with ``n_chars``, among covers of exactly that many runs
    (``[]`` when none exists)."""
    if n_pieces == 0:
        return []
    ending: dict[int, list[tuple[int, float]]] = {}
    for (i, j), s in zip(runs, scores):
        ending.setdefault(j, []).append((i, float(s)))
    max_k = n_chars if n_chars is not None else n_pieces
    neg = -np.inf
    best = np.full((n_pieces + 1, max_k + 1), neg)
    back = np.zeros((n_pieces + 1, max_k + 1), int)
    best[0, 0] = 0.0
    for j in range(1, n_pieces + 1):
        for i, s in ending.get(j, []):
            total = best[i, :-1] + s
            better = total > best[j, 1:]
            best[j, 1:][better] = total[better]
            back[j, 1:][better] = i
    if n_chars is not None:
        k = n_chars
        if best[n_pieces, k] == neg:
            return []
    else:
        k = int(np.argmax(best[n_pieces]))
    out, j = [], n_pieces
    while j > 0:
        i = back[j, k]
        out.append((int(i), j))
        j, k = i, k - 1
    return out[::-1]


def run_emissions(
    pieces, runs, log_probs: np.ndarray, settings: SearchSettings = SearchSettings()
) -> np.ndarray:
    """Scores of each run read as each token, for :func:`best_reading`.

    ``log_probs``: ``(len(runs), t)`` classifier log-probabilities of the ``t``
    character tokens. Returns ``(len(runs), t + 1)``, the last column the
    hyphen: a lone hyphen piece can only be a hyphen (its geometry score), any
    other run only a character (its geometry plus the log-probability)."""
    geometry = run_scores(pieces, runs, np.zeros(len(runs)), settings)
    out = np.full((len(runs), np.shape(log_probs)[1] + 1), -np.inf)
    for r, (i, j) in enumerate(runs):
        if j - i == 1 and pieces.is_hyphen(i):
            out[r, -1] = geometry[r]
        else:
            out[r, :-1] = geometry[r] + log_probs[r]
    return out


def best_reading(
    n_pieces: int, runs, emissions: np.ndarray, transitions: np.ndarray | None = None, weight: float = 1.0
) -> list[tuple[tuple[int, int], int]]:
    """Segmentation and labels together, with a character language model.

    ``emissions``: ``(len(runs), t)`` score of each run read as each of ``t``
    tokens (its geometry from :func:`run_scores` plus the classifier's
    log-probability of the token; ``-inf`` where a run cannot be that token);
    ``transitions``: ``(t + 1, t + 1)`` log-probabilities of the next token given
    the previous one, index ``t`` the word boundary (e.g.
    :meth:`hwutils.ocr.language.CharBigram.log_probs`; None or ``weight`` 0: no
    language model, each run read as its best token). A Viterbi pass over
    (piece boundary, last token) returns the cover of pieces ``0..n_pieces-1``
    and its tokens, ``[((i, j), token index), ...]``, with the highest total of
    emissions plus ``weight`` times transitions (the boundary at both ends
    included); ``[]`` for no pieces.
    """
    if n_pieces == 0:
        return []
    emissions = np.asarray(emissions, np.float64)
    t = emissions.shape[1]
    if transitions is None:
        transitions = np.zeros((t + 1, t + 1))
    if transitions.shape != (t + 1, t + 1):
        raise ValueError(f"transitions must be {(t + 1, t + 1)}, got {transitions.shape}")
    move = weight * np.asarray(transitions, np.float64)
    best = np.full((n_pieces + 1, t + 1), -np.inf)  # best[j, last token]; last = t only at the start
    best[0, t] = 0.0
    back_start = np.zeros((n_pieces + 1, t), int)
    back_token = np.zeros((n_pieces + 1, t), int)
    order = sorted(range(len(runs)), key=lambda k: runs[k][1])
    for k in order:
        i, j = runs[k]
        total = best[i][:, None] + move[:, :t] + emissions[k][None, :]  # (previous, token)
        prev = np.argmax(total, 0)
        value = total[prev, np.arange(t)]
        better = value > best[j, :t]
        best[j, :t][better] = value[better]
        back_start[j][better] = i
        back_token[j][better] = prev[better]
    final = best[n_pieces, :t] + move[:t, t]
    if not np.isfinite(final.max()):
        return []
    out, j, tok = [], n_pieces, int(np.argmax(final))
    while j > 0:
        i, prev = int(back_start[j, tok]), int(back_token[j, tok])
        out.append(((i, j), tok))
        j, tok = i, prev
    return out[::-1]
