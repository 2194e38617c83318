"""Window scanning of lines and averaging of softmax outputs (DeepWriter's test protocol).

A line (``height`` x W) is cut left to right into windows of the model's input
width, the last window aligned to the line's end; lines narrower than a window
are padded with paper. A line's score is the mean softmax over its windows; a
page's (or form's) score is the mean over its lines.
"""

from __future__ import annotations

import numpy as np


def window_starts(width: int, window: int, stride: int | None = None) -> list[int]:
    """Left edges of the windows over a line ``width`` wide; the last ends at the line's end."""
    stride = stride or window
    if width <= window:
        return [0]
    starts = list(range(0, width - window + 1, stride))
    if starts[-1] != width - window:
        starts.append(width - window)
    return starts


def line_windows(line_ink: np.ndarray, window: int, stride: int | None = None) -> np.ndarray:
    """``(k, H, window)`` windows of an ink line (ink = 1); narrow lines padded (centred) with 0."""
    h, w = line_ink.shape
    if w < window:
        left = (window - w) // 2
        padded = np.zeros((h, window), np.float32)
        padded[:, left : left + w] = line_ink
        return padded[None]
    return np.stack([line_ink[:, s : s + window] for s in window_starts(w, window, stride)])


def all_windows(lines_ink, window: int, stride: int | None = None) -> tuple[np.ndarray, np.ndarray]:
    """Windows of every line stacked, and the index of the line each came from."""
    parts = [line_windows(l, window, stride) for l in lines_ink]
    owner = np.concatenate([np.full(len(p), i) for i, p in enumerate(parts)])
    return np.concatenate(parts)[..., None].astype(np.float32), owner


def average_by(values: np.ndarray, owner, n_groups: int | None = None) -> np.ndarray:
    """Mean of ``values`` rows per group index in ``owner`` (``n_groups`` rows)."""
    owner = np.asarray(owner, int)
    n_groups = int(owner.max()) + 1 if n_groups is None else n_groups
    sums = np.zeros((n_groups,) + values.shape[1:], np.float64)
    np.add.at(sums, owner, values)
    counts = np.bincount(owner, minlength=n_groups).reshape((-1,) + (1,) * (values.ndim - 1))
    return (sums / np.maximum(counts, 1)).astype(np.float32)


def group_index(keys) -> tuple[np.ndarray, list]:
    """Integer index of each key and the list of distinct keys (in first-seen order)."""
    names: dict = {}
    idx = np.array([names.setdefault(k, len(names)) for k in keys], int)
    return idx, list(names)


def scan_lines(model, lines_ink, window: int, stride: int | None = None, batch_size: int = 128):
    """Run ``model`` (one or several outputs) over the windows of every line.

    Returns a list with, per model output, the per-line mean over windows
    (softmax outputs for the classifier, embeddings for the embedding head),
    plus the per-window outputs and window owners as the last two items."""
    windows, owner = all_windows(lines_ink, window, stride)
    outs = model.predict(windows, batch_size=batch_size, verbose=0)
    outs = outs if isinstance(outs, (list, tuple)) else [outs]
    per_line = [average_by(np.asarray(o), owner, len(lines_ink)) for o in outs]
    return per_line + [[np.asarray(o) for o in outs], owner]
