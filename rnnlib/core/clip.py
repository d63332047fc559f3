"""Gradient clipping, as ``torch.nn.utils.clip_grad_norm_`` and ``clip_grad_value_`` do it."""

import numpy as np


def global_norm(grads):
    """The 2-norm of all gradient arrays taken together as one vector."""
    return float(np.sqrt(sum(float(np.sum(np.square(g))) for g in grads)))


def clip_by_global_norm(grads, max_norm, eps=1e-6):
    """Rescale every array by the same factor so that their global norm is at most ``max_norm``.

    ``grads`` is a list of arrays of any shapes. The direction of the full gradient is kept. Returns
    ``(clipped, norm_before)``: a list of new arrays of the same shapes, and the global norm of
    ``grads``. Like torch, the factor is ``max_norm / (norm + eps)``, applied only when it is below 1;
    ``eps`` defaults to torch's fixed 1e-6, which keeps a zero norm from dividing by zero.
    """
    if not max_norm > 0:
        raise ValueError(f"max_norm: expected a positive number, got {max_norm!r}")
    if not eps >= 0:
        raise ValueError(f"eps: expected a non-negative number, got {eps!r}")
    grads = [np.asarray(g) for g in grads]
    norm = global_norm(grads)
    scale = max_norm / (norm + eps) if norm + eps > 0 else np.inf
    if scale >= 1.0:
        return [g.copy() for g in grads], norm
    return [g * scale for g in grads], norm


def clip_by_value(grads, clip_value):
    """Clamp every entry to ``[-clip_value, clip_value]``. This changes the gradient's direction."""
    if not clip_value > 0:
        raise ValueError(f"clip_value: expected a positive number, got {clip_value!r}")
    return [np.clip(np.asarray(g), -clip_value, clip_value) for g in grads]
