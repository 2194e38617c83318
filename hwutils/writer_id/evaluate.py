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
    page_idx, page_names = scan.group_index(pages)
    page_probs = scan.average_by(line_probs, page_idx, len(page_names))
    page_labels = np.zeros(len(page_names), int)
    page_labels[page_idx] = labels
    out = {}
    for level, y, p in (("patch", labels[owner], win_probs), ("line", labels, line_probs),
                        ("page", page_labels, page_probs)):
        out[f"{level}_top1"] = metrics.top_k_accuracy(y, p, 1)
        out[f"{level}_top5"] = metrics.top_k_accuracy(y, p, 5)
        out[{"patch": "n_patches", "line": "n_lines", "page": "n_pages"}[level]] = int(len(y))
    return {"metrics": out, "line_probs": line_probs, "line_embeddings": line_emb, "page_probs": page_probs,
            "page_labels": page_labels, "page_names": page_names}
