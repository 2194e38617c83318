"""What a signatures run found, in the words and tables of its report.

The notebook calls these instead of printing numbers: the headline results
against their yardsticks (:func:`results`), what the run looked at
(:func:`data_record`), short sentences and Markdown tables, and the groups of
the final metrics table. Nothing is displayed here.
"""

from __future__ import annotations

from hwutils import report
from hwutils.calibration import CALIBRATION_LOSS_GOAL, calibration_loss_result, cllr_result
from hwutils.report import markdown_table, pct
from hwutils.signatures.screening import all_valid_f1

EER_GOAL = 0.05  # skilled-forgery EER with one global threshold, unseen persons (issue 27)
OPERATING_POINT_RATIO = 1.5  # FAR and FRR at the calibration threshold, at most this times the test EER
SHIFTED_RATIO = 2.0  # the same on a collection the run never saw
MISLEADING_GOAL = 0.02  # RMEP and RMED of the LRs, at most (issue 26)

GROUPS = {
    "verification, test persons": [
        "test_eer_skilled",
        "test_eer_skilled_per_user",
        "test_eer_random",
        "test_eer_random_per_user",
        "test_auroc_skilled",
        "test_auroc_random",
        "test_frr",
        "test_far_skilled",
        "test_far_random",
        "test_threshold",
        "test_n_persons",
        "test_n_genuine",
        "test_n_skilled",
        "test_n_random",
        "test_far_skilled_over_eer",
        "test_frr_over_eer",
    ],
    "the test persons re-rendered as another collection, same threshold": [
        "shifted_eer_skilled",
        "shifted_eer_skilled_per_user",
        "shifted_frr",
        "shifted_far_skilled",
        "shifted_far_random",
        "shifted_far_skilled_over_eer",
        "shifted_frr_over_eer",
        "shifted_lr_cllr",
        "shifted_lr_cllr_min",
        "shifted_lr_calibration_loss",
        "shifted_lr_rmep",
        "shifted_lr_rmed",
    ],
    "image conditions (hw verify warns outside the development scans' ranges)": [
        "test_conditions_refs_flagged",
        "test_conditions_questioned_flagged",
        "shifted_conditions_refs_flagged",
        "shifted_conditions_questioned_flagged",
    ],
    "likelihood ratios, test persons (genuine vs skilled forgery)": [
        "lr_cllr",
        "lr_cllr_min",
        "lr_calibration_loss",
        "lr_rmep",
        "lr_rmed",
        "lr_max_forgery_log10",
        "lr_min_genuine_log10",
        "lr_n_genuine",
        "lr_n_forgery",
        "lr_log10_lower",
        "lr_log10_upper",
    ],
    "the distance rule, same run": [
        "test_distance_eer_skilled",
        "test_distance_eer_skilled_per_user",
        "test_distance_eer_random",
        "test_distance_eer_random_per_user",
    ],
    "validation persons": [
        "val_eer_skilled",
        "val_eer_skilled_per_user",
        "val_eer_random",
        "val_eer_random_per_user",
        "val_frr",
        "val_far_skilled",
        "val_far_random",
    ],
    "calibration persons (out of fold; they fix the threshold and the LRs)": [
        "cal_persons",
        "cal_eer_skilled",
        "cal_eer_skilled_per_user",
        "cal_frr",
        "cal_far_skilled",
    ],
    "screening, test images": [
        "screen_combined_f1",
        "screen_all_valid_f1",
        "screen_combined_balanced_accuracy",
        "screen_combined_invalid_pass_rate",
        "screen_combined_precision",
        "screen_combined_recall",
        "screen_rule",
        "screen_classifier_f1",
        "screen_autoencoder_f1",
        "screen_isolation_forest_f1",
    ],
    "set-up": [
        "decision",
        "features",
        "wd_norm",
        "wd_spread",
        "wd_folds",
        "wd_weights",
        "operating_point",
        "n_references",
        "data",
        "test_persons_ids",
    ],
    "time": [
        "train_seconds",
        "train_pairs",
        "signet_seconds",
        "verify_latency_ms",
        "enrol_ms",
        "verify_enrolled_ms",
        "total_seconds",
    ],
}

