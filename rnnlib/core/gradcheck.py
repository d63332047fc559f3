"""Centred-difference gradients and the relative error used to compare them with analytic ones."""

import numpy as np


def numerical_gradient(f, x, dout=None, eps=1e-6):
    """Centred-difference gradient of ``f`` with respect to the float64 array ``x``, changed in place
    one entry at a time and restored.

    With ``dout`` None, ``f()`` must return a scalar loss. Otherwise ``f()`` returns an array and the
    result is the gradient of ``sum(f() * dout)``: what a backward pass returns when handed ``dout``.
    """
    if not isinstance(x, np.ndarray) or x.dtype != np.float64:
        raise TypeError(f"x: expected a float64 numpy array (changed in place), got {type(x).__name__} "
                        f"of dtype {getattr(x, 'dtype', None)}")

    def loss():
        out = f()
        return float(out) if dout is None else float(np.sum(np.asarray(out) * dout))

    grad = np.zeros_like(x)
    for idx in np.ndindex(x.shape):
        saved = x[idx]
        try:
            x[idx] = saved + eps
            up = loss()
            x[idx] = saved - eps
            down = loss()
        finally:
            x[idx] = saved
        grad[idx] = (up - down) / (2 * eps)
    return grad


def relative_error(a, b, floor=1e-12):
    """Largest elementwise ``|a - b| / max(|a| + |b|, floor)``: scale-free, 0 for equal arrays."""
    a, b = np.asarray(a, dtype=np.float64), np.asarray(b, dtype=np.float64)
    if a.shape != b.shape:
        raise ValueError(f"b: expected the shape of a, {a.shape}, got {b.shape}")
    if a.size == 0:
        return 0.0
    return float(np.max(np.abs(a - b) / np.maximum(np.abs(a) + np.abs(b), floor)))
