"""Writes notebooks/signatures.ipynb (no outputs). Run: .venv/bin/python notebooks/build_signatures_notebook.py"""

from pathlib import Path

import nbformat
from nbformat.v4 import new_code_cell, new_markdown_cell, new_notebook

PARAMS = """\
seed: int = 0  # random seed for Python, NumPy and TensorFlow
strategy: str = "default"  # distribution strategy: default or mirrored
data_dir: str = ""  # signatures in the sign_data layout (or CEDAR, or a folder per person); empty: synthetic persons
layout: str = "auto"  # dataset layout: auto, sign_data or cedar
test_dir: str = ""  # a separate folder of OTHER persons (same layout) to measure on; empty: hold out test_persons
test_persons: int = 8  # persons of data_dir held out for the test when test_dir is empty
val_persons: int = 6  # persons of data_dir used for early stopping and threshold calibration
synth_persons: int = 40  # synthetic persons written when data_dir is empty
synth_genuine: int = 12  # genuine signatures per synthetic person
synth_forgeries: int = 8  # skilled forgeries per synthetic person
height: int = 64  # preprocessed signature height (pixels)
width: int = 128  # preprocessed signature width (pixels)
ink: str = "normalize"  # ink grey levels: normalize (pen darkness removed) or keep (as sigver)
embedding_dim: int = 128  # size of the signature embedding
base_filters: int = 32  # filters of the first conv block of the tower (doubled per block)
loss: str = "contrastive"  # contrastive (pairs) or triplet
margin: float = 1.0  # margin of the contrastive or triplet loss (embeddings have unit length)
pairs_per_person: int = 40  # genuine-genuine pairs per training person (as many negatives)
skilled_share: float = 0.5  # share of negatives that are skilled forgeries (the rest: other persons)
epochs: int = 10  # passes over the training pairs
batch_size: int = 32  # pairs per batch
learning_rate: float = 0.001  # Adam learning rate
patience: int = 3  # early-stopping patience (epochs without validation improvement)
augment_strength: float = 1.0  # scale of random shift/zoom/rotation (0: none; never flips)
n_references: int = 5  # genuine references per person in the evaluation
operating_point: str = "eer"  # threshold rule on validation persons: eer, or a rate target: far_skilled, far_random or frr, then an equals sign and the rate (README: operating_point)
reducer: str = "mean"  # mean or min distance over the references (decision: distance)
decision: str = "wd"  # wd (writer-dependent SVMs on the features, fused) or distance (to the references)
features: str = "cnn+hog+dir+geom"  # wd feature sets joined by +: cnn, signet, hog, dir, geom; pen-sensitive: pressure, glcm
wd_C: float = 1.0  # C of the per-person RBF SVMs (references vs other persons' signatures)
wd_shift: int = 3  # references shifted by this many pixels (4 ways) are extra positives for hog and dir (0: none)
wd_norm: float = 0.5  # share of each person's leave-one-out reference score subtracted (0: none, at most 1)
signet_epochs: int = 30  # epochs of the writer-classification CNN (trained only when features name signet)
signet_forgery_weight: float = 0.0  # weight of that CNN's genuine-vs-forgery head (0: writers only, SigNet; above 0: SigNet-F)
siamese_init: str = "scratch"  # Siamese tower start: scratch, or signet (the writer network's trunk, fine-tuned; trains that network)
finetune_learning_rate: float = 0.0003  # Adam learning rate of the Siamese training when siamese_init is signet
screening: bool = True  # train and evaluate the validity screener
screen_epochs: int = 8  # epochs of the screening autoencoder and classifier
screen_height: int = 64  # screener input height (multiple of 8)
screen_width: int = 128  # screener input width (multiple of 8)
screen_invalid: int = 300  # synthetic invalid images for screening (split 60/20/20)
"""

