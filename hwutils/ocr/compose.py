"""Word images composed from character images, to train the CTC reader.

The project has characters (digit scans, letters harvested from labelled
words, synthetic letters) but few word images: :func:`compose_strips` writes
texts with them, one writer-like style per word (character height, spacing
down to touching and overlapping letters, slant, baseline drift and jitter,
size jitter), then albumentations varies the stroke width and the
rotation and blurs a little. Each word is turned into the reader's strip the
way a real word image is (:func:`hwutils.ocr.ctc.ink_strip`). Texts come
from :func:`sample_texts`: labels of known words, strings drawn from the
character bigram model of those labels, and random strings, so the network
learns the characters, not a list of names.

Everything is NumPy, drawn from one seed: the same arguments give the same strips.
"""

from __future__ import annotations

import numpy as np

from hwutils.errors import ParamsError
from hwutils.ocr import CLASSES
from hwutils.ocr.ctc import STRIP_H, STRIP_W, blank_strip, ink_strip
from hwutils.ocr.data import is_synthetic


def _word_variation(seed: int):
    import albumentations as A

    return A.Compose(
        [
            A.Affine(rotate=(-2.5, 2.5), shear={"x": (-6, 6), "y": (0, 0)}, fill=255, border_mode=0, p=0.7),
            A.OneOf(
                [
                    A.Morphological(
                        scale=(2, 2), operation="erosion", p=1.0
                    ),  # erosion of paper: thicker ink
                    A.Morphological(scale=(2, 2), operation="dilation", p=1.0),  # thinner ink
                ],
                p=0.4,
            ),
            A.GaussianBlur(blur_limit=(3, 3), sigma_limit=(0.3, 0.8), p=0.3),
        ],
        seed=seed,
    )


def _shear(ink: np.ndarray, slant: float) -> np.ndarray:
    """Shear an ink-bright float image horizontally (positive leans right)."""
    from scipy import ndimage

    h, w = ink.shape
    pad = int(np.ceil(abs(slant) * h))
    out = np.zeros((h, w + pad), np.float32)
    out[:, :w] = ink
    # output (r, c) takes input (r, c + slant * r - shift): rows above lean right for slant > 0
    matrix = np.array([[1.0, 0.0], [slant, 1.0]])
    offset = np.array([0.0, -slant * (h - 1) if slant > 0 else 0.0])
    return ndimage.affine_transform(out, matrix, offset=offset, order=1)


def _glyph(charset, index: int) -> np.ndarray:
    """The cropped ink (float, ink = 1) of character ``index`` of a CharSet."""
    ink = (255.0 - charset.images[index].astype(np.float32)) / 255.0
    rows, cols = np.flatnonzero(ink.max(1) > 0.25), np.flatnonzero(ink.max(0) > 0.25)
    if rows.size == 0:
        return np.zeros((2, 2), np.float32)
    return ink[rows[0] : rows[-1] + 1, cols[0] : cols[-1] + 1]


def compose_image(text: str, glyphs, rng: np.random.Generator) -> np.ndarray:
    """One word image (uint8, paper white) of ``text``; ``glyphs(char)`` gives
    a cropped ink-bright glyph of a character. Hyphens are drawn as short
    strokes at mid height, spaces are wide gaps."""
    from hwutils.images import resize

    height = int(rng.integers(30, 50))  # capital height in pixels
    gap_mean = rng.uniform(-0.06, 0.9) * height  # below 0: letters touch or overlap
    slant = rng.normal(0.0, 0.15)
    drift = rng.normal(0.0, 0.03) * height  # baseline rise per character
    jitter = rng.uniform(0.0, 0.05) * height
    size_jitter = rng.uniform(0.0, 0.08)
    aspect = rng.uniform(0.8, 1.25)
    pieces, x = [], 0.0
    for k, c in enumerate(text):
        if c == " ":  # clearly wider than this word's gaps between letters
            x += max(gap_mean, 0.0) + rng.uniform(0.8, 1.5) * height
            continue
        if c == "-":
            w = int(rng.uniform(0.3, 0.6) * height)
            t = max(2, int(rng.uniform(0.06, 0.12) * height))
            ink = np.ones((t, max(2, w)), np.float32)
            h_c = t
            dy = height * rng.uniform(0.4, 0.6) - t / 2
        else:
            g = glyphs(c)
            h_c = max(4, int(round(height * (1 + rng.normal(0, size_jitter)))))
            w_c = max(2, int(round(g.shape[1] * h_c / g.shape[0] * aspect * rng.uniform(0.92, 1.08))))
            if g.shape[1] < 0.25 * g.shape[0]:  # a thin stroke (I, 1): keep its width, not scaled up
                w_c = max(2, min(w_c, int(round(0.12 * h_c)) + 2))
            ink = 1.0 - resize(np.clip(255 * (1 - g), 0, 255).astype(np.uint8), h_c, w_c) / 255.0
            dy = height - h_c + rng.normal(0, jitter)
        pieces.append((x, dy + k * drift, ink))
        x += ink.shape[1] + max(-0.3 * ink.shape[1], rng.normal(gap_mean, 0.08 * height))
    if not pieces:
        return np.full((height + 8, 8), 255, np.uint8)
    top = min(p[1] for p in pieces)
    bottom = max(p[1] + p[2].shape[0] for p in pieces)
    right = max(p[0] + p[2].shape[1] for p in pieces)
    canvas = np.zeros((int(np.ceil(bottom - top)) + 8, int(np.ceil(right)) + 8), np.float32)
    for px, py, ink in pieces:
        r, c = int(round(py - top)) + 4, int(round(px)) + 4
        region = canvas[r : r + ink.shape[0], c : c + ink.shape[1]]
        np.maximum(region, ink[: region.shape[0], : region.shape[1]], out=region)
    if abs(slant) > 0.02:
        canvas = _shear(canvas, slant)
    return np.clip(255.0 * (1.0 - canvas) + 0.5, 0, 255).astype(np.uint8)


