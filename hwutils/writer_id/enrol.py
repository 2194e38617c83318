"""A gallery of writer centroids: known writers from training, new writers
enrolled from a few lines without retraining.

Identification against the gallery ranks writers by the cosine similarity of
a line's embedding to each centroid (see :mod:`hwutils.writer_id.openset`).
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from hwutils.errors import ArtifactError, DataError
from hwutils.writer_id import openset


@dataclass
class Gallery:
    """Writer names and their unit-norm centroids (one row per writer)."""

    names: list
    centroids: np.ndarray

    @classmethod
    def from_embeddings(cls, embeddings, writers) -> Gallery:
        """One centroid per distinct writer name in ``writers`` (sorted)."""
        names = sorted(set(map(str, writers)))
        index = {n: i for i, n in enumerate(names)}
        labels = [index[str(w)] for w in writers]
        return cls(names, openset.centroids(np.asarray(embeddings), labels, len(names)))

    def enrol(self, name: str, embeddings) -> Gallery:
        """Add (or replace) writer ``name`` from the embeddings of a few of their lines."""
        embeddings = np.asarray(embeddings, np.float32)
        if embeddings.ndim != 2 or len(embeddings) == 0:
            raise DataError(f"enrol {name}: needs at least one line embedding")
        cent = openset.normalize(openset.normalize(embeddings).mean(axis=0, keepdims=True))
        names = list(self.names)
        cents = self.centroids
        if name in names:
            cents = cents.copy()
            cents[names.index(name)] = cent[0]
        else:
            names.append(name)
            cents = np.concatenate([cents, cent]) if len(cents) else cent
        return Gallery(names, cents)

    def rank(self, embeddings) -> tuple[np.ndarray, np.ndarray]:
        """For each embedding: gallery indices sorted by similarity, and the similarities."""
        sims = openset.similarities(np.asarray(embeddings), self.centroids)
        order = np.argsort(-sims, axis=1)
        return order, np.take_along_axis(sims, order, axis=1)

    def save(self, path: str | Path) -> Path:
        """``path`` (.npz) holding names and centroids."""
        from hwutils import artifacts

        return artifacts.save_npz(
            path,
            centroids=np.asarray(self.centroids, np.float32),
            names=np.array(json.dumps(list(map(str, self.names)))),
        )

    @classmethod
    def load(cls, path: str | Path) -> Gallery:
        """Read a gallery saved by :meth:`save` (``allow_pickle=False``); a missing,
        corrupt or inconsistent file is an :class:`~hwutils.errors.ArtifactError` naming it."""
        from hwutils import artifacts

        path = Path(path)
        data = artifacts.load_npz(path, keys=("names", "centroids"))
        try:
            names = json.loads(str(data["names"]))
        except json.JSONDecodeError:
            names = None
        if not isinstance(names, list) or not all(isinstance(n, str) for n in names):
            raise ArtifactError(f"{path}: array 'names' is not a JSON list of writer names")
        cents = data["centroids"]
        if cents.ndim != 2 or len(cents) != len(names) or not np.issubdtype(cents.dtype, np.number):
            raise ArtifactError(
                f"{path}: array 'centroids' has shape {cents.shape} and dtype {cents.dtype}; "
                f"expected one numeric row per writer ({len(names)})"
            )
        return cls(names, cents.astype(np.float32))
