"""Whether each questioned document lies inside the conditions the case's
method was calibrated and validated under (amount of writing, resolution),
said as caveats for the report's summary; and where the case's documents come
from (file, size, sha256) for the chain of custody."""

from __future__ import annotations

from pathlib import Path

from hwutils.casework.documents import Document
from hwutils.errors import ParamsError


def calibration_doc_lines(known: list[Document]) -> int:
    """Lines per pseudo-document of the calibration trials: the median known document's."""
    import numpy as np

    return max(1, int(np.median([len(d.lines) for d in known])))


def check_validation_run(value: str) -> None:
    """``value`` is empty or names a finished ``lr_validation`` run (its id or folder)."""
    if value:
        resolve_validation_run(value)


def resolve_validation_run(value, outputs: Path | None = None) -> Path:
    """The folder of a finished ``lr_validation`` run (id or folder); :class:`ParamsError` naming it otherwise."""
    from hwutils import custody
    from hwutils.runs.manifest import load_run
    from hwutils.runs.project import outputs_root

    path = Path(value).expanduser()
    if not path.is_dir():
        path = (outputs or outputs_root()) / "lr_validation" / str(value)
        if not path.is_dir():
            raise ParamsError(f"validation_run: {value}: neither a run folder nor an lr_validation run id")
    manifest = load_run(path)
    if manifest is None or manifest.get("stage") != "lr_validation":
        raise ParamsError(f"validation_run: {path}: not an lr_validation run")
    if manifest["_state"]["status"] != "ok":
        raise ParamsError(f"validation_run: {path}: the run did not end ok")
    custody.require_intact(path)
    return path


def validated_conditions(validation_dir: Path | None) -> dict:
    """What a validation run covered, from its parameters: the fewest known and
    questioned lines and the lowest resolution it measured (absent keys: not measured)."""
    if validation_dir is None:
        return {}
    from hwutils.runs.manifest import load_run

    params = (load_run(Path(validation_dir)) or {}).get("params") or {}
    out = {}
    for key, name in (("known_lines", "min_known_lines"), ("questioned_lines", "min_questioned_lines")):
        values = [v for v in params.get(key) or [] if isinstance(v, int) and v > 0]
        if values:
            out[name] = min(values)
    dpis = [v for v in params.get("dpis") or [] if isinstance(v, int) and v > 0]
    if dpis:
        out["min_dpi"] = min(dpis)
    return out


def caveats(
    questioned: list[Document],
    known: list[Document],
    train_dpi: int,
    validation: dict | None = None,
    validation_name: str | None = None,
    calibrated: dict | None = None,
) -> list[str]:
    """One sentence per questioned (or known) document outside the conditions
    the method was calibrated under or validated under (``validation``:
    :func:`validated_conditions`). ``calibrated``: the scorer's ``conditions``
    (questioned documents of ``questioned_lines`` lines in mirror trials, else
    pseudo-documents of the median known document's lines; at the writer run's
    resolution, or at the case's when the calibration writers were read at it:
    ``scale``)."""
    validation, calibrated = validation or {}, calibrated or {}
    calibrated_scale = float(calibrated.get("scale", 1.0))
    out = []
    doc_lines = int(calibrated.get("questioned_lines") or calibration_doc_lines(known))
    floor = validation.get("min_questioned_lines")
    for d in questioned:
        n = len(d.lines)
        if floor and n < floor:
            out.append(
                f"{d.name}: {n} line(s) of writing; the method was validated ({validation_name}) with questioned"
                f" documents of {floor} lines or more: its LR is not validated for so little writing"
            )
        elif not floor and n < doc_lines:
            out.append(
                f"{d.name}: {n} line(s) of writing; the LRs were calibrated on questioned documents of {doc_lines} lines:"
                " fewer lines carry less evidence than the calibration assumes"
            )
    calibrated_dpi = round(train_dpi / calibrated_scale)
    for d in list(known) + list(questioned):
        if abs(d.scale - 1.0) > 1e-6:
            dpi = round(train_dpi / d.scale)
            floor = validation.get("min_dpi")
            if floor and dpi >= floor:
                continue
            if abs(d.scale - calibrated_scale) < 1e-6:
                said = f"; validated down to {floor} dpi only" if floor else ", not validated at it"
                out.append(
                    f"{d.name}: resampled by {d.scale:g} from about {dpi} dpi to the run's {train_dpi} dpi;"
                    f" its LRs are calibrated at that resolution{said} (run lr_validation with dpis {dpi})"
                )
                continue
            said = f" (validated down to {floor} dpi)" if floor else ""
            out.append(
                f"{d.name}: resampled by {d.scale:g} from about {dpi} dpi to the run's {train_dpi} dpi;"
                f" the method was calibrated at {calibrated_dpi} dpi{said}: its LRs are outside that condition"
            )
    if validation_name is None:
        out.append(
            "No validation run is named (validation_run): the LRs are calibrated, but this method's"
            " rates of misleading evidence under these conditions are not stated (run lr_validation)"
        )
    return out


def hypotheses_sentence(persons: list) -> str:
    """H1 and H2 of the case in words."""
    return (
        "For each questioned document and each person of interest P, the likelihood ratio weighs two"
        " propositions: **H1**, P wrote the questioned document; **H2**, someone else wrote it, a writer"
        " unknown to the case drawn from a population like the calibration writers (not one of the"
        f" other persons of interest). Persons of interest: {', '.join(map(str, persons))}."
    )