NAMES = {
    "verify_latency_ms": "verification latency (ms)",
    "enrol_ms": "enrolment of one person (ms)",
    "verify_enrolled_ms": "verification once enrolled (ms)",
    "screen_all_valid_f1": "screen F1 of calling everything valid",
    "lr_cllr": "Cllr",
    "lr_cllr_min": "Cllr_min",
    "lr_calibration_loss": "calibration loss (Cllr - Cllr_min)",
    "lr_n_genuine": "genuine trials",
    "lr_n_forgery": "skilled-forgery trials",
    "lr_log10_lower": "lowest log10 LR (ELUB bound)",
    "lr_log10_upper": "highest log10 LR (ELUB bound)",
    "lr_rmep": "genuine trials with LR < 1 (RMEP)",
    "lr_rmed": "skilled-forgery trials with LR > 1 (RMED)",
    "lr_max_forgery_log10": "largest log10 LR of a skilled forgery",
    "lr_min_genuine_log10": "smallest log10 LR of a genuine signature",
    "test_far_skilled_over_eer": "FAR skilled at the threshold / EER",
    "test_frr_over_eer": "FRR at the threshold / EER",
    "shifted_far_skilled_over_eer": "other collection: FAR skilled at the threshold / its EER",
    "shifted_frr_over_eer": "other collection: FRR at the threshold / its EER",
}

DETECTOR_NAMES = {
    "autoencoder": "autoencoder (reconstruction error)",
    "isolation_forest": "IsolationForest (latent codes)",
    "classifier": "CNN classifier",
    "combined": "combined decision",
}


# ------------------------------------------------------------------- data
def data_record(data_dir: str, root, counts: dict, split: dict, test_dir: str = "") -> dict:
    """The keyword arguments of :func:`hwutils.report.record_data`: which
    signatures, where, and the counts (``counts`` from
    :func:`hwutils.signatures.data.summary`) with the persons of each side."""
    description = (
        f"signatures in {data_dir}"
        if data_dir
        else "synthetic signatures (Bezier persons, generated in the run)"
    )
    if test_dir:
        description += f"; test persons from {test_dir}"
    return {
        "description": description,
        "location": str(root) if data_dir else None,
        "persons": counts["persons"],
        "genuine_signatures": counts["genuine"],
        "skilled_forgeries": counts["skilled"],
        "train_persons": len(split["train"]),
        "val_persons": len(split["val"]),
        "test_persons": len(split["test"]),
    }


def data_sentence(counts: dict) -> str:
    return (
        f"{counts['persons']:,} persons, {counts['genuine']:,} genuine signatures and"
        f" {counts['skilled']:,} skilled forgeries."
    )


def split_sentence(split: dict, n_dev: int, n_test: int) -> str:
    text = (
        f"Persons: {len(split['train'])} for training, {len(split['val'])} for validation (early stopping and"
        f" the threshold), {len(split['test'])} for the test ({', '.join(map(str, split['test']))});"
        f" {n_dev:,} training and validation images, {n_test:,} test images."
    )
    if split.get("id_overlap"):
        text += (
            f" Note: `test_dir` reuses person ids of `data_dir`: {', '.join(map(str, split['id_overlap']))}."
        )
    return text


# ------------------------------------------------------------------- verification
def ablation_table(rows: list[dict]) -> str:
    """Each writer-dependent feature set alone, and the fusion without it
    (skilled-forgery EER on validation and test persons), as Markdown."""
    several = len(rows) > 1
    out = []
    for r in rows:
        row = {"set": r["set"], "val": pct(r["alone_val"]), "test": pct(r["alone_test"])}
        if several:
            row |= {"wval": pct(r["without_val"]), "wtest": pct(r["without_test"])}
        out.append(row)
    cols = {"set": "feature set", "val": "alone: calibration EER", "test": "alone: test EER"}
    if several:
        cols |= {"wval": "fusion without it: calibration", "wtest": "fusion without it: test"}
    return markdown_table(out, cols)