def compose_strips(
    charset,
    texts: list[str],
    seed: int = 0,
    real_share: float = 0.7,
    height: int = STRIP_H,
    width: int = STRIP_W,
) -> np.ndarray:
    """Strips ``(n, height, width)`` uint8 of ``texts`` written with the
    characters of ``charset`` (a :class:`hwutils.ocr.data.CharSet`). A
    character whose class has real samples takes one of them with probability
    ``real_share``, else a synthetic one (any sample when a class has only
    one kind). Raises :class:`ParamsError` for a character no sample
    writes."""
    from hwutils.ocr.segment import ink_crop

    rng = np.random.default_rng(seed)
    real = ~is_synthetic(charset.sources)
    by_class = {}
    for k, c in enumerate(CLASSES):
        of_class = charset.labels == k
        by_class[c] = (np.flatnonzero(of_class & real), np.flatnonzero(of_class & ~real))
    missing = sorted(
        {c for t in texts for c in t if c not in " -" and not any(len(v) for v in by_class.get(c, ()))}
    )
    if missing:
        raise ParamsError(f"composing words: no character image of {''.join(missing)!r}")

    def glyph(c):
        reals, synth = by_class[c]
        pool = reals if len(reals) and (not len(synth) or rng.random() < real_share) else synth
        return _glyph(charset, int(pool[rng.integers(len(pool))]))

    variation = _word_variation(seed)
    out = np.empty((len(texts), height, width), np.uint8)
    for n, text in enumerate(texts):
        image = variation(image=compose_image(text, glyph, rng))["image"]
        cropped = ink_crop(image)
        out[n] = blank_strip(height, width) if cropped is None else ink_strip(cropped[0], height, width)[0]
    return out


def real_strips(
    images,
    texts: list[str],
    copies: int = 8,
    seed: int = 0,
    height: int = STRIP_H,
    width: int = STRIP_W,
) -> tuple[np.ndarray, list[str]]:
    """Training strips of real word images (e.g. the harvested words, the
    training part of a labelled word set): each word's handwritten line as the
    CTC reader finds it (:func:`hwutils.ocr.ctc.word_strip`), once as it is and
    ``copies - 1`` times varied: its width scaled by 0.8 to 1.25, sheared (slant
    s.d. 0.12), then rotation, stroke width and blur as composed words
    (albumentations). Words without ink, with characters outside
    :data:`hwutils.ocr.ctc.TOKENS` or longer than
    :data:`hwutils.ocr.ctc.MAX_LABEL` are left out. Returns ``(strips, texts)``."""
    from hwutils.images import as_gray, resize
    from hwutils.ocr.ctc import MAX_LABEL, TOKENS
    from hwutils.ocr.segment import ink_crop, line_ink

    if copies < 1:
        raise ParamsError(f"ctc_real_copies: must be at least 1, got {copies}")
    rng = np.random.default_rng(seed)
    variation = _word_variation(seed + 7)
    out, out_texts = [], []
    for image, text in zip(images, texts):
        text = str(text).strip().upper()
        if not text or len(text) > MAX_LABEL or any(c not in TOKENS for c in text):
            continue
        found = line_ink(as_gray(image))
        cropped = None if found is None else ink_crop(found[0], found[1])
        if cropped is None:
            continue
        crop = cropped[0]
        out.append(ink_strip(crop, height, width)[0])
        out_texts.append(text)
        for _ in range(copies - 1):
            h, w = crop.shape
            varied = resize(crop, h, max(2, int(round(w * rng.uniform(0.8, 1.25)))))
            slant = rng.normal(0.0, 0.12)
            if abs(slant) > 0.02:
                ink = _shear((255.0 - varied.astype(np.float32)) / 255.0, slant)
                varied = np.clip(255.0 * (1.0 - ink) + 0.5, 0, 255).astype(np.uint8)
            pad = np.full((varied.shape[0] + 8, varied.shape[1] + 8), 255, np.uint8)
            pad[4:-4, 4:-4] = varied
            again = ink_crop(variation(image=pad)["image"])
            out.append(blank_strip(height, width) if again is None else ink_strip(again[0], height, width)[0])
            out_texts.append(text)
    shape = (0, height, width)
    return (np.stack(out) if out else np.zeros(shape, np.uint8)), out_texts


