"""Apply a finished run to your own images: the library behind ``hw identify``,
``hw verify``, ``hw read``, ``hw screen`` and ``hw generate``.

Each command takes a run (its folder, a copy of it from another machine, its
``artifacts/`` folder, or a run id under ``HW_OUTPUTS``), checks every input
before any model is loaded (a run of another stage, a run that did not end
``ok``, a missing, unreadable or blank image: one :class:`~hwutils.errors.HwError`
naming it, which ``hw`` turns into one line and exit 2), then applies the
run's public API (:class:`~hwutils.writer_id.identify.WriterIdentifier`,
:func:`~hwutils.signatures.verify.load_verifier`,
:func:`~hwutils.ocr.read.load_reader`,
:class:`~hwutils.signatures.screening.Screener`,
:func:`~hwutils.vae.model.load_vae`). Results come back as an
:class:`Applied`: rows for a terminal table and the same as JSON.
"""

from __future__ import annotations

import math
import os
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from hwutils.errors import HwError, ParamsError

MAX_SAMPLES = 10000


@dataclass
class Applied:
    """What a command found: ``rows`` (dicts), the ``columns`` shown in the
    terminal (``{key: heading}``), ``notes`` printed under the table, and the
    run it came from."""

    command: str
    run: str
    stage: str
    rows: list[dict]
    columns: dict
    notes: list[str] = field(default_factory=list)

    def to_dict(self) -> dict:
        return {"command": self.command, "run": self.run, "stage": self.stage, "results": self.rows}

    def table(self) -> str:
        from hwutils.runs.index import text_table

        body, last = [], None
        for r in self.rows:  # an image named once for its rows
            cells = [_cell(r.get(k), k) for k in self.columns]
            if "image" in self.columns and r.get("image") == last:
                cells[list(self.columns).index("image")] = ""
            last = r.get("image")
            body.append(cells)
        text = text_table(body, list(self.columns.values()))
        return "\n".join([f"{self.command}: run {self.run} ({self.stage})", text, *self.notes])


def _cell(value, key: str = "") -> str:
    if value is None:
        return "-"
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, float):
        if key == "log10_lr":
            return f"{value:+.2f}"
        return f"{value:.3f}" if abs(value) < 1e4 else f"{value:.3g}"
    return str(value)


# --- the run and the inputs -------------------------------------------------------------------


def resolve_run(run, stage: str, outputs=None) -> Path:
    """The folder of ``run`` (a run folder, its ``artifacts/`` folder or a run
    id under ``outputs``), refused unless it is a ``stage`` run that ended ok."""
    from hwutils.runs.index import find_run, status_text
    from hwutils.runs.manifest import load_run

    path = Path(run)
    if path.is_dir() and path.name == "artifacts" and (path.parent / "manifest.json").is_file():
        path = path.parent
    if path.is_dir():
        info = load_run(path)
        if info is None:
            if (path / "artifacts").is_dir() or path.name == "artifacts":
                return path  # an artifacts folder on its own: the loader checks its files
            raise HwError(f"{run}: not a run folder (no manifest.json and no artifacts/)")
    else:
        if os.sep in str(run) or str(run).startswith("."):
            raise HwError(f"{run}: no such run folder")
        from hwutils.runs import project

        info = find_run(Path(outputs) if outputs else project.outputs_root(), str(run))
        path = Path(info["_dir"])
    if info.get("stage") != stage:
        raise HwError(f"{run}: a {info.get('stage') or 'unknown'} run, not a {stage} run")
    if (info.get("_state") or {}).get("status", info.get("status")) != "ok":
        raise HwError(f"{run}: the run did not end ok ({status_text(info)}); its models may be incomplete")
    from hwutils import custody

    custody.require_intact(path)
    return path


def load_images(paths, what: str = "image") -> list[tuple[str, np.ndarray]]:
    """``(name, gray)`` of each path, every one read and checked for ink before any work."""
    from hwutils.images import gray_with_ink

    if not paths:
        raise ParamsError(f"give at least one {what}")
    out = []
    for p in paths:
        if not Path(p).exists():
            raise HwError(f"{p}: no such file")
        if Path(p).is_dir():
            raise HwError(f"{p}: a folder, not an image file")
        out.append((str(p), gray_with_ink(str(p))))
    return out


