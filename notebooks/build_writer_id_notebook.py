"""Writes notebooks/writer_id.ipynb (no outputs). Run: .venv/bin/python notebooks/build_writer_id_notebook.py"""

from pathlib import Path

import nbformat
from nbformat.v4 import new_code_cell, new_markdown_cell, new_notebook

CELLS = [
    (
        "md",
        r"""
# Writer identification with DeepWriter

Who wrote this line? This notebook trains a writer-identification CNN in the
manner of DeepWriter (Xing and Qiao 2016, arXiv 1606.06472): lines resized to
a fixed height, random square patches for training, and at test time each line
scanned window by window with the softmax outputs averaged over windows
(line level) and over the lines of a page or form (page level).
Contour-hinge texture features (Bulacu and Schomaker 2007) with a linear
classifier are fused with the CNN's scores, the weight chosen on validation
lines. It then flags writers never seen in training and enrols new writers
from a few lines without retraining.

With the default parameters it runs on synthetic writers generated on the fly
(IAM layout); point `data_dir` at the IAM Handwriting Database
(`params/writer_id/iam.yaml`) or at a folder of writer-named pages such as the
CSAFE Handwriting Database (`params/writer_id/csafe.yaml`).
""",
    ),
    (
        "params",
        r"""
seed: int = 0  # random seed for Python, NumPy and TensorFlow
data_dir: str = ""  # dataset folder; empty: generate the synthetic IAM-layout demo data
data_format: str = "iam"  # "iam" (forms.txt + lines/ or sentences/) or "pages" (writer in the file name)
level: str = "lines"  # IAM image folder: "lines" or "sentences"
ok_only: bool = True  # IAM: keep only images whose segmentation status is "ok"
top_writers: int = 0  # keep the N writers with most forms (0: no limit; the seed used 50)
min_forms: int = 0  # keep writers with at least this many forms (0: no limit)
name_pattern: str = "w(?P<writer>\\d+)_s(?P<session>\\d+)_p(?P<prompt>[A-Za-z]+)_r(?P<rep>\\d+)"  # pages: regex with a (?P<writer>...) group
segment_pages: bool = True  # pages: cut whole pages into lines (False: the files are already lines)
split_by: str = "line"  # pages: split group, "page" (several pages per writer) or "line" (one page per writer)
synth_writers: int = 15  # synthetic demo: number of writers
synth_forms: int = 4  # synthetic demo: forms per writer
synth_lines: int = 6  # synthetic demo: lines per form
unknown_writers: int = 3  # writers held out of training for new-writer detection and enrolment
val_fraction: float = 0.2  # share of each writer's forms (or lines) for validation
test_fraction: float = 0.25  # share of each writer's forms (or lines) for test
height: int = 64  # line height in pixels after resizing, also the patch side (the paper: 113)
model: str = "half_deepwriter"  # "seed_cnn", "half_deepwriter" or "deepwriter" (two streams)
width: float = 0.25  # layer-size multiplier (1.0: the layer sizes of the paper)
pooling: str = "average"  # after conv5: "average" (global average pooling) or "flatten" (the paper)
dropout: float = 0.25  # dropout before the fully connected layers
epochs: int = 12  # maximum passes (early stopping on validation loss)
patches_per_epoch: int = 2048  # random patches drawn per epoch
augment: bool = False  # random zoom, slant and shift of training patches (ink strength always varies); slant and size are writer traits, so off by default
texture: bool = True  # fuse contour-hinge texture features (linear classifier) with the CNN, weight chosen on validation lines
hinge_leg: int = 12  # texture: contour fragment length in pixels of the unresized line (12 at 300 dpi)
hinge_bins: int = 16  # texture: direction bins over the full circle
batch_size: int = 64  # patches per batch
learning_rate: float = 0.002  # Adam learning rate (start of the cosine decay)
lr_decay: bool = True  # cosine decay of the learning rate over all epochs
patience: int = 5  # epochs without validation improvement before stopping
stride: int = 0  # window step when scanning a test line (0: window width, no overlap)
enrol_lines: int = 3  # lines per new writer used to enrol them
target_frr: float = 0.05  # share of known writers' validation lines the new-writer threshold may reject
max_bad_fraction: float = 0.05  # unreadable images are skipped; more than this share is an error
strategy: str = "default"  # "default" (one device) or "mirrored" (all GPUs of this machine)
""",
    ),
    (
        "code",
        r"""
import os
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
import time
import numpy as np
import matplotlib.pyplot as plt
from hwutils import report, repro, training, metrics, plots, pipelines
from hwutils.errors import check_choice
from hwutils.datasets import iam, pages, splits
from hwutils.synth import handwriting
from hwutils.writer_id import data, models, scan, openset, evaluate, identify
from hwutils.writer_id.enrol import Gallery

repro.seed_everything(seed)
t_start = time.perf_counter()
""",
    ),
    (
        "md",
        r"""
## The data

Each record is one line image with its writer and its *group*: the IAM form
it belongs to (or, for CSAFE with one page per writer, the line itself).
Splits are made by group, so the lines of one form never appear on both
sides. Without `data_dir`, synthetic writers are generated: each has a
persistent style (font, letter shapes, slant, size, stroke width, spacing,
baseline wobble, ink, noise) that varies naturally from line to line.
""",
    ),
    (
        "code",
        r"""
check_choice("data_format", data_format, ("iam", "pages"))
skipped_pages = []
if not data_dir:
    root = handwriting.write_iam_dataset(report.artifacts_dir("synthetic_iam"), n_writers=synth_writers,
                                         forms_per_writer=synth_forms, lines_per_form=synth_lines, seed=seed)
    records = iam.load_iam(root, level="lines")
elif data_format == "iam":
    records = iam.load_iam(data_dir, level=level, ok_only=ok_only, top_writers=top_writers, min_forms=min_forms)
else:
    records, skipped_pages = pages.load_pages(data_dir, name_pattern=name_pattern, segment=segment_pages,
                                              split_by=split_by, max_bad_fraction=max_bad_fraction)
writers_all = sorted({r.writer for r in records})
print(f"{len(records)} line images of {len(writers_all)} writers; {len(skipped_pages)} pages skipped")
""",
    ),
    (
        "md",
        r"""
Writers held out of training entirely play the part of *new writers*; the
others are split by group into train, validation and test. Every image is
read, cropped to its ink and resized to `height` once; unreadable images are
skipped and counted.
""",
    ),
    (
        "code",
        r"""
unknown = splits.hold_out_labels([r.writer for r in records], unknown_writers, seed=seed)
known_recs = [r for r in records if r.writer not in unknown]
unknown_recs = [r for r in records if r.writer in unknown]
writers = sorted({r.writer for r in known_recs})
label_of = {w: i for i, w in enumerate(writers)}
what = "line" if (data_dir and data_format == "pages" and split_by == "line") else "form"
parts = splits.split_by_group([r.writer for r in known_recs], [r.group for r in known_recs],
                              val_fraction, test_fraction, seed=seed, what=what)
groups = {k: {known_recs[i].group for i in v} for k, v in parts.items()}
assert not (groups["train"] & groups["test"] or groups["train"] & groups["val"] or groups["val"] & groups["test"])

sets = {k: data.load_lines([known_recs[i] for i in v], height, max_bad_fraction) for k, v in parts.items()}
new_set = data.load_lines(unknown_recs, height, max_bad_fraction) if unknown_recs else None
n_skipped = sum(len(s.skipped) for s in sets.values()) + (len(new_set.skipped) if new_set else 0)
y = {k: np.array([label_of[r.writer] for r in s.records]) for k, s in sets.items()}
ink = {k: data.to_ink(s.lines) for k, s in sets.items()}
for k, s in sets.items():
    print(f"{k:5s}: {len(s)} lines, {len({r.group for r in s.records})} {what}s")
print(f"new writers held out: {unknown} ({len(new_set) if new_set else 0} lines); unreadable images skipped: {n_skipped}")
""",
    ),
    (
        "code",
        r"""
show = [sets["train"].records.index(next(r for r in sets["train"].records if r.writer == w)) for w in writers[:8]]
fig = plots.gallery([sets["train"].lines[i] for i in show], titles=[f"writer {writers[y['train'][i]]}" for i in show],
                    cols=2, size=3.2, suptitle="one training line per writer (resized)")
report.save_figure(fig, "example_lines")
""",
    ),
    (
        "md",
        r"""
## The training pipeline

A `tf.data` pipeline keeps the decoded lines in memory as one uint8 tensor
and makes each batch in one step: crop positions drawn uniformly over every
position of every training line with stateless random ops (seeded per
batch) and all crops gathered at once; batches are prefetched. The pipeline
hands over the uint8 crops as gathered: the model's first layer
(`PatchInput`, in a training wrapper that shares the network's weights)
converts them to float patches and gives each a random ink strength and,
with `augment`, a random zoom, slant and shift. DeepWriter's window is two
patches wide.
""",
    ),
    (
        "code",
        r"""
window = models.input_width(model, height)
train_ds = data.raw_patches(ink["train"], y["train"], height, window, batch_size, seed)
val_windows, val_owner = scan.all_windows(ink["val"], window)
val_ds = pipelines.eval_dataset(pipelines.from_arrays(data.to_columns(val_windows), y["val"][val_owner]), batch_size)
columns, _ = next(iter(train_ds))
patches = models.PatchInput(augment=augment, seed=seed)(columns, training=True)  # what the network sees
fig = plots.gallery([p[..., 0] for p in patches.numpy()[:16]], cols=8, size=1.2 * window / height,
                    suptitle="random training patches (ink = white)")
report.save_figure(fig, "training_patches")
""",
    ),
    (
        "md",
        r"""
## Training

The model is built inside the chosen `tf.distribute` strategy and trained
with early stopping on the validation loss (validation patches are the
scanning windows of the validation lines); the best weights are restored.
""",
    ),
    (
        "code",
        r"""
with training.get_strategy(strategy).scope():
    net = models.build_model(model, len(writers), height, width, dropout=dropout, pooling=pooling)
    steps_per_epoch = pipelines.steps_for(patches_per_epoch, batch_size)
    trainer = models.compile_model(models.training_model(net, augment=augment, seed=seed), learning_rate,
                                   decay_steps=epochs * steps_per_epoch if lr_decay else 0)
print(f"{model}: {net.count_params():,} parameters, input {height}x{window}, {len(writers)} writers")
t0 = time.perf_counter()
history = training.fit(trainer, train_ds, val_ds, epochs=epochs, steps_per_epoch=steps_per_epoch, patience=patience)
train_seconds = time.perf_counter() - t0
print(f"training time: {train_seconds:.0f}s for {len(history['loss'])} epochs")
fig = plots.training_curves(history)
report.save_figure(fig, "training_curves")
""",
    ),
    (
        "md",
        r"""
## Accuracy at patch, line and page level

Each test line is scanned with windows of the model's width (the last one
aligned to the end of the line); the softmax outputs are averaged over a
line's windows, then over the test lines of each page (IAM form; for CSAFE
the held-out lines of a writer's page).
""",
    ),
    (
        "code",
        r"""
two_heads = models.with_embedding(net)
test_pages = [r.page for r in sets["test"].records]
res = evaluate.evaluate_lines(two_heads, ink["test"], y["test"], test_pages, window, stride or None)
val_probs, emb_val, _, _ = scan.scan_lines(two_heads, ink["val"], window, stride or None)  # for fusion and new writers
m = dict(res["metrics"])
chance = 1 / len(writers)
print("CNN alone (softmax averaged over windows, then over lines):")
for level in ("patch", "line", "page"):
    print(f"{level:5s}: top-1 {m[level + '_top1']:.3f}  top-5 {m[level + '_top5']:.3f}  (n = {m[{'patch': 'n_patches', 'line': 'n_lines', 'page': 'n_pages'}[level]]})")
print(f"chance: {chance:.3f}")
""",
    ),
    (
        "md",
        r"""
## Texture features fused with the CNN

Contour-hinge features (Bulacu and Schomaker 2007): on every ink contour of a
line, at its own resolution, the directions of the two contour fragments of
`hinge_leg` pixels that meet at each point, as a joint histogram, plus the
histogram of single directions. A logistic regression on them, trained on
the training lines, gives a second opinion per line; the two are combined
by a weighted geometric mean whose weight is the one that fits the
*validation* lines best (lowest log-loss). Line and page scores below are
the fused ones; the page score is the mean over the page's test lines.
""",
    ),
    (
        "code",
        r"""
line_probs = res["line_probs"]
texture_model, texture_weight, texture_metrics = None, 0.0, {}
if texture:
    t0 = time.perf_counter()
    fusion = evaluate.texture_fusion(
        {k: [r.image if r.image is not None else r.path for r in s.records] for k, s in sets.items()}, y,
        val_probs, res["line_probs"], test_pages, len(writers), hinge_leg, hinge_bins)
    texture_model, texture_weight, val_nll = fusion["model"], fusion["weight"], fusion["val_nll"]
    line_probs, texture_metrics = fusion["line_probs"], fusion["metrics"]
    texture_metrics["texture_seconds"] = round(time.perf_counter() - t0, 1)
    m.update(fusion["fused_metrics"])
    print(f"fusion weight of the texture classifier (chosen on {len(y['val'])} validation lines): {texture_weight}")
    print("validation log-loss by weight:", {w: round(v, 3) for w, v in val_nll.items()})
    print(f"{'':8s}{'val line':>10s}{'test line':>10s}{'line top-5':>11s}{'page':>7s}{'page top-5':>11s}")
    for name in ("cnn", "texture", "fused"):
        print(f"{name:8s}{texture_metrics[f'val_{name}_line_top1']:10.3f}{texture_metrics[f'{name}_line_top1']:10.3f}"
              f"{texture_metrics[f'{name}_line_top5']:11.3f}{texture_metrics[f'{name}_page_top1']:7.3f}{texture_metrics[f'{name}_page_top5']:11.3f}")
else:
    print("texture = False: the CNN's scores alone")
""",
    ),
    (
        "code",
        r"""
pred = line_probs.argmax(1)
cm = metrics.confusion_matrix(y["test"], pred, len(writers))
fig = plots.confusion_matrix(cm, labels=writers, title="test lines: true vs predicted writer")
report.save_figure(fig, "confusion_matrix")
confused = metrics.most_confused_pairs(cm, labels=writers, top=10)
report.save_table(confused or [{"true": "", "predicted": "", "count": 0}], "most_confused_pairs")
for row in confused:
    print(f"writer {row['true']} taken for {row['predicted']}: {row['count']} line(s)")
""",
    ),
    (
        "md",
        r"""
## Is this a new writer?

Embeddings come from the network's last hidden layer, averaged over a line's
windows. Every known writer gets a centroid from their training lines; a
line's score is its cosine similarity to the nearest centroid. The threshold
is set on *validation* lines of known writers (the level that rejects
`target_frr` of them) and then evaluated on test lines of known writers against
all lines of the writers held out of training.
""",
    ),
    (
        "code",
        r"""
_, emb_train, _, _ = scan.scan_lines(two_heads, ink["train"], window, stride or None)
cents = openset.centroids(emb_train, y["train"], len(writers))
threshold = openset.calibrate_threshold(openset.known_score(emb_val, cents), target_frr)
known_scores = openset.known_score(res["line_embeddings"], cents)
open_metrics = {}
if new_set is not None:
    ink_new = data.to_ink(new_set.lines)
    _, emb_new, _, _ = scan.scan_lines(two_heads, ink_new, window, stride or None)
    new_scores = openset.known_score(emb_new, cents)
    open_metrics = openset.evaluate(known_scores, new_scores, threshold)
    print({k: round(v, 3) if isinstance(v, float) else v for k, v in open_metrics.items()})
    fig = plots.score_histograms({"known writers (test)": known_scores, "new writers": new_scores}, threshold=threshold,
                                 xlabel="cosine similarity to nearest writer centroid")
    report.save_figure(fig, "new_writer_scores")
else:
    print("unknown_writers = 0: no held-out writers, new-writer detection not evaluated")
""",
    ),
    (
        "md",
        r"""
## Enrolling new writers without retraining

For each held-out writer, `enrol_lines` of their lines (from their first
forms) give a centroid that joins the gallery of known writers; their other
lines are then identified against the whole gallery by nearest centroid.
""",
    ),
    (
        "code",
        r"""
enrol_metrics = {}
gallery = Gallery([writers[i] for i in range(len(writers))], cents)
if new_set is not None:
    new_writers = np.array([r.writer for r in new_set.records])
    new_groups = np.array([r.group for r in new_set.records])
    enrol_idx, query_idx = [], []
    for w in unknown:
        idx = np.flatnonzero(new_writers == w)
        idx = idx[np.lexsort((idx, new_groups[idx]))]
        enrol_idx += list(idx[:enrol_lines])
        query_idx += list(idx[enrol_lines:])
    for w in unknown:
        sel = [i for i in enrol_idx if new_writers[i] == w]
        gallery = gallery.enrol(w, emb_new[sel])
    enrol_idx, query_idx = np.array(enrol_idx, int), np.array(query_idx, int)
    order, _ = gallery.rank(emb_new[query_idx])
    named = np.array(gallery.names)[order[:, 0]]
    order_known, _ = gallery.rank(res["line_embeddings"])
    named_known = np.array(gallery.names)[order_known[:, 0]]
    enrol_metrics = {"enrolled_writers": len(unknown), "enrol_query_lines": int(len(query_idx)),
                     "enrolled_top1": float(np.mean(named == new_writers[query_idx])) if len(query_idx) else float("nan"),
                     "known_top1_after_enrolment": float(np.mean(named_known == np.array(writers)[y["test"]]))}
    print(enrol_metrics)
""",
    ),
    (
        "md",
        r"""
## Identify a writer through the public API

The model, writer list, window settings, threshold and gallery are saved
into the run's `artifacts/`; `WriterIdentifier.load(run folder)` reads them
back and ranks the writers of any line (or page) image.
""",
    ),
    (
        "code",
        r"""
art = report.artifacts_dir()
identify.save_for_identification(art, net, writers, height, window, stride, threshold, gallery, model_name=model,
                                  texture_model=texture_model, texture_weight=texture_weight)
wid = identify.WriterIdentifier.load(report.current_run_dir())
rec = sets["test"].records[0]
probe = rec.image if rec.image is not None else rec.path
t0 = time.perf_counter()
result = wid.identify_line(probe)
latency_ms = (time.perf_counter() - t0) * 1000
print(f"true writer {rec.writer}; top-3 {[(w, round(s, 3)) for w, s in result.ranking[:3]]}; "
      f"known={result.known} (similarity {result.similarity:.3f}); {latency_ms:.0f} ms")
""",
    ),
    (
        "md",
        r"""
## Summary
""",
    ),
    (
        "code",
        r"""
summary = {
    "n_writers": len(writers), "n_train_lines": len(sets["train"]), "n_test_lines": len(sets["test"]),
    "chance_top1": chance, **m, "train_seconds": round(train_seconds, 1), "epochs_run": len(history["loss"]),
    "skipped_images": n_skipped, "skipped_pages": len(skipped_pages),
    **texture_metrics, **{f"newwriter_{k}": v for k, v in open_metrics.items()}, **enrol_metrics,
    "total_seconds": round(time.perf_counter() - t_start, 1),
}
report.save_metrics(summary, headline=["line_top1", "page_top1", "patch_top1", "newwriter_auroc"])
summary
""",
    ),
]


def build() -> nbformat.NotebookNode:
    cells = []
    for kind, src in CELLS:
        src = src.strip("\n")
        if kind == "md":
            cells.append(new_markdown_cell(src))
        else:
            cell = new_code_cell(src)
            if kind == "params":
                cell.metadata["tags"] = ["parameters"]
            cells.append(cell)
    nb = new_notebook(cells=cells)
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
    nb.metadata["language_info"] = {"name": "python"}
    return nb


if __name__ == "__main__":
    path = Path(__file__).resolve().parent / "writer_id.ipynb"
    nbformat.write(build(), path)
    print(f"wrote {path}")
