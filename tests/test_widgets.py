"""rnnlib.display.widgets without a browser: build each widget, change its controls in code, and check what
it plots."""

import numpy as np
import pytest

from rnnlib.analysis import decay
from rnnlib.display import widgets


@pytest.fixture
def explorer():
    return widgets.DecayExplorer(scale=1.0, length=60, activation="tanh", seed=0)


def plotted(explorer):
    x, y = explorer.line.get_data()
    return np.asarray(x), np.asarray(y, dtype=float)


def test_decay_curve_is_the_library_measurement():
    norms = widgets.decay_curve(1.5, 40, "tanh", seed=3)
    rng = np.random.default_rng(3)
    W_ih, _, b_ih, b_hh = decay.rnn.init_weights(1, widgets.DECAY_HIDDEN, rng)
    W_hh = decay.scaled_orthogonal(widgets.DECAY_HIDDEN, 1.5, rng)
    dh = rng.standard_normal((widgets.DECAY_BATCH, widgets.DECAY_HIDDEN))
    xs = rng.standard_normal((40, widgets.DECAY_BATCH, 1))
    expected = decay.gradient_norms_by_lag(decay.rnn, xs, np.zeros_like(dh), W_ih, W_hh, b_ih, b_hh, dh)
    assert np.allclose(norms, expected / expected[0], rtol=1e-12, atol=0)


def test_explorer_builds_and_draws_the_initial_curve(explorer):
    x, y = plotted(explorer)
    assert np.array_equal(x, np.arange(60))
    assert np.allclose(y, widgets.decay_curve(1.0, 60, "tanh", 0), rtol=1e-12)
    assert y[0] == 1.0 and explorer.rate < 1.0
    assert "tanh" in explorer.ax.get_title() and f"x{explorer.rate:.3f}" in explorer.ax.get_title()
    assert explorer.widget.children  # a VBox that a notebook can display


def test_changing_the_scale_redraws_a_faster_or_slower_decay(explorer):
    before = explorer.rate
    explorer.scale.value = 0.5
    x, y = plotted(explorer)
    assert np.allclose(y, widgets.decay_curve(0.5, 60, "tanh", 0), rtol=1e-12)
    assert explorer.rate < 0.6 < before
    explorer.scale.value = 3.0
    assert explorer.rate > 1.2 and plotted(explorer)[1][-1] > 1e3
    assert np.allclose(explorer.bound.get_data()[1], 3.0 ** np.arange(60))


def test_changing_the_length_changes_the_number_of_lags(explorer):
    explorer.length.value = 150
    x, y = plotted(explorer)
    assert len(x) == len(y) == 150
    assert explorer.ax.get_xlim() == (0, 149)


def test_changing_the_activation_switches_to_the_relu_or_linear_network(explorer):
    explorer.scale.value = 1.0
    explorer.activation.value = "linear"
    _, y = plotted(explorer)
    # A linear RNN with an orthogonal W_hh is a rotation: every step back keeps the norm exactly.
    assert np.allclose(y, 1.0, rtol=1e-10) and explorer.rate == pytest.approx(1.0, abs=1e-10)
    explorer.activation.value = "relu"
    assert np.allclose(plotted(explorer)[1], widgets.decay_curve(1.0, 60, "relu", 0), rtol=1e-12, equal_nan=True)
    assert "relu" in explorer.ax.get_title()


def test_decay_grid_has_one_panel_per_activation_and_one_curve_per_scale():
    fig = widgets.decay_grid(scales=(0.5, 3.0), activations=("tanh", "linear"), length=30)
    axes = fig.axes
    assert len(axes) == 2
    for ax, activation in zip(axes, ("tanh", "linear")):
        lines = ax.get_lines()
        assert len(lines) == 2 and activation in ax.get_title()
        assert np.allclose(lines[1].get_ydata(), widgets.decay_curve(3.0, 30, activation, 0), rtol=1e-12)
        assert [t.get_text().split(":")[0] for t in ax.get_legend().get_texts()] == ["s = 0.5", "s = 3"]
    # The linear network with 3 x orthogonal grows by exactly 3 per step back.
    assert "x3.00/step" in axes[1].get_legend().get_texts()[1].get_text()


def test_a_curve_that_underflows_to_zero_still_gets_its_rate(explorer):
    explorer.activation.value = "linear"
    explorer.length.value = 300
    explorer.scale.value = 0.1  # 0.1 ** 300 underflows: the curve reaches exact zeros
    assert np.any(widgets.decay_curve(0.1, 300, "linear", 0) == 0)
    assert explorer.rate == pytest.approx(0.1, rel=1e-3)  # subnormal floats near the end lose digits