def _lr_fields(log10_lr, h1: str, h2: str, withheld: str | None = None) -> dict:
    from hwutils.calibration import verbal_scale

    if log10_lr is None:
        why = (
            "no LR: too few references for this run's calibration"
            if withheld
            else "no LR calibration in this run"
        )
        return {"log10_lr": None, "lr": None, "support": why}
    v = float(log10_lr)
    if not math.isfinite(v):
        return {"log10_lr": None, "lr": None, "support": verbal_scale(v)}
    return {"log10_lr": v, "lr": float(10**v), "support": verbal_scale(v, h1, h2)}


# --- the commands -----------------------------------------------------------------------------


def _ranked(res) -> list:
    """``(writer, classifier score or None)`` in the order a table shows them:
    by log10 LR, largest first, when the run states LRs (the calibrated evidence,
    and the only ranking that includes enrolled writers, whom the classifier
    does not know; ties by the classifier's score), else by the classifier's score."""
    scores = dict(res.ranking)
    if not res.log10_lr:
        return list(res.ranking)
    order = sorted(res.log10_lr, key=lambda t: (-t[1], -scores.get(t[0], -1.0)))
    return [(w, scores.get(w)) for w, _ in order]


def lr_summary(log10_lrs) -> str | None:
    """What the LRs of one document say across every writer with a reference
    (``[(writer, log10 LR)]``), beside the classifier's "looks like a known
    writer": none supported, one, or several (which the evidence does not
    single out when the first two lie within a factor of 10). None without LRs."""
    if not log10_lrs:
        return None
    ranked = sorted(log10_lrs, key=lambda t: -t[1])
    supported = [(w, v) for w, v in ranked if v > 0]
    if not supported:
        w, v = ranked[0]
        return f"by the LRs no writer with a reference is supported (largest log10 LR {v:+.2f}, writer {w})"
    listed = ", ".join(f"{w} ({v:+.2f})" for w, v in supported[:5])
    more = f" and {len(supported) - 5} more" if len(supported) > 5 else ""
    if len(supported) == 1:
        return f"by the LRs only writer {listed} is supported"
    tie = "; the evidence does not single one out" if supported[0][1] - supported[1][1] < 1 else ""
    return f"by the LRs {len(supported)} writers are supported: {listed}{more}{tie}"


def identify(run, images, lines: bool = False, top: int = 3, outputs=None) -> Applied:
    """The writer of each page image (``lines``: of each line image): the top
    ``top`` writers, by log10 LR of "this writer wrote it" against "another
    writer did" where the run states LRs (enrolled writers included), else by
    the classifier's score, with both; whether it looks like a known writer at all."""
    from hwutils.datasets.pages import segment_lines
    from hwutils.writer_id.identify import WriterIdentifier
    from hwutils.writer_id.lr import short_document_note, unit_label

    if top < 1:
        raise ParamsError(f"--top must be at least 1, got {top}")
    folder = resolve_run(run, "writer_id", outputs)
    grays = load_images(images)
    units = []
    for name, g in grays:
        if lines:
            units.append((name, [g]))
            continue
        found = [lb.image for lb in segment_lines(g)]
        if not found:
            raise HwError(f"{name}: no text lines detected on this page")
        units.append((name, found))
    wid = WriterIdentifier.load(folder)
    rows, notes = [], []
    for name, found in units:
        res = wid.identify_lines(found)
        for rank, (writer, score) in enumerate(_ranked(res)[:top], 1):
            lr = res.lr_of(writer)
            rows.append(
                {
                    "image": name,
                    "rank": rank,
                    "writer": writer,
                    "score": score,
                    **_lr_fields(lr, f"writer {writer}", "another writer"),
                    "known_writer": res.known,
                    "similarity": res.similarity,
                    "threshold": float(wid.config["threshold"]),
                    "lines": res.n_lines,
                    "lr_unit": res.lr_unit,
                    "outside_conditions": list(res.outside_conditions),
                }
            )
        verdict = "looks like a known writer" if res.known else "looks like NONE of the known writers"
        said = lr_summary(res.log10_lr)
        notes.append(
            f"{name}: {res.n_lines} line(s); {verdict} (similarity {res.similarity:.2f}, "
            f"threshold {wid.config['threshold']:.2f})" + (f"; {said}" if said else "")
        )
        short = short_document_note(wid.lr_model, res.n_lines) if res.log10_lr is not None else None
        if short:
            notes.append(f"{name}: caveat: {short}")
        if res.outside_conditions:  # another resolution, pen or paper than the run's writers
            from hwutils.writer_id.conditions import CONSEQUENCE

            notes.append(f"{name}: caveat: {wid.conditions.caveat(res.outside_conditions, CONSEQUENCE)}")
    if wid.lr_model is None:
        notes.append(
            "this run has no usable LR calibration (see the warning above, if any): no likelihood ratios"
        )
    else:
        units = sorted({r["lr_unit"] for r in rows if r.get("lr_unit")})
        sources = "; ".join(f"per {unit_label(u)}, on {wid.lr_model.scorers[u].source}" for u in units)
        notes.append(
            "log10 LR: 'this writer wrote it' against 'another writer wrote it', calibrated "
            + (sources or "on the run's calibration trials")
        )
        notes.append(
            "writers ranked by log10 LR (enrolled writers included); score: the classifier's, for the writers"
            " it was trained on (- for enrolled writers)"
        )
    cols = {
        "image": "image",
        "rank": "rank",
        "writer": "writer",
        "score": "score",
        "log10_lr": "log10 LR",
        "support": "support",
    }
    return Applied("identify", str(run), "writer_id", rows, cols, notes)


