"""Echo-state networks: a fixed random tanh recurrence whose linear read-out alone is trained.

The reservoir is the plain RNN of ``rnnlib.core.rnn``, h_t = tanh(W_ih x_t + b_ih + W_hh h_{t-1} + b_hh), with
W_hh drawn at random and rescaled to a chosen spectral radius, and never trained (Jaeger 2001; Lukosevicius
and Jaeger 2009). Only a read-out y_t = W_out h_t + b_out is fitted, by ridge regression in closed form.

Shapes: a scalar input sequence ``u (T,)``, states ``(T, H)``, targets ``(T, V)``.
"""

import numpy as np

from rnnlib.core import rnn


def reservoir(H, rho, rng, D=1, input_scale=1.0):
    """``(W_ih, W_hh, b_ih, b_hh)`` of a reservoir of ``H`` units in ``rnnlib.core.rnn``'s layout.

    ``W_hh`` is a standard normal matrix rescaled so that its spectral radius (largest |eigenvalue|) is
    ``rho``; ``W_ih`` is uniform on ``[-input_scale, input_scale]``; both biases are zero.
    """
    W = rng.standard_normal((H, H))
    W_hh = W * (rho / np.abs(np.linalg.eigvals(W)).max())
    W_ih = rng.uniform(-input_scale, input_scale, size=(H, D))
    return W_ih, W_hh, np.zeros(H), np.zeros(H)


def states(weights, u, h0=None):
    """The reservoir's states ``(T, H)`` for a scalar input sequence ``u (T,)``, from ``h0`` (zero)."""
    H = weights[1].shape[0]
    h0 = np.zeros((1, H)) if h0 is None else np.reshape(h0, (1, H))
    hs, _ = rnn.forward(np.reshape(u, (-1, 1, 1)), h0, *weights)
    return hs[:, 0]


def delay_targets(u, delays, start):
    """Targets ``(T - start, len(delays))``: column j at row t - start is ``u[t - delays[j]]``."""
    if start < max(delays) or min(delays) < 0:
        raise ValueError(f"delays must lie in [0, start = {start}], got {list(delays)}")
    return np.stack([u[start - d : len(u) - d] for d in delays], axis=1)


def ridge(X, Y, alpha):
    """Ridge regression with an unpenalised intercept: ``(W (V, H), b (V,))`` minimising
    ``||X W^T + b - Y||^2 + alpha ||W||^2`` for ``X (n, H)`` and ``Y (n, V)``, in closed form."""
    x_mean, y_mean = X.mean(axis=0), Y.mean(axis=0)
    Xc, Yc = X - x_mean, Y - y_mean
    W = np.linalg.solve(Xc.T @ Xc + alpha * np.eye(X.shape[1]), Xc.T @ Yc).T
    return W, y_mean - W @ x_mean


def r_squared(pred, Y):
    """The fraction of each column's variance that ``pred`` explains, ``1 - SSE / SST``: ``(V,)``."""
    return 1.0 - ((pred - Y) ** 2).sum(axis=0) / ((Y - Y.mean(axis=0)) ** 2).sum(axis=0)


def delay_recall(weights, u, delays, washout, n_train, alpha=1e-6):
    """Train a read-out to recall ``u[t - d]`` for each delay ``d`` and score it on held-out steps.

    The first ``washout`` states are dropped (``washout >= max(delays)``), the next ``n_train`` fit the
    read-out by ``ridge``, and the rest test it. Returns the held-out R^2 for each delay, ``(len(delays),)``.
    """
    X = states(weights, u)[washout:]
    Y = delay_targets(u, delays, washout)
    W, b = ridge(X[:n_train], Y[:n_train], alpha)
    return r_squared(X[n_train:] @ W.T + b, Y[n_train:])
