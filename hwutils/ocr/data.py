"""Building the character training set from any mix of sources.

Every source ends as a :class:`CharSet`: ``32x32`` uint8 characters (paper
white) normalised by :func:`hwutils.ocr.segment.normalize_char` -- the same
normalisation the word reader applies to segmented characters -- with class
indices into :data:`hwutils.ocr.CLASSES` and the name of the source of each
sample (so the report can say which classes are real and which synthetic).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from hwutils.errors import DataError, ParamsError
from hwutils.ocr import CHAR_SIZE, CLASSES
from hwutils.ocr.segment import normalize_char, normalize_ink_bright, segment_word


@dataclass
class CharSet:
    """``images (n, 32, 32)`` uint8, ``labels (n,)`` class indices, ``sources (n,)`` names."""

    images: np.ndarray
    labels: np.ndarray
    sources: np.ndarray

    def __len__(self):
        return len(self.labels)

    def subset(self, index) -> CharSet:
        return CharSet(self.images[index], self.labels[index], self.sources[index])


def empty_set() -> CharSet:
    return CharSet(
        np.zeros((0, CHAR_SIZE, CHAR_SIZE), np.uint8), np.zeros((0,), np.int64), np.zeros((0,), "<U16")
    )


def from_chars(images: np.ndarray, chars, source: str) -> CharSet:
    """Normalised images and their characters (any case) -> :class:`CharSet`.
    Characters outside the 36 classes are dropped."""
    chars = [str(c).upper() for c in chars]
    keep = [i for i, c in enumerate(chars) if len(c) == 1 and c in CLASSES]
    if not keep:
        return empty_set()
    keep = np.asarray(keep)
    labels = np.array([CLASSES.index(chars[i]) for i in keep], np.int64)
    return CharSet(np.asarray(images)[keep].astype(np.uint8), labels, np.full(len(keep), source, "<U16"))


def concat(*sets: CharSet) -> CharSet:
    sets = [s for s in sets if len(s)]
    if not sets:
        return empty_set()
    return CharSet(
        np.concatenate([s.images for s in sets]),
        np.concatenate([s.labels for s in sets]),
        np.concatenate([s.sources for s in sets]).astype("<U16"),
    )


# ------------------------------------------------------------------- sources
def sklearn_digits() -> CharSet:
    """scikit-learn's 1797 real 8x8 digit scans (upscaled MNIST-like first)."""
    from hwutils.datasets.digits import load_sklearn_digits

    images, labels = load_sklearn_digits()
    return from_chars(normalize_ink_bright(images), [str(v) for v in labels], "sklearn-digits")


def idx_digits(images_path, labels_path, source: str = "mnist") -> CharSet:
    """MNIST-format IDX digits (``.gz`` or not)."""
    from hwutils.datasets.idx import load_idx_pair

    images, labels = load_idx_pair(images_path, labels_path)
    if labels.min() < 0 or labels.max() > 9:
        raise DataError(f"{labels_path}: digit labels must be 0-9, found {labels.min()}..{labels.max()}")
    return from_chars(normalize_ink_bright(images), [str(v) for v in labels], source)


def digit_sources(
    digits: str,
    images_path: str = "",
    labels_path: str = "",
    train_fraction: float = 0.5,
    test_images_path: str = "",
    test_labels_path: str = "",
    extra_sklearn: bool = False,
) -> tuple[list[CharSet], CharSet | None]:
    """The training digits and the digit test set: ``(sources, test)``.

    ``digits="sklearn"``: scikit-learn's scans train, no digit test set.
    ``digits="idx"``: an MNIST-format file; its first ``train_fraction`` trains
    and the rest is the test set, or, with ``test_images_path`` and
    ``test_labels_path`` (another file of the same format), the whole file
    trains and that file is the test set. ``extra_sklearn`` adds scikit-learn's
    scans to the training digits of an IDX file.
    """
    if digits == "sklearn":
        return [sklearn_digits()], None
    if not images_path or not labels_path:
        raise ParamsError("digits_images, digits_labels: both are needed when digits = idx")
    if bool(test_images_path) != bool(test_labels_path):
        raise ParamsError("digits_test_images, digits_test_labels: give both or neither")
    idx_set = idx_digits(images_path, labels_path)
    if test_images_path:
        train, test = idx_set, idx_digits(test_images_path, test_labels_path)
    else:
        if not 0 < train_fraction < 1:
            raise ParamsError(
                f"digits_train_fraction: must be between 0 and 1 (exclusive), got {train_fraction}"
            )
        cut = int(len(idx_set) * train_fraction)
        train, test = idx_set.subset(np.arange(cut)), idx_set.subset(np.arange(cut, len(idx_set)))
    return [train, sklearn_digits()] if extra_sklearn else [train], test


