"""Segmentation-free word reading: a small CRNN trained with CTC.

The segmentation reader (:mod:`hwutils.ocr.seg_reader`) cuts a word into
characters and classifies each; this one reads the whole word at once, so
touching and broken letters need no cut. Steps:

1. :func:`word_strip`: the word's handwritten line (the same line finding as
   the segmentation, :func:`hwutils.ocr.segment.line_ink`: printed lines,
   field labels and specks left out), its ink cropped and scaled to a
   ``32 x 256`` strip (height normalised, left aligned, squeezed when longer).
2. :func:`build_crnn`: convolutions down to one column of features per 4
   pixels (64 time steps), dilated 1-D convolutions (or a bidirectional LSTM)
   along the word, and per time step logits over
   the CTC blank (index 0) and :data:`TOKENS` (index ``k + 1`` is ``TOKENS[k]``),
   trained with Keras 3's CTC loss (:class:`keras.losses.CTC`).
3. Decoding (NumPy): :func:`greedy_decode`, :func:`beam_search` (a CTC prefix
   beam search that can add a character bigram model, :mod:`hwutils.ocr.language`)
   and :func:`lexicon_choice` (the most likely word of a lexicon, by the CTC
   forward algorithm :func:`ctc_log_likelihood`, when it is nearly as likely
   as the free reading).

Training words are composed by :mod:`hwutils.ocr.compose`; the public reader
is :class:`hwutils.ocr.ctc_reader.CTCReader`.
"""

from __future__ import annotations

from dataclasses import dataclass

import keras
import numpy as np

from hwutils import images as I
from hwutils.ocr import CLASSES

TOKENS = CLASSES + "- "
"""What the CRNN writes: the 36 classes, the hyphen and the space (blank is 0)."""
STRIP_H, STRIP_W = 32, 256
DOWNSAMPLE = 4
TIME_STEPS = STRIP_W // DOWNSAMPLE
MARGIN = 2
NEG = -1e9


# ------------------------------------------------------------------ the strip
@dataclass
class StripGeometry:
    """Where a strip's pixels come from: strip ``x`` is word image
    ``left + (x - MARGIN) / sx``; rows ``top .. top + height`` of the word
    image are the ink's (for boxes in the word image's pixels)."""

    left: float = 0.0
    top: int = 0
    height: int = 0
    sx: float = 1.0

    def box(self, x0: int, x1: int) -> tuple[int, int, int, int]:
        """Strip columns ``x0 .. x1`` as ``(left, top, width, height)`` in the word image."""
        a = self.left + max(0.0, x0 - MARGIN) / self.sx
        b = self.left + max(0.0, x1 - MARGIN) / self.sx
        return int(round(a)), int(self.top), max(1, int(round(b - a))), int(self.height)


def blank_strip(height: int = STRIP_H, width: int = STRIP_W) -> np.ndarray:
    return np.full((height, width), 255, np.uint8)


def ink_strip(
    crop: np.ndarray, height: int = STRIP_H, width: int = STRIP_W
) -> tuple[np.ndarray, float, float]:
    """A cropped ink image (uint8, paper white) scaled to ``height - 4`` rows
    and written left aligned on a ``height x width`` strip; a word longer than
    the strip is squeezed. Returns ``(strip, sx, sy)`` (the scales used)."""
    h, w = crop.shape
    inner_h, inner_w = height - 2 * MARGIN, width - 2 * MARGIN
    sy = inner_h / h
    new_w = max(1, min(inner_w, int(round(w * sy))))
    strip = blank_strip(height, width)
    strip[MARGIN : MARGIN + inner_h, MARGIN : MARGIN + new_w] = I.resize(crop, inner_h, new_w)
    return strip, new_w / w, sy


def word_strip(image, height: int = STRIP_H, width: int = STRIP_W, **line_kwargs):
    """A word image (path, array, PIL) -> ``(strip, geometry)``: the ink of its
    handwritten line (:func:`hwutils.ocr.segment.line_ink`) on a
    ``height x width`` strip (:func:`ink_strip`), or ``(blank strip, None)``
    when the image has no ink."""
    from hwutils.ocr.segment import ink_crop, line_ink

    found = line_ink(image, **line_kwargs)
    cropped = None if found is None else ink_crop(found[0], found[1])
    if cropped is None:
        return blank_strip(height, width), None
    crop, (top, left) = cropped
    strip, sx, _ = ink_strip(crop, height, width)
    return strip, StripGeometry(float(left), top, crop.shape[0], sx)


