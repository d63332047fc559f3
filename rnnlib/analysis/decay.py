"""How the gradient of a loss changes as it travels back through a recurrent layer.

A loss on the last state ``h_T`` (``hs[T-1]``) sends back a gradient ``dL/dh_t`` to every earlier state.
Its norm at *lag* ``k`` (the state ``h_{T-k}``, ``hs[T-1-k]`` in Python) is what "vanishing" and
"exploding" refer to. For the tanh RNN each step back multiplies it by the step Jacobian

    dh_t/dh_{t-1} = diag(1 - h_t^2) W_hh          (H, H) per example,

so the norm at lag k is at most ``(sigma_max(W_hh) * max tanh')^k`` times the norm at lag 0.

Shapes follow the rest of rnnlib: time-major ``xs (T, N, D)``, states ``(N, H)``, weights in PyTorch's
layout ``W_ih (G*H, D)``, ``W_hh (G*H, H)``, ``b_ih, b_hh (G*H,)`` with G = 1 (``rnn``), 4 (``lstm``, gates
i, f, g, o) or 3 (``gru``, gates r, z, n). Everything is computed with each module's own
``cell_forward``/``cell_backward``, so the numbers here are the ones BPTT produces.
"""

import numpy as np

from rnnlib.core import gru, lstm, rnn
from rnnlib.core._checks import as_array, check_sequence, check_upstream, check_weights, expect_shape

_MODULES = {rnn: (1, "an RNN"), lstm: (4, "an LSTM"), gru: (3, "a GRU")}
ACTIVATIONS = ("tanh", "relu", "linear")


def _forward_steps(module, xs, h0, c0, weights):
    """Run ``module.cell_forward`` over all steps; return the list of per-step caches."""
    h, c, caches = h0, c0, []
    for x in xs:
        if module is lstm:
            h, c, cache = module.cell_forward(x, h, c, *weights)
        else:
            h, cache = module.cell_forward(x, h, *weights)
        caches.append(cache)
    return caches


def _walk_back(module, xs, h0, W_ih, W_hh, b_ih, b_hh, dh_last, c0):
    """Check the arguments, run forward, then walk back from ``dh_last``.

    Yields, for k = 0..T-1, the gradient ``dL/dh_{T-k} (N, H)`` (of ``hs[T-1-k]``), and for an LSTM also
    the total ``dL/dc_{T-k} (N, H)`` (the gradient with respect to the cell state as a node of the graph).
    """
    if module not in _MODULES:
        raise TypeError(f"module: expected rnnlib.core.rnn, rnnlib.core.lstm or rnnlib.core.gru, got {module!r}")
    gates, kind = _MODULES[module]
    weights, D, H = check_weights(kind, gates, W_ih, W_hh, b_ih, b_hh)
    if module is lstm:
        if c0 is None:
            raise ValueError("c0: expected the initial cell state (N, H) for an LSTM, got None")
        xs, h0, c0 = check_sequence(xs, {"h0": h0, "c0": c0}, D, H)
    else:
        if c0 is not None:
            raise ValueError(f"c0: expected None for {kind} (it has no cell state), got an array")
        xs, h0 = check_sequence(xs, {"h0": h0}, D, H)
    dh = check_upstream("dh_last", dh_last, h0.shape)
    caches = _forward_steps(module, xs, h0, c0, weights)
    dc = np.zeros_like(dh)
    for cache in reversed(caches):
        if module is lstm:
            act, tanh_c = cache[5], cache[6]
            yield dh, dc + dh * act[:, 3 * H:] * (1.0 - tanh_c * tanh_c)  # o * tanh'(c): c's path into h
            _, dh, dc, *_ = module.cell_backward(dh, dc, cache)
        else:
            yield dh, None
            _, dh, *_ = module.cell_backward(dh, cache)


