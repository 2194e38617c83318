"""Public API: load a trained writer-identification run and name the writer
of a line or page image.

    >>> from hwutils.writer_id.identify import WriterIdentifier
    >>> wid = WriterIdentifier.load("outputs/writer_id/<RUN_ID>")
    >>> result = wid.identify_line("some_line.png")
    >>> result.ranking[:3]          # [(writer, mean softmax score), ...]
    >>> result.known                # False when the writing looks like no known writer

A run folder holds, under ``artifacts/``: ``model.keras`` (the classifier),
``writer_id.json`` (writer names in class order, line height, window width,
stride, new-writer threshold, texture fusion weight), ``gallery.npz``
(embedding centroids of the known writers plus any enrolled ones) and, when
the run fused texture features, ``texture.npz`` (the contour-hinge classifier
of :mod:`hwutils.writer_id.texture`); with likelihood ratios,
``evidence.npz`` and ``lr_calibration.json`` (:mod:`hwutils.writer_id.lr`).
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from hwutils import artifacts
from hwutils.errors import ArtifactError, DataError, HwError, OutdatedArtifactError
from hwutils.images import as_gray, gray_with_ink
from hwutils.writer_id import scan
from hwutils.writer_id.data import prepare_line, to_ink
from hwutils.writer_id.enrol import Gallery

MODEL_FILE, CONFIG_FILE, GALLERY_FILE, TEXTURE_FILE = (
    "model.keras",
    "writer_id.json",
    "gallery.npz",
    "texture.npz",
)
CONFIG_KEYS = ("writers", "height", "window", "stride", "threshold")


@dataclass
class Identification:
    """``ranking``: classifier writers with mean scores (softmax, fused with the
    texture classifier's when the run has one), best first;
    ``similarity``: cosine similarity to the nearest gallery centroid;
    ``known``: similarity >= the run's calibrated threshold;
    ``gallery_ranking``: gallery writers (known and enrolled) by similarity;
    ``n_lines``/``n_windows``: how much writing was scored;
    ``log10_lr``: for each writer with a reference (known and enrolled), the
    log10 likelihood ratio of "this writer wrote it" against "another writer
    did", calibrated for ``lr_unit`` ("line" for one line, "page:n" for a
    page of n lines where the run calibrated pages of that size, "page" for
    the calibration writers' page size or longer), largest first; None for a
    run saved without LR calibration; ``outside_conditions``: where the writing
    lies outside the image conditions the run was developed under
    (:mod:`hwutils.writer_id.conditions`; empty inside them or for runs that
    did not record them)."""

    ranking: list
    similarity: float
    known: bool
    gallery_ranking: list
    n_lines: int
    n_windows: int
    log10_lr: list | None = None
    lr_unit: str | None = None
    outside_conditions: list = field(default_factory=list)

    def lr_of(self, writer: str) -> float | None:
        """The log10 LR for ``writer`` (None without calibration or reference)."""
        return dict(self.log10_lr or []).get(str(writer))

    def to_dict(self, top: int | None = None) -> dict:
        """Plain JSON-ready form; ``top`` limits the rankings."""
        lrs = dict(self.log10_lr or [])
        return {
            "ranking": [{"writer": w, "score": s, "log10_lr": lrs.get(w)} for w, s in self.ranking[:top]],
            "known": bool(self.known),
            "similarity": self.similarity,
            "gallery_ranking": [{"writer": w, "similarity": s} for w, s in self.gallery_ranking[:top]],
            "log10_lr": None
            if self.log10_lr is None
            else [{"writer": w, "log10_lr": v} for w, v in self.log10_lr[:top]],
            "lr_unit": self.lr_unit,
            "n_lines": self.n_lines,
            "n_windows": self.n_windows,
            "outside_conditions": list(self.outside_conditions),
        }


def save_for_identification(
    folder,
    model,
    writers,
    height: int,
    window: int,
    stride: int,
    threshold: float,
    gallery: Gallery,
    model_name: str = "",
    texture_model=None,
    texture_weight: float = 0.0,
) -> Path:
    """Write the files :meth:`WriterIdentifier.load` reads into ``folder`` (a run's ``artifacts/``);
    ``texture_model`` (a :class:`~hwutils.writer_id.texture.TextureClassifier`) is fused
    with the CNN's scores with ``texture_weight``."""
    from hwutils import report, training

    folder = Path(folder)
    training.save_model(model, folder / MODEL_FILE)
    gallery.save(folder / GALLERY_FILE)
    if texture_model is not None:
        texture_model.save(folder / TEXTURE_FILE)
    report.write_json_atomic(
        folder / CONFIG_FILE,
        {
            "writers": list(map(str, writers)),
            "height": int(height),
            "window": int(window),
            "stride": int(stride),
            "threshold": float(threshold),
            "model": model_name,
            "texture_weight": float(texture_weight) if texture_model is not None else 0.0,
        },
    )
    return folder


class WriterIdentifier:
    """A trained model with its writers, gallery and threshold."""

    def __init__(
        self, model, config: dict, gallery: Gallery, texture_model=None, lr_model=None, conditions=None
    ):
        from hwutils.writer_id.models import with_embedding

        self.lr_model = lr_model
        self.conditions = conditions  # the development lines' image conditions (None: not checked)
        self.model = model
        self.two_heads = with_embedding(model)
        self.config = config
        self.writers = config["writers"]
        self.gallery = gallery
        self.texture = texture_model

    @classmethod
    def load(cls, run_dir) -> WriterIdentifier:
        """Load from a run folder (``outputs/writer_id/<RUN_ID>``) or its ``artifacts/`` folder."""
        from hwutils import training
        from hwutils.runfolder import artifacts_folder

        run_dir = Path(run_dir)
        art = artifacts_folder(run_dir, CONFIG_FILE, "writer_id")
        cfg_path = art / CONFIG_FILE
        config = artifacts.load_json(cfg_path, required=CONFIG_KEYS)
        if not isinstance(config["writers"], list) or not config["writers"]:
            raise ArtifactError(f"{cfg_path}: 'writers' must be a non-empty list of writer names")
        from hwutils.writer_id.lr import LRModel
        from hwutils.writer_id.texture import TextureClassifier

        tex = TextureClassifier.load(art / TEXTURE_FILE) if (art / TEXTURE_FILE).exists() else None
        model = training.load_model(art / MODEL_FILE)
        try:
            lr_model = LRModel.load(art)
        except OutdatedArtifactError as exc:  # identification still works; no likelihood ratios
            warnings.warn(f"{exc}; identifying without likelihood ratios", stacklevel=2)
            lr_model = None
        from hwutils.writer_id import conditions

        return cls(model, config, Gallery.load(art / GALLERY_FILE), tex, lr_model, conditions.find(art))

    def _score(self, images) -> Identification:
        lines = to_ink([prepare_line(im, self.config["height"]) for im in images])
        probs, emb, (_, _), owner = scan.scan_lines(
            self.two_heads, lines, self.config["window"], self.config["stride"] or None
        )
        from hwutils.writer_id.lr import line_texture

        hists = {}  # contour-hinge histograms, computed once for the texture classifier and the LRs

        def texture_of(leg: int, bins: int):
            if (leg, bins) not in hists:
                hists[leg, bins] = line_texture(images, leg, bins)
            return hists[leg, bins]

        if self.texture is not None:
            from hwutils.writer_id.texture import fuse

            tex_probs = self.texture.predict_proba(texture_of(self.texture.leg, self.texture.bins))
            probs = fuse(probs, tex_probs, self.config.get("texture_weight", 0.0))
        p = probs.mean(axis=0)
        e = emb.mean(axis=0, keepdims=True)
        order = np.argsort(-p)
        g_order, g_sims = self.gallery.rank(e)
        sim = float(g_sims[0, 0])
        lrs, unit = None, None
        if self.lr_model is not None:
            unit = self.lr_model.unit_for(len(images))  # line, page:n (calibrated at this size) or page
            refs = self.lr_model.refs
            v = self.lr_model.log10_lr_of(emb, texture_of(refs.leg, refs.bins), unit)
            lrs = sorted(((n, float(x)) for n, x in zip(refs.names, v)), key=lambda t: -t[1])
        outside = []
        if self.conditions is not None:
            from hwutils.writer_id import conditions

            outside = conditions.outside(self.conditions, conditions.measure_many(images))
        return Identification(
            outside_conditions=outside,
            ranking=[(self.writers[i], float(p[i])) for i in order],
            similarity=sim,
            known=sim >= self.config["threshold"],
            gallery_ranking=[(self.gallery.names[i], float(s)) for i, s in zip(g_order[0], g_sims[0])],
            n_lines=len(lines),
            n_windows=len(owner),
            log10_lr=lrs,
            lr_unit=unit,
        )

    def identify_line(self, image) -> Identification:
        """Score one line image (path, array or PIL image; paper white). A blank
        or near-blank image (:func:`hwutils.images.has_ink`) is an
        :class:`~hwutils.errors.ImageError` naming it: no writer can be named."""
        return self.identify_lines([image])

    def identify_lines(self, images) -> Identification:
        """Score several lines of one writer together (their scores are averaged);
        every line must hold writing (as :meth:`identify_line`)."""
        images = list(images)
        if not images:
            raise DataError("identify_lines: no line images given")
        grays = [gray_with_ink(im) for im in images]
        return self._score(grays)

    def identify_page(self, image) -> Identification:
        """Cut a whole page into lines (projection profile) and score them together."""
        from hwutils.datasets.pages import segment_lines

        lines = segment_lines(as_gray(image))
        if not lines:
            name = image if isinstance(image, (str, Path)) else "page image"
            raise DataError(f"{name}: no text lines detected on this page")
        return self._score([lb.image for lb in lines])

    def line_embeddings(self, images) -> np.ndarray:
        """One embedding per line image (mean over its windows)."""
        lines = to_ink([prepare_line(im, self.config["height"]) for im in images])
        _, emb, _, _ = scan.scan_lines(
            self.two_heads, lines, self.config["window"], self.config["stride"] or None
        )
        return emb

    def enrol(self, name: str, images) -> Gallery:
        """Add writer ``name`` from a few of their line images (no retraining).
        With LR calibration the writer also gets a reference, so identifications
        give their LR. Save with ``self.gallery.save(path)`` to keep it."""
        images = [gray_with_ink(im) for im in images]
        emb = self.line_embeddings(images)
        self.gallery = self.gallery.enrol(name, emb)
        if self.lr_model is not None:  # the new writer gets a reference for likelihood ratios too
            from hwutils.writer_id.lr import Lines, line_texture

            refs = self.lr_model.refs
            tex = line_texture(images, refs.leg, refs.bins)
            refs.add(Lines(emb, tex, [name] * len(images), ["enrolment"] * len(images)))
        return self.gallery


__all__ = ["WriterIdentifier", "Identification", "save_for_identification", "HwError"]
