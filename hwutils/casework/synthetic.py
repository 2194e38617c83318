"""The embedded synthetic case (pages of synthetic writers in CSAFE naming)
and the small writer_id run trained for it when no run is given."""

from __future__ import annotations

import re
from pathlib import Path

import numpy as np

from hwutils.casework.documents import resolve_writer_run
from hwutils.errors import HwError, ParamsError

# --- the embedded synthetic case and the small writer run --------------------------------------


def compose_page(lines, gap: float = 0.5, margin: int = 40, paper: int = 250) -> np.ndarray:
    """Line images stacked on one page (left aligned, ``gap`` x the line
    height between them), paper ``paper`` gray."""
    width = max(l.shape[1] for l in lines) + 2 * margin
    heights = [l.shape[0] for l in lines]
    step = [int(h * (1 + gap)) for h in heights]
    page = np.full((sum(step) + 2 * margin, width), paper, np.uint8)
    y = margin
    for line, s in zip(lines, step):
        region = page[y : y + line.shape[0], margin : margin + line.shape[1]]
        np.minimum(region, line, out=region)
        y += s
    return page


def page_name(writer: int, session: int, rep: int = 1) -> str:
    """A CSAFE-style file name (``w0001_s01_pSYN_r01.png``) for the synthetic case."""
    return f"w{writer:04d}_s{session:02d}_pSYN_r{rep:02d}.png"


def font_family(path) -> str:
    """A font file's family: its name without weight and style (``DejaVuSans-BoldOblique`` ->
    ``DejaVuSans``, ``STIXGeneralBolIta`` -> ``STIXGeneral``, ``cmb10`` -> ``cmr10``)."""
    stem = Path(path).stem.split("-")[0]
    stem = re.sub(r"(Bol|Ita|Italic|Bold|Oblique)+$", "", stem)
    return {"cmb10": "cmr10"}.get(stem, stem)


def write_synthetic_case(
    root,
    persons: int = 4,
    questioned: int = 3,
    strangers: int = 1,
    known_forms: int = 2,
    lines_per_form: int = 4,
    chars_per_line: int = 32,
    seed: int = 1,
) -> tuple[Path, Path]:
    """A case of synthetic writers (:mod:`hwutils.synth.handwriting`) as pages
    in CSAFE naming: ``root/known/`` holds ``known_forms`` pages of each of
    ``persons`` writers, ``root/questioned/`` another page of the first
    ``questioned`` of them and one of each of ``strangers`` writers who are not
    among the known. Writers are numbered from 101 (``seed`` draws their styles,
    so use another seed than the writer run's training writers). Each writer
    writes in another font family (:func:`font_family`; they repeat only past
    the eight families): two synthetic writers of one family differ in little
    more than slant and size, twins no real case is made of. Returns
    ``(known_dir, questioned_dir)``."""
    from hwutils.images import save_gray
    from hwutils.synth.glyphs import font_paths
    from hwutils.synth.handwriting import random_style, random_text, render_line

    if not 1 <= questioned <= persons:
        raise ParamsError(f"synth_questioned: must be from 1 to synth_persons ({persons}), got {questioned}")
    root = Path(root)
    rng = np.random.default_rng(seed)
    families: dict = {}
    for f in font_paths():
        families.setdefault(font_family(f), []).append(f)
    names = [sorted(families)[i] for i in rng.permutation(len(families))]
    styles = [random_style(rng, families[names[i % len(names)]]) for i in range(persons + strangers)]
    known_dir, q_dir = root / "known", root / "questioned"

    def page(style):
        return compose_page(
            [render_line(random_text(rng, chars_per_line), style, rng) for _ in range(lines_per_form)]
        )

    for i in range(persons):
        for s in range(known_forms):
            save_gray(page(styles[i]), known_dir / page_name(101 + i, s + 1))
    for i in list(range(questioned)) + list(range(persons, persons + strangers)):
        save_gray(page(styles[i]), q_dir / page_name(101 + i, known_forms + 1))
    return known_dir, q_dir


def train_writer_run(folder, params_file: str = "default", seed: int = 0, timeout: float = 900) -> Path:
    """Train a writer_id run on its synthetic demo data (``params/writer_id/<params_file>.yaml``)
    with ``hw run`` in a child process writing into ``folder`` (its own outputs
    folder, e.g. inside this run's artifacts); returns the finished run's folder."""
    import os
    import subprocess
    import sys

    folder = Path(folder)
    env = dict(os.environ, HW_OUTPUTS=str(folder))
    for key in ("HW_RUN_DIR", "HW_STAGE", "HW_RUN_ID"):
        env.pop(key, None)
    cmd = [sys.executable, "-m", "hwutils", "run", "writer_id", "-f", params_file, "-p", "seed", str(seed)]
    cmd += ["--label", "casework: writer run trained for this case"]
    proc = subprocess.run(cmd, env=env, capture_output=True, text=True, timeout=timeout)
    runs = (
        sorted(p for p in (folder / "writer_id").glob("*") if p.is_dir())
        if (folder / "writer_id").is_dir()
        else []
    )
    if proc.returncode != 0 or not runs:
        tail = (proc.stderr or proc.stdout).strip().splitlines()[-1:] or ["no output"]
        raise HwError(f"training the writer_id run for this case failed (exit {proc.returncode}): {tail[0]}")
    return resolve_writer_run(runs[-1])