def to_model_input(strips: np.ndarray) -> np.ndarray:
    """uint8 paper-white strips ``(n, h, w)`` -> float ``(n, h, w, 1)`` with ink = 1."""
    return ((255.0 - np.asarray(strips, np.float32)) / 255.0)[..., None]


# ------------------------------------------------------------------ labels
def encode(text: str, max_len: int) -> np.ndarray:
    """A text as CTC targets: token indices + 1, zero-padded to ``max_len``
    (characters outside :data:`TOKENS` dropped, the text cut at ``max_len``)."""
    idx = [TOKENS.index(c) + 1 for c in str(text).upper() if c in TOKENS][:max_len]
    out = np.zeros(max_len, np.int32)
    out[: len(idx)] = idx
    return out


def decode_tokens(tokens) -> str:
    """Token indices (1-based, 0 = blank) -> text."""
    return "".join(TOKENS[t - 1] for t in tokens if 0 < t <= len(TOKENS))


# ------------------------------------------------------------------ the model
def _conv(x, filters: int, name: str):
    x = keras.layers.Conv2D(filters, 3, padding="same", use_bias=False, name=f"{name}_conv")(x)
    x = keras.layers.BatchNormalization(momentum=0.9, name=f"{name}_bn")(x)
    return keras.layers.ReLU(name=f"{name}_relu")(x)


