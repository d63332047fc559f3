"""Long short-term memory (Hochreiter & Schmidhuber 1997, forget gate from Gers et al. 2000),
in PyTorch's layout, gate order and time-major order.

    [a_i, a_f, a_g, a_o] = W_ih x_t + b_ih + W_hh h_{t-1} + b_hh      four blocks of H rows
    i = sigmoid(a_i)   f = sigmoid(a_f)   g = tanh(a_g)   o = sigmoid(a_o)
    c_t = f * c_{t-1} + i * g
    h_t = o * tanh(c_t)

Shapes: x (N, D), xs (T, N, D), h and c (N, H), W_ih (4H, D), W_hh (4H, H), b_ih and b_hh (4H,).
"""

import numpy as np

from rnnlib.core._checks import (
    check_sequence,
    check_step,
    check_upstream,
    check_weights,
    count_params,
    sigmoid,
    steps_matmul,
    uniform_init,
)

GATES = 4


def _gates(a, H):
    """Activate pre-activations ``a (N, 4H)`` in place: sigmoid on i, f, o and tanh on g."""
    g = np.tanh(a[:, 2 * H:3 * H])
    # One sigmoid over the whole contiguous row is cheaper than three over strided blocks;
    # the g block it also touches is then overwritten with tanh.
    sigmoid(a, out=a)
    a[:, 2 * H:3 * H] = g
    return a


def _gate_grads(dh, dc, c_prev, act, tanh_c):
    """Pre-activation gradients ``(N, 4H)`` of one step and the gradient reaching ``c_prev``."""
    H = dh.shape[1]
    i, f, g, o = act[:, :H], act[:, H:2 * H], act[:, 2 * H:3 * H], act[:, 3 * H:]
    dc = dc + dh * o * (1.0 - tanh_c * tanh_c)
    # da = (derivative of each gate's activation) * (gradient reaching that gate), block by block:
    da = act * (1.0 - act)  # sigmoid' = s (1 - s) on i, f, o
    da[:, 2 * H:3 * H] = 1.0 - g * g  # tanh' = 1 - tanh^2 on g
    da *= np.concatenate([dc * g, dc * c_prev, dc * i, dh * tanh_c], axis=1)  # to i, f, g, o
    return da, dc * f  # along the cell path the gradient is only multiplied by f


def cell_forward(x, h_prev, c_prev, W_ih, W_hh, b_ih, b_hh):
    """One step. Returns ``h (N, H)``, ``c (N, H)`` and the cache for ``cell_backward``."""
    (W_ih, W_hh, b_ih, b_hh), D, H = check_weights("an LSTM", GATES, W_ih, W_hh, b_ih, b_hh)
    x, h_prev, c_prev = check_step(x, {"h_prev": h_prev, "c_prev": c_prev}, D, H)
    act = _gates(x @ W_ih.T + b_ih + h_prev @ W_hh.T + b_hh, H)
    c = act[:, H:2 * H] * c_prev + act[:, :H] * act[:, 2 * H:3 * H]
    tanh_c = np.tanh(c)
    h = act[:, 3 * H:] * tanh_c
    return h, c, (x, h_prev, c_prev, W_ih, W_hh, act, tanh_c)


def cell_backward(dh, dc, cache):
    """Gradients of one step from ``dh`` and ``dc (N, H)``, the loss gradients with respect to
    its outputs ``h`` and ``c``.

    Returns ``dx (N, D), dh_prev (N, H), dc_prev (N, H), dW_ih, dW_hh, db_ih, db_hh``.
    """
    x, h_prev, c_prev, W_ih, W_hh, act, tanh_c = cache
    dh = check_upstream("dh", dh, h_prev.shape)
    dc = check_upstream("dc", dc, c_prev.shape)
    da, dc_prev = _gate_grads(dh, dc, c_prev, act, tanh_c)
    db = da.sum(axis=0)
    return da @ W_ih, da @ W_hh, dc_prev, da.T @ x, da.T @ h_prev, db, db.copy()


