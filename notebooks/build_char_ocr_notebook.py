"""Writes notebooks/char_ocr.ipynb (no outputs): python notebooks/build_char_ocr_notebook.py"""

from pathlib import Path

import nbformat as nbf

md = nbf.v4.new_markdown_cell
code = nbf.v4.new_code_cell
cells = []
cells.append(
    md("""# Handwritten characters and words: classify, segment, read

A 36-class (0-9, A-Z) handwritten character classifier, then word reading by
segmentation: cut a word image into characters, classify each with *this*
classifier (no external OCR), and score the words against their labels with the
character error rate (CER) and word accuracy.

The default run uses only data shipped with the installed packages:
scikit-learn's real 8x8 digit scans for 0-9 and synthetic font-based letters for
A-Z. `params/char_ocr/real.yaml` trains on MNIST digits and letters harvested
from labelled handwritten names, and reads held-out names.""")
)
params = code("""seed: int = 0  # random seed for Python, NumPy and TensorFlow
epochs: int = 15  # most passes over the training characters; early stopping may end sooner
batch_size: int = 128  # characters per training batch
strategy: str = "default"  # distribution strategy: default | mirrored
model_width: int = 16  # filters of the first conv block, then x2 and x4
patience: int = 4  # epochs without validation gain before stopping
lr_patience: int = 2  # epochs without validation gain before the learning rate halves
ensemble: int = 1  # independently seeded classifiers trained and averaged (mean softmax)
tta: bool = False  # score test characters as the mean over each one and its four 1-px shifts (5x the cost; word reading is unchanged)
val_fraction: float = 0.1  # share of each class held out for early stopping
test_fraction: float = 0.15  # share of each class held out as the character test set
digits: str = "sklearn"  # digit source: sklearn is bundled real 8x8 scans, idx is MNIST-format files below
digits_images: str = ""  # MNIST-format IDX images, gzipped or not, used when digits is idx
digits_labels: str = ""  # the matching IDX labels
digits_train_fraction: float = 0.5  # with idx digits: the first share of the file trains, the rest is the digit test set
extra_sklearn_digits: bool = False  # with idx digits: also train on scikit-learn's 1797 real digit scans
synthetic_letters_per_class: int = 150  # font-based synthetic samples per letter A-Z, 0 is none
synthetic_digits_per_class: int = 0  # font-based synthetic samples per digit 0-9, 0 is none
emnist_images: str = ""  # optional EMNIST IDX images of any split, lower case folded to capitals
emnist_labels: str = ""  # the matching EMNIST IDX labels
emnist_mapping: str = ""  # the split's emnist-<split>-mapping.txt
az_csv: str = ""  # optional Kaggle A-Z CSV: label then 784 pixels
az_per_class: int = 2000  # most A-Z CSV letters kept per class
char_folder: str = ""  # optional folder per class: ROOT/A/*.png, ROOT/7/*.png
char_folder_cap: int = 4000  # most images kept per class folder
words_csv: str = ""  # labelled word images: CSV with FILENAME,IDENTITY; empty is synthetic words
words_dir: str = ""  # folder of the word images; empty is the folder of the CSV
harvest_fraction: float = 0.0  # share of word files, split by file name, harvested for letters and never evaluated
harvest_repeat: int = 2  # times each harvested real letter appears in training (real letters weigh more than synthetic)
search: bool = True  # read words by segmentation by recognition (classifier-scored cuts); false: geometry only
read_charset: str = ""  # classes the word reader may output, e.g. only A-Z for names; empty is all 36
lm_weight: float = 0.0  # weight of a character bigram model of the harvested words' labels in word reading (needs search and harvest_fraction > 0), 0 is off
max_eval_words: int = 0  # most evaluation words read, 0 is all
synthetic_eval_words: int = 200  # synthetic words read when words_csv is empty
n_sample_words: int = 8  # words drawn with their boxes in the report""")
params.metadata["tags"] = ["parameters"]
cells.append(params)
cells.append(
    code("""import time
import numpy as np
from hwutils import metrics, plots, report, repro
from hwutils.errors import ParamsError, check_choice
from hwutils.ocr import CLASSES, data, model as ocr_model, read as ocr_read
from hwutils.ocr.language import CharBigram

repro.seed_everything(seed)
check_choice("digits", digits, ("sklearn", "idx"))
if not 0 <= harvest_fraction < 1:
    raise ParamsError(f"harvest_fraction: must be in [0, 1), got {harvest_fraction}")
if harvest_repeat < 1:
    raise ParamsError(f"harvest_repeat: must be at least 1, got {harvest_repeat}")
# the language model learns from the harvested words' labels: fail before any training
ocr_read.check_lm_weight(lm_weight, has_model=bool(words_csv) and harvest_fraction > 0, search=search)""")
)
cells.append(
    md("""## Characters from every source

Each source is normalised the same way the word reader normalises segmented
characters: cropped to the ink, longer side 24 px, centred on a white 32x32 square.
With MNIST-format digits the file is split by position: the first
`digits_train_fraction` trains, the rest is the digit test set, never trained on.""")
)
cells.append(
    code("""sources, digit_test = [], None
if digits == "sklearn":
    sources.append(data.sklearn_digits())
else:
    if not digits_images or not digits_labels:
        raise ParamsError("digits_images, digits_labels: both are needed when digits = idx")
    idx_set = data.idx_digits(digits_images, digits_labels)
    cut = int(len(idx_set) * digits_train_fraction)
    sources.append(idx_set.subset(np.arange(cut)))
    digit_test = idx_set.subset(np.arange(cut, len(idx_set)))
    if extra_sklearn_digits:
        sources.append(data.sklearn_digits())
if emnist_images:
    sources.append(data.emnist_chars(emnist_images, emnist_labels, emnist_mapping))
if az_csv:
    sources.append(data.az_csv_letters(az_csv, per_class=az_per_class, seed=seed))
if char_folder:
    sources.append(data.folder_chars(char_folder, cap=char_folder_cap, seed=seed))
sources.append(data.synthetic_chars(CLASSES[10:], synthetic_letters_per_class, seed=seed + 1))
sources.append(data.synthetic_chars(CLASSES[:10], synthetic_digits_per_class, seed=seed + 2))""")
)
cells.append(
    md("""## Labelled words: harvest letters from one part, read the other

When a labelled word set is given, its files are split by a hash of the file
name. Words of the harvest part whose segmentation agrees with the label (as
many boxes as letters, or a plausible cut into exactly that many pieces) give
labelled real letters; the evaluation part is only ever read, never trained on.""")
)
cells.append(
    code("""eval_items, harvest_stats = None, {}
if words_csv:
    from hwutils.datasets.words import load_word_labels, split_by_file
    records = load_word_labels(words_csv, words_dir or None)
    harvest_records, eval_items = split_by_file(records, harvest_fraction)
    if harvest_records:
        harvested, harvest_stats = data.harvest_word_letters(harvest_records)
        sources.append(harvested)
    if max_eval_words:
        eval_items = eval_items[:max_eval_words]
    print(f"{len(records)} labelled words: {len(harvest_records)} harvest, {len(eval_items)} evaluation; harvest {harvest_stats}")
chars = data.concat(*sources)
if len(chars) == 0:
    raise ParamsError("no training characters: give a digit source or synthetic_letters_per_class > 0")
by_source = data.class_sources(chars)
real = sorted({c for s, cl in by_source.items() if s != "synthetic" for c in cl}, key=CLASSES.index)
synthetic_only = sorted(set(by_source.get("synthetic", [])) - set(real), key=CLASSES.index)
for s, cl in by_source.items():
    print(f"{s:15s} {int(np.sum(chars.sources == s)):6d} samples  classes {''.join(cl)}")
print("classes with real samples:", "".join(real) or "none")
print("classes from synthetic data only:", "".join(synthetic_only) or "none")
missing = [c for c in CLASSES if c not in real + synthetic_only]
if missing:
    print("classes with no samples at all:", "".join(missing))""")
)
cells.append(
    code("""splits = data.split(chars, {"val": val_fraction, "test": test_fraction}, seed=seed)
train, val, test = splits["train"], splits["val"], splits["test"]
real_letters = np.flatnonzero(train.sources == "harvested")
if harvest_repeat > 1 and len(real_letters):  # weigh real letters over synthetic ones (training part only)
    train = data.concat(train, *[train.subset(real_letters)] * (harvest_repeat - 1))
print({k: len(v) for k, v in {"train": train, "val": val, "test": test}.items()})
rng = np.random.default_rng(seed)
show = rng.choice(len(train), min(40, len(train)), replace=False)
fig = plots.gallery(train.images[show], [f"{CLASSES[train.labels[i]]} {train.sources[i][:5]}" for i in show],
                    cols=10, suptitle="training characters (class, source)")
report.save_figure(fig, "training_characters")""")
)
cells.append(
    md("""## Training

Three blocks of paired 3x3 convolutions with batch normalisation, a dense head,
random shift, zoom, aspect, rotation, slant and stroke width of every training
character (stateless, seeded per element), the learning rate halved when the
validation accuracy stalls, early stopping with the best weights kept. With
`ensemble` > 1, that many classifiers are trained with seeds `seed`, `seed + 1`,
... and saved as one model averaging their softmax outputs (the curves show the
first).""")
)
cells.append(
    code("""t0 = time.perf_counter()
model, histories = ocr_model.fit_classifiers(
    train.images, train.labels, val.images, val.labels, members=ensemble, width=model_width, epochs=epochs,
    batch_size=batch_size, seed=seed, patience=patience, lr_patience=lr_patience, strategy=strategy)
train_seconds = time.perf_counter() - t0
history = histories[0]
print(f"trained {[len(h['loss']) for h in histories]} epochs in {train_seconds:.0f}s")
report.save_figure(plots.training_curves(history), "training_curves")""")
)
cells.append(
    md("""## Character accuracy

On the held-out character test split (all sources), and on the digit test set
when MNIST-format digits were given. Per-class accuracy, the confusion matrix
and the misclassified characters show where the errors are. With `tta`, each
character is scored as the mean softmax over it and its four 1-pixel shifts
(test-time augmentation; word reading does not use it).""")
)
cells.append(
    code("""scored = ocr_model.evaluate_chars(model, test, digit_test, tta=tta)
probs, pred, cm, per_class = scored["probs"], scored["pred"], scored["cm"], scored["per_class"]
result = {**scored["metrics"], "n_train_chars": len(train), "n_test_chars": len(test),
          "epochs_run": sum(len(h["loss"]) for h in histories), "ensemble": ensemble, "tta": tta,
          "train_seconds": train_seconds, "classes_real": "".join(real), "classes_synthetic_only": "".join(synthetic_only)}
if digit_test is not None:
    print(f"held-out IDX digits: {result['mnist_accuracy']:.4f} on {len(digit_test)}; "
          f"choosing among digit classes only: {result['mnist_accuracy_digit_classes']:.4f}")
print({k: round(v, 4) if isinstance(v, float) else v for k, v in result.items()})
report.save_figure(plots.bar({c: float(a) for c, a in zip(CLASSES, per_class) if np.isfinite(a)},
                             "per-class accuracy (test split)", ylim=(0, 1)), "per_class_accuracy")
report.save_figure(plots.confusion_matrix(cm, list(CLASSES)), "confusion_matrix")
print("most confused:", metrics.most_confused_pairs(cm, CLASSES, top=8))""")
)
cells.append(
    code("""wrong = np.flatnonzero(pred != test.labels)[:40]
if len(wrong):
    fig = plots.gallery(test.images[wrong], [f"{CLASSES[test.labels[i]]}->{CLASSES[pred[i]]} {probs[i].max():.2f}" for i in wrong],
                        cols=10, suptitle="misclassified test characters (true->predicted, confidence)")
    report.save_figure(fig, "misclassified")
else:
    print("no misclassified test characters")""")
)
cells.append(
    md("""## Reading words

The reader binarizes the word (a lower threshold keeps light pens whole), takes
connected components, keeps the handwritten line (printed form lines above and
below are off-centre or cut off by the border), merges the parts of one
character that sit above each other (dots, accents), drops specks and printed
field labels ending in a colon. Then *segmentation by recognition*: components
wider than a character are cut at every ink minimum, every run of up to three
consecutive pieces is a candidate character scored by the classifier, and a
dynamic programme picks the grouping with the best total score (cuts through
ink cost a little, so natural gaps are preferred; too-wide or gapped groups
are penalised). Broken strokes are rejoined and joined letters split this way.
`read_charset` limits the classes a reading may use (only A-Z for a names
field). With `lm_weight` > 0 a character bigram model of the harvested words'
labels (never of the words read here) joins the search: characters and
segmentation are chosen together, the classifier's log-probabilities plus
`lm_weight` times the model's, so a letter that looks like two (`U`/`V`, `I`/`L`)
is read as the one that fits its neighbours in the names seen. The words are also
read without it, for comparison. Without a labelled word set, words are
composed from the test characters.""")
)
cells.append(
    code("""model_dir = report.artifacts_dir()
language_model = (CharBigram.fit([r.label for r in harvest_records if ocr_read.label_kind(r.label) == "word"])
                  if lm_weight > 0 else None)
ocr_read.save_reader(model, model_dir, search={} if search else None, language_model=language_model,
                     lm_weight=lm_weight)
reader = ocr_read.load_reader(report.current_run_dir(), allowed=read_charset)  # saved model, loaded back
if language_model is not None:
    print(f"character bigram model of {language_model.n_words} harvested labels, weight {lm_weight}")
if eval_items is None:
    word_images, word_labels = data.compose_words(test, synthetic_eval_words, seed=seed)
    eval_items = list(zip(word_images, word_labels))
t0 = time.perf_counter()
word_metrics, word_rows = ocr_read.evaluate_words(reader, eval_items)
read_seconds = time.perf_counter() - t0
word_metrics["read_seconds"] = read_seconds
word_metrics["words_source"] = "labelled" if words_csv else "synthetic (composed from test characters)"
if language_model is not None:
    plain, _ = ocr_read.evaluate_words(reader.with_lm_weight(0), eval_items)
    word_metrics.update({f"{k}_without_lm": plain[k] for k in ("cer", "word_accuracy")})
print(word_metrics)
report.save_table(word_rows, "word_readings")
for r in word_rows[:15]:
    print(f"{r['label']!s:20s} -> {r['read']!s:20s} {r['kind']}")""")
)
cells.append(
    code("""from hwutils.images import as_gray
shown = [i for i, r in enumerate(word_rows) if r["kind"] in ("word", "empty")][:n_sample_words]
for k, i in enumerate(shown):
    image = eval_items[i][0] if not hasattr(eval_items[i], "path") else eval_items[i].path
    reading = reader.read_word(image)
    fig = plots.image_with_boxes(as_gray(image), reading.boxes, [c.char for c in reading.chars],
                                 title=f"label {word_rows[i]['label']!r}  read {reading.text!r}")
    report.save_figure(fig, f"word_{k:02d}", close=k >= 4)""")
)
cells.append(md("## Results"))
cells.append(
    code("""result.update({k: v for k, v in word_metrics.items()})
headline = ["char_accuracy", "cer", "word_accuracy"] + (["mnist_accuracy_digit_classes"] if "mnist_accuracy" in result else [])
report.save_metrics(result, headline=headline)
{k: result[k] for k in headline}""")
)
nb = nbf.v4.new_notebook(cells=cells)
nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
nb.metadata["language_info"] = {"name": "python"}
nbf.write(nb, Path(__file__).resolve().parent / "char_ocr.ipynb")
