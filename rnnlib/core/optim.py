"""Optimisers that update a list of numpy arrays in place, exactly as ``torch.optim`` does.

    opt = SGD(params, lr=0.1, momentum=0.9)       # or Adam(params, lr=1e-3)
    loss, grads = ...                             # grads[i] has the shape of params[i]
    opt.step(grads)                               # params are changed in place

``params`` is a list of float arrays (for an RNN ``[W_ih, W_hh, b_ih, b_hh, ...]``, PyTorch's layout);
the optimiser keeps references to them and overwrites their entries, so every other holder of those
arrays sees the new values. Its state (momentum buffers, Adam's moment estimates, the step count) lives
in the small object and can be inspected. The update rules are ``torch.optim.SGD`` and
``torch.optim.Adam`` with the same defaults (no dampening, no Nesterov, no AMSGrad; ``weight_decay``
is the L2 term added to the gradient).
"""

import numpy as np


def _check_params(params):
    params = list(params)
    if not params:
        raise ValueError("params: expected a non-empty list of arrays, got an empty one")
    for i, p in enumerate(params):
        if not isinstance(p, np.ndarray) or p.dtype.kind != "f":
            raise TypeError(f"params[{i}]: expected a float numpy array (updated in place), "
                            f"got {type(p).__name__} of dtype {getattr(p, 'dtype', None)}")
    return params


def _check_grads(params, grads):
    grads = list(grads)
    if len(grads) != len(params):
        raise ValueError(f"grads: expected one gradient per parameter ({len(params)}), got {len(grads)}")
    for i, (p, g) in enumerate(zip(params, grads)):
        if np.shape(g) != p.shape:
            raise ValueError(f"grads[{i}]: expected the shape of params[{i}], {p.shape}, got {np.shape(g)}")
    return [np.asarray(g, dtype=p.dtype) for p, g in zip(params, grads)]


def _check_positive(name, value, allow_zero=False):
    if not (value >= 0 if allow_zero else value > 0):
        raise ValueError(f"{name}: expected a {'non-negative' if allow_zero else 'positive'} number, got {value!r}")


class SGD:
    """Stochastic gradient descent, with optional momentum, as ``torch.optim.SGD``.

    Per parameter: ``d = g + weight_decay * p``; with momentum, ``buf = d`` at the first step and
    ``buf = momentum * buf + d`` after it, and ``d = buf``; then ``p -= lr * d``.
    """

    def __init__(self, params, lr, momentum=0.0, weight_decay=0.0):
        self.params = _check_params(params)
        _check_positive("lr", lr)
        _check_positive("momentum", momentum, allow_zero=True)
        _check_positive("weight_decay", weight_decay, allow_zero=True)
        self.lr, self.momentum, self.weight_decay = lr, momentum, weight_decay
        self.buffers = [None] * len(self.params)
        self.steps = 0

    def step(self, grads):
        """Update every parameter in place from ``grads`` (one array per parameter, same shapes)."""
        grads = _check_grads(self.params, grads)
        for i, (p, g) in enumerate(zip(self.params, grads)):
            d = g + self.weight_decay * p if self.weight_decay else g
            if self.momentum:
                self.buffers[i] = d.copy() if self.buffers[i] is None else self.momentum * self.buffers[i] + d
                d = self.buffers[i]
            p -= self.lr * d
        self.steps += 1


class Adam:
    """Adam {Kingma and Ba, 2015}, as ``torch.optim.Adam``.

    Per parameter, at step t = 1, 2, ...: ``g = g + weight_decay * p``;
    ``m = beta1 m + (1 - beta1) g``; ``v = beta2 v + (1 - beta2) g^2``;
    ``p -= lr / (1 - beta1^t) * m / (sqrt(v) / sqrt(1 - beta2^t) + eps)``.
    """

    def __init__(self, params, lr=1e-3, betas=(0.9, 0.999), eps=1e-8, weight_decay=0.0):
        self.params = _check_params(params)
        _check_positive("lr", lr)
        beta1, beta2 = betas
        if not (0 <= beta1 < 1 and 0 <= beta2 < 1):
            raise ValueError(f"betas: expected two numbers in [0, 1), got {betas!r}")
        _check_positive("eps", eps, allow_zero=True)
        _check_positive("weight_decay", weight_decay, allow_zero=True)
        self.lr, self.betas, self.eps, self.weight_decay = lr, (beta1, beta2), eps, weight_decay
        self.m = [np.zeros_like(p) for p in self.params]
        self.v = [np.zeros_like(p) for p in self.params]
        self.steps = 0

    def step(self, grads):
        """Update every parameter in place from ``grads`` (one array per parameter, same shapes)."""
        grads = _check_grads(self.params, grads)
        self.steps += 1
        beta1, beta2 = self.betas
        step_size = self.lr / (1.0 - beta1**self.steps)
        root_correction = np.sqrt(1.0 - beta2**self.steps)
        for p, g, m, v in zip(self.params, grads, self.m, self.v):
            if self.weight_decay:
                g = g + self.weight_decay * p
            m += (1.0 - beta1) * (g - m)  # = beta1 m + (1 - beta1) g, written as torch's lerp
            v *= beta2
            v += (1.0 - beta2) * g * g
            p -= step_size * m / (np.sqrt(v) / root_correction + self.eps)
