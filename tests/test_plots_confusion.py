"""The confusion-matrix figure: a number on every cell, readable on its colour,
sized to fit its cell, with title and axis labels."""

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt
import numpy as np
import pytest

from hwutils import plots


def _cell_texts(fig):
    ax = fig.axes[0]
    return {(int(round(t.get_position()[1])), int(round(t.get_position()[0]))): t for t in ax.texts}


def _luminance(color):
    from matplotlib.colors import to_rgb

    rgb = np.array(to_rgb(color))
    lin = np.where(rgb <= 0.04045, rgb / 12.92, ((rgb + 0.055) / 1.055) ** 2.4)
    return float(lin @ [0.2126, 0.7152, 0.0722])


def test_text_colour_follows_the_cell_darkness():
    blues = plt.get_cmap("Blues")
    assert plots.text_color_on(blues(1.0)) == "white"  # darkest blue
    assert plots.text_color_on(blues(0.0)) == "black"  # almost white
    assert plots.text_color_on((0, 0, 0, 1)) == "white"
    assert plots.text_color_on((1, 1, 1, 1)) == "black"
    assert plots.text_color_on((1, 1, 0, 1)) == "black"  # yellow is light
    assert plots.text_color_on((0, 0, 0.55, 1)) == "white"  # navy is dark


def test_every_cell_is_numbered_in_a_colour_that_contrasts_with_it():
    cm = np.array([[50, 3, 0], [0, 9, 1], [2, 0, 40]])
    fig = plots.confusion_matrix(cm, ["a", "b", "c"], normalize=True, title="three")
    try:
        texts = _cell_texts(fig)
        assert set(texts) == {(i, j) for i in range(3) for j in range(3)}  # zeros written too (3 classes)
        image = fig.axes[0].images[0]
        for (i, j), t in texts.items():
            assert t.get_text() == str(cm[i, j])
            cell = image.cmap(image.norm(image.get_array()[i, j]))
            ratio = (max(_luminance(cell[:3]), _luminance(t.get_color())) + 0.05) / (
                min(_luminance(cell[:3]), _luminance(t.get_color())) + 0.05
            )
            assert ratio >= 4.5, ((i, j), t.get_color(), cell)  # WCAG AA contrast for text
        assert texts[(0, 0)].get_color() == "white" and texts[(0, 2)].get_color() == "black"
        ax = fig.axes[0]
        assert ax.get_xlabel() == "predicted class" and ax.get_ylabel() == "true class"
        assert ax.get_title().startswith("three")
        assert [t.get_text() for t in ax.get_xticklabels()] == ["a", "b", "c"]
    finally:
        plt.close(fig)


@pytest.mark.parametrize("n", [3, 36, 50])
def test_numbers_fit_their_cells(n):
    rng = np.random.default_rng(n)
    cm = np.diag(rng.integers(100, 999, n)) + (rng.random((n, n)) < 0.1) * rng.integers(1, 99, (n, n))
    fig = plots.confusion_matrix(cm, [f"c{k}" for k in range(n)], title=f"{n} classes")
    try:
        texts = _cell_texts(fig)
        if n > 12:  # every non-zero cell; zeros are left blank, and the title says so
            assert set(texts) == {tuple(ix) for ix in np.argwhere(cm > 0)}
            assert "blank cells: 0" in fig.axes[0].get_title()
        else:
            assert len(texts) == n * n
        fig.canvas.draw()
        renderer = fig.canvas.get_renderer()
        ax = fig.axes[0]
        to_data = ax.transData.inverted()
        for t in texts.values():
            box = t.get_window_extent(renderer)
            (x0, y0), (x1, y1) = to_data.transform([[box.x0, box.y0], [box.x1, box.y1]])
            assert abs(x1 - x0) < 1.0 and abs(y1 - y0) < 1.0, (t.get_text(), x1 - x0, y1 - y0)
            assert t.get_fontsize() >= 4
    finally:
        plt.close(fig)


def test_font_and_figure_scale_with_the_classes():
    small_side, small_font = plots.confusion_layout(3, 3)
    big_side, big_font = plots.confusion_layout(36, 3)
    assert big_side > small_side and big_font < small_font
    assert plots.confusion_layout(36, 1)[1] > big_font  # one-digit counts may be larger


def test_counts_colour_by_count_when_not_normalized():
    cm = np.array([[5, 0], [0, 500]])
    fig = plots.confusion_matrix(cm, ["x", "y"], normalize=False)
    try:
        texts = _cell_texts(fig)
        assert texts[(0, 0)].get_color() == "black" and texts[(1, 1)].get_color() == "white"
        assert fig.axes[1].get_ylabel() == "count"  # the colour bar says what the colour is
    finally:
        plt.close(fig)
