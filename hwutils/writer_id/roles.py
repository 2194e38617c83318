"""Which writers a writer_id run used for what: ``train`` (the CNN and texture
classifier learnt them), ``calibration`` (held out of training, used only to
fit the likelihood-ratio calibration) and ``heldout`` (never used: new-writer
detection, enrolment, validation). Saved as ``artifacts/writers.json``."""

from __future__ import annotations

from pathlib import Path

ROLES = ("train", "calibration", "heldout")
WRITERS_FILE = "writers.json"


def save_roles(folder, train, calibration=(), heldout=()) -> Path:
    """Write the run's writer roles into its artifacts folder (atomically)."""
    from hwutils.fileio import write_json_atomic

    roles = {"train": train, "calibration": calibration, "heldout": heldout}
    return write_json_atomic(Path(folder) / WRITERS_FILE, {k: sorted(map(str, v)) for k, v in roles.items()})


def run_writers(run_dir) -> dict:
    """``{"train": [...], "calibration": [...], "heldout": [...]}`` of a finished
    writer_id run (its folder or its ``artifacts/`` folder). A run made before
    roles were saved gives its training writers (``writer_id.json``) and empty
    calibration and held-out lists."""
    from hwutils import artifacts
    from hwutils.errors import ArtifactError
    from hwutils.runfolder import artifacts_folder

    art = artifacts_folder(Path(run_dir), "writer_id.json", "writer_id")
    path = art / WRITERS_FILE
    if not path.is_file():
        cfg = artifacts.load_json(art / "writer_id.json", required=("writers",))
        return {"train": sorted(map(str, cfg["writers"])), "calibration": [], "heldout": []}
    data = artifacts.load_json(path, required=ROLES)
    if not all(isinstance(data[k], list) for k in ROLES):
        raise ArtifactError(f"{path}: each of {', '.join(ROLES)} must be a list of writer names")
    return {k: [str(w) for w in data[k]] for k in ROLES}


def check_params(params: dict) -> None:
    """Writers held out of a synthetic run's training (``unknown_writers``
    then ``calibration_writers``) must leave at least 2 of its
    ``synth_writers`` to train on: a :class:`~hwutils.errors.ParamsError`
    naming the parameter otherwise, before any work. With ``data_dir`` the
    writers are counted once the data is read (the notebook says it then)."""
    from hwutils.errors import ParamsError

    if params.get("data_dir"):
        return
    n, unknown, calib = (
        int(params.get(k, 0)) for k in ("synth_writers", "unknown_writers", "calibration_writers")
    )
    if unknown > 0 and unknown >= n - 1:
        raise ParamsError(
            f"unknown_writers: {unknown} held out leaves fewer than 2 of the {n} synthetic writers (synth_writers) "
            "to train on"
        )
    if calib > 0 and unknown + calib >= n - 1:
        raise ParamsError(
            f"calibration_writers: {calib} held out, with {unknown} unknown_writers, leaves fewer than 2 of the "
            f"{n} synthetic writers (synth_writers) to train on"
        )