def weights_sentence(weights: dict, how: str, learned: dict | None = None) -> str:
    """The fusion weights of the feature sets, in words (``learned``: the weights
    learned on the calibration trials, said beside equal ones)."""

    def listed(w):
        return ", ".join(f"{k} {v:.2f}" for k, v in w.items())

    if how == "learned":
        return (
            "Fusion weights of the feature sets, learned on the calibration trials (genuine vs skilled"
            f" forgeries, mean 1): {listed(weights)}."
        )
    text = "Fusion weights of the feature sets: equal, each set divided by its spread."
    if learned:
        text += (
            f" Learned on the calibration trials they would be {listed(learned)} (scored below, same run)."
        )
    return text


def threshold_sentence(
    threshold: float, operating_point: str, val_eval: dict, cal_eval: dict | None = None, cal_persons: int = 0
) -> str:
    """Where the threshold was fixed and the figures there: on the validation
    persons, or (``cal_eval``) on ``cal_persons`` development persons' out-of-fold scores."""
    if cal_eval is None or cal_eval is val_eval:
        return (
            f"Threshold {threshold:.4f} (`{operating_point}` on the validation persons). On them: skilled-forgery EER"
            f" {pct(val_eval.get('eer_skilled'))}; at the threshold FRR {pct(val_eval.get('frr'))}, FAR on skilled"
            f" forgeries {pct(val_eval.get('far_skilled'))}, on random forgeries {pct(val_eval.get('far_random'))}."
        )
    return (
        f"Threshold {threshold:.4f} (`{operating_point}` on the out-of-fold scores of all {cal_persons} development"
        f" persons, training and validation: each scored by SVMs whose negatives are other folds' persons). On them:"
        f" skilled-forgery EER {pct(cal_eval.get('eer_skilled'))}; at the threshold FRR {pct(cal_eval.get('frr'))},"
        f" FAR on skilled forgeries {pct(cal_eval.get('far_skilled'))}. The validation persons alone at the same"
        f" threshold: EER {pct(val_eval.get('eer_skilled'))}, FRR {pct(val_eval.get('frr'))}, FAR skilled"
        f" {pct(val_eval.get('far_skilled'))}."
    )


def test_table(test_eval: dict, dist_eval: dict, decision: str) -> str:
    """The test persons' figures of the decision used and of the distance rule, as Markdown."""
    name = "writer-dependent (wd)" if decision == "wd" else "distance rule"
    rows = [
        {"what": "EER, genuine vs skilled (global threshold)", "k": "eer_skilled"},
        {"what": "EER, genuine vs skilled (per-user threshold)", "k": "eer_skilled_per_user"},
        {"what": "EER, genuine vs random (global threshold)", "k": "eer_random"},
        {"what": "EER, genuine vs random (per-user threshold)", "k": "eer_random_per_user"},
        {"what": "FRR at the calibration threshold", "k": "frr"},
        {"what": "FAR skilled at the calibration threshold", "k": "far_skilled"},
        {"what": "FAR random at the calibration threshold", "k": "far_random"},
    ]
    for r in rows:
        r["v"] = pct(test_eval.get(r["k"]))
        r["d"] = pct(dist_eval.get(r["k"])) if decision == "wd" and r["k"].startswith("eer") else ""
    cols = {"what": "test persons", "v": name}
    if decision == "wd":
        cols["d"] = "distance rule"
    return markdown_table(rows, cols)


def normalisation_table(rows: list[dict]) -> str:
    """:func:`verify.compare_normalisations` rows as Markdown (the run's own marked)."""
    shifted = any("shifted_far_skilled" in r for r in rows)
    out = []
    for r in rows:
        row = {
            "n": r["normalisation"] + (" **(used)**" if r.get("used") else ""),
            "v": pct(r["val_eer_skilled"]),
            "e": f"{pct(r['eer_skilled'])} / {pct(r['eer_skilled_per_user'])}",
            "op": f"{pct(r['frr'])} / {pct(r['far_skilled'])}",
        }
        if shifted:
            row["s"] = (
                f"{pct(r['shifted_eer_skilled'])} / {pct(r['shifted_frr'])} / {pct(r['shifted_far_skilled'])}"
            )
        out.append(row)
    cols = {
        "n": "score",
        "v": "calibration EER",
        "e": "test EER skilled (global / per person)",
        "op": "test FRR / FAR skilled at the calibration threshold",
    }
    if shifted:
        cols["s"] = "other collection: EER / FRR / FAR skilled, same threshold"
    return markdown_table(out, cols)


