"""An affine output layer applied at every time step, in ``torch.nn.Linear``'s layout.

    y_t = W_hy h_t + b_y        (rows: ys = hs @ W_hy.T + b_y)

Shapes: ``hs (T, N, H)`` (any number of leading dimensions), ``W_hy (V, H)``, ``b_y (V,)``,
``ys (T, N, V)``. ``W_hy`` and ``b_y`` map one to one onto ``torch.nn.Linear(H, V)``'s ``weight`` and
``bias``. The same two arrays are used at every step, so their gradients are sums over all steps.
"""

import numpy as np

from rnnlib.core._checks import as_array, check_upstream, expect_shape


def forward(hs, W_hy, b_y):
    """Apply the layer to every row of ``hs (..., H)``. Returns ``ys (..., V)`` and a cache."""
    W_hy, b_y = as_array("W_hy", W_hy), as_array("b_y", b_y)
    if W_hy.ndim != 2:
        raise ValueError(f"W_hy: expected a 2-D array of shape (V, H), got shape {W_hy.shape}")
    V, H = W_hy.shape
    expect_shape("b_y", b_y, (("V", V),))
    hs = as_array("hs", hs)
    if hs.ndim < 1 or hs.shape[-1] != H:
        raise ValueError(f"hs: expected shape (..., H={H}), got {hs.shape}")
    rows = hs.reshape(-1, H)
    ys = (rows @ W_hy.T + b_y).reshape(*hs.shape[:-1], V)
    return ys, (rows, hs.shape, W_hy)


def backward(dys, cache):
    """Gradients from ``dys (..., V)``, the loss gradient with respect to ``ys``.

    Returns ``dhs (..., H)``, ``dW_hy (V, H)`` (a sum of outer products over all steps and examples)
    and ``db_y (V,)``.
    """
    rows, hs_shape, W_hy = cache
    V = W_hy.shape[0]
    dys = check_upstream("dys", dys, (*hs_shape[:-1], V))
    d_rows = dys.reshape(-1, V)
    return (d_rows @ W_hy).reshape(hs_shape), d_rows.T @ rows, d_rows.sum(axis=0)


def init_weights(input_size, output_size, rng, dtype=np.float64):
    """``(W_hy (V, H), b_y (V,))`` drawn as ``torch.nn.Linear(H, V)`` does: U(-1/sqrt(H), 1/sqrt(H))."""
    bound = 1.0 / np.sqrt(input_size)
    W = rng.uniform(-bound, bound, size=(output_size, input_size)).astype(dtype)
    return W, rng.uniform(-bound, bound, size=output_size).astype(dtype)
