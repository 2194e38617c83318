"""A case's documents: the folders and file names of known and questioned
documents, checked before any work; each document read, segmented into lines
and brought to the writer run's scale; lines of other writers from the run's
own data (for calibration)."""

from __future__ import annotations

import math
import re
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from hwutils.errors import DataError, HwError, ParamsError

PARTS = ("all", "top", "bottom")
SCALE_STEPS = (0.25, 0.5, 1.0, 2.0, 4.0)
AUTO_MIN_RATIO = 1.75  # stroke-width ratios closer to 1 than this are the writer's pen, not the scan


# --- parameter checks (light: hw runs them before any kernel starts) --------------------------


def check_name_pattern(value: str) -> None:
    """``value`` is a regular expression with a ``(?P<writer>...)`` group."""
    try:
        rx = re.compile(value)
    except re.error as exc:
        raise ParamsError(f"not a regular expression ({exc})") from None
    if "writer" not in rx.groupindex:
        raise ParamsError("needs a named group (?P<writer>...)")


def _image_files(folder: Path) -> list[Path]:
    from hwutils.images import list_images

    return list_images(folder)


def check_case_folder(value: str) -> None:
    """``value`` is empty (the embedded synthetic case) or a folder holding
    image files, directly or in one sub-folder per person; every file must be
    an image (header checked)."""
    if not value:
        return
    for path, _ in list_documents(value, None):
        from hwutils.images import check_image_file

        check_image_file(path)


def check_writer_run(value: str) -> None:
    """``value`` is empty (train a small run first) or names a finished
    ``writer_id`` run (its id, or its folder)."""
    if value:
        resolve_writer_run(value)


def resolve_writer_run(value: str | Path, outputs: Path | None = None) -> Path:
    """The folder of a finished ``writer_id`` run given as a folder path or a
    run id (looked up under ``<outputs>/writer_id/``); :class:`ParamsError`
    naming it when it is not one, not finished, or lacks the model files."""
    from hwutils.runs.manifest import load_run
    from hwutils.runs.project import outputs_root

    path = Path(value).expanduser()
    if not path.is_dir():
        cand = (outputs or outputs_root()) / "writer_id" / str(value)
        if not cand.is_dir():
            raise ParamsError(f"{value}: neither a run folder nor a writer_id run id under {cand.parent}")
        path = cand
    manifest = load_run(path)
    if manifest is None:
        raise ParamsError(f"{path}: not a run folder (no manifest.json)")
    state = manifest["_state"]
    if state["status"] == "broken":
        raise ParamsError(f"{path}: broken run ({state['reason']})")
    if manifest.get("stage") != "writer_id":
        raise ParamsError(f"{path}: a {manifest.get('stage')} run, not a writer_id run")
    if state["status"] != "ok":
        raise ParamsError(f"{path}: writer_id run is {state['status']}, not a finished (ok) run")
    for name in ("writer_id.json", "model.keras", "gallery.npz"):
        if not (path / "artifacts" / name).is_file():
            raise ParamsError(f"{path}: writer_id run without artifacts/{name}")
    from hwutils import custody

    custody.require_intact(path)
    return path


# --- documents --------------------------------------------------------------------------------


def list_documents(
    folder: str | Path, name_pattern: str | None, role: str = "known"
) -> list[tuple[Path, str | None]]:
    """``(path, person)`` of every image of a case folder, sorted.

    Images directly in ``folder``: the person is the ``writer`` group of
    ``name_pattern`` matched against the file name (None when it does not
    match). A folder holding only sub-folders of images: one sub-folder per
    person, named after them. ``name_pattern=None`` lists without naming."""
    from hwutils.datasets.pages import writer_from_name

    folder = Path(folder)
    if not folder.is_dir():
        raise DataError(f"{folder}: no such folder")
    direct = _image_files(folder)
    if direct:
        return [(p, writer_from_name(p, name_pattern) if name_pattern else None) for p in direct]
    subs = sorted(p for p in folder.iterdir() if p.is_dir() and not p.name.startswith("."))
    docs = [(p, sub.name) for sub in subs for p in _image_files(sub)]
    if not docs:
        raise DataError(
            f"{folder}: empty, no image files (looked for page images in it and in one sub-folder per person)"
        )
    return docs


