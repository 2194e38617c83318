"""Another collection, built from ours: the same signatures re-rendered as
another scanner, pen and paper would give them.

A verifier trained on one collection meets another one's images in use: a
different resolution, a different pen's stroke width, a bilevel or
low-contrast scan on greyer paper. :func:`recollect` re-renders a scan that
way (resampled, strokes widened by grey-level morphology, ink and paper
mapped to other grey levels, or binarised as a bilevel scanner would), so a run can measure on its own test
persons, references and questioned signatures alike re-rendered, how far its
scores and its operating point transfer (the ``shifted_*`` metrics). It is
fixed (no randomness): one other "collection", the same in every run.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass

import numpy as np
from scipy import ndimage

from hwutils import images


@dataclass(frozen=True)
class Collection:
    """How the other collection renders a scan: ``scale`` (resampling factor
    of the scanner's resolution), ``stroke`` (pixels the ink grows by, grey
    erosion of the paper-white image: a broader pen; negative thins it),
    ``binarize`` (a bilevel scan: Otsu ink/paper), ``ink`` and ``paper`` (the
    grey levels of ink and paper afterwards: contrast and paper tone)."""

    scale: float = 0.7
    stroke: int = 1
    binarize: bool = False
    ink: int = 70
    paper: int = 225

    def describe(self) -> str:
        return (
            f"resampled x{self.scale:g}, strokes {'widened' if self.stroke >= 0 else 'thinned'} by"
            f" {abs(self.stroke)} px, {'bilevel' if self.binarize else 'grey'} scan, ink grey {self.ink} on"
            f" paper {self.paper}"
        )

    def to_dict(self) -> dict:
        return asdict(self)


OTHER = Collection()


def recollect(image, collection: Collection = OTHER) -> np.ndarray:
    """One scan (path, PIL image or array, paper white) re-rendered as
    ``collection`` would give it: uint8, paper white."""
    out = images.scale_by(images.as_gray(image), collection.scale)
    if collection.stroke:
        k = 2 * abs(collection.stroke) + 1
        grow = ndimage.grey_erosion if collection.stroke > 0 else ndimage.grey_dilation
        out = grow(out, size=(k, k))
    if collection.binarize:
        ink = images.binarize(out)
        return np.where(ink, collection.ink, collection.paper).astype(np.uint8)
    # grey scan: ink depth kept but compressed between the new ink and paper levels
    depth = (255.0 - out.astype(np.float32)) / 255.0
    return np.round(collection.paper - depth * (collection.paper - collection.ink)).astype(np.uint8)