def test_frames_draws_every_frame_once_and_links_the_controls_to_the_stacks_in_the_browser():
    import base64

    from matplotlib.figure import Figure

    drawn = []

    def draw(x, kind):
        drawn.append((x, kind))
        fig = Figure(figsize=(1, 1))
        fig.subplots().plot([0, 1], [0, x])
        return fig

    box = widgets.frames(draw, ("x", [0.5, 1.5, 2.0]), ("kind", ["a", "b"]), value=1.5, button="b",
                         alt=lambda x, kind: f"line of slope {x} <{kind}>")
    assert sorted(drawn) == sorted((x, k) for x in (0.5, 1.5, 2.0) for k in ("a", "b"))
    assert widgets.FRAMES_CLASS in box._dom_classes
    slider, toggle, outer = box.children
    assert (slider.index, toggle.index, outer.selected_index) == (1, 1, 1)
    assert [s.selected_index for s in outer.children] == [1, 1]
    frame = outer.children[1].children[1]  # kind "b", x = 1.5
    assert frame is box.frames[1.5, "b"] and widgets.frame_class("1.5", "b") in frame._dom_classes
    assert 'alt="line of slope 1.5 &lt;b&gt;"' in frame.value  # alt text escaped
    png = base64.b64decode(frame.value.split("base64,")[1].split('"')[0])
    assert png.startswith(b"\x89PNG")
    linked = {(link.source[0].model_id, link.source[1], link.target[0].model_id, link.target[1])
              for link in box.links}
    assert len(box.links) == 3
    assert (toggle.model_id, "index", outer.model_id, "selected_index") in linked
    for stack in outer.children:
        assert (slider.model_id, "index", stack.model_id, "selected_index") in linked


def test_frames_without_buttons_and_bad_sliders():
    from matplotlib.figure import Figure

    box = widgets.frames(lambda x: Figure(figsize=(1, 1)), ("n", [1, 2]))
    slider, stack = box.children
    assert len(stack.children) == 2 and widgets.frame_class("2") in stack.children[1]._dom_classes
    with pytest.raises(ValueError, match=r"slider: expected \(description, at least two values\), got \('n', \[1\]\)"):
        widgets.frames(lambda x: Figure(), ("n", [1]))


def test_frame_class_is_a_css_class_for_any_label():
    assert widgets.frame_class("1.5", "tanh") == "frame--1.5--tanh"
    assert widgets.frame_class("s = 1", "a/b") == "frame--s---1--a-b"


def test_decay_frames_show_decay_curve_for_each_scale_and_activation():
    box = widgets.decay_frames(scales=(0.5, 1.0), activations=("tanh", "linear"), length=20)
    assert set(box.frames) == {(s, a) for s in (0.5, 1.0) for a in ("tanh", "linear")}
    assert "linear RNN with W_hh = 0.5 x orthogonal" in box.frames[0.5, "linear"].value


def test_gated_decay_curves_move_the_gated_cells_with_their_bias_and_leave_the_rnn_alone():
    low, high = widgets.gated_decay_curves(-1.0, length=40), widgets.gated_decay_curves(4.0, length=40)
    assert np.array_equal(low["RNN"], high["RNN"])
    for name in ("LSTM", "GRU"):
        assert low[name][0] == high[name][0] == 1.0
        assert high[name][-1] > 1e6 * low[name][-1]  # a gate held open keeps the long-lag gradient
    with pytest.raises(ValueError, match=r"bias: expected a finite number, got nan"):
        widgets.gated_decay_curves(float("nan"))


def test_gated_decay_frames_one_frame_per_bias_with_alt_text():
    box = widgets.gated_decay_frames(biases=(0.0, 3.0), length=20)
    assert set(box.frames) == {(0.0, None), (3.0, None)}
    assert "forget-gate bias 3 and a GRU with update-gate bias 3" in box.frames[3.0, None].value


def test_lstm_bias_frames_cover_the_grid():
    box = widgets.lstm_bias_frames(forget_biases=(0.0, 3.0), input_biases=(0.0, 2.0), length=10)
    assert set(box.frames) == {(f, i) for f in (0.0, 3.0) for i in (0.0, 2.0)}
    assert widgets.frame_class("3", "2") in box.frames[3.0, 2.0]._dom_classes