def _ratio(rate, eer) -> float:
    """``rate / eer`` (NaN when either is missing or the EER is 0)."""
    try:
        rate, eer = float(rate), float(eer)
    except (TypeError, ValueError):
        return float("nan")
    return rate / eer if eer > 0 else float("nan")


def operating_point_ratios(test_eval: dict, shifted_eval: dict | None = None) -> dict:
    """FAR skilled and FRR at the calibration threshold over the skilled EER of
    the same trials, on the test persons and (when measured) on the other
    collection: ``test_far_skilled_over_eer`` ... (1 = the threshold sits at
    their EER; goals: at most 1.5 and 2)."""
    out = {}
    for prefix, ev in (("test", test_eval), ("shifted", shifted_eval or {})):
        if "eer_skilled" not in ev:
            continue
        out[f"{prefix}_far_skilled_over_eer"] = _ratio(ev.get("far_skilled"), ev["eer_skilled"])
        out[f"{prefix}_frr_over_eer"] = _ratio(ev.get("frr"), ev["eer_skilled"])
    return out


def transfer_sentence(test_eval: dict, shifted_eval: dict, described: str) -> str:
    """How the validation threshold transfers: to the test persons and to the
    other collection, each FAR/FRR against its own EER, in words."""
    text = (
        f"At the threshold fixed on the calibration persons the test persons' FRR is {pct(test_eval.get('frr'))}"
        f" and their FAR on skilled forgeries {pct(test_eval.get('far_skilled'))}, beside their skilled-forgery"
        f" EER {pct(test_eval.get('eer_skilled'))} (goal: each at most {OPERATING_POINT_RATIO:g} times the EER)."
    )
    if shifted_eval and "eer_skilled" in shifted_eval:
        text += (
            f" Re-rendered as another collection ({described}), the same persons reach a skilled-forgery EER of"
            f" {pct(shifted_eval['eer_skilled'])}; at the same threshold FRR {pct(shifted_eval.get('frr'))} and FAR"
            f" skilled {pct(shifted_eval.get('far_skilled'))} (goal: each at most {SHIFTED_RATIO:g} times that EER)."
        )
    worst = [
        name
        for name, ev, goal in (
            ("test persons", test_eval, OPERATING_POINT_RATIO),
            ("other collection", shifted_eval, SHIFTED_RATIO),
        )
        if ev
        and "eer_skilled" in ev
        and max(_ratio(ev.get("far_skilled"), ev["eer_skilled"]), _ratio(ev.get("frr"), ev["eer_skilled"]))
        > goal
    ]
    if worst:
        text += f" **The operating point misses its goal on: {', '.join(worst)}.**"
    return text


def conditions_sentence(m: dict, persons: int, scans: int) -> str:
    """How often the conditions check warns: on the test persons (scans like the
    development ones: it should stay quiet) and on the other collection (it should not)."""
    text = (
        f"The ranges come from {persons} development persons and {scans} scans. On the test persons the"
        f" references of {pct(m.get('test_conditions_refs_flagged'))} of the persons and"
        f" {pct(m.get('test_conditions_questioned_flagged'))} of the questioned signatures lie outside them"
        " (a warning there is a false alarm)"
    )
    if "shifted_conditions_refs_flagged" in m:
        text += (
            f"; re-rendered as another collection, {pct(m['shifted_conditions_refs_flagged'])} of the persons'"
            f" references and {pct(m.get('shifted_conditions_questioned_flagged'))} of the questioned signatures"
            " (a warning there is due)"
        )
    return text + "."


