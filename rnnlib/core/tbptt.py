"""Truncated backpropagation through time for the tanh RNN of ``rnnlib.core.rnn``.

The stream is cut into consecutive windows of ``tau`` steps, ``[0, tau), [tau, 2 tau), ...`` (the last one
may be shorter; with ``align="end"`` the windows are counted back from the last step instead, so that the
last window is ``[T - tau, T)``: the right cut for a single loss at the end of a sequence). The forward
pass runs over the whole stream and carries the state across window boundaries; the backward pass runs
inside each window only: the gradient that would flow from the first state of
a window into the previous window is dropped, as if that state were a constant (``h.detach()`` in
PyTorch). A loss at step t therefore reaches back at most to the start of its window, fewer than
``tau`` steps: for a loss at the last step, the states at lags 0 .. tau - 1 (``h_{T-tau+1} .. h_T``).
With ``tau >= T`` nothing is dropped and the result is ``rnn.backward``'s.

    dxs, dh0, dW_ih, dW_hh, db_ih, db_hh = tbptt.backward(dhs, cache, tau)    # cache from rnn.forward
    loss, (dW_ih, dW_hh, db_ih, db_hh), h_T = tbptt.stream_gradients(xs, h0, *weights, window_loss, tau)

Shapes as in ``rnnlib.core.rnn``: ``xs (T, N, D)``, ``h0 (N, H)``, ``dhs (T, N, H)``; the gradients have the
shapes of ``xs``, ``h0`` and the four parameters. ``dh0`` only receives what the first window sends.
"""

import numpy as np

from rnnlib.core import rnn


def windows(T, tau, align="start"):
    """The ``(start, stop)`` bounds, in order, of the windows of ``tau`` steps that cover ``0 .. T-1``:
    cut from the first step (``align="start"``) or from the last (``align="end"``)."""
    if not isinstance(tau, (int, np.integer)) or tau < 1:
        raise ValueError(f"tau: expected a positive integer window length, got {tau!r}")
    if not isinstance(T, (int, np.integer)) or T < 1:
        raise ValueError(f"T: expected a positive integer number of steps, got {T!r}")
    if align == "start":
        return [(a, min(a + tau, T)) for a in range(0, T, tau)]
    if align == "end":
        return [(max(b - tau, 0), b) for b in range(T, 0, -tau)][::-1]
    raise ValueError(f"align: expected 'start' or 'end', got {align!r}")


def backward(dhs, cache, tau, align="start"):
    """Truncated BPTT from ``dhs (T, N, H)`` and the cache of one ``rnn.forward`` over the stream.

    Returns ``dxs, dh0, dW_ih, dW_hh, db_ih, db_hh`` like ``rnn.backward``, with the backward pass cut
    at every boundary of ``windows(T, tau, align)``.
    """
    xs, h0, W_ih, W_hh, hs = cache  # the cache layout of rnn.forward
    spans = windows(len(hs), tau, align)
    if len(spans) == 1:
        return rnn.backward(dhs, cache)
    dhs = np.asarray(dhs)
    if dhs.shape != hs.shape:
        raise ValueError(f"dhs: expected the shape of the forward output, {hs.shape}, got {dhs.shape}")
    total = [np.zeros_like(xs), None, np.zeros_like(W_ih), np.zeros_like(W_hh),
             np.zeros(W_hh.shape[0]), np.zeros(W_hh.shape[0])]
    for a, b in spans:
        start = h0 if a == 0 else hs[a - 1]  # the carried state, a constant for this window's backward
        grads = rnn.backward(dhs[a:b], (xs[a:b], start, W_ih, W_hh, hs[a:b]))
        total[0][a:b] = grads[0]
        for i in range(2, 6):
            total[i] += grads[i]
        if a == 0:
            total[1] = grads[1]
    return tuple(total)


def stream_gradients(xs, h0, W_ih, W_hh, b_ih, b_hh, window_loss, tau):
    """Truncated BPTT computed window by window, as on a stream, with the weights held fixed.

    For each window ``[a, b)``: run ``rnn.forward`` over ``xs[a:b]`` from the carried state, call
    ``window_loss(a, b, hs_window)``, which returns ``(loss, dhs_window)`` for that window's states
    ``(b - a, N, H)``, backpropagate through those steps only, add up, and drop the window's cache. Only
    one window is held at a time, so memory grows with ``tau`` and not with the stream's length ``T``.

    Returns ``(loss, (dW_ih, dW_hh, db_ih, db_hh), h_T)``: the summed window losses, the parameter
    gradients (equal to ``backward(dhs, cache, tau)[2:]``) and the last state.
    """
    xs = np.asarray(xs, dtype=np.float64)
    if xs.ndim != 3:
        raise ValueError(f"xs: expected shape (T, N, D), got {xs.shape}")
    total = [np.zeros_like(W_ih, dtype=np.float64), np.zeros_like(W_hh, dtype=np.float64),
             np.zeros(len(b_ih)), np.zeros(len(b_hh))]
    loss, h = 0.0, h0
    for a, b in windows(len(xs), tau):
        hs, cache = rnn.forward(xs[a:b], h, W_ih, W_hh, b_ih, b_hh)
        window, dhs = window_loss(a, b, hs)
        for i, grad in enumerate(rnn.backward(dhs, cache)[2:]):
            total[i] += grad
        loss, h = loss + window, hs[-1]
    return loss, tuple(total), h
