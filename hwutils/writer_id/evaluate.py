"""Accuracy at patch, line and page level (DeepWriter's protocol).

Patches are the scanning windows of the test lines; a line's scores are the
mean softmax of its windows; a page's (IAM form, or the test lines of one
CSAFE page together) the mean of its lines.
"""

from __future__ import annotations

import numpy as np

from hwutils import metrics
from hwutils.writer_id import scan


def evaluate_lines(two_heads, lines_ink, labels, pages, window: int, stride: int | None = None,
                   batch_size: int = 128) -> dict:
    """Scores of every test line; returns a dict with ``metrics`` (top-1/top-5
    at patch, line and page level), ``line_probs``, ``line_embeddings``,
    ``page_probs``, ``page_labels`` and ``page_names``."""
    labels = np.asarray(labels, int)
    line_probs, line_emb, (win_probs, _), owner = scan.scan_lines(two_heads, lines_ink, window, stride, batch_size)
    out = {"patch_top1": metrics.top_k_accuracy(labels[owner], win_probs, 1),
           "patch_top5": metrics.top_k_accuracy(labels[owner], win_probs, 5), "n_patches": int(len(owner))}
    levels = line_page_scores(line_probs, labels, pages)
    out.update(levels["metrics"])
    return {**levels, "metrics": out, "line_probs": line_probs, "line_embeddings": line_emb}


def line_page_scores(line_probs, labels, pages) -> dict:
    """Top-1/top-5 of per-line scores and of their means per page (IAM form, or
    the test lines of one CSAFE page); returns ``metrics``, ``page_probs``,
    ``page_labels`` and ``page_names``."""
    labels = np.asarray(labels, int)
    page_idx, page_names = scan.group_index(pages)
    page_probs = scan.average_by(np.asarray(line_probs), page_idx, len(page_names))
    page_labels = np.zeros(len(page_names), int)
    page_labels[page_idx] = labels
    out = {}
    for level, y, p in (("line", labels, line_probs), ("page", page_labels, page_probs)):
        out[f"{level}_top1"] = metrics.top_k_accuracy(y, p, 1)
        out[f"{level}_top5"] = metrics.top_k_accuracy(y, p, 5)
        out[f"n_{level}s"] = int(len(y))
    return {"metrics": out, "page_probs": page_probs, "page_labels": page_labels, "page_names": page_names}