def examples_table(questioned, results, limit: int = 6) -> str:
    """A few questioned signatures of one person with the loaded verifier's answer
    (and its log10 LR, genuine vs skilled forgery, when the run is calibrated)."""
    rows = [
        {
            "file": q.path.name,
            "truth": q.kind,
            "decision": r["decision"] or "-",
            "score": f"{r['score']:.3f}",
            "threshold": "-" if r["threshold"] is None else f"{r['threshold']:.3f}",
            "lr": "" if r.get("log10_lr") is None else f"{r['log10_lr']:+.2f}",
        }
        for q, r in list(zip(questioned, results))[:limit]
    ]
    columns = {
        "file": "questioned",
        "truth": "truth",
        "decision": "decision",
        "score": "score",
        "threshold": "threshold",
    }
    if any(r.get("log10_lr") is not None for r in results[:limit]):
        columns["lr"] = "log10 LR (genuine vs skilled)"
    return markdown_table(rows, columns)


def latency_sentence(latency_ms: float, n_refs: int, enrol_ms: float, enrolled_ms: float) -> str:
    return (
        f"{latency_ms:.0f} ms per verification against {n_refs} references (preprocessing included);"
        f" enrolled once ({enrol_ms:.0f} ms), then {enrolled_ms:.0f} ms per questioned signature."
        " Timings on a shared machine vary from run to run."
    )


# ------------------------------------------------------------------- screening
def screening_table(screen_eval: dict) -> str:
    """Per detector and combined: precision, recall, F1 of the valid class,
    balanced accuracy and invalid images passed, as Markdown."""
    rows = []
    for k, v in screen_eval.items():
        conf = v["confusion"]
        rows.append(
            {
                "d": DETECTOR_NAMES.get(k, k),
                "p": pct(v["precision"]),
                "r": pct(v["recall"]),
                "f": pct(v["f1"]),
                "b": pct(v.get("balanced_accuracy")),
                "i": f"{conf[0][1]} of {conf[0][0] + conf[0][1]}",
            }
        )
    return markdown_table(
        rows,
        {
            "d": "detector",
            "p": "precision (valid)",
            "r": "recall (valid)",
            "f": "F1 (valid)",
            "b": "balanced accuracy",
            "i": "invalid images passed",
        },
    )


def screening_sentence(screen_eval: dict, rule: str, rule_scores: dict, n_valid: int, n_invalid: int) -> str:
    """The combined screener against calling everything valid, in words."""
    c = screen_eval["combined"]
    base = all_valid_f1(n_valid, n_invalid)
    passed = c["confusion"][0][1]
    chosen = ", ".join(f"{k} {pct(v)}" for k, v in rule_scores.items())
    text = (
        f"Decision rule chosen on validation images (balanced accuracy: {chosen}): **{rule}**."
        f" On the {n_valid:,} valid and {n_invalid:,} invalid test images it scores F1 {pct(c['f1'])}"
        f" (valid class) against {pct(base)} for calling everything valid, and lets {passed} of {n_invalid}"
        f" invalid images pass ({pct(c.get('invalid_pass_rate'))}; calling everything valid passes all)."
    )
    if c["f1"] <= base:
        rejected = c["confusion"][1][0]
        text += (
            f" **The screener does not beat calling everything valid on F1.** It rejects {rejected} of"
            f" {n_valid} valid signatures; with {pct(n_valid / max(1, n_valid + n_invalid))} of the test images"
            " valid, accepting everything already scores high on the valid class's F1, so every signature"
            " rejected costs more than an invalid image caught gains."
        )
    return text


