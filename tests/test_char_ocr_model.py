"""The classifier: seeded ensembles and their saving (tiny models)."""

import numpy as np
import pytest

from hwutils.errors import ParamsError
from hwutils.ocr import model as M
from hwutils.ocr import read as R


def test_average_models_is_the_mean_softmax_and_saves(tmp_path):
    members = [M.build_classifier(width=4, name=f"char_classifier_{k}") for k in range(2)]
    ensemble = M.average_models(members)
    x = np.random.default_rng(0).integers(0, 256, (3, 32, 32)).astype(np.uint8)
    mean = np.mean([M.predict_probs(m, x) for m in members], axis=0)
    assert np.allclose(M.predict_probs(ensemble, x), mean, atol=1e-6)
    assert M.average_models(members[:1]) is members[0]
    R.save_reader(ensemble, tmp_path / "artifacts")
    reader = R.load_reader(tmp_path)  # safe_mode loading of the nested models
    assert np.allclose(M.predict_probs(reader.model, x), mean, atol=1e-5)


def test_fit_classifiers_trains_seeded_members():
    rng = np.random.default_rng(0)
    images = rng.integers(0, 256, (40, 32, 32)).astype(np.uint8)
    labels = rng.integers(0, 36, 40)
    model, histories = M.fit_classifiers(
        images, labels, images[:8], labels[:8], members=2, width=4, epochs=1, batch_size=16, patience=1
    )
    assert len(histories) == 2 and model.output_shape == (None, 36)
    assert len(model.layers) > 2  # an averaging ensemble, not a single member
    with pytest.raises(ParamsError, match="ensemble"):
        M.fit_classifiers(images, labels, members=0)


def test_shift_paper_moves_ink_and_fills_with_paper():
    img = np.full((1, 5, 5), 255, np.uint8)
    img[0, 2, 4] = 0  # ink at the right edge
    right = M.shift_paper(img, 0, 1)
    assert right.shape == img.shape and (right == 255).all()  # pushed out, paper fills
    down = M.shift_paper(img, 1, 0)
    assert down[0, 3, 4] == 0 and (down == 0).sum() == 1 and (down[:, 0] == 255).all()


def test_tta_is_the_mean_over_the_shifted_characters():
    model = M.build_classifier(width=4)
    x = np.random.default_rng(1).integers(0, 256, (4, 32, 32)).astype(np.uint8)
    expected = np.mean([M.predict_probs(model, M.shift_paper(x, dy, dx)) for dy, dx in M.TTA_SHIFTS], axis=0)
    got = M.predict_probs(model, x, tta=True)
    assert np.allclose(got, expected, atol=1e-6) and not np.allclose(
        got, M.predict_probs(model, x), atol=1e-6
    )
    assert M.predict_probs(model, x[:0], tta=True).shape == (0, 36)


def test_evaluate_chars_scores_the_split_and_the_digit_test_set():
    from hwutils.ocr import data as D

    model = M.build_classifier(width=4)
    rng = np.random.default_rng(2)
    test = D.concat(
        D.from_chars(rng.integers(0, 256, (6, 32, 32)).astype(np.uint8), "012ABC", "mnist"),
        D.from_chars(rng.integers(0, 256, (4, 32, 32)).astype(np.uint8), "XY34", "synthetic"),
    )
    digits = D.from_chars(rng.integers(0, 256, (5, 32, 32)).astype(np.uint8), "01234", "mnist")
    out = M.evaluate_chars(model, test, digits)
    pred = M.predict_probs(model, test.images).argmax(1)
    m = out["metrics"]
    assert m["char_accuracy"] == np.mean(pred == test.labels) and out["cm"].sum() == 10
    assert {"accuracy_mnist", "accuracy_synthetic", "digit_accuracy_test_split"} <= set(m)
    dprobs = M.predict_probs(model, digits.images)
    assert m["mnist_test_digits"] == 5
    assert m["mnist_accuracy_digit_classes"] == np.mean(dprobs[:, :10].argmax(1) == digits.labels)
    assert "mnist_accuracy" not in M.evaluate_chars(model, test)["metrics"]


def test_elastic_augmentation_is_optional_and_leaves_the_other_draws_alone():
    import tensorflow as tf

    x = tf.constant(M.to_model_input(np.full((1, 32, 32), 255, np.uint8))[0].copy())
    x = tf.tensor_scatter_nd_update(x, [[r, 15, 0] for r in range(6, 26)], tf.ones(20))
    seed = tf.constant([7, 1], tf.int64)
    plain, _ = M.augmenter(0.0)(seed, x, 3)
    again, label = M.augmenter(0.0)(seed, x, 3)
    warped, _ = M.augmenter(1.5)(seed, x, 3)
    assert np.array_equal(plain.numpy(), again.numpy()) and label == 3
    assert not np.allclose(plain.numpy(), warped.numpy())
    with pytest.raises(ParamsError, match="elastic"):
        M.fit_classifiers(np.zeros((4, 32, 32), np.uint8), np.zeros(4, int), elastic=-1.0)


def test_cosine_schedule_warms_up_then_decays_to_zero():
    lr = M.cosine_schedule(2e-3, epochs=10, steps_per_epoch=4)  # 4 warm-up steps, then 36 of decay
    at = [float(lr(step)) for step in (0, 4, 22, 40)]
    assert at[0] == pytest.approx(2e-4)  # a tenth of the rate at the start
    assert at[1] == pytest.approx(2e-3)  # the full rate after one epoch
    assert at[2] == pytest.approx(1e-3, rel=1e-4)  # half way through the decay: half the rate
    assert at[3] == pytest.approx(0.0, abs=1e-9)
    assert float(M.cosine_schedule(1e-3, epochs=1, steps_per_epoch=4)(0)) == pytest.approx(1e-3)  # no warm-up


def test_fit_classifiers_with_the_cosine_schedule_and_a_bad_name():
    rng = np.random.default_rng(3)
    images = rng.integers(0, 256, (32, 32, 32)).astype(np.uint8)
    labels = rng.integers(0, 36, 32)
    model, histories = M.fit_classifiers(
        images, labels, images[:8], labels[:8], width=4, epochs=2, batch_size=16, schedule="cosine"
    )
    rate = model.optimizer.learning_rate  # the schedule's rate after its 4 steps: decayed to 0
    assert len(histories[0]["loss"]) == 2 and float(rate) == pytest.approx(0.0, abs=1e-9)
    with pytest.raises(ParamsError, match="lr_schedule"):
        M.fit_classifiers(images, labels, schedule="step")
