"""End to end: the notebook on smoke params through ``hw run``."""

from __future__ import annotations

import pytest
from conftest import run_smoke


@pytest.mark.slow
def test_smoke_run(hw):
    run, metrics = run_smoke(hw, "single_image_vae")
    for key in ("recognized_share", "threeway_accuracy", "frechet_distance", "diversity_ratio"):
        assert key in metrics and metrics[key] is not None
    assert 0.0 <= metrics["recognized_share"] <= 1.0
    assert "scikit-learn" in metrics["digits_source"]
    art = run / "artifacts"
    for name in ("vae.keras", "digit_judge.keras", "threeway.keras", "input_28x28.png", "generated.npz"):
        assert (art / name).is_file(), name
    for fig in ("input", "augmentations", "generated", "interpolation", "latent_tsne", "threeway_confusion"):
        assert (art / "figures" / f"{fig}.png").is_file(), fig

    from hwutils.vae import model as vae_model
    from hwutils.vae import threeway

    vae = vae_model.load_vae(run)
    assert vae_model.sample(vae, 3, seed=0).shape == (3, 28, 28)
    assert len(threeway.classify(run, vae_model.sample(vae, 2, seed=1))) == 2