def emnist_chars(images_path, labels_path, mapping_path) -> CharSet:
    """EMNIST (any split); lower-case letters are folded into the capitals."""
    from hwutils.datasets.idx import load_emnist

    images, chars = load_emnist(images_path, labels_path, mapping_path)
    return from_chars(normalize_ink_bright(images), chars, "emnist")


def az_csv_letters(path, per_class: int | None = None, seed: int = 0) -> CharSet:
    """The Kaggle A-Z CSV letters."""
    from hwutils.datasets.az_csv import load_az_csv

    images, chars = load_az_csv(path, per_class=per_class, seed=seed)
    return from_chars(normalize_ink_bright(images), chars, "kaggle-az")


def folder_chars(root, cap: int | None = None, seed: int = 0) -> CharSet:
    """A folder per class (``root/A/*.png``, ``root/7/*.png``; the seed's layout)."""
    from hwutils.datasets.folders import load_folder_per_class
    from hwutils.images import read_gray

    records = load_folder_per_class(root, cap=cap, seed=seed, what="character images")
    records = [(p, lab) for p, lab in records if lab.upper() in CLASSES and len(lab) == 1]
    if not records:
        raise DataError(f"{root}: no sub-folder named after one of the 36 classes (0-9, A-Z)")
    images = np.stack([normalize_char(read_gray(p)) for p, _ in records])
    return from_chars(images, [lab for _, lab in records], "folders")


def _drawn_chars(make, chars: str, per_class: int, seed: int, source: str) -> CharSet:
    """``per_class`` characters of each of ``chars`` drawn by ``make(chars,
    per_class, seed=...)`` (a generator of :mod:`hwutils.synth`), normalised
    like every other character, under ``source``; empty for none."""
    if per_class <= 0 or not chars:
        return empty_set()
    images, labels = make(chars, per_class, seed=seed)
    return from_chars(np.stack([normalize_char(im) for im in images]), [chars[i] for i in labels], source)


def synthetic_chars(chars: str, per_class: int, seed: int) -> CharSet:
    """Font-based synthetic characters (:mod:`hwutils.synth.characters`)."""
    from hwutils.synth.characters import make_characters

    return _drawn_chars(make_characters, chars, per_class, seed, "synthetic")


def pen_chars(chars: str, per_class: int, seed: int) -> CharSet:
    """Pen-drawn synthetic characters (:mod:`hwutils.synth.pen`): stroke
    skeletons drawn with one pen width, source ``synthetic-pen``."""
    from hwutils.synth.pen import make_pen_characters

    return _drawn_chars(make_pen_characters, chars, per_class, seed, "synthetic-pen")


def is_synthetic(sources) -> np.ndarray:
    """Which of ``sources`` (a source name or an array of them) are synthetic
    (``synthetic``: font characters, ``synthetic-pen``: pen-drawn ones)."""
    return np.char.startswith(np.asarray(sources, dtype=str), "synthetic")


def forced_segments(image, n_chars: int, hyphens: str = "", max_ratio: float = 1.6, **segment_kwargs):
    """Cut a word image into exactly ``n_chars`` characters from geometry
    alone (for harvesting letters from labelled words): pieces of
    :func:`hwutils.ocr.segment.over_segment` grouped by the search of
    :mod:`hwutils.ocr.search` with every classifier score set to zero, so
    natural component boundaries are preferred over cuts through ink.
    ``hyphens``: the label's pattern (``"*"`` a character, ``"-"`` a hyphen).

    Returns the segments, or None when no plausible cover exists (a segment
    wider than ``max_ratio`` typical widths, a gap inside one, or hyphens
    that do not match the label).
    """
    from hwutils.ocr.search import SearchSettings, best_cover, candidate_runs, run_scores
    from hwutils.ocr.segment import over_segment

    pieces = over_segment(image, **segment_kwargs)
    if pieces is None or len(pieces) < n_chars:
        return None
    settings = SearchSettings(max_width=max_ratio, max_pieces=4)
    runs = candidate_runs(pieces, settings)
    scores = run_scores(pieces, runs, np.zeros(len(runs)), settings)
    cover = best_cover(len(pieces), runs, scores, n_chars=n_chars)
    if not cover:
        return None
    for i, j in cover:
        g = pieces.group(i, j)
        if g.width > max_ratio * pieces.w_ref or pieces.inner_gap(i, j) > 0.15 * pieces.w_ref:
            return None
    kinds = "".join("-" if j - i == 1 and pieces.is_hyphen(i) else "*" for i, j in cover)
    if hyphens and kinds != hyphens:
        return None
    return [pieces.segment(i, j) for i, j in cover]


