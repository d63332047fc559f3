"""rnnlib.analysis.lstm_gates: gate activations against torch.nn.LSTMCell / LSTM (float64 autograd), the
sequence helper against lstm.forward, and the 1997 cell (f = 1) built from an LSTM's weights."""

import numpy as np
import pytest
import torch

from rnnlib.analysis import lstm_gates
from rnnlib.core import lstm, torch_bridge
from rnnlib.core.gradcheck import relative_error

TOL = 1e-10


def torch_cell(weights):
    """A float64 torch.nn.LSTMCell holding rnnlib's four arrays."""
    cell = torch.nn.LSTMCell(weights[0].shape[1], weights[1].shape[1], dtype=torch.float64)
    with torch.no_grad():
        for name, w in zip(("weight_ih", "weight_hh", "bias_ih", "bias_hh"), weights):
            getattr(cell, name).copy_(torch.from_numpy(w))
    return cell


@pytest.fixture
def step(rng):
    N, D, H = 3, 4, 5
    weights = lstm.init_weights(D, H, rng)
    return rng.standard_normal((N, D)), rng.standard_normal((N, H)), weights


def test_gates_reproduce_torch_cell_outputs(step, rng):
    # c' = f c_prev + i g and h' = o tanh(c') must hold for torch's outputs, for any c_prev.
    x, h_prev, weights = step
    i, f, g, o = lstm_gates.gate_activations(x, h_prev, *weights)
    cell = torch_cell(weights)
    for _ in range(3):
        c_prev = 2.0 * rng.standard_normal(h_prev.shape)
        with torch.no_grad():
            h_t, c_t = cell(torch.tensor(x), (torch.tensor(h_prev), torch.tensor(c_prev)))
        c_ours = f * c_prev + i * g
        assert relative_error(c_ours, c_t.numpy()) < TOL
        assert relative_error(o * np.tanh(c_ours), h_t.numpy()) < TOL


def test_input_gate_and_candidate_identified_through_torch_autograd(step):
    # With c_prev = 0, c' = i g. Autograd gives dc'/db_i = i (1 - i) g, so i = 1 - (dc'/db_i) / (i g),
    # and then g = (i g) / i: both read off torch alone and compared with ours.
    x, h_prev, weights = step
    H = h_prev.shape[1]
    i, f, g, o = lstm_gates.gate_activations(x, h_prev, *weights)
    cell = torch_cell(weights)
    rows = []
    for n in range(len(x)):  # one example at a time: each bias entry then moves only its own unit
        cell.zero_grad()
        _, c_t = cell(torch.tensor(x[n:n + 1]), (torch.tensor(h_prev[n:n + 1]), torch.zeros(1, H, dtype=torch.float64)))
        c_t.sum().backward()
        p = c_t.detach().numpy()[0]
        i_torch = 1.0 - cell.bias_ih.grad[:H].numpy() / p
        rows.append((i_torch, p / i_torch))
    assert relative_error(np.array([r[0] for r in rows]), i) < 1e-8
    assert relative_error(np.array([r[1] for r in rows]), g) < 1e-8


def test_gate_ranges_and_shapes(step):
    x, h_prev, weights = step
    gates = lstm_gates.gate_activations(x, h_prev, *weights)
    assert [a.shape for a in gates] == [h_prev.shape] * 4
    i, f, g, o = gates
    for a in (i, f, o):
        assert np.all((a > 0) & (a < 1))
    assert np.all(np.abs(g) < 1) and np.any(g < 0)


def test_gate_order_is_i_f_g_o(step):
    # Raising only the second block of the bias must raise only f.
    x, h_prev, (W_ih, W_hh, b_ih, b_hh) = step
    H = h_prev.shape[1]
    before = lstm_gates.gate_activations(x, h_prev, W_ih, W_hh, b_ih, b_hh)
    b_ih2 = b_ih.copy()
    b_ih2[H:2 * H] += 1.0
    after = lstm_gates.gate_activations(x, h_prev, W_ih, W_hh, b_ih2, b_hh)
    assert np.all(after[1] > before[1])
    for k in (0, 2, 3):
        np.testing.assert_array_equal(after[k], before[k])


