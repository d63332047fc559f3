"""Helpers added to shared rnnlib modules for chapter 4: rnnlib.display.plots.plot_lstm_cell, on the Agg backend."""

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402
import pytest  # noqa: E402

from rnnlib.display import plots  # noqa: E402


@pytest.fixture(autouse=True)
def close_figures():
    yield
    plt.close("all")


def test_lstm_cell_diagram_names_every_quantity():
    ax = plots.plot_lstm_cell()
    texts = " ".join(t.get_text() for t in ax.texts)
    for symbol in ("$c_{t-1}$", "$c_t$", "$h_{t-1}$", "$h_t$", "$x_t$", r"\sigma(a_f)", r"\sigma(a_i)",
                   r"\tanh(a_g)", r"\sigma(a_o)", "c_t = f", r"h_t = o \, \tanh(c_t)", "W_{ih}x_t"):
        assert symbol in texts, symbol
    assert not ax.axison
    assert len(ax.patches) > 10


def test_lstm_cell_diagram_draws_the_blocks_in_the_order_i_f_g_o():
    ax = plots.plot_lstm_cell()
    where = {t.get_text()[1]: t.get_position()[0] for t in ax.texts
             if t.get_text()[:3] in ("$i ", "$f ", "$g ", "$o ")}
    assert sorted(where, key=where.get) == ["i", "f", "g", "o"]


def test_lstm_cell_diagram_draws_on_given_axes():
    fig, (a, b) = plt.subplots(1, 2)
    assert plots.plot_lstm_cell(ax=b) is b
    assert not a.texts and b.texts