cells = [
    new_markdown_cell("""# Signatures: synthesis, validity screening and writer-independent verification

Given a few genuine reference signatures of a person, is a questioned
signature genuine or a forgery? This notebook

1. makes (or loads) signature data: synthetic persons drawn with Bezier strokes,
   written in the `sign_data` layout so real data uses the same loader;
2. preprocesses signatures the `sigver` way (Otsu, crop to ink, centre, invert, resize);
3. trains a Siamese CNN on distances with a contrastive (or triplet) loss, on
   persons split so the test persons are never seen;
4. scores a questioned signature against the K references of the claimed person, either
   by the embedding distance or (default) writer-dependently: per person, RBF SVMs on the
   CNN's pooled features, HOG, gradient-direction histograms, the global ink geometry and,
   if `features` names them, two pen-sensitive pseudo-dynamic sets (ink grey levels and
   stroke widths; grey-level co-occurrence), trained on the references (and shifted copies) against other persons' signatures, their
   scores fused;
5. calibrates the threshold on validation persons and reports EER
   (global and per-user thresholds), FRR and FAR for skilled and random forgeries;
6. trains a validity screener (autoencoder + IsolationForest + CNN classifier)
   that tells signatures from scribbles and shapes."""),
    new_code_cell(PARAMS, metadata={"tags": ["parameters"]}),
    new_code_cell("""import time
from pathlib import Path

import numpy as np

from hwutils import augment, metrics, plots, report, repro, training
from hwutils.datasets.sign_data import GENUINE, persons, select
from hwutils.errors import check_choice, check_unit_interval
from hwutils.images import read_gray
from hwutils.signatures import data, siamese, verify, writer_net
from hwutils.signatures import writer_dependent as wd
from hwutils.signatures.screening import Screener
from hwutils.synth import invalid as invalid_synth
from hwutils.synth import signatures as sig_synth

repro.seed_everything(seed)
strategy_obj = training.get_strategy(strategy)
verify.parse_operating_point(operating_point)  # fail on a bad threshold rule before any training
check_choice("decision", decision, verify.DECISIONS)
writer_net.check_siamese_init(siamese_init)
if decision == "wd":  # fail on a bad feature list or norm before any training
    wd.parse_features(features)
    check_unit_interval("wd_norm", wd_norm)
    check_unit_interval("signet_forgery_weight", signet_forgery_weight)
t_start = time.perf_counter()"""),
    new_markdown_cell("""## Data
Without `data_dir` we write synthetic persons into the run's artifacts: each person
has a name-like Bezier template; genuine signatures are that template by the person's
own hand, skilled forgeries the same template copied by another hand."""),
    new_code_cell("""if data_dir:
    root = Path(data_dir)
else:
    root = sig_synth.write_dataset(report.artifacts_dir("synthetic_signatures"), n_persons=synth_persons,
                                   n_genuine=synth_genuine, n_forgeries=synth_forgeries, seed=seed)
records = data.load_records(root, layout)
test_records = data.load_records(test_dir, layout) if test_dir else None
print(root, data.summary(records))"""),
    new_code_cell("""some = persons(records)[:3]
show = [r for p in some for r in (select(records, [p])[:3] + [x for x in select(records, [p]) if x.kind != GENUINE][:2])]
fig = plots.gallery([read_gray(r.path) for r in show], [f"{r.person} {r.kind}" for r in show], cols=5, size=2.2)
report.save_figure(fig, "signatures_genuine_and_skilled")"""),
    new_markdown_cell("""## Augmentations and invalid images
The seed's augmentations (grid distortion at four strengths, multiplicative noise with
motion and median blur, optical and elastic distortion) and the generator of
non-signatures used by the screener."""),
    new_code_cell("""sample = read_gray(records[0].path)
named = augment.signature_augmentations()
aug = [sample] + [augment.apply(t, [sample], seed=seed + i)[0] for i, t in enumerate(named.values())]
report.save_figure(plots.gallery(aug, ["original", *named], cols=4, size=2.4), "augmentations")
inv, kinds = invalid_synth.make_invalid_set(12, seed=seed)
report.save_figure(plots.gallery(inv, kinds, cols=6, size=1.8), "invalid_examples")"""),
    new_markdown_cell("""## Split by person and preprocess
Training, validation and test persons are disjoint. The validation persons stop
training early and calibrate the threshold; the test persons (held out, or a separate
`test_dir`) are only measured."""),
    new_code_cell("""split = data.split_for_verification(records, val_persons, test_persons, seed, test_records)
dev = select(records, split["train"] + split["val"])
scan_sets = wd.scan_names(features) if decision == "wd" else []  # measured on each scan as it is read
X, scan = data.load_images_with_scan(dev, height, width, ink, scan_sets)
X_test, scan_test = data.load_images_with_scan(split["test_records"], height, width, ink, scan_sets)
print({k: len(split[k]) for k in ("train", "val", "test")}, "test persons:", split["test"])
report.write_json_atomic(report.artifact_path("split.json"), {k: split[k] for k in ("train", "val", "test")})
if split["id_overlap"]:
    print("note: test_dir reuses person ids of data_dir:", split["id_overlap"])
report.save_figure(plots.gallery(list(X[:10]), [f"{r.person} {r.kind}" for r in dev[:10]], cols=5, size=2.0),
                   "preprocessed")"""),
    new_markdown_cell("""## Writer-classification features (`signet`)
When `features` names `signet` (or `siamese_init` is `signet`), a CNN of the Siamese tower's architecture learns to tell
the *training* persons apart (softmax over them, genuine signatures only: Hafemann et
al.'s SigNet) and, with weight `signet_forgery_weight` > 0, their genuine signatures from
their skilled forgeries (SigNet-F). Its pooled conv features become one more writer-independent
set for the per-person SVMs; the persons measured are never among its classes."""),
    new_code_cell("""signet, signet_seconds = None, 0.0
if siamese_init == "signet" or (decision == "wd" and "signet" in wd.parse_features(features)):
    t0 = time.perf_counter()
    with strategy_obj.scope():
        net = writer_net.train_writer_net(X, dev, split["train"], forgery_weight=signet_forgery_weight,
                                          epochs=signet_epochs, batch_size=batch_size, learning_rate=learning_rate,
                                          augment_strength=augment_strength, base_filters=base_filters, seed=seed)
    signet, signet_seconds = net["features"], time.perf_counter() - t0
    print(f"writer network: {net['n_writers']} persons, {net['n_train']} signatures, {signet_seconds:.0f}s")"""),
    new_markdown_cell("""## Siamese training
Pairs per training person: genuine-genuine (label 1) against as many negatives,
half genuine-skilled forgery and half genuine-other person. The loss acts on the
Euclidean distance between unit-length embeddings; no sigmoid, no flips. With
`siamese_init: signet` the tower starts from the writer network's trunk and is
fine-tuned at `finetune_learning_rate` (SigNet features adapted to the pair task);
otherwise it starts from random weights. Each network here (writer network, tower,
screener) is seeded from `seed` and its own name, so switching one off or reordering
cells leaves the others' random start unchanged."""),
    new_code_cell("""repro.seed_model(seed, "siamese_tower")  # its start does not depend on which models trained before
with strategy_obj.scope():
    tower = siamese.build_tower(height, width, embedding_dim, base_filters)
    if siamese_init == "signet":
        writer_net.warm_start_tower(tower, signet)
t0 = time.perf_counter()
fit = siamese.train(tower, X, dev, split["train"], split["val"], loss=loss, margin=margin,
                    pairs_per_person=pairs_per_person, skilled_share=skilled_share, epochs=epochs,
                    batch_size=batch_size, patience=patience,
                    learning_rate=finetune_learning_rate if siamese_init == "signet" else learning_rate,
                    augment_strength=augment_strength, seed=seed, strategy=strategy_obj)
train_seconds = time.perf_counter() - t0
print(f"{fit['n_train']} training pairs, {train_seconds:.0f}s")
report.save_figure(plots.training_curves(fit["history"]), "training_curves")"""),
    new_markdown_cell("""## Scores against K references
Each validation and test person gets `n_references` genuine references; the rest of
their genuine signatures, their skilled forgeries and one signature of each other
person (random forgery) are questioned. The writer-*independent* score is the mean
embedding distance to the references. The writer-*dependent* score (`decision: wd`,
the sigver protocol) trains, per claimed person, an RBF SVM on the references against
genuine signatures of the training persons, once per feature set: the CNN's pooled conv
features (the layer before the embedding; and the writer network's, `signet`), HOG and signed gradient-direction histograms of
the preprocessed image (with the references shifted by `wd_shift` pixels as extra
positives), and three sets measured on the scan before cropping: the global ink geometry
(`geom`: box size, aspect, ink area and density, stroke width, components, centroid,
spread, slant), pseudo-dynamic "pressure" measures (`pressure`: histograms of ink grey
levels, with the pen's darkness normalised away, and of stroke widths; the share of
high-pressure ink; edge sharpness) and the grey-level co-occurrence of neighbouring ink
pixels (`glcm`). A forger copying a shape slowly presses and moves differently, which
these last two see; they also see a different pen, so they are off by default (on in
`sign_data.yaml`, where forgers mostly used darker pens: see the README). Each person's scores are lowered by `wd_norm` times the mean
leave-one-out score of their own references, so persons with variable signatures are
not all rejected by one global threshold. The decision values are divided by their spread
on validation trials and summed."""),
    new_code_cell("""emb, emb_test = siamese.embed(tower, X), siamese.embed(tower, X_test)
val_protocol = verify.make_trials(dev, split["val"], n_references, seed)
test_protocol = verify.make_trials(split["test_records"], split["test"], n_references, seed)
dist_val = verify.score_trials(emb, val_protocol, reducer)
dist_test = verify.score_trials(emb_test, test_protocol, reducer)
dist_eval = verify.evaluate(dist_test, verify.calibrate_threshold(dist_val))
if decision == "wd":
    train_set = set(split["train"])
    neg_idx = [i for i, r in enumerate(dev) if r.person in train_set and r.kind == GENUINE]
    fitted = verify.fit_writer_dependent(tower, X, scan, neg_idx, val_protocol, X_test, scan_test, test_protocol,
                                         features, wd_C, wd_shift, wd_norm, signet)
    val_scores, test_scores = fitted["val_scores"], fitted["test_scores"]
    negatives, scales = fitted["negatives"], fitted["scales"]
    for row in fitted["ablation"]:  # each feature set alone, and the fusion without it, for comparison
        line = f"wd {row['set']:8s} alone: EER skilled val {row['alone_val']:.3f} test {row['alone_test']:.3f}"
        if len(fitted["ablation"]) > 1:
            line += f"; fusion without it: val {row['without_val']:.3f} test {row['without_test']:.3f}"
        print(line)
else:  # distance
    negatives, scales = {}, {}
    val_scores, test_scores = dist_val, dist_test
print(f"distance to references: test EER skilled {dist_eval.get('eer_skilled', float('nan')):.3f}")"""),
    new_markdown_cell("""## Threshold on validation persons
By default the threshold is the score at the validation EER (genuine vs skilled).
`operating_point` picks another point on the validation persons' curve: at most a
given FAR on skilled (`far_skilled=0.05`) or random forgeries, or at most a given FRR
(`frr=0.02`). The test persons never influence it."""),
    new_code_cell("""threshold = verify.calibrate_threshold(val_scores, operating_point)
val_eval = verify.evaluate(val_scores, threshold)
print(f"threshold {threshold:.4f} ({operating_point}); validation EER skilled {val_eval.get('eer_skilled', float('nan')):.3f}; "
      f"at the threshold FRR {val_eval['frr']:.3f}, FAR skilled {val_eval['far_skilled']:.3f}, FAR random {val_eval['far_random']:.3f}")"""),
    new_markdown_cell("""## Test persons, never seen
Global-threshold EER and per-user EER, and FRR / FAR (skilled, random) at the
validation threshold."""),
    new_code_cell("""test_eval = verify.evaluate(test_scores, threshold)
for k, v in test_eval.items():
    print(f"{k:24s} {v:.4f}" if isinstance(v, float) else f"{k:24s} {v}")
t = test_scores["type"]
series = {neg: ((t[(t == "genuine") | (t == neg)] == "genuine"), -test_scores["distance"][(t == "genuine") | (t == neg)])
          for neg in ("skilled", "random") if np.any(t == neg)}
report.save_figure(plots.roc_det(None, None, title="(test persons)", series=series), "roc_det")
groups = {k: test_scores["distance"][t == k] for k in ("genuine", "skilled", "random")}
xlabel = (f"{reducer} distance to {n_references} references" if decision == "distance"
          else f"minus fused writer-dependent score ({n_references} references)")
report.save_figure(plots.score_histograms(groups, threshold, xlabel=xlabel), "score_histograms")
report.save_table(verify.per_user_table(test_scores, threshold), "per_user_test")"""),
    new_markdown_cell("""## Save the verifier and use the public API
`load_verifier(run_dir)` reads `artifacts/verifier/`; `verify(references, questioned)`
returns the decision, the score, the threshold and details. `enroll(references)` fits
the person's decision once; its `verify(questioned)` then checks many signatures."""),
    new_code_cell("""verifier = verify.Verifier(tower, threshold, height, width, reducer, ink, decision, features, negatives, scales, wd_C,
                           wd_shift, wd_norm, signet)
verifier.save(report.artifacts_dir(verify.VERIFIER_DIR))
loaded = verify.load_verifier(report.current_run_dir())
p0 = split["test"][0]
refs = [split["test_records"][i].path for i in test_protocol["references"][p0]]
questioned = [r for r in select(split["test_records"], [p0]) if r.path not in refs]
t0 = time.perf_counter()
results = [loaded.verify(refs, q.path) for q in questioned]
latency_ms = (time.perf_counter() - t0) / max(1, len(results)) * 1000
t0 = time.perf_counter()
person = loaded.enroll(refs)  # fit the person's decision once, then check many signatures
enrol_ms = (time.perf_counter() - t0) * 1000
t0 = time.perf_counter()
enrolled_results = [person.verify(q.path) for q in questioned]
enrolled_ms = (time.perf_counter() - t0) / max(1, len(enrolled_results)) * 1000
assert all(abs(a["score"] - b["score"]) < 1e-6 for a, b in zip(results, enrolled_results))
for q, res in list(zip(questioned, results))[:6]:
    print(f"{q.path.name:24s} {q.kind:8s} -> {res['decision']:8s} score {res['score']:.3f} (threshold {res['threshold']:.3f})")
print(f"{latency_ms:.0f} ms per verification against {len(refs)} references (includes preprocessing); "
      f"enrolled once ({enrol_ms:.0f} ms): {enrolled_ms:.0f} ms per questioned signature")"""),
    new_markdown_cell("""## Validity screening
Valid = signatures of training persons (train), validation persons (threshold
choice) and test persons (measurement); invalid = generated lines, shapes,
text-like strokes, waves, circles and composites, split 60/20/20. Every threshold
is chosen on the validation split."""),
    new_code_cell("""screen_eval = {}
if screening:
    scr = Screener(screen_height, screen_width, seed=seed)
    def prep(recs):
        return scr.prepare([r.path for r in recs])
    inv_imgs, _ = invalid_synth.make_invalid_set(screen_invalid, seed=seed + 7)
    inv = scr.prepare(inv_imgs)
    rng = np.random.default_rng(seed)
    order = rng.permutation(len(inv))
    a, b = int(0.6 * len(inv)), int(0.8 * len(inv))
    with strategy_obj.scope():
        scr.fit(prep(select(dev, split["train"])), inv[order[:a]], prep(select(dev, split["val"])), inv[order[a:b]],
                epochs=screen_epochs, batch_size=batch_size)
    screen_eval = scr.evaluate(prep(split["test_records"]), inv[order[b:]])
    for k, v in screen_eval.items():
        print(f"{k:17s} precision {v['precision']:.3f} recall {v['recall']:.3f} F1 {v['f1']:.3f}")
    report.save_figure(plots.confusion_matrix(np.array(screen_eval["combined"]["confusion"]), ["invalid", "valid"],
                                              normalize=False, title="Screening (combined), test"), "screening_confusion")
    scr.save(report.artifacts_dir("screener"))
    reloaded = Screener.load(report.current_run_dir())
    print("reloaded screener on one test signature:", reloaded.check(split["test_records"][0].path)["valid"])"""),
    new_markdown_cell("## Metrics"),
    new_code_cell("""m = {f"test_{k}": v for k, v in test_eval.items()}
m.update({f"val_{k}": v for k, v in val_eval.items() if k.startswith(("eer", "frr", "far"))})
m.update({f"test_distance_{k}": v for k, v in dist_eval.items() if k.startswith("eer")})
m.update({"decision": decision, "features": features if decision == "wd" else "cnn", "operating_point": operating_point})
m.update({"train_seconds": train_seconds, "train_pairs": fit["n_train"], "verify_latency_ms": latency_ms, "signet_seconds": signet_seconds,
          "enrol_ms": enrol_ms, "verify_enrolled_ms": enrolled_ms,
          "n_references": n_references, "test_persons_ids": ",".join(split["test"]),
          "data": str(data_dir or "synthetic"), "total_seconds": time.perf_counter() - t_start})
for k, v in screen_eval.items():
    m.update({f"screen_{k}_{x}": v[x] for x in ("precision", "recall", "f1")})
report.save_metrics(m, headline=["test_eer_skilled", "test_eer_skilled_per_user", "test_far_random",
                                 "screen_combined_f1"])"""),
]

nb = new_notebook(
    cells=cells,
    metadata={
        "kernelspec": {"name": "python3", "display_name": "Python 3", "language": "python"},
        "language_info": {"name": "python"},
    },
)
out = Path(__file__).with_name("signatures.ipynb")
nbformat.write(nb, out)
print("wrote", out)
