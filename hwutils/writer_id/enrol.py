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
        artifacts.check_finite(path, data, ("centroids",))
        return cls(names, cents.astype(np.float32))


def enrolment_split(writers, groups, new_writers, enrol_lines: int) -> tuple[np.ndarray, np.ndarray]:
    """Which lines of each new writer enrol them and which are then questioned.

    ``writers`` and ``groups`` give each line's writer and group (IAM form or
    page); for every writer in ``new_writers`` their lines are ordered by group
    (then by position), the first ``enrol_lines`` enrol and the rest are
    queries, so enrolment uses the writer's first forms and the queries come
    mostly from later ones. Returns index arrays ``(enrol, query)``; a new
    writer with no line is a :class:`DataError` naming them."""
    if enrol_lines < 1:
        raise DataError(f"enrol_lines: must be at least 1, got {enrol_lines}")
    writers = np.asarray(writers).astype(str)
    groups = np.asarray(groups).astype(str)
    if len(writers) != len(groups):
        raise ValueError("writers and groups differ in length")
    enrol, query = [], []
    for w in new_writers:
        idx = np.flatnonzero(writers == str(w))
        if not len(idx):
            raise DataError(f"new writer {w}: no line to enrol them with")
        idx = idx[np.lexsort((idx, groups[idx]))]
        enrol += list(idx[:enrol_lines])
        query += list(idx[enrol_lines:])
    return np.array(enrol, int), np.array(query, int)


def enrol_and_identify(
    gallery: Gallery,
    new_embeddings,
    new_writers,
    enrol_idx,
    query_idx,
    known_embeddings=None,
    known_writers=None,
) -> tuple[Gallery, dict]:
    """Enrol each new writer from their ``enrol_idx`` lines, then identify the
    ``query_idx`` lines against the whole gallery by nearest centroid.

    Returns the enlarged gallery and its metrics: ``enrolled_writers``,
    ``enrol_query_lines``, ``enrolled_top1`` (share of queries named as their
    writer, NaN without queries), ``gallery_size`` (known + enrolled writers)
    and, when the known writers' test lines are given,
    ``known_top1_after_enrolment`` (they are still named right with the new
    writers in the gallery)."""
    new_embeddings = np.asarray(new_embeddings)
    new_writers = np.asarray(new_writers).astype(str)
    enrol_idx, query_idx = np.asarray(enrol_idx, int), np.asarray(query_idx, int)
    enrolled = list(dict.fromkeys(new_writers[enrol_idx]))
    for w in enrolled:
        gallery = gallery.enrol(w, new_embeddings[enrol_idx[new_writers[enrol_idx] == w]])
    names = np.array(gallery.names).astype(str)
    out = {"enrolled_writers": len(enrolled), "enrol_query_lines": int(len(query_idx))}
    if len(query_idx):
        order, _ = gallery.rank(new_embeddings[query_idx])
        out["enrolled_top1"] = float(np.mean(names[order[:, 0]] == new_writers[query_idx]))
    else:
        out["enrolled_top1"] = float("nan")
    out["gallery_size"] = len(gallery.names)
    if known_embeddings is not None and len(known_embeddings):
        order, _ = gallery.rank(np.asarray(known_embeddings))
        out["known_top1_after_enrolment"] = float(
            np.mean(names[order[:, 0]] == np.asarray(known_writers).astype(str))
        )
    return gallery, out
