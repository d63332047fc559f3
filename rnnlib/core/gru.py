"""Gated recurrent unit (Cho et al. 2014) in PyTorch's convention, layout and time-major order.

    [a_r, a_z, a_n] = W_ih x_t + b_ih           [u_r, u_z, u_n] = W_hh h_{t-1} + b_hh
    r = sigmoid(a_r + u_r)    z = sigmoid(a_z + u_z)
    n = tanh(a_n + r * u_n)                     the reset gate acts after the matrix product
    h_t = (1 - z) * n + z * h_{t-1}             z near 1 keeps the old state

Cho et al. write the candidate as tanh(W x + U (r * h)), reset before the product, and some
texts swap the roles of z and 1 - z; the numbers here are PyTorch's. ``cho_cell_forward`` and
``cho_forward`` run the same weights in Cho's convention (forward only); ``flip_update_gate`` converts
weights between the two update-gate conventions.
Shapes: x (N, D), xs (T, N, D), h (N, H), W_ih (3H, D), W_hh (3H, H), b_ih and b_hh (3H,).
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

GATES = 3


def _step(a_in, h_prev, W_hh, b_hh):
    """One step from the input projection ``a_in (N, 3H)``; returns ``h`` and what backward needs."""
    H = h_prev.shape[1]
    u = h_prev @ W_hh.T + b_hh
    rz = sigmoid(a_in[:, :2 * H] + u[:, :2 * H])
    r, z = rz[:, :H], rz[:, H:]
    n = np.tanh(a_in[:, 2 * H:] + r * u[:, 2 * H:])
    h = n + z * (h_prev - n)  # = (1 - z) * n + z * h_prev, one product fewer
    return h, (rz, n, u[:, 2 * H:])


def _step_grads(dh, h_prev, saved):
    """Pre-activation gradients of one step: input side ``(N, 3H)``, state side ``(N, 3H)``, and
    the part of ``dh_prev`` that flows straight through the interpolation."""
    rz, n, u_n = saved
    H = dh.shape[1]
    r, z = rz[:, :H], rz[:, H:]
    da_n = dh * (1.0 - z) * (1.0 - n * n)
    # r and z: the derivative of the sigmoid times the gradient reaching each gate.
    da_rz = rz * (1.0 - rz)
    da_rz *= np.concatenate([da_n * u_n, dh * (h_prev - n)], axis=1)
    da_in = np.concatenate([da_rz, da_n], axis=1, dtype=rz.dtype)
    du = np.concatenate([da_rz, da_n * r], axis=1, dtype=rz.dtype)  # on the state side, n sees r * u_n
    return da_in, du, dh * z


def cell_forward(x, h_prev, W_ih, W_hh, b_ih, b_hh):
    """One step. Returns ``h (N, H)`` and the cache for ``cell_backward``."""
    (W_ih, W_hh, b_ih, b_hh), D, H = check_weights("a GRU", GATES, W_ih, W_hh, b_ih, b_hh)
    x, h_prev = check_step(x, {"h_prev": h_prev}, D, H)
    h, saved = _step(x @ W_ih.T + b_ih, h_prev, W_hh, b_hh)
    return h, (x, h_prev, W_ih, W_hh, saved)


def cell_backward(dh, cache):
    """Gradients of one step from ``dh (N, H)``.

    Returns ``dx (N, D), dh_prev (N, H), dW_ih, dW_hh, db_ih, db_hh``.
    """
    x, h_prev, W_ih, W_hh, saved = cache
    dh = check_upstream("dh", dh, h_prev.shape)
    da_in, du, dh_direct = _step_grads(dh, h_prev, saved)
    return (da_in @ W_ih, du @ W_hh + dh_direct, da_in.T @ x, du.T @ h_prev,
            da_in.sum(axis=0), du.sum(axis=0))


def forward(xs, h0, W_ih, W_hh, b_ih, b_hh):
    """Run a whole sequence ``xs (T, N, D)`` from ``h0 (N, H)``. Returns ``hs (T, N, H)`` and a cache."""
    (W_ih, W_hh, b_ih, b_hh), D, H = check_weights("a GRU", GATES, W_ih, W_hh, b_ih, b_hh)
    xs, h0 = check_sequence(xs, {"h0": h0}, D, H)
    # The input term has no recurrence, so all T steps are projected in one product.
    a_ins = steps_matmul(xs, W_ih.T) + b_ih
    hs = np.empty((len(xs), xs.shape[1], H), dtype=a_ins.dtype)
    saved = []
    h = h0
    for t in range(len(xs)):
        h, s = _step(a_ins[t], h, W_hh, b_hh)
        hs[t] = h
        saved.append(s)
    return hs, (xs, h0, W_ih, W_hh, hs, saved)


def backward(dhs, cache):
    """Backpropagation through time from ``dhs (T, N, H)``.

    Returns ``dxs (T, N, D), dh0 (N, H), dW_ih, dW_hh, db_ih, db_hh``.
    """
    xs, h0, W_ih, W_hh, hs, saved = cache
    dhs = check_upstream("dhs", dhs, hs.shape)
    T, N, H = hs.shape
    da_ins = np.empty((T, N, 3 * H), dtype=hs.dtype)
    dus = np.empty_like(da_ins)
    dh_next = np.zeros_like(h0)
    for t in reversed(range(T)):
        h_prev = hs[t - 1] if t > 0 else h0
        da_ins[t], dus[t], dh_direct = _step_grads(dhs[t] + dh_next, h_prev, saved[t])
        dh_next = dus[t] @ W_hh + dh_direct
    # Parameter gradients sum over steps; with every step's gradients known they are single products.
    h_prevs = np.concatenate([h0[None], hs[:-1]]).reshape(T * N, H)
    da_flat, du_flat = da_ins.reshape(T * N, 3 * H), dus.reshape(T * N, 3 * H)
    dW_ih = da_flat.T @ xs.reshape(T * N, -1)
    return (steps_matmul(da_ins, W_ih), dh_next, dW_ih, du_flat.T @ h_prevs,
            da_flat.sum(axis=0), du_flat.sum(axis=0))


def init_weights(input_size, hidden_size, rng, dtype=np.float64):
    """``(W_ih, W_hh, b_ih, b_hh)`` drawn as ``torch.nn.GRU`` does, from the generator ``rng``."""
    return uniform_init(GATES, input_size, hidden_size, rng, dtype)


def param_count(input_size, hidden_size, bias=True):
    """Number of parameters of one ``torch.nn.GRU`` layer: ``3*H*(D + H) + 6*H``."""
    return count_params(GATES, input_size, hidden_size, bias)


def cho_cell_forward(x, h_prev, W_ih, W_hh, b_ih, b_hh):
    """One step in Cho et al.'s (2014) convention: the reset gate acts *before* the matrix product.

        r, z as in ``cell_forward``;   n = tanh(W_in x + b_in + W_hn (r * h_prev) + b_hn)
        h = (1 - z) * n + z * h_prev   (the same interpolation as PyTorch's)

    The arrays are laid out as in ``cell_forward`` (gate order r, z, n), so the same weights can be run in
    both conventions. Cho et al. write no biases; ``b_hn`` is placed outside the product, as ONNX does
    with ``linear_before_reset=0``. Forward only: returns ``h (N, H)``, no cache.
    Shapes: x (N, D), h_prev (N, H), W_ih (3H, D), W_hh (3H, H), b_ih and b_hh (3H,).
    """
    (W_ih, W_hh, b_ih, b_hh), D, H = check_weights("a GRU", GATES, W_ih, W_hh, b_ih, b_hh)
    x, h_prev = check_step(x, {"h_prev": h_prev}, D, H)
    a = x @ W_ih.T + b_ih
    rz = sigmoid(a[:, :2 * H] + h_prev @ W_hh[:2 * H].T + b_hh[:2 * H])
    r, z = rz[:, :H], rz[:, H:]
    n = np.tanh(a[:, 2 * H:] + (r * h_prev) @ W_hh[2 * H:].T + b_hh[2 * H:])
    return (1.0 - z) * n + z * h_prev


def cho_forward(xs, h0, W_ih, W_hh, b_ih, b_hh):
    """A whole sequence ``xs (T, N, D)`` from ``h0 (N, H)`` with ``cho_cell_forward``; returns ``hs (T, N, H)``."""
    (W_ih, W_hh, b_ih, b_hh), D, H = check_weights("a GRU", GATES, W_ih, W_hh, b_ih, b_hh)
    xs, h0 = check_sequence(xs, {"h0": h0}, D, H)
    hs, h = [], h0
    for x in xs:
        h = cho_cell_forward(x, h, W_ih, W_hh, b_ih, b_hh)
        hs.append(h)
    return np.stack(hs)


def flip_update_gate(W_ih, W_hh, b_ih, b_hh):
    """Weights for the other update-gate convention: new copies with the z rows negated.

    Some texts write ``h = z * n + (1 - z) * h_prev``, where this module (and PyTorch, and Cho et al.)
    write ``h = (1 - z) * n + z * h_prev``. Since ``1 - sigmoid(a) = sigmoid(-a)``, negating the z block
    (rows H..2H) of all four arrays turns one convention's gate into the other's ``1 - z``; the r and n
    rows stay as they are. Applying it twice gives the original weights back.
    """
    (W_ih, W_hh, b_ih, b_hh), _, H = check_weights("a GRU", GATES, W_ih, W_hh, b_ih, b_hh)
    flipped = tuple(a.copy() for a in (W_ih, W_hh, b_ih, b_hh))
    for a in flipped:
        a[H:2 * H] *= -1.0
    return flipped