def _only(docs, writers, what: str, folder) -> list:
    if not writers:
        return docs
    wanted = [str(w) for w in writers]
    kept = [(p, w) for p, w in docs if w in wanted]
    missing = sorted(set(wanted) - {w for _, w in kept})
    if missing:
        raise ParamsError(f"{what}: no document of {', '.join(missing)} in {folder}")
    return kept


def check_case(
    known_dir, questioned_dir, name_pattern: str, known_writers=(), questioned_writers=()
) -> tuple[list, list]:
    """List the case's documents and check them before any work: every known
    document names its person, every file is an image (header). With
    ``known_writers`` / ``questioned_writers`` only those writers' documents
    are kept (each must have one). Returns the ``(path, person)`` lists of
    known and questioned documents; a questioned person is None where the
    file name carries no writer."""
    from hwutils.images import check_image_file

    check_name_pattern(name_pattern)
    known = list_documents(known_dir, name_pattern)
    unnamed = [p for p, w in known if w is None]
    if unnamed:
        raise DataError(
            f"{unnamed[0]}: known document whose file name does not match name_pattern {name_pattern!r} "
            f"({len(unnamed)} of {len(known)} files); name it after its writer or use one sub-folder per person"
        )
    known = _only(known, known_writers, "known_writers", known_dir)
    questioned = _only(
        list_documents(questioned_dir, name_pattern), questioned_writers, "questioned_writers", questioned_dir
    )
    for path, _ in known + questioned:
        check_image_file(path)
    if len({w for _, w in known}) < 1:
        raise DataError(f"{known_dir}: no person of interest")
    return known, questioned


def stroke_width(gray: np.ndarray) -> float:
    """Mean pen width of the ink in pixels: twice the ink area over the length
    of its contours (a stroke of width w and length L has area wL and about
    2L of contour). Scales with the scan resolution; 0 without ink."""
    import cv2

    from hwutils.images import binarize

    mask = np.ascontiguousarray(binarize(np.asarray(gray, np.uint8)).astype(np.uint8))
    contours, _ = cv2.findContours(mask, cv2.RETR_LIST, cv2.CHAIN_APPROX_NONE)
    perimeter = sum(cv2.arcLength(c, True) for c in contours)
    return float(2.0 * mask.sum() / perimeter) if perimeter > 0 else 0.0


def document_stroke_width(lines) -> float:
    """Median :func:`stroke_width` over a document's lines."""
    widths = [w for w in (stroke_width(l) for l in lines) if w > 0]
    return float(np.median(widths)) if widths else 0.0


def scale_factor(
    measured: float, reference: float | None, dpi: int = 0, train_dpi: int = 300, estimate: bool = False
) -> float:
    """The factor that brings a document to the run's scale.

    With ``dpi`` (the document's scan resolution, > 0): ``train_dpi / dpi``;
    ``dpi`` 0 means the run's own resolution (factor 1).

    With ``estimate`` (and no ``dpi``) the factor is estimated from the pen: the
    ratio of the run's stroke width (``reference``, measured on its training
    lines) to the document's. Pens differ between writers (on CSAFE's 300-dpi
    pages the stroke width spans 2.9 to 4.9 px, on the synthetic writers about
    2.6 to 8 px), so a ratio within :data:`AUTO_MIN_RATIO` of 1 is taken as
    the writer's pen and left alone (factor 1: the pen stays evidence); beyond
    it the factor is the nearest power of two in :data:`SCALE_STEPS` (a page
    scanned at half or a quarter of the resolution in each direction). A thick
    or thin pen near the band's edge can be taken for another resolution, and
    resolutions in between (200 dpi against 300) are not found: give ``dpi``
    when it is known."""
    if dpi and dpi > 0:
        return float(train_dpi) / float(dpi)
    if not estimate or not reference or not measured or measured <= 0:
        return 1.0
    ratio = reference / measured
    if 1 / AUTO_MIN_RATIO < ratio < AUTO_MIN_RATIO:
        return 1.0
    return float(min(SCALE_STEPS, key=lambda s: abs(math.log2(s) - math.log2(ratio))))


