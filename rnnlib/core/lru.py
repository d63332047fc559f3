"""The Linear Recurrent Unit (Orvieto et al. 2023): a complex diagonal recurrence started on a ring.

Chapter 9. The LRU's recurrence is ``h_t = lambda * h_{t-1} + gamma * (B x_t)``, elementwise over ``H``
complex units, with a fixed (input-independent) ``lambda = exp(-nu + i theta)``. Its gradient at lag
``k`` is multiplied by ``|lambda|^k`` exactly (``scan.lag_gradients``), so the initialisation chooses how
far back it reaches: ``ring`` draws ``lambda`` uniformly (by area) on the ring
``r_min <= |lambda| <= r_max`` of the complex plane, with phases in ``[0, max_phase]``. ``gamma =
sqrt(1 - |lambda|^2)`` (``normalisation``) keeps the variance of a unit's state near that of its input
when ``|lambda|`` is close to 1.

``LRU`` is the layer in torch (complex64 states, the recurrence by ``scan.torch_scan``); its output at
every step is ``[Re h_t, Im h_t]``, ``(T, N, 2H)``, for a read-out to use.

Because ``lambda`` is fixed, an LRU with a linear read-out is a causal linear filter of its inputs.
``fit_linear_filter`` finds the best such filter for given data by least squares, a floor for the error
of every fixed linear recurrence (``apply_linear_filter`` applies it).
"""

import math

import numpy as np
import torch

from rnnlib.core import scan


def ring(H, rng, r_min=0.9, r_max=0.999, max_phase=2 * math.pi):
    """``H`` complex eigenvalues uniform in area on the ring ``r_min <= |lambda| <= r_max``, phase in
    ``[0, max_phase]``: ``|lambda|^2 ~ U(r_min^2, r_max^2)`` and ``theta ~ U(0, max_phase)``."""
    if not 0 <= r_min <= r_max <= 1:
        raise ValueError(f"r_min, r_max: expected 0 <= r_min <= r_max <= 1, got {r_min!r} and {r_max!r}")
    u1, u2 = rng.uniform(size=H), rng.uniform(size=H)
    nu = -0.5 * np.log(u1 * (r_max ** 2 - r_min ** 2) + r_min ** 2)  # |lambda| = exp(-nu)
    return np.exp(-nu + 1j * max_phase * u2)


def normalisation(lam):
    """``gamma = sqrt(1 - |lambda|^2)``: a unit fed white noise of variance v holds a state of variance
    ``gamma^2 v / (1 - |lambda|^2) = v`` in the long run."""
    return np.sqrt(1 - np.abs(lam) ** 2)


class LRU(torch.nn.Module):
    """An LRU layer without its output projection: ``forward(xs (T, N, D))`` returns
    ``([Re h, Im h] (T, N, 2H), h_T (N, H) complex)``.

    Parameters as in the paper: ``nu_log, theta_log`` (``lambda = exp(-exp(nu_log) + i exp(theta_log))``),
    ``gamma_log`` and the complex input matrix ``B = B_re + i B_im`` (``H, D``), drawn with
    ``N(0, 1 / (2 D))`` entries. The eigenvalues come from ``ring`` under a numpy ``rng``.
    """

    def __init__(self, input_size, hidden_size, rng, r_min=0.9, r_max=0.999, max_phase=2 * math.pi):
        super().__init__()
        lam = ring(hidden_size, rng, r_min, r_max, max_phase)
        nu, theta = -np.log(np.abs(lam)), np.angle(lam) % (2 * math.pi)

        def parameter(values):
            return torch.nn.Parameter(torch.tensor(values, dtype=torch.float32))

        self.nu_log, self.theta_log = parameter(np.log(nu)), parameter(np.log(theta + 1e-12))
        self.gamma_log = parameter(np.log(normalisation(lam)))
        scale = 1 / math.sqrt(2 * input_size)
        self.B_re = parameter(rng.normal(0, scale, (hidden_size, input_size)))
        self.B_im = parameter(rng.normal(0, scale, (hidden_size, input_size)))

    def eigenvalues(self):
        """The current ``lambda (H,)`` as a complex torch tensor."""
        return torch.exp(torch.complex(-torch.exp(self.nu_log), torch.exp(self.theta_log)))

    def forward(self, xs):
        lam = self.eigenvalues()
        b = torch.complex(xs @ self.B_re.T, xs @ self.B_im.T) * torch.exp(self.gamma_log)
        hs = scan.torch_scan(lam.expand(b.shape), b)
        return torch.cat([hs.real, hs.imag], dim=-1), hs[-1]


def _lagged(xs, t):
    """``(N, T*D + 1)``: the inputs ``x_t, x_{t-1}, ..., x_1`` of step t (index ``t``), zeros for the
    steps before the first, and a 1 for the bias."""
    T, N, D = xs.shape
    past = np.zeros((T, N, D))
    past[:t + 1] = xs[t::-1]
    return np.concatenate([past.transpose(1, 0, 2).reshape(N, T * D), np.ones((N, 1))], axis=1)


def fit_linear_filter(xs, ys, ridge=1e-8):
    """The best causal, time-invariant linear filter from ``xs (T, N, D)`` to ``ys (T, N, O)``.

    Least squares over every step and sequence of ``y_t ~ sum_{k=0}^{t-1} K_k x_{t-k} + c``, with a kernel
    ``K_k`` for every lag up to ``T - 1``. Every fixed linear recurrence with a linear read-out (an LRU of
    any width, real or complex, with its skip term ``D x_t``) started from zero is such a filter, so no
    such model fits ``ys`` better than this one. Returns ``weights (T*D + 1, O)`` for
    ``apply_linear_filter``; ``ridge`` adds a tiny multiple of the identity for a stable solve.
    """
    xs, ys = np.asarray(xs, dtype=np.float64), np.asarray(ys, dtype=np.float64)
    T, N, D = xs.shape
    gram, cross = np.zeros((T * D + 1, T * D + 1)), np.zeros((T * D + 1, ys.shape[-1]))
    for t in range(T):
        features = _lagged(xs, t)
        gram += features.T @ features
        cross += features.T @ ys[t]
    return np.linalg.solve(gram + ridge * np.eye(len(gram)), cross)


def apply_linear_filter(weights, xs):
    """The filter of ``fit_linear_filter`` applied to ``xs (T, N, D)``: ``ys (T, N, O)``."""
    xs = np.asarray(xs, dtype=np.float64)
    return np.stack([_lagged(xs, t) @ weights for t in range(len(xs))])