def gradient_norms_by_lag(module, xs, h0, W_ih, W_hh, b_ih, b_hh, dh_last, c0=None):
    """Norm of the gradient reaching each earlier state from a loss on the last state only.

    ``module`` is ``rnnlib.core.rnn``, ``rnnlib.core.lstm`` or ``rnnlib.core.gru``; ``xs (T, N, D)``, ``h0 (N, H)``,
    ``c0 (N, H)`` (LSTM only, required there), weights in PyTorch's layout for that module, and
    ``dh_last (N, H)`` the loss gradient with respect to ``hs[T-1]``.

    Returns ``norms (T,)`` with ``norms[k]`` the Frobenius norm, over the whole batch, of ``dL/dh_{T-k}``:
    index by *lag*, so ``norms[0]`` is the norm of ``dh_last`` and ``norms[T-1]`` that at the first state.
    """
    walk = _walk_back(module, xs, h0, W_ih, W_hh, b_ih, b_hh, dh_last, c0)
    return np.array([np.linalg.norm(dh) for dh, _ in walk])


def cell_gradient_norms_by_lag(xs, h0, c0, W_ih, W_hh, b_ih, b_hh, dh_last):
    """LSTM only: ``norms (T,)`` with ``norms[k]`` the Frobenius norm of ``dL/dc_{T-k}``.

    Same arguments as ``gradient_norms_by_lag(lstm, ...)``. ``dL/dc_t`` is the total gradient with
    respect to the cell state, including (at lag 0) the path ``c_t -> h_t = o * tanh(c_t)``; what
    ``lstm.cell_backward`` returns as ``dc_prev`` is this times the forget gate.
    """
    walk = _walk_back(lstm, xs, h0, W_ih, W_hh, b_ih, b_hh, dh_last, c0)
    return np.array([np.linalg.norm(dc) for _, dc in walk])


def per_step_rate(norms, start=0, stop=None):
    """Geometric per-step factor of ``norms[start:stop]``: ``exp`` of the least-squares slope of
    ``log(norms)`` against the lag.

    ``norms`` is ``(T,)``, indexed by lag as ``gradient_norms_by_lag`` returns it. A result below 1
    means the gradient shrinks by that factor per step back (vanishing), above 1 that it grows. The
    window must hold at least two positive, finite values.
    """
    norms = as_array("norms", norms)
    expect_shape("norms", norms, (("T", None),))
    lags = np.arange(len(norms))[start:stop]
    window = norms[start:stop]
    if len(window) < 2:
        raise ValueError(f"start, stop: expected a window of at least 2 lags, got {len(window)} "
                         f"(start={start}, stop={stop}, T={len(norms)})")
    if not np.all(np.isfinite(window) & (window > 0)):
        raise ValueError("norms: expected positive finite values in the window (a log-linear fit), "
                         f"got min {np.min(window)!r} and max {np.max(window)!r}")
    log = np.log(window)
    centred = lags - lags.mean()
    slope = float(np.dot(centred, log - log.mean()) / np.dot(centred, centred))
    return float(np.exp(slope))


def step_jacobians(h, W_hh):
    """Jacobians ``dh_t/dh_{t-1}`` of a tanh RNN step, one per example: ``J[n] = diag(1 - h[n]^2) W_hh``.

    ``h (N, H)`` is the step's *output* ``h_t`` (tanh' is ``1 - h_t^2``), ``W_hh (H, H)``.
    Returns ``J (N, H, H)`` with ``J[n, i, j] = dh_t[n, i] / dh_{t-1}[n, j]``.
    """
    h, W_hh = as_array("h", h), as_array("W_hh", W_hh)
    if W_hh.ndim != 2 or W_hh.shape[0] != W_hh.shape[1]:
        raise ValueError(f"W_hh: expected a square array (H, H), got shape {W_hh.shape}")
    expect_shape("h", h, (("N", None), ("H", W_hh.shape[0])))
    return (1.0 - h * h)[:, :, None] * W_hh[None, :, :]


def _activate(name, a):
    """``(phi(a), phi'(a))`` for ``name`` in ACTIVATIONS."""
    if name == "tanh":
        h = np.tanh(a)
        return h, 1.0 - h * h
    if name == "relu":
        return np.maximum(a, 0.0), (a > 0).astype(a.dtype)
    return a.copy(), np.ones_like(a)


