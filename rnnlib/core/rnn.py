"""Vanilla (Elman) RNN with tanh, in PyTorch's layout and time-major order.

    h_t = tanh(W_ih x_t + b_ih + W_hh h_{t-1} + b_hh)

Shapes: x (N, D), xs (T, N, D), h (N, H), W_ih (H, D), W_hh (H, H), b_ih (H,), b_hh (H,).
The parameter names and shapes are those of ``torch.nn.RNN``'s state dict (``weight_ih_l0`` ...).
"""

import numpy as np

from rnnlib.core._checks import (
    check_sequence,
    check_step,
    check_upstream,
    check_weights,
    count_params,
    steps_matmul,
    uniform_init,
)

GATES = 1


def cell_forward(x, h_prev, W_ih, W_hh, b_ih, b_hh):
    """One step. Returns ``h (N, H)`` and the cache for ``cell_backward``."""
    (W_ih, W_hh, b_ih, b_hh), D, H = check_weights("an RNN", GATES, W_ih, W_hh, b_ih, b_hh)
    x, h_prev = check_step(x, {"h_prev": h_prev}, D, H)
    h = np.tanh(x @ W_ih.T + b_ih + h_prev @ W_hh.T + b_hh)
    return h, (x, h_prev, W_ih, W_hh, h)


def cell_backward(dh, cache):
    """Gradients of one step from ``dh (N, H)``, the loss gradient with respect to its output.

    Returns ``dx (N, D), dh_prev (N, H), dW_ih, dW_hh, db_ih, db_hh`` (shapes of the parameters).
    """
    x, h_prev, W_ih, W_hh, h = cache
    dh = check_upstream("dh", dh, h.shape)
    da = dh * (1.0 - h * h)  # tanh'(a) = 1 - tanh(a)^2
    db = da.sum(axis=0)
    return da @ W_ih, da @ W_hh, da.T @ x, da.T @ h_prev, db, db.copy()


def forward(xs, h0, W_ih, W_hh, b_ih, b_hh):
    """Run a whole sequence ``xs (T, N, D)`` from ``h0 (N, H)``. Returns ``hs (T, N, H)`` and a cache."""
    (W_ih, W_hh, b_ih, b_hh), D, H = check_weights("an RNN", GATES, W_ih, W_hh, b_ih, b_hh)
    xs, h0 = check_sequence(xs, {"h0": h0}, D, H)
    # The input term has no recurrence, so all T steps are projected in one product.
    hs = steps_matmul(xs, W_ih.T) + (b_ih + b_hh)
    h = h0
    for t in range(len(xs)):
        h = np.tanh(hs[t] + h @ W_hh.T, out=hs[t])
    return hs, (xs, h0, W_ih, W_hh, hs)


def backward(dhs, cache):
    """Backpropagation through time from ``dhs (T, N, H)``, the loss gradient with respect to each
    ``hs[t]`` (zeros where a step has no loss).

    Returns ``dxs (T, N, D), dh0 (N, H), dW_ih, dW_hh, db_ih, db_hh``.
    """
    xs, h0, W_ih, W_hh, hs = cache
    dhs = check_upstream("dhs", dhs, hs.shape)
    das = np.empty_like(hs)
    dh_next = np.zeros_like(h0)
    for t in reversed(range(len(hs))):
        das[t] = (dhs[t] + dh_next) * (1.0 - hs[t] * hs[t])
        dh_next = das[t] @ W_hh
    # Parameter gradients sum over steps; with every step's da known they are single products.
    h_prevs = np.concatenate([h0[None], hs[:-1]])
    da_flat = das.reshape(-1, das.shape[-1])
    db = da_flat.sum(axis=0)
    dW_ih = da_flat.T @ xs.reshape(-1, xs.shape[-1])
    dW_hh = da_flat.T @ h_prevs.reshape(-1, h_prevs.shape[-1])
    return steps_matmul(das, W_ih), dh_next, dW_ih, dW_hh, db, db.copy()


def init_weights(input_size, hidden_size, rng, dtype=np.float64):
    """``(W_ih, W_hh, b_ih, b_hh)`` drawn as ``torch.nn.RNN`` does, from the generator ``rng``."""
    return uniform_init(GATES, input_size, hidden_size, rng, dtype)


def param_count(input_size, hidden_size, bias=True):
    """Number of parameters of one ``torch.nn.RNN`` layer: ``H*(D + H) + 2*H``."""
    return count_params(GATES, input_size, hidden_size, bias)