def sample_texts(
    n: int,
    seed: int = 0,
    labels: list[str] | None = None,
    language_model=None,
    alphabet: str = CLASSES,
    min_len: int = 2,
    max_len: int = 12,
    shares: tuple[float, float, float] = (0.2, 0.5, 0.3),
    hyphen_share: float = 0.06,
    space_share: float = 0.03,
) -> list[str]:
    """``n`` texts to compose: by ``shares``, (1) ``labels`` as they are (known
    words, e.g. the harvested names' labels), (2) strings drawn from
    ``language_model`` (a :class:`hwutils.ocr.language.CharBigram`), (3)
    random strings of ``alphabet``; without labels or model their share goes
    to the random strings. Lengths ``min_len..max_len``; some texts get a
    hyphen or a space joining two parts. Characters outside :data:`TOKENS`
    are dropped."""
    rng = np.random.default_rng(seed)
    letters = "".join(c for c in alphabet if c in CLASSES)
    labels = [t for t in (labels or []) if t and all(c in letters + "- " for c in t)]
    table = None
    if not letters:
        raise ParamsError("composing words: the alphabet has no character class")
    if language_model is not None:
        table = np.exp(language_model.log_probs(letters))

    def random_word():
        return "".join(rng.choice(list(letters), int(rng.integers(min_len, max_len + 1))))

    def model_word():
        out, state = "", len(letters)
        while len(out) < max_len:
            p = table[state].copy()
            if len(out) < min_len:
                p[-1] = 0.0
            p[len(letters) :] = p[len(letters) :] if len(out) >= min_len else 0.0
            nxt = int(rng.choice(len(p), p=p / p.sum()))
            if nxt >= len(letters):  # the boundary (or a hyphen token outside the alphabet)
                break
            out += letters[nxt]
        return out

    share = np.asarray(shares, float)
    if not labels:
        share[0] = 0.0
    if table is None:
        share[1] = 0.0
    if share.sum() <= 0:
        share = np.array([0.0, 0.0, 1.0])
    share = share / share.sum()
    texts = []
    for _ in range(n):
        kind = rng.choice(3, p=share)
        text = (
            labels[rng.integers(len(labels))] if kind == 0 else model_word() if kind == 1 else random_word()
        )
        r = rng.random()
        if kind != 0 and r < hyphen_share + space_share:
            second = model_word() if kind == 1 else random_word()
            text = text[: max(2, max_len // 2)] + ("-" if r < hyphen_share else " ") + second[: max_len // 2]
        texts.append(text)
    return texts


def train_reader(
    train_chars,
    n_words: int,
    *,
    val_strips: np.ndarray | None = None,
    val_texts: list[str] | None = None,
    val_chars=None,
    labels: list[str] | None = None,
    language_model=None,
    alphabet: str = CLASSES,
    seed: int = 0,
    real_words=None,
    real_copies: int = 8,
    **fit_kwargs,
):
    """Compose ``n_words`` training words from ``train_chars``
    (:func:`sample_texts`, :func:`compose_strips`) and train the CTC reader's
    CRNN on them (:func:`hwutils.ocr.ctc.fit_ctc`, ``fit_kwargs``). With
    ``real_words`` (``(image, label)`` pairs of real training words, e.g. the
    harvested words; never validation or evaluation words), their strips, each
    ``real_copies`` times varied (:func:`real_strips`), join the composed ones.
    Early stopping watches ``val_strips``/``val_texts`` (e.g. the strips of real
    validation words), else words composed from ``val_chars``.

    Returns ``(model, history, examples)``, ``examples`` the first composed
    strips and their texts (for a figure)."""
    from hwutils.ocr.ctc import fit_ctc

    if n_words < 1:
        raise ParamsError(f"ctc_words: must be at least 1 to train the CTC reader, got {n_words}")
    texts = sample_texts(n_words, seed, labels, language_model, _present(alphabet, train_chars))
    strips = compose_strips(train_chars, texts, seed=seed)
    if real_words:
        images, labels_real = zip(*real_words)
        more, more_texts = real_strips(images, list(labels_real), real_copies, seed=seed + 3)
        strips, texts = np.concatenate([strips, more]), texts + more_texts
    if val_strips is None and val_chars is not None and len(val_chars):
        n_val = max(64, n_words // 10)
        val_texts = sample_texts(n_val, seed + 1, labels, language_model, _present(alphabet, val_chars))
        val_strips = compose_strips(val_chars, val_texts, seed=seed + 1)
    model, history = fit_ctc(strips, texts, val_strips, val_texts, seed=seed, **fit_kwargs)
    return model, history, (strips[:24], texts[:24])


def _present(alphabet: str, charset) -> str:
    """The classes of ``alphabet`` that ``charset`` has samples of."""
    have = set(np.unique(charset.labels).tolist())
    return "".join(c for c in alphabet if c in CLASSES and CLASSES.index(c) in have)
