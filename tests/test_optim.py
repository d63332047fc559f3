"""rnnlib.core.optim against torch.optim.SGD and torch.optim.Adam fed the same gradient sequence (float64)."""

import numpy as np
import pytest
import torch

from rnnlib.core import optim
from rnnlib.core.gradcheck import relative_error

TOL = 1e-10
SHAPES = [(4, 3), (4, 4), (4,), (1,)]  # like W_ih, W_hh, b_ih, b_hh
STEPS = 7


def run_both(rng, make_ours, make_torch, steps=STEPS):
    """Apply the same random gradients to rnnlib's and torch's optimiser; return both parameter lists."""
    params = [rng.standard_normal(s) for s in SHAPES]
    ours = [p.copy() for p in params]
    theirs = [torch.tensor(p, requires_grad=True) for p in params]
    opt, ref = make_ours(ours), make_torch(theirs)
    for _ in range(steps):
        grads = [rng.standard_normal(s) * rng.uniform(0.01, 10) for s in SHAPES]
        opt.step(grads)
        for t, g in zip(theirs, grads):
            t.grad = torch.tensor(g)
        ref.step()
    return opt, ours, [t.detach().numpy() for t in theirs]


@pytest.mark.parametrize("kwargs", [dict(lr=0.1), dict(lr=0.05, momentum=0.9),
                                    dict(lr=0.01, momentum=0.5, weight_decay=0.1), dict(lr=0.3, weight_decay=0.01)])
def test_sgd_matches_torch(rng, kwargs):
    opt, ours, theirs = run_both(rng, lambda p: optim.SGD(p, **kwargs), lambda p: torch.optim.SGD(p, **kwargs))
    assert opt.steps == STEPS
    for a, b in zip(ours, theirs):
        assert relative_error(a, b) < TOL


@pytest.mark.parametrize("kwargs", [dict(), dict(lr=1e-2), dict(lr=3e-3, betas=(0.8, 0.99), eps=1e-6),
                                    dict(lr=1e-2, weight_decay=0.1), dict(lr=0.1, betas=(0.0, 0.5))])
def test_adam_matches_torch(rng, kwargs):
    opt, ours, theirs = run_both(rng, lambda p: optim.Adam(p, **kwargs), lambda p: torch.optim.Adam(p, **kwargs))
    for a, b in zip(ours, theirs):
        assert relative_error(a, b) < TOL
    # The moment estimates are torch's state too.
    assert opt.steps == STEPS


def test_adam_state_matches_torch_state(rng):
    params = [rng.standard_normal(s) for s in SHAPES]
    ours, theirs = [p.copy() for p in params], [torch.tensor(p, requires_grad=True) for p in params]
    opt, ref = optim.Adam(ours, lr=1e-2), torch.optim.Adam(theirs, lr=1e-2)
    for _ in range(3):
        grads = [rng.standard_normal(s) for s in SHAPES]
        opt.step(grads)
        for t, g in zip(theirs, grads):
            t.grad = torch.tensor(g)
        ref.step()
    for i, t in enumerate(theirs):
        state = ref.state[t]
        assert relative_error(opt.m[i], state["exp_avg"].numpy()) < TOL
        assert relative_error(opt.v[i], state["exp_avg_sq"].numpy()) < TOL


def test_updates_are_in_place_and_leave_grads_unchanged(rng):
    W = rng.standard_normal((3, 2))
    before, g = W.copy(), rng.standard_normal((3, 2))
    g_copy = g.copy()
    for opt in (optim.SGD([W], lr=0.1, momentum=0.9), optim.Adam([W])):
        opt.step([g])
        assert opt.params[0] is W
    assert not np.array_equal(W, before)
    assert np.array_equal(g, g_copy)


def test_first_steps_by_hand(rng):
    # SGD: p - lr g. Adam's first step is lr * g / (|g| + eps): about lr * sign(g), whatever |g|.
    p, g = rng.standard_normal(5), rng.standard_normal(5) * np.array([1e-3, 1, 10, 100, 1e4])
    q = p.copy()
    optim.SGD([q], lr=0.5).step([g])
    assert np.allclose(q, p - 0.5 * g, rtol=0, atol=1e-12)
    q = p.copy()
    optim.Adam([q], lr=0.01).step([g])
    assert np.allclose(q, p - 0.01 * g / (np.abs(g) + 1e-8), rtol=0, atol=1e-14)
    assert np.allclose(q, p - 0.01 * np.sign(g), rtol=0, atol=1e-6)


def test_argument_errors_name_the_argument(rng):
    W = rng.standard_normal((3, 2))
    with pytest.raises(ValueError, match=r"params: expected a non-empty list"):
        optim.SGD([], lr=0.1)
    with pytest.raises(TypeError, match=r"params\[1\]: expected a float numpy array .* got list"):
        optim.Adam([W, [1.0, 2.0]])
    with pytest.raises(TypeError, match=r"params\[0\]: expected a float numpy array .* dtype int64"):
        optim.SGD([np.zeros(3, dtype=np.int64)], lr=0.1)
    with pytest.raises(ValueError, match=r"lr: expected a positive number, got 0"):
        optim.SGD([W], lr=0)
    with pytest.raises(ValueError, match=r"momentum: expected a non-negative number, got -0.5"):
        optim.SGD([W], lr=0.1, momentum=-0.5)
    with pytest.raises(ValueError, match=r"betas: expected two numbers in \[0, 1\), got \(0.9, 1.0\)"):
        optim.Adam([W], betas=(0.9, 1.0))
    opt = optim.Adam([W])
    with pytest.raises(ValueError, match=r"grads: expected one gradient per parameter \(1\), got 2"):
        opt.step([W, W])
    with pytest.raises(ValueError, match=r"grads\[0\]: expected the shape of params\[0\], \(3, 2\), got \(2, 3\)"):
        opt.step([W.T])
