"""rnnlib.display.widgets, chapter 4's part: lstm_bias_curves against rnnlib's backward pass and torch autograd,
the static grid, and the LstmBiasExplorer driven without a browser."""

import matplotlib

matplotlib.use("Agg")

import numpy as np  # noqa: E402
import pytest  # noqa: E402
import torch  # noqa: E402

from rnnlib.analysis import lstm_gates
from rnnlib.core import lstm
from rnnlib.core.gradcheck import relative_error  # noqa: E402
from rnnlib.display import widgets  # noqa: E402


def setting(forget_bias, input_bias, length, seed=0):
    """The weights and inputs lstm_bias_curves documents, rebuilt from its docstring."""
    rng = np.random.default_rng(seed)
    H = widgets.BIAS_HIDDEN
    W_ih, W_hh, b_ih, b_hh = lstm.init_weights(widgets.BIAS_INPUT, H, rng)
    b_ih[:H], b_ih[H:2 * H], b_hh[:2 * H] = input_bias, forget_bias, 0.0
    xs = rng.standard_normal((length, widgets.BIAS_BATCH, widgets.BIAS_INPUT))
    return xs, (W_ih, W_hh, b_ih, b_hh)


def test_curves_follow_the_documented_setting():
    curves = widgets.lstm_bias_curves(1.0, -0.5, length=20, seed=3)
    xs, weights = setting(1.0, -0.5, 20, seed=3)
    zeros = np.zeros((widgets.BIAS_BATCH, widgets.BIAS_HIDDEN))
    _, cs, _ = lstm.forward(xs, zeros, zeros, *weights)
    np.testing.assert_allclose(curves["c_rms"], np.sqrt(np.mean(cs ** 2, axis=(1, 2))), rtol=1e-13)
    run = lstm_gates.sequence_gates(xs, zeros, zeros, *weights)
    assert curves["f_mean"] == pytest.approx(run["f"].mean(), rel=1e-13)
    assert curves["i_mean"] == pytest.approx(run["i"].mean(), rel=1e-13)


def test_cell_path_equals_rnnlib_backward_with_no_gradient_through_h():
    # lstm.cell_backward with dh = 0 sends dc back along the cell path only: dc_prev = f * dc.
    T = 12
    curves = widgets.lstm_bias_curves(0.5, 0.0, length=T)
    xs, weights = setting(0.5, 0.0, T)
    N, H = widgets.BIAS_BATCH, widgets.BIAS_HIDDEN
    h, c, caches = np.zeros((N, H)), np.zeros((N, H)), []
    for x in xs:
        h, c, cache = lstm.cell_forward(x, h, c, *weights)
        caches.append(cache)
    dc = np.ones((N, H))
    expected = [1.0]
    for cache in reversed(caches[1:]):
        _, _, dc, *_ = lstm.cell_backward(np.zeros((N, H)), dc, cache)
        expected.append(np.sqrt(np.mean(dc ** 2)))
    assert relative_error(curves["cell_path"], np.array(expected)) < 1e-13


def test_cell_path_equals_torch_autograd_with_h_detached():
    # Feeding each step a detached h_{t-1} cuts every path except c_{t-1} -> c_t: autograd's dc_T/dc_{T-k}
    # is then the cell-path factor.
    T = 8
    curves = widgets.lstm_bias_curves(2.0, 1.0, length=T)
    xs, weights = setting(2.0, 1.0, T)
    N, H = widgets.BIAS_BATCH, widgets.BIAS_HIDDEN
    cell = torch.nn.LSTMCell(widgets.BIAS_INPUT, H, dtype=torch.float64)
    with torch.no_grad():
        for name, w in zip(("weight_ih", "weight_hh", "bias_ih", "bias_hh"), weights):
            getattr(cell, name).copy_(torch.from_numpy(w))
    h, c = torch.zeros(N, H, dtype=torch.float64), torch.zeros(N, H, dtype=torch.float64)
    cs = []
    for x in xs:
        h, c = cell(torch.from_numpy(x), (h.detach(), c))
        c.retain_grad()
        cs.append(c)
    cs[-1].sum().backward()  # dc_T = ones
    got = [float(torch.sqrt(torch.mean(cs[T - 1 - k].grad ** 2))) for k in range(T)]
    assert relative_error(curves["cell_path"], np.array(got)) < 1e-10


def test_biases_move_the_gates_and_the_memory():
    low, high = widgets.lstm_bias_curves(-2.0, 0.0, 60), widgets.lstm_bias_curves(4.0, 0.0, 60)
    assert low["f_mean"] < 0.2 < 0.9 < high["f_mean"]
    assert high["cell_path"][-1] > 1e6 * low["cell_path"][-1]
    assert np.all(np.diff(high["cell_path"]) <= 0)  # a product of numbers in (0, 1) only shrinks
    shut, open_ = widgets.lstm_bias_curves(0.0, -6.0, 60), widgets.lstm_bias_curves(0.0, 6.0, 60)
    assert shut["i_mean"] < 0.01 < 0.99 < open_["i_mean"]
    assert shut["c_rms"].max() < 0.1 * open_["c_rms"].max()  # a shut input gate writes almost nothing


def test_grid_draws_every_setting():
    fig = widgets.lstm_bias_grid(forget_biases=(0.0, 3.0), input_biases=(-1.0, 1.0), length=30)
    axes = np.array(fig.axes).reshape(2, 2)
    for column, b_f in enumerate((0.0, 3.0)):
        assert axes[0, column].get_title().startswith(f"forget bias {b_f:g}")
        for line, b_i in zip(axes[1, column].lines, (-1.0, 1.0)):
            assert line.get_label() == f"input bias {b_i:g}"
            np.testing.assert_allclose(line.get_ydata(), widgets.lstm_bias_curves(b_f, b_i, 30)["cell_path"])
    assert axes[1, 0].get_yscale() == "log"
    assert axes[0, 0].get_xlabel() == "time step $t$" and "lag" in axes[1, 0].get_xlabel()


def test_explorer_redraws_when_a_slider_moves():
    pytest.importorskip("ipywidgets")
    explorer = widgets.LstmBiasExplorer(length=40)
    c_line, path_line = explorer.lines
    np.testing.assert_allclose(c_line.get_ydata(), widgets.lstm_bias_curves(0.0, 0.0, 40)["c_rms"])
    explorer.forget.value = 3.0
    explorer.input.value = 1.5
    expected = widgets.lstm_bias_curves(3.0, 1.5, 40)
    np.testing.assert_allclose(c_line.get_ydata(), expected["c_rms"])
    np.testing.assert_allclose(path_line.get_ydata(), expected["cell_path"])
    assert f"{expected['f_mean']:.2f}" in explorer.axes[0].get_title()
    reference = explorer.axes[0].lines[0]  # the grey reference stays where it was
    np.testing.assert_allclose(reference.get_ydata(), widgets.lstm_bias_curves(0.0, 0.0, 40)["c_rms"])
    assert explorer.widget.children[-1] is explorer.output


@pytest.mark.parametrize(("args", "message"), [
    ((np.nan, 0.0), "forget_bias: expected a finite number, got nan"),
    ((0.0, np.inf), "input_bias: expected a finite number, got inf"),
    ((0.0, 0.0, 1), "length: expected an integer >= 2, got 1"),
])
def test_argument_errors(args, message):
    with pytest.raises(ValueError, match=message):
        widgets.lstm_bias_curves(*args)