def harvest_word_letters(
    records, limit: int | None = None, forced: bool = True, **segment_kwargs
) -> tuple[CharSet, dict]:
    """Labelled characters from labelled word images whose segmentation
    agrees with the label: as many character boxes as the label has
    characters (spaces ignored) and hyphens where the label has them. With
    ``forced``, a word whose plain segmentation disagrees is cut into
    exactly the label's count by :func:`forced_segments` when that gives a
    plausible cover.

    Returns the characters (source ``"harvested"``) and counts
    (``words_used``, ``words_forced`` (among them), ``words_skipped``,
    ``unreadable_files``).
    """
    from hwutils.errors import ImageError

    images, chars = [], []
    stats = {"words_used": 0, "words_forced": 0, "words_skipped": 0, "unreadable_files": 0}
    for rec in records[:limit] if limit else records:
        label = rec.label.strip().upper().replace(" ", "")
        if not label or any(c not in CLASSES + "-" for c in label):
            stats["words_skipped"] += 1
            continue
        pattern = "".join("-" if c == "-" else "*" for c in label)
        try:
            segments = segment_word(rec.path, **segment_kwargs)
            kinds = "".join("-" if s.kind == "-" else "*" for s in segments)
            if kinds != pattern and forced:
                keys = ("min_speck", "drop_label", "faint")
                segments = forced_segments(
                    rec.path, len(label), pattern, **{k: v for k, v in segment_kwargs.items() if k in keys}
                )
                kinds = pattern if segments else ""
                stats["words_forced"] += bool(segments)
        except ImageError:
            stats["unreadable_files"] += 1
            continue
        if kinds != pattern:
            stats["words_skipped"] += 1
            continue
        stats["words_used"] += 1
        for seg, c in zip(segments, label):
            if c != "-":
                images.append(seg.image)
                chars.append(c)
    if not images:
        return empty_set(), stats
    return from_chars(np.stack(images), chars, "harvested"), stats


# ------------------------------------------------------------------- splits
def split(charset: CharSet, fractions: dict[str, float], seed: int = 0) -> dict[str, CharSet]:
    """Stratified random split per class: ``{"val": 0.1, "test": 0.1}`` ->
    ``{"train", "val", "test"}`` (train gets the rest)."""
    rng = np.random.default_rng(seed)
    parts = {name: [] for name in ["train", *fractions]}
    for c in np.unique(charset.labels):
        idx = rng.permutation(np.flatnonzero(charset.labels == c))
        start = 0
        for name, frac in fractions.items():
            n = int(round(len(idx) * frac))
            if frac > 0 and len(idx) >= 3:
                n = max(1, n)
            parts[name].append(idx[start : start + n])
            start += n
        parts["train"].append(idx[start:])
    return {
        name: charset.subset(np.sort(np.concatenate(ix)) if ix else np.zeros(0, int))
        for name, ix in parts.items()
    }


def repeat_source(charset: CharSet, source: str, times: int) -> CharSet:
    """``charset`` with every sample of ``source`` appearing ``times`` times
    in all (class balancing by repetition: e.g. real harvested letters weigh
    more than the synthetic ones they are trained with). ``times`` 1, or no
    sample of ``source``, returns ``charset`` unchanged. Apply it to the
    training part only, after :func:`split`, so no copy of a validation or
    test sample is trained on. Raises :class:`ParamsError` for ``times`` < 1."""
    if isinstance(times, bool) or not isinstance(times, (int, np.integer)) or times < 1:
        raise ParamsError(f"repeat of {source!r} samples: must be a whole number >= 1, got {times!r}")
    picked = np.flatnonzero(charset.sources == source)
    if times == 1 or not len(picked):
        return charset
    return concat(charset, *[charset.subset(picked)] * (int(times) - 1))