def verify(run, references, questioned, outputs=None) -> Applied:
    """Each questioned signature against the references: decision, score,
    threshold and the log10 LR of genuine against skilled forgery."""
    from hwutils.signatures.verify import load_verifier

    folder = resolve_run(run, "signatures", outputs)
    refs = load_images(references, "reference signature (--ref)")
    qs = load_images(questioned, "questioned signature")
    verifier = load_verifier(folder)
    enrolment = verifier.enrol([g for _, g in refs])
    rows, withheld, calibrated, undecided, outside = [], None, None, None, {}
    for name, g in qs:
        r = enrolment.verify(g)
        for said in r["details"].get("outside_conditions", []):  # the references' once, each image's
            outside.setdefault(said.replace("the questioned signature", name), None)
        withheld = r["details"].get("lr_withheld")  # the verifier's reason for no LR (too few references)
        undecided = r["details"].get("decision_withheld")  # ... and for no decision
        calibrated = r["details"].get("lr_calibrated_references", calibrated)
        rows.append(
            {
                "image": name,
                "decision": r["decision"],
                "score": float(r["score"]),
                "threshold": None if r["threshold"] is None else float(r["threshold"]),
                **_lr_fields(r.get("log10_lr"), "a genuine signature", "a skilled forgery", withheld),
                "references": len(refs),
                "outside_conditions": r["details"].get("outside_conditions", []),
            }
        )
    notes = [
        f"{len(refs)} reference signature(s); lower score = more genuine; genuine when score <= threshold",
        *([undecided] if undecided else []),
        withheld
        if withheld
        else "log10 LR: 'genuine signature of the reference person' against 'skilled forgery'"
        if getattr(verifier, "calibrator", None) is not None
        else "this run has no LR calibration: no likelihood ratios",
    ]
    own = (getattr(verifier, "calibrator", None) and verifier.calibrator.conditions.get("n_references")) or 0
    if calibrated and calibrated < own:
        notes.append(_fewer_references_note(folder, calibrated, own))
    if outside:
        from hwutils.signatures.conditions import CONSEQUENCE

        notes.append("caveat: " + verifier.conditions.caveat(list(outside), CONSEQUENCE))
    cols = {
        "image": "questioned",
        "decision": "decision",
        "score": "score",
        "threshold": "threshold",
        "log10_lr": "log10 LR",
        "support": "support",
    }
    return Applied("verify", str(run), "signatures", rows, cols, notes)


def _fewer_references_note(folder, n: int, own: int) -> str:
    """What the LRs of a verification against ``n`` references (fewer than the
    run's ``own``) rest on, with their figures on the run's test persons."""
    from hwutils.runmetrics import load_metrics

    m = load_metrics(folder)
    said = (
        f"with {n} references the LRs come from the calibration of verifications against {n} (weaker evidence"
        f" than with {own}), and the decision from the threshold fixed with {n}"
    )
    keys = [f"lr_{k}_refs{n}" for k in ("cllr", "rmep", "rmed")]
    if all(isinstance(m.get(k), (int, float)) for k in keys):
        cllr, rmep, rmed = (float(m[k]) for k in keys)
        said += (
            f"; on the run's test persons with {n} references: Cllr {cllr:.2f}, {100 * rmep:.1f}% of genuine"
            f" signatures with LR < 1, {100 * rmed:.1f}% of skilled forgeries with LR > 1"
        )
    return said