def build_crnn(
    width: int = 16,
    rnn_units: int = 0,
    dropout: float = 0.25,
    learning_rate: float = 1e-3,
    height: int = STRIP_H,
    strip_width: int = STRIP_W,
    n_tokens: int = len(TOKENS),
    name: str = "ctc_reader",
) -> keras.Model:
    """The CRNN: five 3x3 conv blocks (``width`` to ``4 * width`` filters,
    pooled to ``height / 16`` rows and ``strip_width / 4`` columns), the rows of
    each column as one feature vector, a dense layer, then along the word a
    bidirectional LSTM of ``rnn_units`` per direction or (``rnn_units`` 0) three
    dilated 1-D convolutions with residual connections, and per column the
    logits of the blank and the ``n_tokens`` tokens. Compiled with Adam and
    :class:`keras.losses.CTC` (targets: :func:`encode`)."""
    inputs = keras.Input((height, strip_width, 1), name="strip")
    x = _conv(inputs, width, "c1")
    x = keras.layers.MaxPooling2D(2, name="c1_pool")(x)
    x = _conv(x, width * 2, "c2")
    x = keras.layers.MaxPooling2D(2, name="c2_pool")(x)
    x = _conv(x, width * 3, "c3")
    x = _conv(x, width * 3, "c4")
    x = keras.layers.MaxPooling2D((2, 1), name="c4_pool")(x)
    x = _conv(x, width * 4, "c5")
    x = keras.layers.MaxPooling2D((2, 1), name="c5_pool")(x)
    rows = height // 16
    x = keras.layers.Permute((2, 1, 3), name="columns")(x)
    x = keras.layers.Reshape((strip_width // DOWNSAMPLE, rows * width * 4), name="sequence")(x)
    x = keras.layers.Dense(128, activation="relu", name="frame")(x)
    x = keras.layers.Dropout(dropout, name="frame_drop")(x)
    if rnn_units > 0:
        x = keras.layers.Bidirectional(
            keras.layers.LSTM(rnn_units, return_sequences=True, name="lstm"), name="bilstm"
        )(x)
    else:  # a stack of 1-D convolutions along the word instead (faster on CPUs)
        for k, dilation in enumerate((1, 2, 4)):
            y = keras.layers.Conv1D(128, 3, padding="same", dilation_rate=dilation, name=f"seq{k}_conv")(x)
            y = keras.layers.BatchNormalization(momentum=0.9, name=f"seq{k}_bn")(y)
            y = keras.layers.ReLU(name=f"seq{k}_relu")(y)
            x = keras.layers.Add(name=f"seq{k}_add")([x, y])
    x = keras.layers.Dropout(dropout, name="rnn_drop")(x)
    outputs = keras.layers.Dense(n_tokens + 1, name="logits")(x)
    model = keras.Model(inputs, outputs, name=name)
    model.compile(optimizer=keras.optimizers.Adam(learning_rate), loss=keras.losses.CTC())
    return model


def predict_log_probs(model: keras.Model, strips: np.ndarray, batch_size: int = 256) -> np.ndarray:
    """Per time step log-probabilities ``(n, T, 1 + len(TOKENS))`` of uint8 strips."""
    if len(strips) == 0:
        return np.zeros((0, TIME_STEPS, len(TOKENS) + 1), np.float32)
    x = to_model_input(strips)
    out = [
        keras.ops.convert_to_numpy(model(x[i : i + batch_size], training=False))
        for i in range(0, len(x), batch_size)
    ]
    return log_softmax(np.concatenate(out))


def log_softmax(logits: np.ndarray) -> np.ndarray:
    logits = np.asarray(logits, np.float64)
    m = logits.max(-1, keepdims=True)
    return logits - m - np.log(np.exp(logits - m).sum(-1, keepdims=True))


# ------------------------------------------------------------------ decoding
def greedy_decode(log_probs: np.ndarray) -> list[int]:
    """Best path: the most likely token per time step, repeats merged, blanks dropped."""
    best = np.asarray(log_probs).argmax(-1)
    out, prev = [], 0
    for t in best:
        if t != prev and t != 0:
            out.append(int(t))
        prev = t
    return out


def _logadd(a: float, b: float) -> float:
    if a < b:
        a, b = b, a
    return a if b <= NEG / 2 else a + np.log1p(np.exp(b - a))


def beam_candidates(
    log_probs: np.ndarray,
    beam_width: int = 8,
    lm: np.ndarray | None = None,
    lm_index: np.ndarray | None = None,
    lm_weight: float = 0.0,
    prune: float = -6.0,
) -> list[tuple[list[int], float]]:
    """CTC prefix beam search over ``log_probs`` ``(T, 1 + n_tokens)`` (index 0
    the blank). Returns the prefixes of the last beam, at most ``beam_width``,
    as ``(tokens (1-based), score)``, best first.

    With ``lm`` (a ``(k + 1, k + 1)`` table of ``log P(next | previous)``, the
    last index the word boundary, as :meth:`hwutils.ocr.language.CharBigram.log_probs`)
    and ``lm_index`` (for each token, its row in ``lm``, or -1 for a token the
    model ignores, e.g. the space), each new character adds ``lm_weight``
    times its log-probability after the previous character, and the end of the
    word that of the boundary. Tokens with a log-probability below ``prune``
    at a time step are not tried there (the step's best one always is)."""
    log_probs = np.asarray(log_probs, np.float64)
    use_lm = lm is not None and lm_weight > 0
    boundary = lm.shape[0] - 1 if use_lm else -1
    # prefix -> [log P(ends in blank), log P(ends in its last token), LM score, LM state]
    beams: dict[tuple, list] = {(): [0.0, NEG, 0.0, boundary]}
    for row in log_probs:
        cand = np.flatnonzero(row >= prune)
        if row.argmax() not in cand:
            cand = np.append(cand, row.argmax())
        new: dict[tuple, list] = {}
        for prefix, (pb, pnb, lm_score, state) in beams.items():
            total = _logadd(pb, pnb)
            for c in cand:
                p = row[c]
                if c == 0:
                    e = new.setdefault(prefix, [NEG, NEG, lm_score, state])
                    e[0] = _logadd(e[0], total + p)
                    continue
                last = prefix[-1] if prefix else None
                if c == last:  # a repeat without a blank between merges into the same character
                    e = new.setdefault(prefix, [NEG, NEG, lm_score, state])
                    e[1] = _logadd(e[1], pnb + p)
                    source = pb
                else:
                    source = total
                next_state, cost = state, 0.0
                if use_lm and lm_index[c - 1] >= 0:
                    next_state = int(lm_index[c - 1])
                    cost = lm_weight * lm[state, next_state]
                e = new.setdefault(prefix + (int(c),), [NEG, NEG, lm_score + cost, next_state])
                e[1] = _logadd(e[1], source + p)
        beams = dict(
            sorted(new.items(), key=lambda kv: -(_logadd(kv[1][0], kv[1][1]) + kv[1][2]))[:beam_width]
        )

    def final(item):
        pb, pnb, lm_score, state = item[1]
        end = lm_weight * lm[state, boundary] if use_lm else 0.0
        return _logadd(pb, pnb) + lm_score + end

    return sorted(((list(k), float(final((k, v)))) for k, v in beams.items()), key=lambda kv: -kv[1])


def beam_search(
    log_probs: np.ndarray,
    beam_width: int = 8,
    lm: np.ndarray | None = None,
    lm_index: np.ndarray | None = None,
    lm_weight: float = 0.0,
    prune: float = -6.0,
) -> tuple[list[int], float]:
    """CTC prefix beam search (:func:`beam_candidates`): the best token
    sequence (1-based) and its score."""
    return beam_candidates(log_probs, beam_width, lm, lm_index, lm_weight, prune)[0]


def ctc_log_likelihood(log_probs: np.ndarray, texts: list[list[int]]) -> np.ndarray:
    """``log P(text | log_probs)`` of each token sequence (1-based tokens) by
    the CTC forward algorithm, all texts at once. An empty text is the
    all-blank path; a text needing more time steps than there are is -inf."""
    log_probs = np.asarray(log_probs, np.float64)
    n_steps = log_probs.shape[0]
    if not texts:
        return np.zeros(0)
    n = len(texts)
    lengths = np.array([len(t) for t in texts])
    width = max(2, 2 * int(lengths.max()) + 1)  # at least blank and one token, for empty texts
    ext = np.zeros((n, width), int)  # blank, t1, blank, t2, ..., blank (0-padded)
    for i, t in enumerate(texts):
        ext[i, 1 : 2 * len(t) : 2] = t
    s = np.arange(width)
    valid = s[None, :] < (2 * lengths + 1)[:, None]
    # a skip from s-2 to s is allowed onto a token different from the token two back
    skip = np.zeros((n, width), bool)
    skip[:, 2:] = (ext[:, 2:] != 0) & (ext[:, 2:] != ext[:, :-2])
    alpha = np.full((n, width), -np.inf)
    alpha[:, 0] = log_probs[0, 0]
    alpha[:, 1] = np.where(lengths > 0, log_probs[0, ext[:, 1]], -np.inf)
    alpha[~valid] = -np.inf
    for t in range(1, n_steps):
        prev = alpha
        a1 = np.full_like(prev, -np.inf)
        a1[:, 1:] = prev[:, :-1]
        a2 = np.full_like(prev, -np.inf)
        a2[:, 2:] = np.where(skip[:, 2:], prev[:, :-2], -np.inf)
        alpha = np.logaddexp(np.logaddexp(prev, a1), a2) + log_probs[t][ext]
        alpha[~valid] = -np.inf
    last = 2 * lengths
    end = alpha[np.arange(n), last]
    end_tok = np.where(lengths > 0, alpha[np.arange(n), np.maximum(last - 1, 0)], -np.inf)
    return np.logaddexp(end, end_tok)


def lexicon_choice(
    log_probs: np.ndarray, free: list[int], lexicon: list[list[int]], margin: float
) -> list[int]:
    """The most likely lexicon word when its CTC log-likelihood is within
    ``margin`` of the free reading's (``free``, e.g. the beam search's); else
    ``free``. ``margin`` 0 takes a lexicon word only when it is at least as
    likely as the free reading."""
    if not lexicon:
        return free
    scores = ctc_log_likelihood(log_probs, lexicon)
    best = int(np.argmax(scores))
    free_score = ctc_log_likelihood(log_probs, [free])[0]
    return list(lexicon[best]) if scores[best] >= free_score - margin else free


def align(log_probs: np.ndarray, tokens: list[int]) -> list[tuple[int, int, float]]:
    """Where each token of a reading sits: a Viterbi (best path) alignment of
    ``tokens`` to the time steps. Returns per token ``(first step, last step,
    probability)``, the probability the largest of the token's steps."""
    log_probs = np.asarray(log_probs, np.float64)
    if not tokens:
        return []
    n_steps = log_probs.shape[0]
    ext = np.zeros(2 * len(tokens) + 1, int)
    ext[1::2] = tokens
    width = len(ext)
    skip = np.zeros(width, bool)
    skip[2:] = (ext[2:] != 0) & (ext[2:] != ext[:-2])
    score = np.full(width, -np.inf)
    score[0], score[1] = log_probs[0, 0], log_probs[0, ext[1]]
    back = np.zeros((n_steps, width), int)
    for t in range(1, n_steps):
        options = np.stack(
            [
                score,
                np.concatenate([[-np.inf], score[:-1]]),
                np.where(skip, np.concatenate([[-np.inf, -np.inf], score[:-2]]), -np.inf),
            ]
        )
        choice = options.argmax(0)
        back[t] = np.arange(width) - choice
        score = options.max(0) + log_probs[t][ext]
    state = width - 1 if score[-1] >= score[-2] else width - 2
    path = [state]
    for t in range(n_steps - 1, 0, -1):
        state = back[t, state]
        path.append(state)
    path = path[::-1]
    out = []
    for k in range(len(tokens)):
        steps = [t for t, s in enumerate(path) if s == 2 * k + 1]
        if not steps:  # cannot happen on a valid path; kept safe
            steps = [0]
        out.append((steps[0], steps[-1], float(np.exp(max(log_probs[t, tokens[k]] for t in steps)))))
    return out


def allowed_log_probs(log_probs: np.ndarray, allowed: str) -> np.ndarray:
    """``log_probs`` with the tokens outside ``allowed`` (a string of
    :data:`TOKENS`; empty = all) made impossible."""
    if not allowed:
        return log_probs
    keep = np.array([True] + [c in allowed for c in TOKENS])
    return np.where(keep, log_probs, NEG)


def lm_mapping(language_model, allowed: str = "") -> tuple[np.ndarray, np.ndarray]:
    """The bigram table over the tokens a reader may write and, for each
    token of :data:`TOKENS`, its row there (-1: the space, which the model
    does not count, and tokens the reader may not write)."""
    from hwutils.ocr.language import TOKENS as LM_TOKENS

    letters = "".join(c for c in TOKENS if c in LM_TOKENS and (not allowed or c in allowed))
    table = language_model.log_probs(letters)
    index = np.array([letters.index(c) if c in letters else -1 for c in TOKENS])
    return table, index


# ------------------------------------------------------------------ training
MAX_LABEL = 24
"""Longest text a training target holds (longer texts are cut; 24 < TIME_STEPS / 2)."""


def _dataset(strips, texts):
    from hwutils import pipelines

    targets = np.stack([encode(t, MAX_LABEL) for t in texts])
    return pipelines.from_arrays(to_model_input(strips), targets)


def fit_ctc(
    strips: np.ndarray,
    texts: list[str],
    val_strips: np.ndarray | None = None,
    val_texts: list[str] | None = None,
    *,
    width: int = 16,
    rnn_units: int = 0,
    epochs: int = 20,
    batch_size: int = 64,
    seed: int = 0,
    patience: int = 4,
    learning_rate: float = 1e-3,
    strategy: str = "default",
) -> tuple[keras.Model, dict]:
    """Train the CRNN (:func:`build_crnn`) on strips and their texts with the
    CTC loss; the learning rate halves after 2 epochs without validation gain,
    training stops after ``patience`` and keeps its best validation epoch
    (validation: ``val_strips`` and ``val_texts``, e.g. composed words of the
    validation characters or real validation words; without them the
    training loss). Returns ``(model, history)``."""
    from hwutils import pipelines, training

    keras.utils.set_random_seed(seed)
    with training.get_strategy(strategy).scope():
        model = build_crnn(width=width, rnn_units=rnn_units, learning_rate=learning_rate)
    train_ds = pipelines.training_dataset(
        _dataset(strips, texts), batch_size, seed, shuffle_buffer=max(1000, len(texts))
    )
    has_val = val_strips is not None and len(val_strips) > 0
    val_ds = pipelines.eval_dataset(_dataset(val_strips, val_texts), 256) if has_val else None
    lr_cb = keras.callbacks.ReduceLROnPlateau(
        monitor="val_loss" if has_val else "loss", factor=0.5, patience=2, min_lr=1e-5
    )
    history = training.fit(
        model,
        train_ds,
        val_ds,
        epochs=epochs,
        steps_per_epoch=pipelines.steps_for(len(texts), batch_size),
        patience=patience,
        monitor="val_loss",
        callbacks=[lr_cb],
    )
    return model, history