# ------------------------------------------------------------------- headline
def results(
    test_eval: dict,
    dist_eval: dict,
    decision: str,
    screen_eval: dict,
    n_valid: int,
    n_invalid: int,
    latency_ms: float,
    train_seconds: float,
    lr_metrics: dict | None = None,
    shifted_eval: dict | None = None,
) -> list[report.Result]:
    """The headline results beside their yardsticks: the decision's skilled-forgery
    EER with one global threshold against the goal (:data:`EER_GOAL`), per user
    against the distance rule measured in the same run (against chance for the
    distance rule itself), FAR skilled and FRR at the calibration threshold against
    1.5 times the test EER (and, with ``shifted_eval``, on the other collection
    against 2 times its EER), the random-forgery EER and FAR
    against chance, the likelihood ratios' Cllr against no evidence (1.0) and
    their calibration loss against the goal (``lr_metrics``: the ``lr_*`` keys of
    :func:`hwutils.signatures.lr.measure`), screening F1 against calling
    everything valid, invalid images passed against all of them, verification
    latency and training time."""
    R = report.Result
    g = "verification (test persons)"
    out = []
    wd = decision == "wd"
    rule = "writer-dependent" if wd else "distance rule"
    if "eer_skilled" in test_eval:
        out.append(
            R(
                f"skilled-forgery EER, one global threshold ({rule})",
                test_eval["eer_skilled"],
                group=g,
                yardstick="the goal",
                yardstick_value=EER_GOAL,
                better="lower",
                note=(
                    f"the distance rule, same run: {report.format_number(dist_eval.get('eer_skilled'), 'percent')}"
                    if wd
                    else ""
                ),
            )
        )
    if "eer_skilled_per_user" in test_eval:
        out.append(
            R(
                f"skilled-forgery EER, per user ({rule})",
                test_eval["eer_skilled_per_user"],
                group=g,
                yardstick="the distance rule, same run" if wd else "chance",
                yardstick_value=dist_eval.get("eer_skilled_per_user") if wd else 0.5,
                better="lower",
            )
        )
    for key, label, ev, ratio, where in (
        (
            "far_skilled",
            "FAR on skilled forgeries at the calibration threshold",
            test_eval,
            OPERATING_POINT_RATIO,
            "",
        ),
        ("frr", "FRR at the calibration threshold", test_eval, OPERATING_POINT_RATIO, ""),
        (
            "far_skilled",
            "other collection: FAR on skilled forgeries, same threshold",
            shifted_eval or {},
            SHIFTED_RATIO,
            "its ",
        ),
        ("frr", "other collection: FRR, same threshold", shifted_eval or {}, SHIFTED_RATIO, "its "),
    ):
        if key in ev and "eer_skilled" in ev:
            out.append(
                R(
                    label,
                    ev[key],
                    group=g,
                    yardstick=f"{ratio:g} x {where}skilled EER",
                    yardstick_value=ratio * ev["eer_skilled"],
                    better="lower",
                    note=f"{where or 'test '}skilled EER: {report.format_number(ev['eer_skilled'], 'percent')}",
                )
            )
    if "eer_random" in test_eval:
        out.append(
            R(
                "random-forgery EER",
                test_eval["eer_random"],
                group=g,
                yardstick="chance",
                yardstick_value=0.5,
                better="lower",
                note="another person's signature: the easy case, beside the skilled-forgery EER",
            )
        )
    if "far_random" in test_eval:
        out.append(
            R(
                "FAR on random forgeries at the threshold",
                test_eval["far_random"],
                group=g,
                better="lower",
                note="beside the FAR on skilled forgeries: "
                + report.format_number(test_eval.get("far_skilled"), "percent"),
            )
        )
    if lr_metrics and "lr_cllr" in lr_metrics:
        lg = "likelihood ratios (test persons, genuine vs skilled forgery)"
        out.append(
            cllr_result(
                "Cllr",
                lr_metrics["lr_cllr"],
                lg,
                yardstick="no evidence (LR = 1 for every signature)",
                note=f"Cllr_min (discrimination alone): {report.format_number(lr_metrics.get('lr_cllr_min'))}",
            )
        )
        out.append(
            calibration_loss_result(
                "LR calibration loss (Cllr - Cllr_min)",
                lr_metrics.get("lr_calibration_loss"),
                lg,
                yardstick="the goal",
                note=f"fitted on the calibration persons; goal: at most {CALIBRATION_LOSS_GOAL}",
            )
        )
        for key, label in (
            ("lr_rmep", "genuine signatures with LR < 1 (RMEP)"),
            ("lr_rmed", "skilled forgeries with LR > 1 (RMED)"),
        ):
            if key in lr_metrics:
                out.append(
                    R(
                        label,
                        lr_metrics[key],
                        group=lg,
                        yardstick="the goal",
                        yardstick_value=MISLEADING_GOAL,
                        better="lower",
                    )
                )
    if screen_eval:
        c = screen_eval["combined"]
        s = "screening (test images)"
        out.append(
            R(
                "screening F1 (valid class)",
                c["f1"],
                group=s,
                yardstick="calling everything valid",
                yardstick_value=all_valid_f1(n_valid, n_invalid),
            )
        )
        out.append(
            R(
                "invalid images that pass",
                c.get("invalid_pass_rate"),
                group=s,
                yardstick="calling everything valid",
                yardstick_value=1.0,
                better="lower",
            )
        )
        out.append(
            R(
                "screening balanced accuracy",
                c.get("balanced_accuracy"),
                group=s,
                yardstick="chance",
                yardstick_value=0.5,
            )
        )
    out.append(R("verification latency", latency_ms / 1000, kind="seconds", group="cost", better="lower"))
    out.append(R("Siamese training time", train_seconds, kind="seconds", group="cost", better="lower"))
    return out


