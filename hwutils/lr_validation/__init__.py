"""Validation of a likelihood-ratio method, the way forensic LR methods are
validated (ENFSI guideline 2015; Meuwly, Ramos and Haraksim 2017).

Given a finished ``writer_id`` run (the method validated is the casework
method an examiner uses: :func:`hwutils.casework.run_case`) or a finished
``signatures`` run (its verifier's calibrated LRs), and validation data of
known truth that the run never trained or calibrated on, the stage produces
the *validation matrix*: for each performance characteristic (accuracy,
discriminating power, calibration, rates of misleading evidence) its metric,
the validation criterion, the result with a bootstrap confidence interval over
the writers (persons), and pass or fail; then the same figures per condition
(robustness: amount of known and questioned writing, resolution, prompt or
session; number of references for signatures), a coherence check (more
writing must not give a worse Cllr) and, when another collection is given,
generalisation.

Modules: :mod:`~hwutils.lr_validation.matrix` (criteria, figures, bootstrap,
pass/fail), :mod:`~hwutils.lr_validation.conditions` (known and questioned
halves of each page, truncation, resampling, subsets by file name),
:mod:`~hwutils.lr_validation.sources` (trials from a writer_id or signatures
run; which writers the run used), :mod:`~hwutils.lr_validation.validate`
(each condition scored and measured), :mod:`~hwutils.lr_validation.summary`
(what the report shows). Other stages are used only through their public
APIs: :mod:`hwutils.casework`, :mod:`hwutils.writer_id` and
:func:`hwutils.signatures.verify.load_verifier`.
"""

from __future__ import annotations

from pathlib import Path

from hwutils.errors import HwError, ParamsError
from hwutils.lr_validation.conditions import (
    BASELINE,
    Condition,
    case_documents,
    load_pages,
    plan,
    split_page,
    subsets,
)
from hwutils.lr_validation.matrix import (
    METRICS,
    Criterion,
    bootstrap,
    coherence,
    default_criteria,
    passed,
    results,
    trial_metrics,
    validation_matrix,
    verdicts,
)
from hwutils.lr_validation.sources import (
    Trials,
    exclusion_sentence,
    run_data_dir,
    run_sets,
    same_folder,
    signature_protocol,
    signature_trials,
    trials_from_verdicts,
    validation_listing,
)
from hwutils.lr_validation.validate import (
    Measured,
    all_metrics,
    check_max_writers,
    coherence_rows,
    criteria_record,
    measure,
    one_page_per_writer,
    signature_conditions,
    writer_conditions,
)

__all__ = [
    "BASELINE",
    "METRICS",
    "Condition",
    "Criterion",
    "Measured",
    "Trials",
    "all_metrics",
    "bootstrap",
    "case_documents",
    "check_max_writers",
    "check_signatures_run",
    "check_train_params",
    "coherence",
    "coherence_rows",
    "criteria_record",
    "default_criteria",
    "exclusion_sentence",
    "load_pages",
    "measure",
    "one_page_per_writer",
    "passed",
    "plan",
    "resolve_signatures_run",
    "results",
    "run_data_dir",
    "run_sets",
    "same_folder",
    "signature_conditions",
    "signature_protocol",
    "signature_trials",
    "split_page",
    "subsets",
    "train_params_file",
    "trial_metrics",
    "trials_from_verdicts",
    "validation_listing",
    "validation_matrix",
    "verdicts",
    "writer_conditions",
]


# --- parameter checks (hw runs them before any kernel starts) ----------------------------------


def resolve_signatures_run(value: str | Path, outputs: Path | None = None) -> Path:
    """The folder of a finished ``signatures`` run (its folder or id under
    ``<outputs>/signatures/``) whose verifier has an LR calibration;
    :class:`ParamsError` saying why not otherwise."""
    from hwutils.runs.index import find_run
    from hwutils.runs.project import outputs_root

    try:
        info = find_run(outputs or outputs_root(), str(value))
    except HwError as exc:
        raise ParamsError(str(exc)) from None
    path = Path(info["_dir"])
    if info.get("stage") != "signatures":
        raise ParamsError(f"{value}: a {info.get('stage')} run, not a signatures run")
    status = (info.get("_state") or {}).get("status", info.get("status"))
    if status != "ok":
        raise ParamsError(f"{value}: signatures run is {status}, not a finished (ok) run")
    for name in ("verifier/verifier.json", "lr_calibration.json", "split.json"):
        if not (path / "artifacts" / name).is_file():
            raise ParamsError(f"{path}: signatures run without artifacts/{name}")
    from hwutils.custody import require_intact

    try:  # the run's recorded artifact hashes
        require_intact(path)
    except HwError as exc:
        raise ParamsError(str(exc)) from None
    return path


def check_signatures_run(value: str) -> None:
    """``value`` is empty (validate a writer_id run) or a finished signatures run."""
    if value:
        resolve_signatures_run(value)


def train_params_file(value: str) -> Path:
    """The ``params/writer_id`` file ``value`` names (a name or a path)."""
    from hwutils.runs.project import get_stage, resolve_params_file

    return resolve_params_file(get_stage("writer_id"), value)


def check_train_params(value: str) -> None:
    """``value`` names a writer_id params file (``params/writer_id/<value>.yaml`` or a path)."""
    train_params_file(value)
