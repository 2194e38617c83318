"""Accuracy at patch, line and page level (DeepWriter's protocol).

Patches are the scanning windows of the test lines; a line's scores are the
mean softmax of its windows; a page's (IAM form, or the test lines of one
CSAFE page together) the mean of its lines.
"""

from __future__ import annotations

import numpy as np

from hwutils import metrics
from hwutils.writer_id import scan


def evaluate_lines(
    two_heads, lines_ink, labels, pages, window: int, stride: int | None = None, batch_size: int = 128
) -> dict:
    """Scores of every test line; returns a dict with ``metrics`` (top-1/top-5
    at patch, line and page level), ``line_probs``, ``line_embeddings``,
    ``page_probs``, ``page_labels`` and ``page_names``."""
    labels = np.asarray(labels, int)
    line_probs, line_emb, (win_probs, _), owner = scan.scan_lines(
        two_heads, lines_ink, window, stride, batch_size
    )
    out = {
        "patch_top1": metrics.top_k_accuracy(labels[owner], win_probs, 1),
        "patch_top5": metrics.top_k_accuracy(labels[owner], win_probs, 5),
        "n_patches": int(len(owner)),
    }
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


def texture_fusion(
    line_images: dict,
    labels: dict,
    cnn_val,
    cnn_test,
    test_pages,
    n_writers: int,
    leg: int = 12,
    bins: int = 16,
) -> dict:
    """Fit the contour-hinge classifier on the training lines, choose its fusion
    weight on the validation lines and fuse it with the CNN on the test lines.

    ``line_images`` and ``labels`` map ``"train"``, ``"val"`` and ``"test"`` to
    line images (arrays or paths, unresized) and writer indices; ``cnn_val`` and
    ``cnn_test`` are the CNN's line scores of the validation and test lines.
    Returns ``model`` (the :class:`~hwutils.writer_id.texture.TextureClassifier`),
    ``weight``, ``val_nll`` (log-loss per candidate weight), ``line_probs`` (fused
    test scores), ``fused_metrics`` (line/page top-k of the fused scores, as
    :func:`line_page_scores`), ``features`` (the texture evidence of every split,
    :func:`~hwutils.writer_id.texture_distance.evidence_features`: the classifier reads its
    contour-hinge part, the likelihood ratios all of it) and ``metrics``: top-k of ``cnn``,
    ``texture`` and ``fused`` scores on the test lines and pages, and their validation line top-1."""
    from hwutils.writer_id import texture
    from hwutils.writer_id.texture_distance import evidence_features, hinge_width

    feats = {k: evidence_features(v, leg, bins) for k, v in line_images.items()}
    hinge = feats["train"][:, : hinge_width(bins)]
    model = texture.TextureClassifier.fit(hinge, labels["train"], n_writers, leg, bins)
    val_tex, test_tex = model.predict_proba(feats["val"]), model.predict_proba(feats["test"])
    weight, val_nll = texture.choose_weight(cnn_val, val_tex, labels["val"])
    fused = texture.fuse(cnn_test, test_tex, weight)
    out = {}
    for name, p in (("cnn", cnn_test), ("texture", test_tex), ("fused", fused)):
        for k, v in line_page_scores(p, labels["test"], test_pages)["metrics"].items():
            if not k.startswith("n_"):
                out[f"{name}_{k}"] = v
    for name, p in (
        ("cnn", cnn_val),
        ("texture", val_tex),
        ("fused", texture.fuse(cnn_val, val_tex, weight)),
    ):
        out[f"val_{name}_line_top1"] = (
            metrics.top_k_accuracy(labels["val"], p, 1) if len(labels["val"]) else float("nan")
        )
    out["texture_weight"] = weight
    return {
        "model": model,
        "weight": weight,
        "val_nll": val_nll,
        "line_probs": fused,
        "features": feats,
        "metrics": out,
        "fused_metrics": line_page_scores(fused, labels["test"], test_pages)["metrics"],
    }