def shortfalls(results_list) -> str:
    """A sentence naming every headline that does not beat its yardstick ("" when all do)."""
    rows = [r for r in results_list if r.beats is False]
    if not rows:
        return ""
    parts = [
        f"{r.name} ({report.format_number(r.value, r.kind)}) against {r.yardstick}"
        f" ({report.format_number(r.yardstick_value, r.kind)})"
        for r in rows
    ]
    return "**Does not beat its yardstick:** " + "; ".join(parts) + "."


def fewer_references_table(n_references: int, test_eval: dict, fewer_eval: dict) -> str:
    """The test persons verified against fewer references (``fewer_eval``: count
    -> ``(figures at that count's own threshold, figures at the run's
    threshold)``, :func:`~hwutils.signatures.trials.evaluate`), beside the run's
    own ``test_eval``, as Markdown with a sentence."""
    rows = [
        {
            "refs": f"{n_references} (the run)",
            "eer": pct(test_eval.get("eer_skilled")),
            "fixed": n_references,
            "frr": pct(test_eval.get("frr")),
            "far": pct(test_eval.get("far_skilled")),
            "run": "-",
        }
    ]
    for k in sorted(fewer_eval, reverse=True):
        own, run = fewer_eval[k]
        rows.append(
            {
                "refs": k,
                "eer": pct(own.get("eer_skilled")),
                "fixed": k,
                "frr": pct(own.get("frr")),
                "far": pct(own.get("far_skilled")),
                "run": f"{pct(run.get('frr'))} / {pct(run.get('far_skilled'))}",
            }
        )
    columns = {
        "refs": "references",
        "eer": "skilled EER",
        "fixed": "threshold fixed with",
        "frr": "FRR",
        "far": "FAR skilled",
        "run": "at the run's threshold: FRR / FAR skilled",
    }
    return (
        "Verifications against fewer references (the test persons' same questioned signatures against only the"
        " first references), each count at its own threshold, fixed the same way on the calibration persons'"
        " trials against that many references: `hw verify` uses the threshold of the number of references it is"
        " given.\n\n" + markdown_table(rows, columns)
    )


def fewer_references_metrics(fewer_eval: dict) -> dict:
    """metrics.json's figures of :func:`fewer_references_table`: ``test_eer_skilled_refs<k>``,
    ``test_frr_refs<k>``, ``test_far_skilled_refs<k>`` at the count's threshold and
    ``test_frr_refs<k>_run_threshold``, ``test_far_skilled_refs<k>_run_threshold``."""
    out = {}
    for k, (own, run) in sorted(fewer_eval.items()):
        out[f"test_eer_skilled_refs{k}"] = own.get("eer_skilled")
        out[f"test_frr_refs{k}"] = own.get("frr")
        out[f"test_far_skilled_refs{k}"] = own.get("far_skilled")
        out[f"test_frr_refs{k}_run_threshold"] = run.get("frr")
        out[f"test_far_skilled_refs{k}_run_threshold"] = run.get("far_skilled")
    return out
