"""Chain of custody of a run: the sha256 and size of every file it wrote under
``artifacts/`` (and its ``metrics.json`` and ``params.yaml``), recorded in its
``manifest.json`` when it ends, and verified before anything of the run is used.

A run's artifacts are what its models, calibrations and references are read
from; an examiner must be able to show that the files a result came from are
the ones the run made. :func:`record` lists them (the executor stores the list
under the manifest's ``artifacts`` key); :func:`differences` compares a run
folder with its record (a file changed, missing, or added afterwards);
:func:`require_intact` refuses a run whose files differ with one
:class:`~hwutils.errors.ArtifactError` naming the first such file (``hw``
turns it into one line and exit 2). ``hw check RUN`` prints every difference.

    >>> from hwutils import custody
    >>> custody.require_intact("outputs/writer_id/<RUN_ID>")   # raises on a changed artifact
    >>> custody.differences("outputs/writer_id/<RUN_ID>")      # [] when intact
"""

from __future__ import annotations

import hashlib
import json
import os
from dataclasses import dataclass
from pathlib import Path

from hwutils.errors import ArtifactError

MANIFEST_KEY = "artifacts"
"""The manifest key holding ``{relative path: {"sha256": ..., "size": ...}}``."""

RECORDED = ("metrics.json", "params.yaml")
"""Files of the run folder itself recorded beside everything under ``artifacts/``."""

_CHUNK = 1 << 20


def sha256_of(path: str | os.PathLike) -> str:
    """The hex sha256 of a file's bytes."""
    h = hashlib.sha256()
    with open(path, "rb") as fh:
        for block in iter(lambda: fh.read(_CHUNK), b""):
            h.update(block)
    return h.hexdigest()


def file_record(path: str | os.PathLike) -> dict:
    """``{"sha256": ..., "size": ...}`` of one file."""
    return {"sha256": sha256_of(path), "size": int(Path(path).stat().st_size)}


def _temporary(path: Path) -> bool:
    """A half-written file of :func:`hwutils.fileio.atomic_path` (``.NAME.XXXX.tmp...``)."""
    return path.name.startswith(".") and ".tmp" in path.name


def _recorded_files(run_dir: Path) -> list[Path]:
    files = [run_dir / name for name in RECORDED if (run_dir / name).is_file()]
    art = run_dir / "artifacts"
    if art.is_dir():
        files += sorted(p for p in art.rglob("*") if p.is_file() and not _temporary(p))
    return files


def record(run_dir: str | os.PathLike) -> dict:
    """``{path relative to the run folder: file_record}`` of every file the run wrote
    under ``artifacts/`` and of its ``metrics.json`` and ``params.yaml``."""
    run_dir = Path(run_dir)
    return {p.relative_to(run_dir).as_posix(): file_record(p) for p in _recorded_files(run_dir)}


@dataclass
class Difference:
    """One file that is not as the run recorded it: ``what`` is ``changed``,
    ``missing`` or ``added`` (not in the record)."""

    path: str
    what: str
    detail: str = ""

    def __str__(self) -> str:
        return f"{self.path}: {self.what}" + (f" ({self.detail})" if self.detail else "")


def _manifest(run_dir: Path) -> dict | None:
    path = run_dir / "manifest.json"
    if not path.is_file():
        return None
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise ArtifactError(f"{path}: not valid JSON ({exc})") from None
    if not isinstance(data, dict):
        raise ArtifactError(f"{path}: expected a JSON object")
    return data


def recorded(run_dir: str | os.PathLike) -> dict | None:
    """The run's record of its artifacts, or None when its manifest holds none
    (a run made before records were kept, or one still running)."""
    run_dir = Path(run_dir)
    manifest = _manifest(run_dir)
    if manifest is None:
        raise ArtifactError(f"{run_dir}: not a run folder (no manifest.json)")
    rec = manifest.get(MANIFEST_KEY)
    if rec is None:
        return None
    if not isinstance(rec, dict) or not all(
        isinstance(v, dict) and isinstance(v.get("sha256"), str) and isinstance(v.get("size"), int)
        for v in rec.values()
    ):
        raise ArtifactError(f"{run_dir / 'manifest.json'}: key 'artifacts' is not a record of files")
    return rec


def differences(run_dir: str | os.PathLike) -> list[Difference]:
    """Every file of the run folder that differs from the run's record, in path
    order; a :class:`~hwutils.errors.ArtifactError` when the run holds no record."""
    run_dir = Path(run_dir)
    rec = recorded(run_dir)
    if rec is None:
        raise ArtifactError(
            f"{run_dir}: the run recorded no artifact hashes (made before runs kept them, or not finished)"
        )
    out = []
    present = {p.relative_to(run_dir).as_posix(): p for p in _recorded_files(run_dir)}
    for rel in sorted(set(rec) | set(present)):
        if rel not in present:
            out.append(Difference(rel, "missing"))
        elif rel not in rec:
            out.append(Difference(rel, "added", "not written by the run"))
        else:
            size = present[rel].stat().st_size
            if size != rec[rel]["size"]:
                out.append(Difference(rel, "changed", f"{size} bytes, recorded {rec[rel]['size']}"))
            elif sha256_of(present[rel]) != rec[rel]["sha256"]:
                out.append(Difference(rel, "changed", "sha256 differs from the record"))
    return out


def require_intact(run_dir: str | os.PathLike) -> None:
    """Refuse a run folder whose artifacts differ from its record: one
    :class:`~hwutils.errors.ArtifactError` naming the first file (and how many
    differ). A folder without a manifest (an ``artifacts/`` folder copied on its
    own) or a run without a record passes: there is nothing to verify against."""
    run_dir = Path(run_dir)
    if not (run_dir / "manifest.json").is_file() or recorded(run_dir) is None:
        return
    found = differences(run_dir)
    if found:
        more = f"; {len(found) - 1} more file(s) differ (hw check {run_dir})" if len(found) > 1 else ""
        raise ArtifactError(f"{run_dir / found[0].path}: {found[0].what} since the run recorded it{more}")
