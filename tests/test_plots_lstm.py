"""rnnlib.display.plots.plot_unit_heatmap: what it draws, on the Agg backend (plot_lstm_cell: test_ch4_helpers)."""

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pytest  # noqa: E402

from rnnlib.display import plots  # noqa: E402


@pytest.fixture(autouse=True)
def close_figures():
    yield
    plt.close("all")


def test_unit_heatmap_shows_units_as_rows():
    values = np.arange(12.0).reshape(4, 3) / 12  # (T=4, H=3)
    ax = plots.plot_unit_heatmap(values, title="f", label="$f_t$", vmin=0, vmax=1)
    image = ax.images[0]
    np.testing.assert_array_equal(image.get_array(), values.T)
    assert image.get_clim() == (0, 1)
    assert ax.get_title() == "f" and ax.get_xlabel() == "time step $t$" and ax.get_ylabel() == "unit"
    assert ax.figure.axes[-1].get_ylabel() == "$f_t$"  # the colour bar
    assert image.get_extent() == [0.5, 4.5, -0.5, 2.5]  # steps numbered 1..T


def test_unit_heatmap_picks_the_sample_of_a_batch():
    values = np.random.default_rng(0).uniform(size=(5, 2, 3))  # (T, N, H)
    fig, ax = plt.subplots()
    plots.plot_unit_heatmap(values, ax=ax, sample=1, colorbar=False, cmap="RdBu_r", vmin=-1)
    np.testing.assert_array_equal(ax.images[0].get_array(), values[:, 1].T)
    assert len(fig.axes) == 1  # no colour bar


def test_unit_heatmap_rejects_other_shapes():
    with pytest.raises(ValueError, match=r"values: expected shape \(T, H\) or \(T, N, H\), got \(5,\)"):
        plots.plot_unit_heatmap(np.zeros(5))