def training_splits(
    charset: CharSet,
    val_fraction: float,
    test_fraction: float,
    seed: int = 0,
    repeat: dict[str, int] | None = None,
) -> tuple[CharSet, CharSet, CharSet]:
    """``(train, val, test)``: the stratified split of :func:`split`, then the
    training part's samples of each source in ``repeat`` (``{"harvested": 2}``)
    repeated that many times (:func:`repeat_source`); validation and test
    parts are never repeated."""
    parts = split(charset, {"val": val_fraction, "test": test_fraction}, seed=seed)
    train = parts["train"]
    for source, times in (repeat or {}).items():
        train = repeat_source(train, source, times)
    return train, parts["val"], parts["test"]


def class_origins(charset: CharSet) -> dict[str, str]:
    """Which classes have real samples and which only synthetic ones:
    ``{"real": "0123456789", "synthetic_only": "AB...Z", "missing": ""}``
    (each in class order; ``missing``: classes with no sample at all)."""
    by_source = class_sources(charset)
    real = {c for s, cl in by_source.items() if not is_synthetic(s) for c in cl}
    synthetic = {c for s, cl in by_source.items() if is_synthetic(s) for c in cl} - real
    return {
        "real": "".join(c for c in CLASSES if c in real),
        "synthetic_only": "".join(c for c in CLASSES if c in synthetic),
        "missing": "".join(c for c in CLASSES if c not in real and c not in synthetic),
    }


def source_counts(charset: CharSet) -> list[dict]:
    """One row per source, in order of first appearance: ``source``, its
    number of ``samples`` and the ``classes`` it provides."""
    by_source = class_sources(charset)
    order = list(dict.fromkeys(charset.sources.tolist()))
    return [
        {
            "source": s,
            "samples": int(np.sum(charset.sources == s)),
            "classes": "".join(by_source[s]),
        }
        for s in order
    ]


def class_sources(charset: CharSet) -> dict[str, list[str]]:
    """``{source: [classes it provides]}``, e.g. which classes are real, which synthetic."""
    out = {}
    for src in np.unique(charset.sources):
        labels = np.unique(charset.labels[charset.sources == src])
        out[str(src)] = [CLASSES[i] for i in labels]
    return out


def compose_words(
    charset: CharSet, n_words: int, seed: int = 0, min_len: int = 3, max_len: int = 8, height: int = 40
) -> tuple[list[np.ndarray], list[str]]:
    """Word images made by writing characters of ``charset`` side by side with
    random gaps, size and vertical jitter (a synthetic stand-in for labelled
    word images when none are given). Returns images and their labels."""
    rng = np.random.default_rng(seed)
    images, labels = [], []
    for _ in range(n_words):
        n = int(rng.integers(min_len, max_len + 1))
        picks = rng.integers(0, len(charset), n)
        char_h = int(rng.integers(int(height * 0.55), int(height * 0.8)))
        pieces, x = [], int(rng.integers(4, 12))
        for i in picks:
            ink = 255 - charset.images[i].astype(np.int32)
            rows, cols = np.flatnonzero(ink.max(1) > 60), np.flatnonzero(ink.max(0) > 60)
            ink = ink[rows[0] : rows[-1] + 1, cols[0] : cols[-1] + 1] if rows.size else ink[:1, :1]
            scale = char_h / ink.shape[0]
            from hwutils.images import resize

            w = max(2, int(round(ink.shape[1] * scale)))
            pieces.append((x, int(rng.integers(-2, 3)), resize(255 - ink.astype(np.uint8), char_h, w)))
            x += w + int(rng.integers(max(2, char_h // 6), char_h // 2 + 3))
        canvas = np.full((height, x + int(rng.integers(4, 12))), 255, np.uint8)
        top0 = (height - char_h) // 2
        for px, dy, img in pieces:
            t = int(np.clip(top0 + dy, 0, height - img.shape[0]))
            region = canvas[t : t + img.shape[0], px : px + img.shape[1]]
            np.minimum(region, img, out=region)
        images.append(canvas)
        labels.append("".join(CLASSES[charset.labels[i]] for i in picks))
    return images, labels