def rescale(gray: np.ndarray, factor: float) -> np.ndarray:
    """``gray`` resized by ``factor`` (area averaging down, cubic up); unchanged at 1."""
    import cv2

    if abs(factor - 1.0) < 1e-6:
        return gray
    h, w = gray.shape
    size = (max(1, round(w * factor)), max(1, round(h * factor)))
    interp = cv2.INTER_AREA if factor < 1 else cv2.INTER_CUBIC
    return cv2.resize(gray, size, interpolation=interp)


@dataclass
class Document:
    """A case document: its file, person (None: unknown), the page as read,
    its segmented lines (at the run's scale) and their boxes on the page."""

    path: Path
    person: str | None
    page: np.ndarray
    lines: list
    boxes: list
    stroke: float
    scale: float
    part: str = "all"
    compared_at: int = 0  # dpi the page was resampled down to before reading (0: as scanned)

    @property
    def name(self) -> str:
        return self.path.stem


def load_document(
    path,
    person,
    reference_stroke: float | None = None,
    dpi: int = 0,
    train_dpi: int = 300,
    part: str = "all",
    segment: bool = True,
    estimate: bool = False,
    compare_dpi: int = 0,
) -> Document:
    """Read, check and segment one document; :class:`DataError` or
    :class:`~hwutils.errors.ImageError` naming the file when it is blank or
    holds no text line. ``part`` keeps the ``top`` or ``bottom`` half of its
    lines (the first ceil(n/2) or the rest), or ``all``. ``compare_dpi``
    (below the page's resolution, ``dpi`` or else ``train_dpi``) resamples the
    page down to it first, as if scanned at ``compare_dpi`` (:func:`common_dpi`)."""
    from hwutils.datasets.pages import segment_lines
    from hwutils.errors import check_choice
    from hwutils.images import gray_with_ink

    check_choice("part", part, PARTS)
    path = Path(path)
    page = gray_with_ink(path)
    scanned = dpi if dpi and dpi > 0 else train_dpi
    compared_at = 0
    if compare_dpi and 0 < compare_dpi < scanned:
        page, dpi, compared_at = rescale(page, compare_dpi / scanned), compare_dpi, compare_dpi
    if segment:
        found = segment_lines(page)
        boxes = [(lb.top, lb.bottom, lb.left, lb.right) for lb in found]
        lines = [lb.image for lb in found]
    else:
        lines, boxes = [page], [(0, page.shape[0], 0, page.shape[1])]
    if not lines:
        raise DataError(f"{path}: no text lines detected on this page")
    if part != "all":
        if len(lines) < 2:
            raise DataError(f"{path}: {len(lines)} text line, cannot keep its {part} half")
        half = (len(lines) + 1) // 2
        keep = slice(0, half) if part == "top" else slice(half, None)
        lines, boxes = lines[keep], boxes[keep]
    stroke = document_stroke_width(lines)
    factor = scale_factor(stroke, reference_stroke, dpi, train_dpi, estimate)
    lines = [rescale(l, factor) for l in lines]
    return Document(path, person, page, lines, boxes, stroke, factor, part, compared_at)


def common_dpi(dpi: int, questioned_dpi: int, train_dpi: int = 300) -> int:
    """The resolution both sides of a case are compared at when the known
    (``dpi``) and questioned (``questioned_dpi``; 0: as ``dpi``) documents were
    scanned at different ones: the coarser, to which the finer are resampled
    down (0: the same resolution, nothing to do). Texture evidence measured at
    two resolutions differs for everybody: on CSAFE (15 unseen writers, the
    questioned half at 75 dpi, the known half at 300) the texture separated
    the writers no better than Cllr_min 0.39, against 0.04 with both at 75 dpi."""
    k = dpi if dpi and dpi > 0 else train_dpi
    q = questioned_dpi if questioned_dpi and questioned_dpi > 0 else k
    return 0 if k == q else min(k, q)


