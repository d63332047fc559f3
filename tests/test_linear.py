"""rnnlib.core.linear (the per-step output layer) against torch.nn.functional.linear and centred differences."""

import numpy as np
import pytest
import torch
import torch.nn.functional as F

from rnnlib.core import linear
from rnnlib.core.gradcheck import numerical_gradient, relative_error

TOL = 1e-10


@pytest.mark.parametrize("shape", [(5, 3, 4), (2, 4), (1, 1, 1, 6)])
def test_forward_and_backward_match_torch(rng, shape):
    H, V = shape[-1], 7
    hs, dys = rng.standard_normal(shape), rng.standard_normal((*shape[:-1], V))
    W, b = linear.init_weights(H, V, rng)
    ys, cache = linear.forward(hs, W, b)
    dhs, dW, db = linear.backward(dys, cache)

    hs_t, W_t, b_t = (torch.tensor(a, requires_grad=True) for a in (hs, W, b))
    ref = F.linear(hs_t, W_t, b_t)
    (ref * torch.tensor(dys)).sum().backward()
    assert ys.shape == (*shape[:-1], V) and relative_error(ys, ref.detach().numpy()) < TOL
    for ours, theirs in ((dhs, hs_t), (dW, W_t), (db, b_t)):
        assert ours.shape == theirs.shape and relative_error(ours, theirs.grad.numpy()) < TOL


def test_init_follows_torch_linear_bounds(rng):
    W, b = linear.init_weights(16, 5, rng)
    assert W.shape == (5, 16) and b.shape == (5,)
    assert np.abs(W).max() <= 0.25 and np.abs(b).max() <= 0.25 and np.abs(W).max() > 0.2


def test_passes_gradcheck(rng):
    hs, dys = rng.standard_normal((3, 2, 4)), rng.standard_normal((3, 2, 5))
    W, b = rng.standard_normal((5, 4)), rng.standard_normal(5)
    dhs, dW, db = linear.backward(dys, linear.forward(hs, W, b)[1])
    for analytic, x in ((dhs, hs), (dW, W), (db, b)):
        numeric = numerical_gradient(lambda: linear.forward(hs, W, b)[0], x, dout=dys)
        assert relative_error(analytic, numeric) < 1e-8


def test_argument_errors_name_the_argument(rng):
    hs, W, b = rng.standard_normal((3, 2, 4)), rng.standard_normal((5, 4)), rng.standard_normal(5)
    with pytest.raises(ValueError, match=r"hs: expected shape \(\.\.\., H=4\), got \(3, 2, 5\)"):
        linear.forward(rng.standard_normal((3, 2, 5)), W, b)
    with pytest.raises(ValueError, match=r"b_y: expected shape \(V=5\), got \(4,\)"):
        linear.forward(hs, W, b[:4])
    with pytest.raises(ValueError, match=r"W_hy: expected a 2-D array of shape \(V, H\), got shape \(20,\)"):
        linear.forward(hs, W.ravel(), b)
    cache = linear.forward(hs, W, b)[1]
    with pytest.raises(ValueError, match=r"dys: expected the shape of the forward output, \(3, 2, 5\), got"):
        linear.backward(hs, cache)
