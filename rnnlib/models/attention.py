"""Scaled dot-product attention in numpy, and the key-value recall task that shows what it buys.

Time-major like the rest of rnnlib: queries ``q (Tq, N, d)``, keys ``k (T, N, d)``, values ``v (T, N, dv)``.

    s[n, i, j] = q[i, n] . k[j, n] / sqrt(d)               scores       (N, Tq, T)
    a[n, i, :] = softmax(s[n, i, :])                        weights      (N, Tq, T), each row sums to 1
    out[i, n]  = sum_j a[n, i, j] v[j, n]                   output       (Tq, N, dv)

    out, a, cache = attention.forward(q, k, v)
    dq, dk, dv = attention.backward(dout, cache)

This is ``torch.nn.functional.scaled_dot_product_attention`` (which is batch-first: ``(N, Tq, d)``),
as ``tests/test_attention.py`` checks. Every output is one weighted sum away from every value: the path
from an input to an output has length 1, whatever their distance in time, and computing all scores
takes ``Tq * T`` dot products.

``marked_recall`` makes a long sequence of values, one of them marked, and asks at the end for the
marked value: a task with a long lag, which attention solves by looking the marker up.
"""

import numpy as np

from rnnlib.core._checks import as_array, check_upstream, expect_shape


def forward(q, k, v):
    """Scaled dot-product attention: returns ``out (Tq, N, dv)``, ``weights (N, Tq, T)`` and a cache."""
    q, k, v = as_array("q", q), as_array("k", k), as_array("v", v)
    expect_shape("q", q, (("Tq", None), ("N", None), ("d", None)))
    N, d = q.shape[1:]
    expect_shape("k", k, (("T", None), ("N", N), ("d", d)))
    expect_shape("v", v, (("T", k.shape[0]), ("N", N), ("dv", None)))
    scores = np.einsum("ind,jnd->nij", q, k) / np.sqrt(d)
    weights = np.exp(scores - scores.max(axis=-1, keepdims=True))
    weights /= weights.sum(axis=-1, keepdims=True)
    out = np.einsum("nij,jnd->ind", weights, v)
    return out, weights, (q, k, v, weights)


def backward(dout, cache):
    """Gradients ``(dq, dk, dv)`` with the shapes of ``q, k, v``, given ``dout (Tq, N, dv)``."""
    q, k, v, weights = cache
    dout = check_upstream("dout", dout, (q.shape[0], q.shape[1], v.shape[2]))
    dv = np.einsum("nij,ind->jnd", weights, dout)
    dweights = np.einsum("ind,jnd->nij", dout, v)
    dscores = weights * (dweights - (dweights * weights).sum(axis=-1, keepdims=True)) / np.sqrt(q.shape[2])
    return np.einsum("nij,jnd->ind", dscores, k), np.einsum("nij,ind->jnd", dscores, q), dv


def marked_recall(n, T, rng, n_values):
    """Recall the value seen at the one marked step of a sequence of ``T`` steps, asked at the end.

    Each of the first ``T - 1`` steps carries a value, one-hot over ``n_values`` features and drawn
    uniformly; exactly one of them is *marked* (feature ``n_values`` is 1), at a step drawn uniformly
    from the first half, ``0 .. T // 2 - 1``, so the answer is always at least ``T - T // 2`` steps back.
    The last step carries only the *query* flag (feature ``n_values + 1``). The target is the marked
    value; always guessing scores ``1 / n_values``.

    Returns ``xs (T, n, n_values + 2)`` float64, ``targets (n,)`` int64 in ``0 .. n_values - 1`` and
    ``lags (n,)`` int64, the number of steps from the marked step to the query.
    """
    for name, size in (("n", n), ("n_values", n_values)):
        if not isinstance(size, (int, np.integer)) or isinstance(size, bool) or size < 1:
            raise ValueError(f"{name}: expected a positive integer, got {size!r}")
    if not isinstance(T, (int, np.integer)) or isinstance(T, bool) or T < 3:
        raise ValueError(f"T: expected an integer sequence length of at least 3, got {T!r}")
    values = rng.integers(n_values, size=(T - 1, n))
    marked = rng.integers(T // 2, size=n)
    columns = np.arange(n)
    xs = np.zeros((T, n, n_values + 2))
    xs[np.arange(T - 1)[:, None], columns, values] = 1.0
    xs[marked, columns, n_values] = 1.0
    xs[T - 1, :, n_values + 1] = 1.0
    return xs, values[marked, columns], T - 1 - marked