def load_documents(listing, **kw) -> list[Document]:
    """:func:`load_document` of every ``(path, person)``."""
    return [load_document(p, w, **kw) for p, w in listing]


def reference_stroke_width(run_dir, limit: int = 24) -> tuple[float | None, str]:
    """The median stroke width of a writer_id run's training lines, and where
    they were found: the synthetic lines it generated (``artifacts/synthetic_iam``),
    else the ``data_dir`` of its ``params.yaml`` (pages: the first three, segmented;
    IAM: the first ``limit`` line images). ``(None, reason)`` when none can be read."""
    import yaml

    from hwutils.datasets.pages import segment_lines
    from hwutils.images import list_images, read_gray

    run_dir = Path(run_dir)
    synth = run_dir / "artifacts" / "synthetic_iam" / "lines"
    lines, where = [], ""
    try:
        if synth.is_dir():
            files = sorted(synth.rglob("*.png"))
            files = files[:: max(1, len(files) // limit)][:limit]  # spread over the writers
            lines, where = [read_gray(f) for f in files], f"{len(files)} synthetic training lines of the run"
        else:
            params = yaml.safe_load((run_dir / "params.yaml").read_text()) or {}
            data_dir = Path(str(params.get("data_dir") or ""))
            if params.get("data_format") == "pages" and data_dir.is_dir():
                files = list_images(data_dir)
                files = files[:: max(1, len(files) // 3)][:3]
                lines = [lb.image for f in files for lb in segment_lines(read_gray(f))]
                where = f"{len(files)} pages of {data_dir}"
            elif data_dir.is_dir():
                files = sorted((data_dir / "lines").rglob("*.png"))
                files = files[:: max(1, len(files) // limit)][:limit]
                lines, where = [read_gray(f) for f in files], f"{len(files)} lines of {data_dir}"
    except (HwError, OSError, yaml.YAMLError) as exc:
        return None, f"training lines unreadable ({str(exc).splitlines()[0]})"
    width = document_stroke_width(lines) if lines else 0.0
    if width <= 0:
        return None, "no training lines of the run found"
    return width, where


def _run_data(run_dir: Path) -> tuple:
    """Where a writer_id run's data is: ``("lines", records, where)`` (the
    synthetic lines it generated, ``artifacts/synthetic_iam``, or an IAM
    ``data_dir``), ``("pages", (data_dir, name_pattern), where)`` (pages named
    by writer) or ``(None, None, reason)``; raises what reading raises."""
    import yaml

    from hwutils.datasets import iam, pages

    synth = run_dir / "artifacts" / "synthetic_iam"
    if synth.is_dir():
        return "lines", iam.load_iam(synth, level="lines"), "the run's synthetic training writers"
    params = yaml.safe_load((run_dir / "params.yaml").read_text()) or {}
    data_dir = Path(str(params.get("data_dir") or ""))
    if not str(params.get("data_dir") or "") or not data_dir.is_dir():
        return None, None, "no data of the run found"
    if params.get("data_format") == "pages":
        pattern = params.get("name_pattern") or pages.CSAFE_PATTERN
        return "pages", (data_dir, pattern), f"the run's data ({data_dir}, one page each)"
    return "lines", iam.load_iam(data_dir, level="lines"), f"the run's data ({data_dir})"


def _page_files(data_dir: Path, pattern: str) -> list:
    """``(file, writer)`` of the pages of ``data_dir`` whose name names a writer."""
    from hwutils.datasets import pages

    files = [(f, pages.writer_from_name(f, pattern)) for f in _image_files(data_dir)]
    return [(f, w) for f, w in files if w is not None]


def run_writer_lines(run_dir, writers, scale: float = 1.0) -> tuple[list, list, str]:
    """Line images of ``writers`` (the run's own: its held-out calibration or
    training writers) read again from the data the writer_id run was made
    from, as a scan ``scale`` times coarser would give them at the run's
    scale: each page resampled down by ``1 / scale``, cut into lines and
    brought back up by ``scale``, as :func:`load_document` brings a coarser
    document (synthetic or IAM lines: each line so). ``(lines, writers,
    where)``; empty lists when the run's data cannot be read."""
    import yaml

    from hwutils.datasets import pages
    from hwutils.images import read_gray

    wanted = {str(w) for w in writers}
    lines, names = [], []
    try:
        kind, data, where = _run_data(Path(run_dir))
        if kind == "pages":
            for f, w in _page_files(*data):
                if w in wanted:
                    found = pages.segment_lines(rescale(read_gray(f), 1 / scale))
                    lines += [rescale(lb.image, scale) for lb in found]
                    names += [w] * len(found)
        elif kind == "lines":
            for r in data:
                if r.writer in wanted:
                    image = r.image if r.image is not None else read_gray(r.path)
                    lines.append(rescale(rescale(image, 1 / scale), scale))
                    names.append(r.writer)
        return lines, names, where
    except (HwError, OSError, yaml.YAMLError):
        return [], [], "the run's data could not be read"


def case_scale(documents) -> float:
    """The one factor every document of a case was brought up to the run's
    scale by (above 1: all scanned coarser than the run's data, e.g. 4 for
    75 dpi against 300), else 1 (at the run's resolution, or mixed)."""
    scales = {round(float(d.scale), 6) for d in documents}
    return scales.pop() if len(scales) == 1 and next(iter(scales)) > 1 else 1.0


def background_lines(
    run_dir, max_writers: int = 12, lines_per_writer: int = 8, exclude=(), exclude_paths=()
) -> tuple[list, list, str]:
    """Lines of other writers, from the data the writer_id run was trained on:
    ``(line images, writers, where)``, up to ``lines_per_writer`` lines of up to
    ``max_writers`` writers (empty lists when the run's data cannot be found).
    Read from the run's synthetic lines (``artifacts/synthetic_iam``), else
    from the ``data_dir`` of its ``params.yaml`` (IAM layout, or pages named
    by its ``name_pattern``: one page per writer, segmented). Writers in
    ``exclude`` and files in ``exclude_paths`` (the case's own writers and
    documents) are never used."""
    import yaml

    from hwutils.datasets import pages
    from hwutils.images import read_gray

    excluded = {str(w) for w in exclude}
    try:
        kind, data, where = _run_data(Path(run_dir))
        if kind is None:
            return [], [], where
        if kind == "pages":
            by_writer: dict = {}
            skip = {Path(x).resolve() for x in exclude_paths}
            for f, w in _page_files(*data):
                if w not in excluded and f.resolve() not in skip:
                    by_writer.setdefault(w, f)
            chosen = sorted(by_writer)[:: max(1, len(by_writer) // max_writers)][:max_writers]
            lines, writers = [], []
            for w in chosen:
                found = [lb.image for lb in pages.segment_lines(read_gray(by_writer[w]))][:lines_per_writer]
                lines += found
                writers += [w] * len(found)
            return lines, writers, where
        records = data
    except (HwError, OSError, yaml.YAMLError):
        return [], [], "the run's data could not be read"
    names = sorted({r.writer for r in records} - excluded)
    chosen = set(names[:: max(1, len(names) // max_writers)][:max_writers])
    lines, writers, count = [], [], {}
    for r in records:
        if r.writer in chosen and count.get(r.writer, 0) < lines_per_writer:
            lines.append(r.image if r.image is not None else read_gray(r.path))
            writers.append(r.writer)
            count[r.writer] = count.get(r.writer, 0) + 1
    return lines, writers, where
