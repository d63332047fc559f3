"""Argument checks shared by the cell modules: every error names the argument, what was
expected and what was given."""

import numpy as np


def as_array(name, value):
    """Return ``value`` as a floating-point ndarray, or raise a TypeError naming ``name``."""
    array = np.asarray(value)
    if array.dtype.kind not in "fiu":
        raise TypeError(f"{name}: expected a numeric array, got dtype {array.dtype}")
    if array.dtype.kind != "f":
        array = array.astype(np.float64)
    return array


def expect_shape(name, array, dims):
    """Check ``array.shape`` against ``dims``, a tuple of ``(label, size)`` pairs.

    ``size`` may be None for a free dimension. Raises ValueError such as
    ``xs: expected shape (T, N, D=3), got (5, 3)``.
    """
    wanted = "(" + ", ".join(label if size is None else f"{label}={size}" for label, size in dims) + ")"
    ok = array.ndim == len(dims) and all(
        size is None or got == size for got, (_, size) in zip(array.shape, dims)
    )
    if not ok:
        raise ValueError(f"{name}: expected shape {wanted}, got {tuple(array.shape)}")


def check_weights(kind, gates, W_ih, W_hh, b_ih, b_hh):
    """Validate a layer's four parameter arrays in PyTorch's layout; return them and (D, H)."""
    W_ih, W_hh = as_array("W_ih", W_ih), as_array("W_hh", W_hh)
    b_ih, b_hh = as_array("b_ih", b_ih), as_array("b_hh", b_hh)
    rows = f"{gates}*H" if gates > 1 else "H"
    if W_hh.ndim != 2:
        raise ValueError(f"W_hh: expected a 2-D array of shape ({rows}, H), got shape {W_hh.shape}")
    H = W_hh.shape[1]
    if W_hh.shape[0] != gates * H:
        raise ValueError(
            f"W_hh: expected shape ({rows}, H) = ({gates * H}, {H}) for {kind} with H={H} "
            f"({gates} gate block{'s' if gates > 1 else ''}), got {W_hh.shape}"
        )
    if W_ih.ndim != 2 or W_ih.shape[0] != gates * H:
        raise ValueError(f"W_ih: expected shape ({rows}={gates * H}, D) for {kind} with H={H}, got {W_ih.shape}")
    D = W_ih.shape[1]
    expect_shape("b_ih", b_ih, ((rows, gates * H),))
    expect_shape("b_hh", b_hh, ((rows, gates * H),))
    return (W_ih, W_hh, b_ih, b_hh), D, H


def check_step(x, states, D, H):
    """Validate one step's input ``x (N, D)`` and states ``{name: (N, H)}``; return the arrays."""
    x = as_array("x", x)
    expect_shape("x", x, (("N", None), ("D", D)))
    N = x.shape[0]
    return (x, *(_state(name, value, N, H) for name, value in states.items()))


def check_sequence(xs, states, D, H):
    """Validate a time-major sequence ``xs (T, N, D)`` and its initial states ``{name: (N, H)}``."""
    xs = as_array("xs", xs)
    expect_shape("xs", xs, (("T", None), ("N", None), ("D", D)))
    if xs.shape[0] == 0:
        raise ValueError("xs: expected at least one time step (T >= 1), got T=0")
    N = xs.shape[1]
    return (xs, *(_state(name, value, N, H) for name, value in states.items()))


def check_upstream(name, grad, shape):
    """Validate an upstream gradient against the shape of the output it belongs to."""
    grad = as_array(name, grad)
    if grad.shape != tuple(shape):
        raise ValueError(f"{name}: expected the shape of the forward output, {tuple(shape)}, got {grad.shape}")
    return grad


def _state(name, value, N, H):
    state = as_array(name, value)
    expect_shape(name, state, (("N", N), ("H", H)))
    return state


def uniform_init(gates, input_size, hidden_size, rng, dtype=np.float64):
    """PyTorch's default initialisation: every parameter ~ U(-1/sqrt(H), 1/sqrt(H))."""
    bound = 1.0 / np.sqrt(hidden_size)
    shapes = [(gates * hidden_size, input_size), (gates * hidden_size, hidden_size),
              (gates * hidden_size,), (gates * hidden_size,)]
    return tuple(rng.uniform(-bound, bound, size=s).astype(dtype) for s in shapes)


def count_params(gates, input_size, hidden_size, bias=True):
    """Parameters of one layer: G*H*(D + H) weights plus 2*G*H biases."""
    for name, size in (("input_size", input_size), ("hidden_size", hidden_size)):
        if not isinstance(size, (int, np.integer)) or size < 1:
            raise ValueError(f"{name}: expected a positive integer, got {size!r}")
    return gates * hidden_size * (input_size + hidden_size) + (2 * gates * hidden_size if bias else 0)


def steps_matmul(xs, W):
    """``xs (T, N, K) @ W (K, M)`` for all steps at once, as one 2-D product over the T*N rows.

    Same numbers as ``xs @ W``, which numpy computes as T separate small products (slower).
    """
    T, N, K = xs.shape
    return (xs.reshape(T * N, K) @ W).reshape(T, N, W.shape[1])


def sigmoid(a, out=None):
    """Logistic function written through tanh: exact, and never overflows for large |a|.

    ``out``, as in numpy's ufuncs, receives the result (it may be ``a`` itself, to work in place).
    """
    out = np.multiply(a, 0.5, out=out)
    np.tanh(out, out=out)
    out += 1.0
    out *= 0.5
    return out
