"""rnnlib.core.clip.clip_by_global_norm's ``eps``: the default is torch's fixed 1e-6, other values change
the factor to max_norm / (norm + eps). (Agreement with torch.nn.utils at the default is tested in
test_clip_params_bridge.py.)"""

import warnings

import numpy as np
import pytest
import torch

from rnnlib.core import clip
from rnnlib.core.gradcheck import relative_error

SHAPES = [(4, 3), (5,), (2, 1)]


def grads(rng, scale=1.0):
    return [scale * rng.standard_normal(shape) for shape in SHAPES]


def test_the_default_eps_is_torchs(rng):
    gs = grads(rng, scale=3.0)
    params = [torch.zeros(g.shape, dtype=torch.float64, requires_grad=True) for g in gs]
    for p, g in zip(params, gs):
        p.grad = torch.tensor(g)
    torch.nn.utils.clip_grad_norm_(params, 0.7)
    for eps in (None, 1e-6):
        clipped, _ = clip.clip_by_global_norm(gs, 0.7) if eps is None else clip.clip_by_global_norm(gs, 0.7, eps=eps)
        assert all(relative_error(c, p.grad.numpy()) < 1e-12 for c, p in zip(clipped, params))


@pytest.mark.parametrize("eps", [0.0, 0.5, 3.0])
def test_a_larger_eps_divides_by_norm_plus_eps(eps, rng):
    gs = grads(rng, scale=2.0)
    norm = float(torch.linalg.vector_norm(torch.cat([torch.tensor(g).reshape(-1) for g in gs])))
    clipped, before = clip.clip_by_global_norm(gs, 1.0, eps=eps)
    assert relative_error(before, norm) < 1e-12
    factor = 1.0 / (norm + eps)
    assert factor < 1  # the case really clips
    assert all(relative_error(c, g * factor) < 1e-12 for c, g in zip(clipped, gs))
    after = np.sqrt(sum(np.sum(c * c) for c in clipped))
    assert after == pytest.approx(norm / (norm + eps), rel=1e-12)


def test_eps_decides_whether_a_gradient_just_below_the_limit_is_left_alone(rng):
    gs = grads(rng)
    norm = clip.global_norm(gs)
    kept, _ = clip.clip_by_global_norm(gs, norm * 1.01, eps=0.0)
    shrunk, _ = clip.clip_by_global_norm(gs, norm * 1.01, eps=0.1 * norm)
    assert all(np.array_equal(k, g) for k, g in zip(kept, gs))
    assert all(np.allclose(s, g * 1.01 / 1.1, rtol=1e-12) for s, g in zip(shrunk, gs))


def test_zero_gradients_with_zero_eps_stay_zero_without_a_warning():
    zeros = [np.zeros((2, 3)), np.zeros(4)]
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        clipped, norm = clip.clip_by_global_norm(zeros, 1.0, eps=0.0)
    assert norm == 0.0 and all(np.array_equal(c, z) for c, z in zip(clipped, zeros))
    assert all(c is not z for c, z in zip(clipped, zeros))


@pytest.mark.parametrize("bad", [-1e-6, float("nan")])
def test_a_negative_or_nan_eps_is_refused_by_name(bad):
    with pytest.raises(ValueError, match=r"eps: expected a non-negative number, got"):
        clip.clip_by_global_norm([np.ones(3)], 1.0, eps=bad)