def forward(xs, h0, c0, W_ih, W_hh, b_ih, b_hh):
    """Run a whole sequence ``xs (T, N, D)`` from ``h0, c0 (N, H)``.

    Returns ``hs (T, N, H)``, ``cs (T, N, H)`` and a cache for ``backward``.
    """
    (W_ih, W_hh, b_ih, b_hh), D, H = check_weights("an LSTM", GATES, W_ih, W_hh, b_ih, b_hh)
    xs, h0, c0 = check_sequence(xs, {"h0": h0, "c0": c0}, D, H)
    T, N = xs.shape[:2]
    # The input term has no recurrence, so all T steps are projected in one product.
    acts = steps_matmul(xs, W_ih.T) + (b_ih + b_hh)
    hs, cs, tanh_cs = (np.empty((T, N, H), dtype=acts.dtype) for _ in range(3))
    h, c = h0, c0
    for t in range(T):
        acts[t] += h @ W_hh.T
        act = _gates(acts[t], H)
        i, f, g, o = act[:, :H], act[:, H:2 * H], act[:, 2 * H:3 * H], act[:, 3 * H:]
        c = cs[t] = f * c + i * g
        h = hs[t] = o * np.tanh(c, out=tanh_cs[t])
    return hs, cs, (xs, h0, c0, W_ih, W_hh, acts, hs, cs, tanh_cs)


def backward(dhs, cache, dcT=None):
    """Backpropagation through time from ``dhs (T, N, H)``, the loss gradient with respect to each
    ``hs[t]``, and optionally ``dcT (N, H)``, the gradient with respect to the last cell state.

    Returns ``dxs (T, N, D), dh0 (N, H), dc0 (N, H), dW_ih, dW_hh, db_ih, db_hh``.
    """
    xs, h0, c0, W_ih, W_hh, acts, hs, cs, tanh_cs = cache
    dhs = check_upstream("dhs", dhs, hs.shape)
    dc = np.zeros_like(c0) if dcT is None else check_upstream("dcT", dcT, c0.shape)
    das = np.empty_like(acts)
    dh_next = np.zeros_like(h0)
    for t in reversed(range(len(hs))):
        c_prev = cs[t - 1] if t > 0 else c0
        das[t], dc = _gate_grads(dhs[t] + dh_next, dc, c_prev, acts[t], tanh_cs[t])
        dh_next = das[t] @ W_hh
    # Parameter gradients sum over steps; with every step's da known they are single products.
    h_prevs = np.concatenate([h0[None], hs[:-1]])
    da_flat = das.reshape(-1, das.shape[-1])
    db = da_flat.sum(axis=0)
    dW_ih = da_flat.T @ xs.reshape(-1, xs.shape[-1])
    dW_hh = da_flat.T @ h_prevs.reshape(-1, h_prevs.shape[-1])
    return steps_matmul(das, W_ih), dh_next, dc, dW_ih, dW_hh, db, db.copy()


def init_weights(input_size, hidden_size, rng, dtype=np.float64, forget_bias=None):
    """``(W_ih, W_hh, b_ih, b_hh)`` drawn as ``torch.nn.LSTM`` does, from the generator ``rng``.

    With ``forget_bias`` set, the forget block of ``b_ih`` is set to it and that of ``b_hh`` to zero,
    so the forget gate starts near ``sigmoid(forget_bias)``.
    """
    W_ih, W_hh, b_ih, b_hh = uniform_init(GATES, input_size, hidden_size, rng, dtype)
    if forget_bias is not None:
        b_ih[hidden_size:2 * hidden_size] = forget_bias
        b_hh[hidden_size:2 * hidden_size] = 0.0
    return W_ih, W_hh, b_ih, b_hh


def param_count(input_size, hidden_size, bias=True):
    """Number of parameters of one ``torch.nn.LSTM`` layer: ``4*H*(D + H) + 8*H``."""
    return count_params(GATES, input_size, hidden_size, bias)
