"""Looking at the latent space: interpolation strips and a t-SNE map."""

from __future__ import annotations

import numpy as np

from hwutils.vae import model as vae_model


def farthest_pair(z) -> tuple[int, int]:
    """Indices of the two latent points farthest apart (the ends of an interpolation strip)."""
    z = np.asarray(z, np.float64)
    d2 = np.sum(z**2, 1)[:, None] + np.sum(z**2, 1)[None] - 2 * z @ z.T
    i, j = np.unravel_index(np.argmax(d2), d2.shape)
    return int(i), int(j)


def interpolation_strip(vae, imgs, steps: int = 10) -> np.ndarray:
    """Images along the line between the latent codes of the two most
    different images in ``imgs`` (uint8 paper-white) -> ``(steps, h, w)``."""
    z = vae_model.encode(vae, imgs)
    i, j = farthest_pair(z)
    return vae_model.interpolate(vae, z[i], z[j], steps)


def tsne_map(vae, groups: dict[str, np.ndarray], seed: int = 0, perplexity: float = 30.0):
    """t-SNE (scikit-learn) of the latent means of several image groups.

    ``groups`` maps a name to uint8 paper-white images. Returns
    ``(points (n, 2), group name per point)``. Perplexity is lowered for
    small sets (it must stay below the number of points).
    """
    from sklearn.manifold import TSNE

    codes, names = [], []
    for name, imgs in groups.items():
        codes.append(vae_model.encode(vae, imgs))
        names += [name] * len(imgs)
    z = np.concatenate(codes)
    perplexity = float(min(perplexity, max(2.0, (len(z) - 1) / 3)))
    pts = TSNE(
        n_components=2, perplexity=perplexity, init="pca", max_iter=500, random_state=seed
    ).fit_transform(z)
    return pts, np.asarray(names)


def tsne_figure(points, names, title: str = "t-SNE of the VAE's latent codes"):
    """The t-SNE map as a scatter coloured by group, with title and axis labels."""
    from hwutils import plots

    fig = plots.embedding_scatter(points, names, title=title)
    ax = fig.axes[0]
    ax.set_xlabel("t-SNE dimension 1 (no units: only neighbourhoods mean something)")
    ax.set_ylabel("t-SNE dimension 2")
    return fig
