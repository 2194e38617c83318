"""Figures shared by all stages. Each function returns a matplotlib Figure;
save it with :func:`hwutils.report.save_figure`."""

from __future__ import annotations

import matplotlib.pyplot as plt
import numpy as np
from matplotlib.ticker import MaxNLocator


def gallery(
    images, titles=None, cols: int = 10, size: float = 1.2, cmap: str = "gray", suptitle: str | None = None
):
    """A grid of images (2-D arrays, uint8 paper-white or float), with optional titles."""
    images = list(images)
    n = max(1, len(images))
    cols = max(1, min(cols, n))
    rows = int(np.ceil(n / cols))
    fig, axes = plt.subplots(rows, cols, figsize=(cols * size * 1.1, rows * size * 1.2), squeeze=False)
    for ax in axes.ravel():
        ax.axis("off")
    for i, img in enumerate(images):
        ax = axes.ravel()[i]
        img = np.asarray(img)
        vmin, vmax = (0, 255) if img.dtype == np.uint8 else (None, None)
        ax.imshow(img, cmap=cmap, vmin=vmin, vmax=vmax)
        if titles is not None:
            ax.set_title(str(titles[i]), fontsize=7)
    if suptitle:
        fig.suptitle(suptitle)
    fig.tight_layout()
    return fig


def training_curves(history: dict, metrics: tuple[str, ...] | None = None):
    """Loss and metric curves per epoch from a Keras ``History.history`` dict
    (training and ``val_`` series on the same axes)."""
    keys = [k for k in history if not k.startswith("val_") and k not in ("lr", "learning_rate")]
    if metrics:
        keys = [k for k in keys if k in metrics]
    fig, axes = plt.subplots(1, max(1, len(keys)), figsize=(4.2 * max(1, len(keys)), 3.2), squeeze=False)
    for ax, key in zip(axes[0], keys):
        ax.plot(np.arange(1, len(history[key]) + 1), history[key], label="train")
        if f"val_{key}" in history:
            ax.plot(np.arange(1, len(history[f"val_{key}"]) + 1), history[f"val_{key}"], label="validation")
        ax.set_xlabel("epoch")
        ax.set_ylabel(key.replace("_", " "))
        ax.xaxis.set_major_locator(MaxNLocator(integer=True))
        ax.set_title(f"{key.replace('_', ' ')} per epoch")
        ax.legend(fontsize=8)
        ax.grid(alpha=0.3)
    fig.tight_layout()
    return fig


def confusion_matrix(
    cm, labels=None, normalize: bool = True, title: str = "Confusion matrix", max_labels: int = 40
):
    """Heat map of a confusion matrix (rows true, columns predicted)."""
    cm = np.asarray(cm, np.float64)
    shown = cm / np.maximum(cm.sum(axis=1, keepdims=True), 1) if normalize else cm
    n = cm.shape[0]
    side = min(12, 3 + 0.28 * n)
    fig, ax = plt.subplots(figsize=(side, side * 0.9))
    im = ax.imshow(shown, cmap="Blues", vmin=0, vmax=1 if normalize else None)
    fig.colorbar(im, ax=ax, fraction=0.046)
    if labels is not None and n <= max_labels:
        ax.set_xticks(range(n), [str(l) for l in labels], rotation=90, fontsize=7)
        ax.set_yticks(range(n), [str(l) for l in labels], fontsize=7)
    if n <= 15:
        for i in range(n):
            for j in range(n):
                if cm[i, j]:
                    ax.text(
                        j,
                        i,
                        int(cm[i, j]),
                        ha="center",
                        va="center",
                        fontsize=7,
                        color="white" if shown[i, j] > 0.5 else "black",
                    )
    ax.set_xlabel("predicted")
    ax.set_ylabel("true")
    ax.set_title(title)
    fig.tight_layout()
    return fig


