"""Writer identification (DeepWriter): data pipeline, models, window scanning,
contour-hinge texture features fused with the CNN, open-set detection,
enrolment and the public :mod:`identify` API.

The names below are the stage's public API, the only ones another stage
(casework, lr_validation) may use. They load lazily, so importing the package
does not import TensorFlow."""

from __future__ import annotations

import importlib

_PUBLIC = {
    "WriterIdentifier": "hwutils.writer_id.identify",
    "Identification": "hwutils.writer_id.identify",
    "Evidence": "hwutils.writer_id.evidence",
    "EvidenceSpace": "hwutils.writer_id.evidence",
    "CaseScorer": "hwutils.writer_id.evidence",
    "TexturePool": "hwutils.writer_id.evidence",
    "Cohort": "hwutils.writer_id.evidence",
    "similarities": "hwutils.writer_id.evidence",
    "pseudo_documents": "hwutils.writer_id.evidence",
    "trial_scores": "hwutils.writer_id.evidence",
    "reference_trials": "hwutils.writer_id.evidence",
    "line_features": "hwutils.writer_id.texture",
    "evidence_features": "hwutils.writer_id.texture_distance",
    "common_width": "hwutils.writer_id.texture_distance",
    "texture_similarity": "hwutils.writer_id.texture_distance",
    "run_writers": "hwutils.writer_id.roles",
    "load_calibration_lines": "hwutils.writer_id.lr",
    "load_texture_lines": "hwutils.writer_id.lr",
    "Lines": "hwutils.writer_id.lr",
}

__all__ = sorted(_PUBLIC)


def __getattr__(name: str):
    if name in _PUBLIC:
        return getattr(importlib.import_module(_PUBLIC[name]), name)
    raise AttributeError(f"module 'hwutils.writer_id' has no attribute {name!r}")