def read(run, images, outputs=None, reader: str | None = None) -> Applied:
    """The text of each word image, with the mean confidence of its characters.
    ``reader``: ``segmentation``, ``ctc`` or ``combined``; None = the one the run chose on
    its validation words (``segmentation`` for runs without a CTC reader)."""
    from hwutils.ocr.form import FieldReader
    from hwutils.ocr.read import load_any_reader

    folder = resolve_run(run, "char_ocr", outputs)
    grays = load_images(images)
    reader_name, word_reader = load_any_reader(folder, reader)
    readings = word_reader.read_words([g for _, g in grays], blank="error")
    rows = []
    for (name, _), w in zip(grays, readings):
        conf = [c.confidence for c in w.chars]
        rows.append(
            {
                "image": name,
                "text": w.text,
                "characters": len(w.chars),
                "confidence": float(np.mean(conf)) if conf else None,
                "chars": [{"char": c.char, "box": list(c.box), "confidence": c.confidence} for c in w.chars],
            }
        )
    cols = {"image": "image", "text": "text", "characters": "characters", "confidence": "mean confidence"}
    for row in rows:
        row["reader"] = reader_name
    note = f"reader: {reader_name}" + (
        " (the run's choice on its validation words)" if reader is None else ""
    )
    notes = [note]
    if isinstance(word_reader, FieldReader):  # read as fields of a printed form, as the run did
        notes.append(word_reader.describe())
    return Applied("read", str(run), "char_ocr", rows, cols, notes)


def screen(run, images, outputs=None) -> Applied:
    """Is each image a signature at all? The screener's decision and its detectors' votes."""
    from hwutils.signatures.screening import Screener

    folder = resolve_run(run, "signatures", outputs)
    grays = load_images(images)
    scr = Screener.load(folder)
    rows = []
    for name, g in grays:
        r = scr.check(g)
        rows.append(
            {
                "image": name,
                "signature": r["valid"],
                "votes": ", ".join(k for k, v in r["votes"].items() if v) or "none",
                "scores": r["scores"],
                "thresholds": r["thresholds"],
            }
        )
    cols = {"image": "image", "signature": "a signature?", "votes": "detectors that accept it"}
    return Applied("screen", str(run), "signatures", rows, cols, [f"rule: {scr.rule}"])


def generate(run, n: int, out, seed: int = 0, outputs=None) -> Applied:
    """``n`` new digits sampled from the run's VAE, written as PNGs into ``out``
    (``sample_0000.png`` ...); refused when ``out`` already holds any of those files."""
    from hwutils.images import save_gray
    from hwutils.vae.model import load_vae, sample

    if not 1 <= int(n) <= MAX_SAMPLES:
        raise ParamsError(f"-n must be between 1 and {MAX_SAMPLES}, got {n}")
    folder = resolve_run(run, "single_image_vae", outputs)
    out = Path(out)
    if out.exists() and not out.is_dir():
        raise HwError(f"--out {out}: a file, not a folder")
    names = [f"sample_{i:04d}.png" for i in range(int(n))]
    taken = [nm for nm in names if (out / nm).exists()]
    if taken:
        raise HwError(f"--out {out}: already holds {taken[0]} (choose an empty folder; nothing was written)")
    vae = load_vae(folder)
    imgs = sample(vae, int(n), seed=seed)
    out.mkdir(parents=True, exist_ok=True)
    rows = []
    for nm, im in zip(names, imgs):
        path = save_gray(np.asarray(im, np.uint8), out / nm)
        rows.append({"file": str(path), "height": int(im.shape[0]), "width": int(im.shape[1])})
    notes = [f"{len(rows)} sample(s) from the prior N(0, I), seed {seed}, dark ink on white paper"]
    return Applied("generate", str(run), "single_image_vae", rows, {"file": "file"}, notes)
