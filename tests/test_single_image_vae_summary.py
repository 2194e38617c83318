"""What the single_image_vae report says: the samples against the judge's
yardsticks (augmentations, the source image, real digits of the class), the
classifiers against chance and the largest class, and the formatted table
(hwutils.vae.quality.yardsticks, threeway.Evaluation, hwutils.vae.summary)."""

import numpy as np
import pytest

from hwutils import metrics
from hwutils.vae import cnn, quality, threeway
from hwutils.vae import summary as S


@pytest.fixture(scope="module")
def judge():
    import keras

    keras.utils.set_random_seed(0)
    return cnn.build_cnn(10, 28, "digit_judge")


def _images(n, seed, value=0):
    rng = np.random.default_rng(seed)
    imgs = np.full((n, 28, 28), 255, np.uint8)
    for k in range(n):
        r, c = rng.integers(4, 14, 2)
        imgs[k, r : r + 10, c : c + 4] = value
    return imgs


def test_yardsticks_by_the_same_judge(judge):
    source = _images(1, 0)[0]
    generated, augmented = _images(12, 1), _images(20, 2)
    real_x = np.concatenate([_images(5, 3), _images(30, 4)])
    real_y = np.array([2] * 5 + [7] * 30)
    q = quality.yardsticks(judge, source, generated, augmented, real_x, real_y, digit=2)
    probs = cnn.predict_proba(judge, source[None])[0]
    assert q["source_prediction"] == int(np.argmax(probs))
    assert q["source_probability"] == pytest.approx(float(probs[2]))
    assert q["real_digit_heldout"] == 5
    assert q["recognized_share_real_digit"] == quality.recognized_share(judge, real_x[:5], 2)
    assert q["judge_probability_generated"] == pytest.approx(cnn.predict_proba(judge, generated)[:, 2].mean())
    # the Fréchet distances compare sets of the same size: the five real 2s and five samples
    assert q["n_compared"] == 5
    feats_aug = cnn.features(judge, augmented)
    assert q["frechet_distance_real_digit"] == pytest.approx(
        metrics.frechet_distance(cnn.features(judge, real_x[:5]), feats_aug)
    )
    assert q["frechet_distance_generated_same_n"] == pytest.approx(
        metrics.frechet_distance(cnn.features(judge, generated[:5]), feats_aug)
    )
    lone = quality.yardsticks(judge, source, generated, augmented, real_x[:1], real_y[:1], digit=2)
    assert "frechet_distance_real_digit" not in lone  # one real image: no distance between sets


def test_majority_baseline_of_the_threeway_evaluation():
    cm = np.array([[8, 2, 0], [1, 3, 1], [0, 0, 25]])
    ev = threeway.Evaluation(
        0.9, metrics.per_class_accuracy(cm), cm, np.zeros(40), np.zeros((40, 3)), np.arange(4)
    )
    assert ev.majority_share == pytest.approx(25 / 40)
    m = ev.as_metrics(2)
    assert m["threeway_majority_baseline"] == pytest.approx(25 / 40)


def _quality(**change):
    q = {
        "recognized_share": 0.89,
        "recognized_share_augmented": 0.88,
        "source_prediction": 2,
        "source_probability": 0.97,
        "real_digit_heldout": 36,
        "recognized_share_real_digit": 0.95,
        "n_compared": 36,
        "frechet_distance_generated_same_n": 12.5,
        "frechet_distance_real_digit": 30.0,
        "frechet_distance_aug_vs_aug": 4.2,
        "diversity_generated": 6.6,
        "diversity_augmented": 6.9,
        "diversity_ratio": 0.96,
        "nearest_augmentation_distance": 3.0,
        "nearest_distance_aug_vs_aug": 2.5,
    }
    q.update(change)
    return q


THREEWAY = {
    "threeway_accuracy": 0.99,
    "threeway_majority_baseline": 0.58,
    "threeway_balanced_accuracy": 0.97,
    "threeway_errors": 3,
    "threeway_accuracy_yours": 1.0,
    "threeway_accuracy_real": 0.92,
    "threeway_accuracy_other": 0.99,
}


def test_results_carry_their_yardsticks():
    results = {r.name: r for r in S.results(_quality(), 0.956, THREEWAY, 2, 40.0)}
    r = results["samples read as a 2 by the judge"]
    assert (r.value, r.yardstick_value, r.beats) == (0.89, 0.88, True)
    assert "read as a 2 (p = 0.97)" in r.note
    r = results["Fréchet distance of the samples to the augmentations"]
    assert (r.value, r.yardstick_value, r.better, r.beats) == (12.5, 30.0, "lower", True)
    assert results["judge accuracy, held-out real digits"].yardstick_value == 0.1
    assert results["3-class accuracy, held-out"].yardstick_value == 0.58
    assert results["3-class balanced accuracy, held-out"].yardstick_value == pytest.approx(1 / 3)
    assert results["VAE training time"].kind == "seconds"
    worse = {r.name: r for r in S.results(_quality(recognized_share=0.5), 0.9, THREEWAY, 2, 1.0)}
    assert worse["samples read as a 2 by the judge"].beats is False


def test_sentences_say_when_the_samples_fall_short():
    good = S.quality_sentences(_quality(), 2, 100, 100)
    assert "**89.0%** of the 100 samples as a 2, against 88.0%" in good
    assert "closer to this hand than real 2s are" in good and "**" not in good.replace("**89.0%**", "")
    bad = S.quality_sentences(
        _quality(recognized_share=0.5, source_prediction=3, frechet_distance_generated_same_n=40.0),
        2,
        100,
        100,
    )
    assert "**fewer samples than augmentations are recognized**" in bad
    assert "(**not** as a 2)" in bad
    assert "**the samples are no closer to this hand than real 2s of other writers are**" in bad
    text = S.threeway_sentence({**THREEWAY, "threeway_accuracy": 0.5}, 2, 560)
    assert "**It does not beat always answering the largest class.**" in text
    assert "does not beat" not in S.threeway_sentence(THREEWAY, 2, 560)


def test_final_table_formats_every_value_by_what_it_is():
    shown = S.table_metrics(
        {
            "recognized_share": 0.89,
            "diversity_generated": 6.6,
            "frechet_distance_generated_same_n": 12.5,
            "vae_train_seconds": 40.04,
            "threeway_errors": 3,
            "digits_source": "sklearn",
        }
    )
    assert shown == {
        "recognized_share": "89.0%",
        "diversity_generated": "6.600",
        "frechet_distance_generated_same_n": "12.500",
        "vae_train_seconds": "40.0 s",
        "threeway_errors": "3",
        "digits_source": "sklearn",
    }


def test_data_record_names_the_image_beside_the_image():
    from types import SimpleNamespace

    from hwutils.runs.summary import data_text

    digits = SimpleNamespace(source="bundled digits (8x8 scans)", train_y=np.zeros(30), test_y=np.zeros(7))
    record = S.data_record("/cases/my_two.png", 2, digits, 100, 50, 60)
    text = data_text(
        {"description": record.pop("description"), "location": record.pop("location"), "counts": record}
    )
    assert text.startswith(
        "one image of a handwritten 2 (/cases/my_two.png) and its augmentations; real digits:"
    )
    assert "30 real digits train, 7 real digits heldout" in text and text.count("/cases/my_two.png") == 1
