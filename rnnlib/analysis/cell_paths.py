"""The paths a gradient takes through an LSTM: the cell path alone (the product of the forget gates)
and the coupling through the hidden state, which the forget gates do not bound.

Same convention as ``rnnlib.core.lstm`` (PyTorch's layout, gate order i, f, g, o, time-major). Lags follow
``rnnlib.analysis.decay``: lag ``k`` is the state at step ``T - k``, so index 0 is the last state.

Along the cell path alone, ``dc_t/dc_{t-1} = diag(f_t)``. But ``c_{t-1}`` also reaches ``c_t`` through
``h_{t-1} = o_{t-1} * tanh(c_{t-1})``, which every block of step t reads through ``W_hh``:

    dc_t/dc_{t-1} = diag(f_t)
        + [diag(c_{t-1} f_t (1 - f_t)) W_hf + diag(g_t i_t (1 - i_t)) W_hi + diag(i_t (1 - g_t^2)) W_hg]
          diag(o_{t-1} (1 - tanh^2 c_{t-1}))

with ``W_hi, W_hf, W_hg`` the i, f and g blocks of rows of ``W_hh``. The second line can make the
gradient decay more slowly than the forget gates alone, or grow.
"""

import numpy as np

from rnnlib.analysis import lstm_gates
from rnnlib.core import lstm
from rnnlib.core._checks import as_array, check_step, check_upstream, check_weights, expect_shape, sigmoid


def forget_products(f):
    """Products of the forget gates over the last k steps, indexed by lag.

    ``f (T, N, H)``, the forget gates at steps 1..T (``sequence_gates(...)["f"]``). Returns
    ``P (T, N, H)`` with ``P[0] = 1`` and ``P[k] = f_T * f_{T-1} * ... * f_{T-k+1}``, so that along the
    cell path alone ``dL/dc_{T-k} = P[k] * dL/dc_T``.
    """
    f = as_array("f", f)
    if f.ndim != 3:
        raise ValueError(f"f: expected shape (T, N, H), got {tuple(f.shape)}")
    products = np.cumprod(f[::-1], axis=0)[:-1]  # products[j]: f over the last j + 1 steps
    return np.concatenate([np.ones_like(f[:1]), products])


def cell_path_norms(xs, h0, c0, W_ih, W_hh, b_ih, b_hh, dh_last):
    """The gradient norm by lag if only the cell path carried it back from a loss on ``h_T``.

    Same arguments as ``decay.cell_gradient_norms_by_lag``. The gradient on the last cell state is
    ``dL/dc_T = dh_last * o_T * (1 - tanh^2 c_T)``; it is then multiplied by the forget gates only.
    Returns ``norms (T,)``, the Frobenius norm over the batch of ``forget_products(f)[k] * dL/dc_T``.
    At lag 0 it equals ``decay.cell_gradient_norms_by_lag``; with ``W_hh = 0`` at every lag.
    """
    run = lstm_gates.sequence_gates(xs, h0, c0, W_ih, W_hh, b_ih, b_hh)
    dh = check_upstream("dh_last", dh_last, run["h"].shape[1:])
    dc_last = dh * run["o"][-1] * (1.0 - np.tanh(run["c"][-1]) ** 2)
    return np.linalg.norm(forget_products(run["f"]) * dc_last, axis=(1, 2))


def coupled_cell_jacobian(x, c_prev, o_prev, W_ih, W_hh, b_ih, b_hh):
    """``dc_t/dc_{t-1}`` when ``h_{t-1} = o_prev * tanh(c_prev)`` moves with ``c_prev``.

    ``x (N, D)``, ``c_prev`` and ``o_prev (N, H)`` (the output gate of step t-1, held fixed), weights as
    ``lstm.cell_forward``. Returns ``J (N, H, H)``, ``J[n, j, m] = dc_t[n, j] / dc_{t-1}[n, m]``: the
    diagonal ``f_t`` of the cell path plus the terms through ``W_hh`` (module docstring).
    """
    weights, D, H = check_weights("an LSTM", lstm.GATES, W_ih, W_hh, b_ih, b_hh)
    x, c_prev, o_prev = check_step(x, {"c_prev": c_prev, "o_prev": o_prev}, D, H)
    tanh_prev = np.tanh(c_prev)
    i, f, g, _ = lstm_gates.gate_activations(x, o_prev * tanh_prev, *weights)
    W_hi, W_hf, W_hg = (weights[1][j * H:(j + 1) * H] for j in range(3))
    through_h = ((c_prev * f * (1 - f))[:, :, None] * W_hf + (g * i * (1 - i))[:, :, None] * W_hi
                 + (i * (1 - g * g))[:, :, None] * W_hg)
    J = through_h * (o_prev * (1 - tanh_prev ** 2))[:, None, :]
    return J + f[:, :, None] * np.eye(H)


def input_jacobian(x, h_prev, c_prev, W_ih, W_hh, b_ih, b_hh):
    """``dc_t/dx_t (N, H, D)`` of one step: the input reaches the cell through i, f and g.

        dc_t/dx_t = diag(g i (1 - i)) W_ii + diag(c_{t-1} f (1 - f)) W_if + diag(i (1 - g^2)) W_ig

    with ``W_ii, W_if, W_ig`` the i, f and g blocks of rows of ``W_ih``. Arguments as ``cell_forward``.
    """
    weights, D, H = check_weights("an LSTM", lstm.GATES, W_ih, W_hh, b_ih, b_hh)
    x, h_prev, c_prev = check_step(x, {"h_prev": h_prev, "c_prev": c_prev}, D, H)
    i, f, g, _ = lstm_gates.gate_activations(x, h_prev, *weights)
    W_ii, W_if, W_ig = (weights[0][j * H:(j + 1) * H] for j in range(3))
    return ((g * i * (1 - i))[:, :, None] * W_ii + (c_prev * f * (1 - f))[:, :, None] * W_if
            + (i * (1 - g * g))[:, :, None] * W_ig)


def sum_form_gate(x, h_prev, W, b):
    """A gate written on the *sum* of input and state, ``sigmoid(W (h_{t-1} + x_t) + b)``.

    ``x`` and ``h_prev (N, H)`` must have the same width (D = H), ``W (H, H)``, ``b (H,)``. This is not
    the LSTM's gate, which reads ``[h_{t-1}; x_t]`` with separate weights; it is the special case
    ``W_ih = W_hh = W``. Returns ``(N, H)``.
    """
    W, b = as_array("W", W), as_array("b", b)
    if W.ndim != 2 or W.shape[0] != W.shape[1]:
        raise ValueError(f"W: expected a square array (H, H), got shape {W.shape}")
    H = W.shape[0]
    expect_shape("b", b, (("H", H),))
    x, h_prev = check_step(x, {"h_prev": h_prev}, H, H)
    return sigmoid((h_prev + x) @ W.T + b)
