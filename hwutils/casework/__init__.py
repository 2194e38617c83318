"""Casework: who of the persons of interest wrote a questioned document, as
likelihood ratios.

A *case* is two folders of page images (or line images):

- ``known_dir``: the known documents of the persons of interest. The person
  is read from each file name by ``name_pattern`` (a regular expression with a
  ``(?P<writer>...)`` group), or, when the folder holds one sub-folder per
  person, from the sub-folder's name.
- ``questioned_dir``: the questioned documents. When a file name matches
  ``name_pattern`` its writer is taken as the ground truth (a test case) and
  the case is scored; otherwise the truth is unknown and nothing is scored.

Every document is cut into lines (:func:`hwutils.datasets.pages.segment_lines`)
and brought to the scale the writer-identification run was trained on
(:func:`scale_factor`). Each line gives the run's two kinds of evidence: the
CNN's embedding (:meth:`hwutils.writer_id.WriterIdentifier.line_embeddings`)
and the texture histograms (:func:`hwutils.writer_id.evidence_features`:
contour hinge and direction with the run's leg and bins, and ink run lengths).
A document's evidence is the mean over its lines: the unit-length mean
embedding and the mean histograms. Persons of interest are *enrolled* from
their known documents the same way (no retraining).

A questioned document and a person are compared by two similarities (texture:
minus the chi-square distance of the histograms,
:func:`hwutils.writer_id.texture_similarity`; CNN: cosine); a logistic regression fitted on calibration trials weighs them
into one score, and :class:`hwutils.calibration.LRCalibrator` maps the score
to log10 LR for H1 (the person wrote it) against H2 (someone else wrote it).
Calibration trials are never built from the questioned documents: they come
from the known documents themselves (each person's lines split into two
pseudo documents, repeatedly) together with writers of the run's own data,
leaving out the case's writers and files. (Trials from the writer_id run's
validation lines were tried and dropped: those writers were seen in training,
and the smoke case's stranger was named, the default case's reached log10 LR
+0.17.)

The answer for a questioned document: the person with the largest LR when
that log10 LR exceeds ``min_log10_lr`` (0: LR > 1, the evidence favours H1),
else "none of them" (the writing supports H2 against every person). The
posterior probabilities assume equal priors over the persons of interest
(a closed set): ``p_i = LR_i / sum_j LR_j``.

The stage in modules: :mod:`~hwutils.casework.documents` (the case's files,
reading, scaling), :mod:`~hwutils.casework.case` (calibration trials,
enrolment, verdicts, figures of a test case), :mod:`~hwutils.casework.synthetic`
(the embedded case), :mod:`~hwutils.casework.tables` and
:mod:`~hwutils.casework.summary` (what the report shows). It uses the
writer_id stage only through :mod:`hwutils.writer_id`'s public API.
"""

from __future__ import annotations

from hwutils.casework.case import (
    NONE_OF_THEM,
    Case,
    CaseOutcome,
    Verdict,
    calibration_trials,
    case_metrics,
    case_trials,
    collection_caveat,
    fit_scorer,
    run_case,
)
from hwutils.casework.conditions import (
    calibration_doc_lines,
    caveats,
    check_validation_run,
    hypotheses_sentence,
    resolve_validation_run,
    validated_conditions,
)
from hwutils.casework.documents import (
    AUTO_MIN_RATIO,
    PARTS,
    SCALE_STEPS,
    Document,
    background_lines,
    check_case,
    check_case_folder,
    check_name_pattern,
    check_writer_run,
    common_dpi,
    document_stroke_width,
    list_documents,
    load_document,
    load_documents,
    reference_stroke_width,
    rescale,
    resolve_writer_run,
    scale_factor,
    stroke_width,
)
from hwutils.casework.synthetic import (
    compose_page,
    font_family,
    page_name,
    train_writer_run,
    write_synthetic_case,
)
from hwutils.casework.tables import document_figure, documents_table, summary_table, verdict_table
from hwutils.errors import ParamsError
from hwutils.writer_id import (
    CaseScorer,
    Evidence,
    EvidenceSpace,
    pseudo_documents,
    similarities,
    trial_scores,
)

__all__ = [
    "calibration_doc_lines",
    "caveats",
    "check_validation_run",
    "hypotheses_sentence",
    "resolve_validation_run",
    "validated_conditions",
    "AUTO_MIN_RATIO",
    "Case",
    "CaseOutcome",
    "CaseScorer",
    "Document",
    "Evidence",
    "EvidenceSpace",
    "NONE_OF_THEM",
    "PARTS",
    "ParamsError",
    "SCALE_STEPS",
    "Verdict",
    "background_lines",
    "calibration_trials",
    "case_metrics",
    "case_trials",
    "check_case",
    "check_case_folder",
    "check_name_pattern",
    "check_writer_run",
    "collection_caveat",
    "common_dpi",
    "compose_page",
    "document_figure",
    "document_stroke_width",
    "documents_table",
    "fit_scorer",
    "font_family",
    "list_documents",
    "load_document",
    "load_documents",
    "page_name",
    "pseudo_documents",
    "reference_stroke_width",
    "rescale",
    "resolve_writer_run",
    "run_case",
    "scale_factor",
    "similarities",
    "stroke_width",
    "summary_table",
    "train_writer_run",
    "trial_scores",
    "verdict_table",
    "write_synthetic_case",
]
