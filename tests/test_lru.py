"""rnnlib.core.lru: the ring initialisation, the normalisation, and the LRU layer against a loop."""

import math

import numpy as np
import pytest
import torch

from rnnlib.core import lru, scan


def test_ring_eigenvalues_lie_on_the_ring_with_their_phases_in_range(rng):
    lam = lru.ring(2000, rng, r_min=0.4, r_max=0.9, max_phase=math.pi / 10)
    assert lam.shape == (2000,) and lam.dtype == np.complex128
    assert np.all((np.abs(lam) >= 0.4 - 1e-12) & (np.abs(lam) <= 0.9 + 1e-12))
    assert np.all((np.angle(lam) >= 0) & (np.angle(lam) <= math.pi / 10 + 1e-12))


def test_ring_is_uniform_in_area(rng):
    lam = lru.ring(20000, rng, r_min=0.5, r_max=1.0)
    r2 = np.abs(lam) ** 2  # uniform on [0.25, 1] when the density is uniform in area
    counts = np.histogram(r2, bins=5, range=(0.25, 1.0))[0]
    assert np.all(np.abs(counts - 4000) < 5 * np.sqrt(4000))
    phases = np.histogram(np.angle(lam) % (2 * math.pi), bins=5, range=(0, 2 * math.pi))[0]
    assert np.all(np.abs(phases - 4000) < 5 * np.sqrt(4000))


def test_ring_rejects_radii_outside_the_disc(rng):
    with pytest.raises(ValueError, match="r_min, r_max"):
        lru.ring(4, rng, r_min=0.9, r_max=1.1)
    with pytest.raises(ValueError, match="r_min, r_max"):
        lru.ring(4, rng, r_min=0.9, r_max=0.5)


def test_normalisation_keeps_the_stationary_variance_of_white_noise(rng):
    lam = lru.ring(6, rng, r_min=0.5, r_max=0.95)
    gamma = lru.normalisation(lam)
    np.testing.assert_allclose(gamma ** 2 / (1 - np.abs(lam) ** 2), 1.0, rtol=1e-12)
    T, N = 400, 4000  # simulate: the state's variance is that of the input
    noise = rng.standard_normal((T, N, 6))
    hs = scan.tree_scan(np.broadcast_to(lam, noise.shape), gamma * noise)
    np.testing.assert_allclose(np.mean(np.abs(hs[-1]) ** 2, axis=0), 1.0, rtol=0.1)


def test_the_layer_starts_from_the_ring_and_equals_a_loop(rng):
    D, H, T, N = 3, 5, 17, 2
    layer = lru.LRU(D, H, np.random.default_rng(4), r_min=0.8, r_max=0.99).double()
    lam = lru.ring(H, np.random.default_rng(4), r_min=0.8, r_max=0.99)
    np.testing.assert_allclose(layer.eigenvalues().detach().numpy(), lam, rtol=1e-6)
    np.testing.assert_allclose(torch.exp(layer.gamma_log).detach().numpy(), lru.normalisation(lam), rtol=1e-6)
    xs = torch.tensor(rng.standard_normal((T, N, D)))
    out, last = layer(xs)
    with torch.no_grad():
        B = torch.complex(layer.B_re, layer.B_im) * torch.exp(layer.gamma_log)[:, None]
        lam_t = layer.eigenvalues()
    h, want = torch.zeros(N, H, dtype=lam_t.dtype), []
    for x in xs:
        h = lam_t * h + x.to(B.dtype) @ B.T
        want.append(torch.cat([h.real, h.imag], dim=-1))
    assert out.shape == (T, N, 2 * H) and last.shape == (N, H)
    assert torch.max(torch.abs(out.detach() - torch.stack(want))) < 1e-12


def test_the_layer_trains_its_eigenvalues_through_the_scan(rng):
    layer = lru.LRU(2, 3, np.random.default_rng(5))
    out, _ = layer(torch.randn(9, 4, 2))
    out.pow(2).sum().backward()
    for p in (layer.nu_log, layer.theta_log, layer.gamma_log, layer.B_re, layer.B_im):
        assert p.grad is not None and torch.all(torch.isfinite(p.grad)) and torch.any(p.grad != 0)


def test_the_best_linear_filter_reproduces_a_fixed_linear_recurrence_exactly(rng):
    T, N, D, H = 12, 300, 2, 3
    lam = lru.ring(H, rng, r_min=0.5, r_max=0.95)
    B = rng.standard_normal((H, D)) + 1j * rng.standard_normal((H, D))
    C, skip = rng.standard_normal((1, 2 * H)), rng.standard_normal((1, D))
    xs = rng.standard_normal((T, N, D))
    hs = scan.loop(np.broadcast_to(lam, (T, N, H)), xs @ B.T)
    ys = np.concatenate([hs.real, hs.imag], axis=-1) @ C.T + xs @ skip.T + 0.3
    weights = lru.fit_linear_filter(xs, ys)
    other = rng.standard_normal((T, 7, D))
    hs_other = scan.loop(np.broadcast_to(lam, (T, 7, H)), other @ B.T)
    want = np.concatenate([hs_other.real, hs_other.imag], axis=-1) @ C.T + other @ skip.T + 0.3
    np.testing.assert_allclose(lru.apply_linear_filter(weights, other), want, atol=1e-6)


def test_the_best_linear_filter_is_causal_and_cannot_form_a_product(rng):
    T, N = 6, 2000
    xs = rng.standard_normal((T, N, 2))
    ys = (xs[..., :1] * xs[..., 1:]).cumsum(axis=0)  # a sum of products: no linear filter has it
    weights = lru.fit_linear_filter(xs, ys)
    assert np.mean((lru.apply_linear_filter(weights, xs) - ys) ** 2) > 0.8 * np.mean(ys ** 2)
    changed = xs.copy()
    changed[4:] += 1.0  # inputs from step 5 on do not change outputs before step 5
    before = lru.apply_linear_filter(weights, xs)[:4]
    np.testing.assert_allclose(lru.apply_linear_filter(weights, changed)[:4], before, atol=1e-12)
