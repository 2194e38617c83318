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


def text_color_on(rgba) -> str:
    """``"white"`` or ``"black"``: the text colour readable on a cell of colour
    ``rgba`` (matplotlib 0..1 values), by the cell's relative luminance
    (WCAG: sRGB channels linearised, weights 0.2126, 0.7152, 0.0722); dark
    cells get white text, light cells black."""
    rgb = np.asarray(rgba, np.float64)[:3]
    lin = np.where(rgb <= 0.04045, rgb / 12.92, ((rgb + 0.055) / 1.055) ** 2.4)
    luminance = float(lin @ np.array([0.2126, 0.7152, 0.0722]))
    # the luminance at which black and white text have the same contrast ratio
    return "white" if luminance < 0.179 else "black"


def confusion_layout(n: int, max_digits: int = 1) -> tuple[float, float]:
    """``(side_inches, fontsize_points)`` of an ``n``-class confusion matrix:
    the figure grows with the classes (5 to 14 inches) and the cell numbers
    get the largest font (at most 11 pt) whose ``max_digits`` digits fit in
    a cell, so a number is readable on every cell, 3 classes or 50."""
    side = float(np.clip(3.2 + 0.3 * n, 5.0, 14.0))
    cell_pt = 0.72 * side * 72 / max(n, 1)  # the axes take about 72% of the figure's width
    fontsize = min(11.0, 0.8 * cell_pt / (0.62 * max(max_digits, 1)), 0.55 * cell_pt)
    return side, float(max(fontsize, 4.0))


def confusion_matrix(
    cm,
    labels=None,
    normalize: bool = True,
    title: str = "Confusion matrix",
    max_labels: int = 60,
    xlabel: str = "predicted class",
    ylabel: str = "true class",
    show_zeros: bool | None = None,
    cmap: str = "Blues",
):
    """Heat map of a confusion matrix (rows true, columns predicted), with the
    count written on every cell.

    ``normalize``: cells coloured by their share of the true class's row
    (rows of different sizes compare), else by the count. Each number is
    written in the colour readable on its cell (:func:`text_color_on`) at a
    size that fits the cell (:func:`confusion_layout`). ``show_zeros``: write
    the zeros too (default: up to 12 classes; above, zero cells stay blank and
    the subtitle says so). ``max_labels``: tick labels are left out above it.
    """
    import matplotlib as mpl

    cm = np.asarray(cm, np.float64)
    n = cm.shape[0]
    shown = cm / np.maximum(cm.sum(axis=1, keepdims=True), 1) if normalize else cm
    if show_zeros is None:
        show_zeros = n <= 12
    integers = bool(np.all(cm == np.round(cm)))
    texts = [f"{int(v)}" if integers else f"{v:.2g}" for v in cm.ravel()]
    side, fontsize = confusion_layout(n, max((len(t) for t in texts), default=1))
    norm = mpl.colors.Normalize(vmin=0, vmax=1 if normalize else max(float(shown.max()), 1.0))
    colormap = plt.get_cmap(cmap)
    fig, ax = plt.subplots(figsize=(side + 1.2, side))
    im = ax.imshow(shown, cmap=colormap, norm=norm)
    bar = fig.colorbar(im, ax=ax, fraction=0.046, pad=0.03)
    bar.set_label("share of the true class" if normalize else "count")
    if labels is not None and n <= max_labels:
        names = [str(l) for l in labels]
        tick_size = max(5.0, min(10.0, fontsize))
        rotate = 90 if 0.6 * max(map(len, names), default=0) * tick_size > 0.72 * side * 72 / max(n, 1) else 0
        ax.set_xticks(range(n), names, rotation=rotate, fontsize=tick_size)
        ax.set_yticks(range(n), names, fontsize=tick_size)
    else:
        ax.set_xticks([])
        ax.set_yticks([])
    for i in range(n):
        for j in range(n):
            if cm[i, j] == 0 and not show_zeros:
                continue
            ax.text(
                j,
                i,
                texts[i * n + j],
                ha="center",
                va="center",
                fontsize=fontsize,
                color=text_color_on(colormap(norm(shown[i, j]))),
            )
    ax.set_xlabel(xlabel)
    ax.set_ylabel(ylabel)
    counts = "numbers: counts" + ("" if show_zeros else ", blank cells: 0")
    ax.set_title(f"{title}\n({counts}; colour: {'share of the row' if normalize else 'count'})", fontsize=11)
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
