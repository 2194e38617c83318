"""Real-data loader check (CSAFE pages) and the notebook end to end on smoke params."""

from __future__ import annotations

import pytest
from conftest import run_smoke

from hwutils.datasets import pages


def test_csafe_page_segmentation(real_data):
    folder = real_data / "csafe_pages"
    if not folder.is_dir():
        pytest.skip("csafe_pages absent")
    files = sorted(folder.glob("w*_s*_p*_r*.png"))[:3]
    assert files
    for f in files:
        lines = pages.segment_page(f)
        assert 3 <= len(lines) <= 20, (f, len(lines))
        assert all(lb.image.shape[1] > lb.image.shape[0] for lb in lines)  # lines are wide
        assert pages.writer_from_name(f, pages.CSAFE_PATTERN) == f.stem[1:5]


@pytest.mark.slow
def test_notebook_smoke(hw):
    run, m = run_smoke(hw, "writer_id")
    for key in ("patch_top1", "line_top1", "page_top1", "line_top5", "newwriter_auroc", "enrolled_top1"):
        assert key in m and (m[key] is None or 0 <= m[key] <= 1)
    art = run / "artifacts"
    assert (art / "model.keras").is_file() and (art / "gallery.npz").is_file()
    for fig in ("training_curves", "confusion_matrix", "new_writer_scores"):
        assert (art / "figures" / f"{fig}.png").is_file()
    from hwutils.writer_id.identify import WriterIdentifier

    wid = WriterIdentifier.load(run)
    line = next((art / "synthetic_iam" / "lines").rglob("*.png"))
    assert len(wid.identify_line(line).ranking) == m["n_writers"]
    # likelihood ratios: calibrated on validation lines, measured on test lines, saved with the run
    for unit in ("line", "page", "new_line", "new_page"):
        cllr, cmin = m[f"lr_{unit}_cllr"], m[f"lr_{unit}_cllr_min"]
        assert 0 <= cmin <= cllr + 1e-9 and m[f"lr_{unit}_n_same"] > 0
        assert m[f"lr_{unit}_cllr_cal"] == pytest.approx(cllr - cmin)
    for name in ("lr_calibration.json", "evidence.npz"):
        assert (art / name).is_file()
    for fig in ("lr_tippett", "lr_ece"):
        assert (art / "figures" / f"{fig}.png").is_file()
    res = wid.identify_lines([line])
    assert res.lr_unit == "line" and len(res.log10_lr) == len(wid.lr_model.refs.names)
    # every gallery writer has a reference
    assert sorted(wid.lr_model.refs.names) == sorted(wid.gallery.names)