def roc_det(labels, scores, title: str = "", series: dict | None = None):
    """ROC (left) and DET (right, FAR vs FRR, log axes) curves.

    ``series`` maps a name to ``(labels, scores)`` to draw several curves;
    otherwise one curve from ``labels``/``scores``.
    """
    from hwutils import metrics as M

    series = series or {"": (labels, scores)}
    fig, (a1, a2) = plt.subplots(1, 2, figsize=(9, 3.8))
    for name, (lab, sc) in series.items():
        far, tar, _ = M.roc_curve(lab, sc)
        a1.plot(far, tar, label=f"{name} AUC={M.auroc(lab, sc):.3f}".strip())
        frr = 1 - tar
        a2.plot(
            np.clip(far, 1e-4, 1), np.clip(frr, 1e-4, 1), label=f"{name} EER={M.eer(lab, sc)[0]:.3f}".strip()
        )
    a1.plot([0, 1], [0, 1], "k:", lw=0.8)
    a1.set_xlabel("false accept rate")
    a1.set_ylabel("true accept rate")
    a1.set_title(f"ROC {title}".strip())
    a2.set_xscale("log")
    a2.set_yscale("log")
    a2.set_xlabel("false accept rate")
    a2.set_ylabel("false reject rate")
    a2.set_title(f"DET {title}".strip())
    for a in (a1, a2):
        a.legend(fontsize=8)
        a.grid(alpha=0.3)
    fig.tight_layout()
    return fig


def score_histograms(groups: dict, threshold: float | None = None, xlabel: str = "score", bins: int = 40):
    """Overlaid histograms of scores per group (e.g. genuine / skilled / random)."""
    fig, ax = plt.subplots(figsize=(6, 3.5))
    values = [np.asarray(v, float) for v in groups.values() if len(v)]
    lo = min(v.min() for v in values) if values else 0
    hi = max(v.max() for v in values) if values else 1
    edges = np.linspace(lo, hi if hi > lo else lo + 1, bins + 1)
    for name, v in groups.items():
        if len(v):
            ax.hist(v, bins=edges, alpha=0.5, density=True, label=f"{name} (n={len(v)})")
    if threshold is not None:
        ax.axvline(threshold, color="k", ls="--", lw=1, label=f"threshold {threshold:.3g}")
    ax.set_xlabel(xlabel)
    ax.set_ylabel("density")
    ax.legend(fontsize=8)
    fig.tight_layout()
    return fig


def embedding_scatter(points_2d, groups, title: str = "", max_legend: int = 12):
    """Scatter of 2-D points (t-SNE, PCA) coloured by group label."""
    points_2d = np.asarray(points_2d)
    groups = np.asarray(groups)
    fig, ax = plt.subplots(figsize=(6, 5))
    uniq = list(dict.fromkeys(groups.tolist()))
    cmap = plt.get_cmap("tab20" if len(uniq) > 10 else "tab10")
    for i, g in enumerate(uniq):
        m = groups == g
        ax.scatter(
            points_2d[m, 0],
            points_2d[m, 1],
            s=10,
            alpha=0.7,
            color=cmap(i % cmap.N),
            label=str(g) if len(uniq) <= max_legend else None,
        )
    if len(uniq) <= max_legend:
        ax.legend(fontsize=8, markerscale=2)
    ax.set_title(title)
    ax.set_xticks([])
    ax.set_yticks([])
    fig.tight_layout()
    return fig


def image_with_boxes(image, boxes, labels=None, title: str = ""):
    """An image with rectangles ``(left, top, width, height)`` and optional labels."""
    from matplotlib.patches import Rectangle

    image = np.asarray(image)
    fig, ax = plt.subplots(figsize=(min(12, 2 + image.shape[1] / 60), min(6, 1 + image.shape[0] / 60)))
    ax.imshow(image, cmap="gray", vmin=0, vmax=255)
    for i, (x, y, w, h) in enumerate(boxes):
        ax.add_patch(Rectangle((x, y), w, h, fill=False, color="tab:red", lw=1))
        if labels is not None:
            ax.text(x, y - 2, str(labels[i]), color="tab:red", fontsize=8, va="bottom")
    ax.set_title(title)
    ax.axis("off")
    fig.tight_layout()
    return fig


def bar(values: dict, title: str = "", ylabel: str = "", ylim=None):
    """A bar chart of named values (e.g. per-class accuracy)."""
    fig, ax = plt.subplots(figsize=(max(4, 0.3 * len(values) + 2), 3))
    ax.bar([str(k) for k in values], list(values.values()), color="tab:blue")
    ax.set_title(title)
    ax.set_ylabel(ylabel)
    if ylim:
        ax.set_ylim(*ylim)
    ax.tick_params(axis="x", rotation=90 if len(values) > 12 else 0, labelsize=8)
    fig.tight_layout()
    return fig