def activation_forward(xs, h0, W_ih, W_hh, b_ih, b_hh, activation="tanh"):
    """A plain RNN ``h_t = phi(W_ih x_t + b_ih + W_hh h_{t-1} + b_hh)`` with ``phi`` tanh, relu or linear.

    Same shapes and layout as ``rnn.forward`` (which is the tanh case). Returns ``hs (T, N, H)`` and
    ``derivs (T, N, H)``, the activation's derivative ``phi'(a_t)`` at every step.
    """
    if activation not in ACTIVATIONS:
        raise ValueError(f"activation: expected one of {ACTIVATIONS}, got {activation!r}")
    (W_ih, W_hh, b_ih, b_hh), D, H = check_weights("an RNN", 1, W_ih, W_hh, b_ih, b_hh)
    xs, h0 = check_sequence(xs, {"h0": h0}, D, H)
    hs, derivs = np.empty((2, len(xs), xs.shape[1], H), dtype=np.result_type(xs, h0, W_hh))
    h = h0
    for t, x in enumerate(xs):
        h, derivs[t] = _activate(activation, x @ W_ih.T + b_ih + h @ W_hh.T + b_hh)
        hs[t] = h
    return hs, derivs


def activation_norms_by_lag(xs, h0, W_ih, W_hh, b_ih, b_hh, dh_last, activation="tanh"):
    """``gradient_norms_by_lag`` for the plain RNN of ``activation_forward`` (tanh, relu or linear).

    Returns ``norms (T,)`` indexed by lag. With ``activation="tanh"`` it equals
    ``gradient_norms_by_lag(rnn, ...)``. Values may overflow to inf for an exploding ReLU or linear RNN.
    """
    hs, derivs = activation_forward(xs, h0, W_ih, W_hh, b_ih, b_hh, activation)
    dh = check_upstream("dh_last", dh_last, hs.shape[1:])
    W_hh = as_array("W_hh", W_hh)
    norms = np.empty(len(hs))
    with np.errstate(over="ignore", invalid="ignore"):
        for k in range(len(hs)):
            norms[k] = np.linalg.norm(dh)
            dh = (dh * derivs[len(hs) - 1 - k]) @ W_hh
    return norms


def weight_gradient_by_lag(xs, h0, W_ih, W_hh, b_ih, b_hh, dhs):
    """Split the tanh RNN's ``dL/dW_hh`` into the contributions of each lag.

    ``dhs (T, N, H)`` is the loss gradient with respect to each ``hs[t]`` (as for ``rnn.backward``).
    The gradient that the loss at step s sends to the use of ``W_hh`` at step t (``t <= s``) has lag
    ``s - t``. Returns ``by_lag (T, H, H)``: ``by_lag[k]`` sums the contributions of lag k over all s and
    over the batch, and ``by_lag.sum(axis=0)`` is ``rnn.backward``'s ``dW_hh``. Costs T(T+1)/2 steps.
    """
    hs, cache = rnn.forward(xs, h0, W_ih, W_hh, b_ih, b_hh)
    dhs = check_upstream("dhs", dhs, hs.shape)
    _, h0, _, W_hh, _ = cache
    h_prevs = np.concatenate([h0[None], hs[:-1]])
    slopes = 1.0 - hs * hs
    by_lag = np.zeros((len(hs),) + W_hh.shape, dtype=hs.dtype)
    for s in range(len(hs)):
        dh = dhs[s]
        for t in range(s, -1, -1):
            da = dh * slopes[t]
            by_lag[s - t] += da.T @ h_prevs[t]
            dh = da @ W_hh
    return by_lag


def scaled_orthogonal(H, scale, rng):
    """``scale`` times a random orthogonal ``(H, H)`` matrix (QR of a Gaussian, signs fixed so that
    the draw is uniform over orthogonal matrices). Every singular value equals ``scale``."""
    q, r = np.linalg.qr(rng.standard_normal((H, H)))
    return scale * q * np.sign(np.diag(r))