def test_sequence_gates_match_steps_and_torch(rng):
    T, N, D, H = 6, 2, 3, 4
    weights = lstm.init_weights(D, H, rng)
    xs, h0, c0 = rng.standard_normal((T, N, D)), rng.standard_normal((N, H)), rng.standard_normal((N, H))
    out = lstm_gates.sequence_gates(xs, h0, c0, *weights)
    assert set(out) == {"i", "f", "g", "o", "c", "h"}
    assert all(v.shape == (T, N, H) for v in out.values())
    hs, cs, _ = lstm.forward(xs, h0, c0, *weights)
    np.testing.assert_array_equal(out["h"], hs)
    np.testing.assert_array_equal(out["c"], cs)
    h_prev = h0
    for t in range(T):
        for name, a in zip("ifgo", lstm_gates.gate_activations(xs[t], h_prev, *weights)):
            assert relative_error(out[name][t], a) < 1e-13, (t, name)
        h_prev = out["h"][t]
    with torch.no_grad():
        ys, _ = torch_bridge.from_numpy(*weights)(torch.tensor(xs), (torch.tensor(h0[None]), torch.tensor(c0[None])))
    assert relative_error(out["h"], ys.numpy()) < TOL


def test_sequence_gates_returns_copies(rng):
    weights = lstm.init_weights(2, 3, rng)
    xs = rng.standard_normal((4, 1, 2))
    out = lstm_gates.sequence_gates(xs, np.zeros((1, 3)), np.zeros((1, 3)), *weights)
    out["i"][:] = 0.0
    assert np.all(out["f"] > 0)  # the blocks do not share memory


def test_without_forget_gate_is_the_1997_cell(rng):
    T, N, D, H = 30, 3, 2, 4
    weights = lstm.init_weights(D, H, rng)
    originals = [w.copy() for w in weights]
    old = lstm_gates.without_forget_gate(*weights)
    for w, w0 in zip(weights, originals):  # the inputs are not modified
        np.testing.assert_array_equal(w, w0)
    xs = 5.0 * rng.standard_normal((T, N, D))
    out = lstm_gates.sequence_gates(xs, rng.standard_normal((N, H)), rng.standard_normal((N, H)), *old)
    assert np.all(out["f"] == 1.0)
    c_prev = np.concatenate([out["c"][:1] - out["i"][:1] * out["g"][:1], out["c"][:-1]])
    assert relative_error(out["c"] - c_prev, out["i"] * out["g"]) < 1e-12
    # the other three gates are untouched: same activations as a call with the original weights
    h_prev = rng.standard_normal((N, H))
    new_gates = lstm_gates.gate_activations(xs[0], h_prev, *old)
    old_gates = lstm_gates.gate_activations(xs[0], h_prev, *weights)
    for k in (0, 2, 3):
        np.testing.assert_array_equal(new_gates[k], old_gates[k])


def test_without_forget_gate_cell_path_gradient_is_one(rng):
    # Along the cell path dc_{t-1} = f * dc_t; with f = 1 the gradient is carried unchanged.
    weights = lstm_gates.without_forget_gate(*lstm.init_weights(2, 3, rng))
    x, h, c = rng.standard_normal((2, 2)), rng.standard_normal((2, 3)), rng.standard_normal((2, 3))
    _, _, cache = lstm.cell_forward(x, h, c, *weights)
    dc = rng.standard_normal((2, 3))
    _, _, dc_prev, *_ = lstm.cell_backward(np.zeros((2, 3)), dc, cache)
    np.testing.assert_array_equal(dc_prev, dc)


def test_argument_errors(step):
    x, h_prev, (W_ih, W_hh, b_ih, b_hh) = step
    with pytest.raises(ValueError, match=r"W_hh: expected shape \(4\*H, H\)"):
        lstm_gates.gate_activations(x, h_prev, W_ih, W_hh[:-1], b_ih, b_hh)
    with pytest.raises(ValueError, match=r"h_prev: expected shape \(N=3, H=5\)"):
        lstm_gates.gate_activations(x, h_prev[:, :2], W_ih, W_hh, b_ih, b_hh)
    with pytest.raises(ValueError, match=r"x: expected shape \(N, D=4\)"):
        lstm_gates.gate_activations(x[:, :3], h_prev, W_ih, W_hh, b_ih, b_hh)
    with pytest.raises(TypeError, match="b_ih: expected a numeric array"):
        lstm_gates.without_forget_gate(W_ih, W_hh, np.array(["a"] * 20), b_hh)
    with pytest.raises(ValueError, match=r"c0: expected shape"):
        lstm_gates.sequence_gates(x[None], h_prev, h_prev[:1], W_ih, W_hh, b_ih, b_hh)
