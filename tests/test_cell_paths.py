"""rnnlib.analysis.cell_paths: the forget-gate product, the cell-path-only gradient, and the Jacobians of one
step (through h_{t-1}, and with respect to the input) against torch autograd in float64."""

import numpy as np
import pytest
import torch

from rnnlib.analysis import cell_paths, decay, lstm_gates
from rnnlib.core import lstm

TOL = 1e-12


def torch_cell(weights):
    """A float64 torch.nn.LSTMCell holding rnnlib's four arrays."""
    cell = torch.nn.LSTMCell(weights[0].shape[1], weights[1].shape[1], dtype=torch.float64)
    with torch.no_grad():
        for name, w in zip(("weight_ih", "weight_hh", "bias_ih", "bias_hh"), weights):
            getattr(cell, name).copy_(torch.from_numpy(w))
    return cell


def test_forget_products_are_indexed_by_lag(rng):
    f = rng.uniform(0.2, 1.0, size=(5, 2, 3))
    P = cell_paths.forget_products(f)
    assert P.shape == f.shape
    np.testing.assert_array_equal(P[0], np.ones((2, 3)))
    np.testing.assert_allclose(P[1], f[4], rtol=TOL)
    np.testing.assert_allclose(P[3], f[4] * f[3] * f[2], rtol=TOL)


def test_forget_products_reject_other_shapes():
    with pytest.raises(ValueError, match=r"f: expected shape \(T, N, H\), got \(4, 3\)"):
        cell_paths.forget_products(np.ones((4, 3)))


def test_cell_path_norms_start_at_the_measured_norm(rng):
    T, N, D, H = 30, 4, 2, 6
    weights = lstm.init_weights(D, H, rng, forget_bias=1.0)
    xs, zeros, dh = rng.standard_normal((T, N, D)), np.zeros((N, H)), rng.standard_normal((N, H))
    path = cell_paths.cell_path_norms(xs, zeros, zeros, *weights, dh)
    measured = decay.cell_gradient_norms_by_lag(xs, zeros, zeros, *weights, dh)
    assert path.shape == (T,)
    assert abs(path[0] - measured[0]) < TOL * measured[0]
    assert np.all(np.diff(path) <= 0)  # forget gates below 1 can only shrink it


def test_without_recurrent_weights_the_cell_path_is_the_whole_gradient(rng):
    T, N, D, H = 40, 3, 2, 5
    W_ih, W_hh, b_ih, b_hh = lstm.init_weights(D, H, rng, forget_bias=2.0)
    weights = (W_ih, np.zeros_like(W_hh), b_ih, b_hh)
    xs, zeros, dh = rng.standard_normal((T, N, D)), np.zeros((N, H)), rng.standard_normal((N, H))
    path = cell_paths.cell_path_norms(xs, zeros, zeros, *weights, dh)
    measured = decay.cell_gradient_norms_by_lag(xs, zeros, zeros, *weights, dh)
    np.testing.assert_allclose(path, measured, rtol=1e-12)


def test_coupled_jacobian_matches_autograd(rng):
    N, D, H = 2, 3, 4
    weights = lstm.init_weights(D, H, rng, forget_bias=1.0)
    x, c_prev = rng.standard_normal((N, D)), rng.standard_normal((N, H))
    o_prev = rng.uniform(0.1, 0.9, size=(N, H))
    J = cell_paths.coupled_cell_jacobian(x, c_prev, o_prev, *weights)
    cell = torch_cell(weights)
    for n in range(N):
        x_t, o_t = torch.tensor(x[n:n + 1]), torch.tensor(o_prev[n:n + 1])
        def step(c, x_t=x_t, o_t=o_t):
            return cell(x_t, (o_t * torch.tanh(c), c))[1]
        auto = torch.autograd.functional.jacobian(step, torch.tensor(c_prev[n:n + 1]))
        np.testing.assert_allclose(J[n], auto[0, :, 0, :].numpy(), atol=TOL)


def test_coupled_jacobian_is_the_forget_gate_without_recurrent_weights(rng):
    W_ih, W_hh, b_ih, b_hh = lstm.init_weights(3, 4, rng)
    x, c_prev, o_prev = rng.standard_normal((2, 3)), rng.standard_normal((2, 4)), np.full((2, 4), 0.5)
    J = cell_paths.coupled_cell_jacobian(x, c_prev, o_prev, W_ih, 0 * W_hh, b_ih, b_hh)
    f = lstm_gates.gate_activations(x, np.zeros((2, 4)), W_ih, 0 * W_hh, b_ih, b_hh)[1]
    np.testing.assert_allclose(J, f[:, :, None] * np.eye(4), atol=TOL)


def test_input_jacobian_matches_autograd(rng):
    N, D, H = 2, 3, 4
    weights = lstm.init_weights(D, H, rng)
    x, h_prev, c_prev = (rng.standard_normal((N, k)) for k in (D, H, H))
    J = cell_paths.input_jacobian(x, h_prev, c_prev, *weights)
    assert J.shape == (N, H, D)
    cell = torch_cell(weights)
    for n in range(N):
        state = (torch.tensor(h_prev[n:n + 1]), torch.tensor(c_prev[n:n + 1]))
        auto = torch.autograd.functional.jacobian(lambda x_t, s=state: cell(x_t, s)[1],
                                                  torch.tensor(x[n:n + 1]))
        np.testing.assert_allclose(J[n], auto[0, :, 0, :].numpy(), atol=TOL)


def test_sum_form_gate_is_the_tied_special_case(rng):
    H = 4
    W_ih, W_hh, b_ih, b_hh = lstm.init_weights(H, H, rng)
    x, h = rng.standard_normal((3, H)), rng.standard_normal((3, H))
    W_f, b_f = W_hh[H:2 * H], (b_ih + b_hh)[H:2 * H]
    tied = (W_ih.copy(), W_hh, b_ih, b_hh)
    tied[0][H:2 * H] = W_f  # W_if = W_hf: the concatenated gate becomes the sum form
    f_tied = lstm_gates.gate_activations(x, h, *tied)[1]
    np.testing.assert_allclose(cell_paths.sum_form_gate(x, h, W_f, b_f), f_tied, atol=TOL)
    np.testing.assert_allclose(cell_paths.sum_form_gate(h, x, W_f, b_f),
                               cell_paths.sum_form_gate(x, h, W_f, b_f), atol=TOL)


def test_sum_form_gate_needs_equal_widths(rng):
    with pytest.raises(ValueError, match="x: expected shape"):
        cell_paths.sum_form_gate(np.zeros((2, 3)), np.zeros((2, 4)), np.eye(4), np.zeros(4))
    with pytest.raises(ValueError, match="W: expected a square array"):
        cell_paths.sum_form_gate(np.zeros((2, 4)), np.zeros((2, 4)), np.zeros((4, 3)), np.zeros(4))
