"""Losses on sequences. Each returns the loss and its gradient with respect to its input.

    mse(pred, target)                      -> loss, dpred       mean of (pred - target)^2
    softmax_cross_entropy(logits, targets) -> loss, dlogits     mean of -log softmax(logits)[target]

Shapes are time-major, as in the rest of rnnlib: a regression output ``(T, N, K)`` with a target of the
same shape; class scores (logits) ``(T, N, V)`` with integer targets ``(T, N)`` in ``0 .. V-1``. Any
number of leading dimensions works; only the last axis of ``logits`` is special.

``reduction="mean"`` (the default) averages exactly as ``torch.nn.functional.mse_loss`` and
``torch.nn.functional.cross_entropy`` do by default: MSE over every element, cross-entropy over every
position (T*N of them). ``reduction="sum"`` adds instead. The gradient always belongs to the returned
loss, so it carries the same 1/(T*N) (or 1/(T*N*K)) factor.
"""

import numpy as np

from rnnlib.core._checks import as_array

REDUCTIONS = ("mean", "sum")


def _check_reduction(reduction):
    if reduction not in REDUCTIONS:
        raise ValueError(f"reduction: expected one of {REDUCTIONS}, got {reduction!r}")


def mse(pred, target, reduction="mean"):
    """Mean squared error and its gradient with respect to ``pred``.

    ``pred`` and ``target`` have the same shape, for example ``(T, N, K)``. Returns
    ``(loss, dpred)``: ``loss`` a Python float, ``dpred`` the shape of ``pred``, equal to
    ``2 (pred - target) / M`` for the mean over the M elements (without ``/ M`` for the sum).
    """
    _check_reduction(reduction)
    pred, target = as_array("pred", pred), as_array("target", target)
    if pred.shape != target.shape:
        raise ValueError(f"target: expected the shape of pred, {pred.shape}, got {target.shape}")
    if pred.size == 0:
        raise ValueError("pred: expected at least one element, got an empty array")
    diff = pred - target
    scale = 1.0 / diff.size if reduction == "mean" else 1.0
    return float(np.sum(diff * diff) * scale), (2.0 * scale) * diff


def log_softmax(logits):
    """``log softmax`` over the last axis, computed stably: the row maximum is subtracted first, so
    logits of size 1000 or more neither overflow nor lose the answer. Same shape as ``logits``."""
    logits = as_array("logits", logits)
    shifted = logits - logits.max(axis=-1, keepdims=True)
    return shifted - np.log(np.exp(shifted).sum(axis=-1, keepdims=True))


def softmax(logits):
    """Probabilities over the last axis (each row sums to 1), computed stably. Same shape as ``logits``."""
    return np.exp(log_softmax(logits))


def _check_targets(targets, leading, V):
    targets = np.asarray(targets)
    if targets.dtype.kind not in "iu":
        raise TypeError(f"targets: expected an integer array of class indices, got dtype {targets.dtype}")
    if targets.shape != leading:
        raise ValueError(f"targets: expected shape {leading} (the leading dimensions of logits), got {targets.shape}")
    if targets.size and (targets.min() < 0 or targets.max() >= V):
        raise ValueError(f"targets: expected class indices in 0..{V - 1} (V={V}), "
                         f"got values from {targets.min()} to {targets.max()}")
    return targets


def softmax_cross_entropy(logits, targets, reduction="mean"):
    """Softmax cross-entropy of class scores against integer targets, and its gradient.

    ``logits (T, N, V)`` are unnormalised scores, ``targets (T, N)`` integers in ``0 .. V-1``.
    The loss at one position is ``-log p[target]`` with ``p = softmax(logits)``; the result is their
    mean over all T*N positions (or their sum). Returns ``(loss, dlogits)`` with ``dlogits`` of the
    shape of ``logits``: ``(p - onehot(target)) / (T*N)`` for the mean. Stable for large logits.
    """
    _check_reduction(reduction)
    logits = as_array("logits", logits)
    if logits.ndim < 1 or logits.shape[-1] < 1:
        raise ValueError(f"logits: expected shape (..., V) with V >= 1 classes, got {logits.shape}")
    targets = _check_targets(targets, logits.shape[:-1], logits.shape[-1])
    positions = targets.size
    if positions == 0:
        raise ValueError("logits: expected at least one position, got none")
    logp = log_softmax(logits)
    picked = np.take_along_axis(logp, targets[..., None], axis=-1)
    scale = 1.0 / positions if reduction == "mean" else 1.0
    dlogits = np.exp(logp)  # p
    index = targets[..., None]
    np.put_along_axis(dlogits, index, np.take_along_axis(dlogits, index, axis=-1) - 1.0, axis=-1)  # p - onehot
    return float(-picked.sum() * scale), dlogits * scale
