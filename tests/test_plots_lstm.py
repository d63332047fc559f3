"""rnnlib.plots.plot_lstm_step and plot_unit_heatmap: what they draw, on the Agg backend."""

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pytest  # noqa: E402

from rnnlib import plots  # noqa: E402


@pytest.fixture(autouse=True)
def close_figures():
    yield
    plt.close("all")


def test_lstm_step_diagram_names_every_quantity():
    ax = plots.plot_lstm_step()
    texts = " ".join(t.get_text() for t in ax.texts)
    for symbol in ("$c_{t-1}$", "$c_t$", "$h_{t-1}$", "$h_t$", "$x_t$", r"\sigma(a_f)", r"\sigma(a_i)",
                   r"\tanh(a_g)", r"\sigma(a_o)", "c_t = f", r"h_t = o \, \tanh(c_t)", "W_{ih}x_t"):
        assert symbol in texts, symbol
    assert not ax.axison  # a diagram, no axes frame
    assert len(ax.patches) > 10  # boxes, nodes and arrows


def test_lstm_step_diagram_draws_on_given_axes():
    fig, (a, b) = plt.subplots(1, 2)
    assert plots.plot_lstm_step(ax=b) is b
    assert not a.texts and b.texts


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
