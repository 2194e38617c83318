"""Where the stages, their params files and the outputs live.

A stage is a notebook ``notebooks/<stage>.ipynb`` with its params files in
``params/<stage>/``. The project root is ``$HW_PROJECT`` when set, else the
nearest folder above the current directory holding ``notebooks/`` and
``params/``, else the checkout this package was installed from. Outputs go
to ``$HW_OUTPUTS`` when set, else ``<root>/outputs``.
"""

from __future__ import annotations

import difflib
import os
from dataclasses import dataclass
from pathlib import Path

from hwutils.errors import ParamsError, StageError

STAGE_ORDER = ("writer_id", "signatures", "char_ocr", "single_image_vae")

# Checks of parameters taken together, run on the effective parameters before a run folder is made
# (one value's own range or choices are checked from the parameters cell's declarations): a
# combination that cannot work is a ParamsError (exit 2), not a failed run.
PARAMS_CHECKS = {"writer_id": "hwutils.writer_id.roles.check_params"}


def project_root() -> Path:
    env = os.environ.get("HW_PROJECT")
    if env:
        return Path(env).resolve()
    here = Path.cwd().resolve()
    for cand in (here, *here.parents):
        if (cand / "notebooks").is_dir() and (cand / "params").is_dir():
            return cand
    return Path(__file__).resolve().parents[2]


def outputs_root() -> Path:
    env = os.environ.get("HW_OUTPUTS")
    return Path(env).resolve() if env else project_root() / "outputs"


@dataclass(frozen=True)
class Stage:
    """A stage: its name, notebook and params folder."""

    name: str
    notebook: Path
    params_dir: Path

    def params_files(self) -> list[Path]:
        if not self.params_dir.is_dir():
            return []
        return sorted(p for p in self.params_dir.iterdir() if p.suffix in (".yaml", ".yml"))


def list_stages(root: Path | None = None) -> list[Stage]:
    """Every ``notebooks/*.ipynb``, the four product stages first in pipeline order."""
    root = root or project_root()
    names = [p.stem for p in sorted((root / "notebooks").glob("*.ipynb"))]
    names.sort(key=lambda n: (STAGE_ORDER.index(n) if n in STAGE_ORDER else len(STAGE_ORDER), n))
    return [Stage(n, root / "notebooks" / f"{n}.ipynb", root / "params" / n) for n in names]


def closest(name: str, choices) -> str | None:
    match = difflib.get_close_matches(name, list(choices), n=1, cutoff=0.5)
    return match[0] if match else None


def get_stage(name: str, root: Path | None = None) -> Stage:
    """The stage called ``name``; :class:`StageError` listing the known ones otherwise."""
    stages = {s.name: s for s in list_stages(root)}
    if name in stages:
        return stages[name]
    hint = closest(name, stages)
    known = ", ".join(stages) or "none (no notebooks/*.ipynb)"
    raise StageError(
        f"unknown stage '{name}'"
        + (f" (did you mean '{hint}'?)" if hint else "")
        + f"; known stages: {known}"
    )


def resolve_params_file(stage: Stage, item: str | os.PathLike) -> Path:
    """A params file given as a path, or as a name in ``params/<stage>/`` (suffix optional)."""
    item = Path(item)
    candidates = [
        item,
        project_root() / item,
        stage.params_dir / item,
        stage.params_dir / f"{item}.yaml",
        stage.params_dir / f"{item}.yml",
    ]
    for cand in candidates:
        if cand.is_file():
            return cand.resolve()
    raise ParamsError(f"params file not found: {item} (also looked in {stage.params_dir})")
