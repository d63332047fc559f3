"""Measure what a ``torch.nn`` recurrent layer costs per time step, and look at how torch computes it.

``time_per_step`` times the forward pass and the backward pass separately and returns every repeat, so
a lesson can report the median and the spread (timings on a shared machine are noisy). ``onednn``
switches torch's oneDNN (MKL-DNN) kernels off and on; on CPU, torch runs a float32 ``nn.LSTM`` as one
fused oneDNN call, while ``nn.GRU`` and ``nn.RNN`` run step by step as separate small operations.
``autograd_nodes`` counts the nodes of the autograd graph behind a tensor, which shows the difference.
torch is imported only when these are called.
"""

import collections
import contextlib
import time

import numpy as np


def _positive_int(name, value):
    if not isinstance(value, (int, np.integer)) or isinstance(value, bool) or value < 1:
        raise ValueError(f"{name}: expected a positive integer, got {value!r}")


def time_per_step(module, xs, repeats=7, warmup=2, clock=time.perf_counter):
    """Seconds per time step of ``out, _ = module(xs)`` (forward) and ``out.sum().backward()`` (backward).

    ``module`` is a time-major ``torch.nn.RNN/LSTM/GRU`` (or anything called the same way), ``xs`` a
    tensor ``(T, N, D)``. The pair is run ``warmup`` times untimed, then ``repeats`` times timed with
    ``clock``; gradients are cleared before each run. Returns ``{"forward": (repeats,), "backward":
    (repeats,)}`` numpy arrays, each time divided by T.
    """
    if getattr(xs, "ndim", None) != 3:
        raise ValueError(f"xs: expected a tensor of shape (T, N, D), got {getattr(xs, 'shape', type(xs).__name__)}")
    _positive_int("repeats", repeats)
    if not isinstance(warmup, (int, np.integer)) or isinstance(warmup, bool) or warmup < 0:
        raise ValueError(f"warmup: expected a non-negative integer, got {warmup!r}")
    times = np.empty((2, warmup + repeats))
    for i in range(warmup + repeats):
        module.zero_grad(set_to_none=True)
        start = clock()
        out, _ = module(xs)
        middle = clock()
        out.sum().backward()
        times[:, i] = middle - start, clock() - middle
    times = times[:, warmup:] / xs.shape[0]
    return {"forward": times[0], "backward": times[1]}


@contextlib.contextmanager
def onednn(enabled):
    """Within the block torch's oneDNN kernels are on (``enabled=True``) or off; restored afterwards.

    Sets ``torch.backends.mkldnn.enabled`` directly (``torch.backends.mkldnn.flags`` would also touch
    other settings and print a warning about TF32 on this build).
    """
    import torch

    before = torch.backends.mkldnn.enabled
    torch.backends.mkldnn.enabled = bool(enabled)
    try:
        yield
    finally:
        torch.backends.mkldnn.enabled = before


def autograd_nodes(tensor):
    """Counter of the autograd nodes (by class name, e.g. ``"MulBackward0"``) that ``tensor`` depends on."""
    if getattr(tensor, "grad_fn", None) is None:
        raise ValueError("tensor: expected a tensor computed from tensors that require grad (grad_fn set), "
                         f"got {type(tensor).__name__} with grad_fn None")
    seen, stack = set(), [tensor.grad_fn]
    while stack:
        node = stack.pop()
        if node is not None and node not in seen:
            seen.add(node)
            stack.extend(child for child, _ in node.next_functions)
    return collections.Counter(type(node).__name__ for node in seen)
