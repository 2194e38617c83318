"""Reading speed of the char_ocr readers: characters per second (classifier
alone, batched) and words per second (segmentation + classification), with
segmentation by recognition and, as the baseline, from geometry alone; and
words per second of the segmentation-free CTC reader (strip, CRNN, beam
search with the run's language model, batched) and of the combined reader
(both readers' candidate strings scored by both models). For a run that
reads form fields (``form_labels``, :mod:`hwutils.ocr.form`) each reader is
also timed as ``hw read`` uses it, passing over printed labels and code lines,
beside its plain reading in the same run.

    python benchmarks/bench_char_ocr.py [RUN_DIR]

With a run folder its trained models are timed; without one (or a run
without a CTC or combined reader) untrained models of the default size (same cost; the
combined reader at weight 0.5). Words: the labelled names in
``$HW_DATA/names`` when present, else synthetic words. Results are printed
and saved to ``benchmarks/results/char_ocr.json``.
"""

from __future__ import annotations

import json
import os
import sys
import time
from pathlib import Path

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))


from hwutils.errors import HwError  # noqa: E402
from hwutils.ocr import data as D  # noqa: E402
from hwutils.ocr import read as R  # noqa: E402
from hwutils.ocr.ctc import build_crnn  # noqa: E402
from hwutils.ocr.model import build_classifier, predict_probs  # noqa: E402
from hwutils.ocr.segment import segment_word  # noqa: E402


def best_of(fn, repeats=3):
    times = []
    for _ in range(repeats):
        t = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t)
    return min(times)


def main(argv):
    reader = R.load_reader(argv[0]) if argv else R.Reader(build_classifier())
    chars = D.synthetic_chars(D.CLASSES, 30, seed=0).images  # 1080 characters
    predict_probs(reader.model, chars[:64])  # warm up
    t_chars = best_of(lambda: predict_probs(reader.model, chars))
    data = os.environ.get("HW_DATA")
    if data and (Path(data) / "names/labels.csv").is_file():
        from hwutils.datasets.words import load_word_labels
        from hwutils.images import read_gray

        words = [read_gray(r.path) for r in load_word_labels(Path(data) / "names/labels.csv", limit=200)]
        source = "HW_DATA/names (first 200)"
    else:
        words, _ = D.compose_words(D.synthetic_chars(D.CLASSES, 5, seed=1), 200, seed=0)
        source = "synthetic words (200)"
    t_seg = best_of(lambda: [segment_word(w) for w in words], repeats=2)
    t_one = best_of(lambda: [reader.read_word(w) for w in words[:50]], repeats=2)
    t_batch = best_of(lambda: reader.read_words(words), repeats=2)
    geometry = R.Reader(reader.model, allowed="", search=False)  # baseline: segmentation from geometry alone
    t_geometry = best_of(lambda: geometry.read_words(words), repeats=2)
    t_no_lm = None
    if reader.lm_weight > 0:  # the same search without the run's character language model
        plain = reader.with_lm_weight(0)
        t_no_lm = best_of(lambda: plain.read_words(words), repeats=2)
    n_chars_in_words = sum(len(r.chars) for r in reader.read_words(words))
    try:
        ctc_reader = R.load_ctc_reader(argv[0]) if argv else None
    except HwError:
        ctc_reader = None
    ctc_source = argv[0] if ctc_reader is not None else "untrained, default size"
    ctc_reader = ctc_reader or R.CTCReader(build_crnn())
    ctc_reader.read_words(words[:16])  # warm up
    t_ctc = best_of(lambda: ctc_reader.read_words(words), repeats=2)
    t_ctc_one = best_of(lambda: [ctc_reader.read_word(w) for w in words[:50]], repeats=2)
    try:
        combined = R.load_combined_reader(argv[0]) if argv else None
    except HwError:
        combined = None
    combined_source = argv[0] if combined is not None else "untrained readers, weight 0.5"
    combined = combined or R.CombinedReader(reader, ctc_reader, 0.5)
    combined.read_words(words[:16])  # warm up
    t_combined = best_of(lambda: combined.read_words(words), repeats=2)
    t_combined_one = best_of(lambda: [combined.read_word(w) for w in words[:50]], repeats=2)
    as_fields = {}
    if argv:
        from hwutils.ocr.form import FieldReader

        for name in R.READERS:
            try:
                _, field_reader = R.load_any_reader(argv[0], name)
            except HwError:
                continue
            if isinstance(field_reader, FieldReader):
                field_reader.read_words(words[:16])  # warm up
                t_field = best_of(lambda r=field_reader: r.read_words(words), repeats=2)
                as_fields[f"{name}_as_form_fields_words_per_s"] = len(words) / t_field
    result = {
        "model": argv[0] if argv else "untrained, default size",
        "classifier_chars_per_s": len(chars) / t_chars,
        "words": source,
        "segmentation_words_per_s": len(words) / t_seg,
        "read_word_words_per_s": 50 / t_one,
        "read_words_batched_words_per_s": len(words) / t_batch,
        "read_words_batched_chars_per_s": n_chars_in_words / t_batch,
        "read_words_geometry_only_words_per_s": len(words) / t_geometry,
        "language_model_weight": reader.lm_weight,
        "read_words_batched_without_lm_words_per_s": None if t_no_lm is None else len(words) / t_no_lm,
        "ctc_model": ctc_source,
        "ctc_language_model_weight": ctc_reader.lm_weight,
        "ctc_beam_width": ctc_reader.beam_width,
        "ctc_read_words_batched_words_per_s": len(words) / t_ctc,
        "ctc_read_word_words_per_s": 50 / t_ctc_one,
        "combined_model": combined_source,
        "combined_weight": combined.weight,
        "combined_read_words_batched_words_per_s": len(words) / t_combined,
        "combined_read_word_words_per_s": 50 / t_combined_one,
        **as_fields,
        "load_average_1min_at_end": os.getloadavg()[0],
        "cpu_count": os.cpu_count(),
        "note": "wall-clock, best of repeats; the machine may be shared",
    }
    for k, v in result.items():
        print(f"{k:40s} {v:.1f}" if isinstance(v, float) else f"{k:40s} {v}")
    out = ROOT / "benchmarks/results/char_ocr.json"
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(result, indent=2) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
