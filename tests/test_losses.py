"""rnnlib.core.losses against torch.nn.functional (float64 autograd) and centred differences."""

import warnings

import numpy as np
import pytest
import torch
import torch.nn.functional as F

from rnnlib.core import losses
from rnnlib.core.gradcheck import numerical_gradient, relative_error

TOL = 1e-10
SHAPES = [(1, 1, 2), (5, 3, 7), (12, 4, 30)]  # (T, N, V)


def torch_ce(logits, targets, reduction="mean"):
    """torch's loss and autograd gradient for (T, N, V) logits, flattened to the (T*N, V) torch wants."""
    x = torch.tensor(logits, requires_grad=True)
    loss = F.cross_entropy(x.reshape(-1, logits.shape[-1]), torch.from_numpy(targets).reshape(-1),
                           reduction=reduction)
    loss.backward()
    return loss.item(), x.grad.numpy()


@pytest.mark.parametrize("shape", SHAPES)
@pytest.mark.parametrize("reduction", ["mean", "sum"])
def test_cross_entropy_and_gradient_match_torch(rng, shape, reduction):
    logits = 3 * rng.standard_normal(shape)
    targets = rng.integers(shape[-1], size=shape[:-1])
    loss, dlogits = losses.softmax_cross_entropy(logits, targets, reduction=reduction)
    ref_loss, ref_grad = torch_ce(logits, targets, reduction)
    assert isinstance(loss, float)
    assert dlogits.shape == logits.shape
    assert abs(loss - ref_loss) <= TOL * abs(ref_loss)
    assert relative_error(dlogits, ref_grad) < TOL


def test_cross_entropy_gradient_is_p_minus_onehot_over_positions(rng):
    T, N, V = 4, 3, 6
    logits, targets = rng.standard_normal((T, N, V)), rng.integers(V, size=(T, N))
    _, dlogits = losses.softmax_cross_entropy(logits, targets)
    p = torch.softmax(torch.tensor(logits), dim=-1).numpy()
    onehot = F.one_hot(torch.from_numpy(targets), V).numpy()
    assert relative_error(dlogits, (p - onehot) / (T * N)) < TOL
    assert np.allclose(dlogits.sum(axis=-1), 0.0, atol=1e-15)  # each position's gradient sums to zero


def test_cross_entropy_is_stable_for_logits_of_size_1000(rng):
    T, N, V = 3, 2, 5
    logits = 1000.0 + 500.0 * rng.standard_normal((T, N, V))
    logits[0, 0] = [1000.0, -1000.0, 0.0, 1000.0, 999.0]
    targets = rng.integers(V, size=(T, N))
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # an overflow in exp would raise here
        loss, dlogits = losses.softmax_cross_entropy(logits, targets)
    assert np.isfinite(loss) and np.all(np.isfinite(dlogits))
    ref_loss, ref_grad = torch_ce(logits, targets)
    assert abs(loss - ref_loss) <= TOL * abs(ref_loss)
    assert np.abs(dlogits - ref_grad).max() < 1e-15 + TOL * np.abs(ref_grad).max()


def test_cross_entropy_passes_gradcheck(rng):
    logits, targets = rng.standard_normal((3, 2, 4)), rng.integers(4, size=(3, 2))
    _, dlogits = losses.softmax_cross_entropy(logits, targets)
    numeric = numerical_gradient(lambda: losses.softmax_cross_entropy(logits, targets)[0], logits)
    assert relative_error(dlogits, numeric) < 1e-7


@pytest.mark.parametrize("shape", [(1, 1, 1), (6, 4, 3), (10, 2)])
@pytest.mark.parametrize("reduction", ["mean", "sum"])
def test_mse_and_gradient_match_torch(rng, shape, reduction):
    pred, target = rng.standard_normal(shape), rng.standard_normal(shape)
    loss, dpred = losses.mse(pred, target, reduction=reduction)
    x = torch.tensor(pred, requires_grad=True)
    ref = F.mse_loss(x, torch.tensor(target), reduction=reduction)
    ref.backward()
    assert abs(loss - ref.item()) <= TOL * abs(ref.item())
    assert relative_error(dpred, x.grad.numpy()) < TOL


def test_mse_passes_gradcheck(rng):
    pred, target = rng.standard_normal((4, 3, 2)), rng.standard_normal((4, 3, 2))
    numeric = numerical_gradient(lambda: losses.mse(pred, target)[0], pred)
    assert relative_error(losses.mse(pred, target)[1], numeric) < 1e-7


def test_softmax_and_log_softmax_match_torch(rng):
    logits = 50 * rng.standard_normal((4, 3, 9))
    ref = torch.tensor(logits)
    assert relative_error(losses.softmax(logits), torch.softmax(ref, -1).numpy()) < TOL
    assert relative_error(losses.log_softmax(logits), torch.log_softmax(ref, -1).numpy()) < TOL
    assert np.allclose(losses.softmax(logits).sum(-1), 1.0, atol=1e-14)


def test_losses_leave_their_inputs_unchanged(rng):
    logits, targets = rng.standard_normal((3, 2, 4)), rng.integers(4, size=(3, 2))
    before = logits.copy(), targets.copy()
    losses.softmax_cross_entropy(logits, targets)
    assert np.array_equal(logits, before[0]) and np.array_equal(targets, before[1])


def test_argument_errors_name_the_argument(rng):
    logits = rng.standard_normal((3, 2, 4))
    with pytest.raises(TypeError, match=r"targets: expected an integer array .* got dtype float64"):
        losses.softmax_cross_entropy(logits, np.zeros((3, 2)))
    with pytest.raises(ValueError, match=r"targets: expected shape \(3, 2\) .* got \(2, 3\)"):
        losses.softmax_cross_entropy(logits, np.zeros((2, 3), dtype=int))
    with pytest.raises(ValueError, match=r"targets: expected class indices in 0\.\.3 \(V=4\), got values from 0 to 4"):
        losses.softmax_cross_entropy(logits, np.array([[0, 4], [1, 1], [2, 2]]))
    with pytest.raises(ValueError, match=r"targets: expected class indices .* got values from -1"):
        losses.softmax_cross_entropy(logits, -np.ones((3, 2), dtype=int))
    with pytest.raises(ValueError, match=r"reduction: expected one of \('mean', 'sum'\), got 'none'"):
        losses.softmax_cross_entropy(logits, np.zeros((3, 2), dtype=int), reduction="none")
    with pytest.raises(TypeError, match=r"logits: expected a numeric array, got dtype"):
        losses.softmax_cross_entropy(np.array([["a", "b"]]), np.zeros(1, dtype=int))
    with pytest.raises(ValueError, match=r"target: expected the shape of pred, \(3, 2\), got \(2, 3\)"):
        losses.mse(np.zeros((3, 2)), np.zeros((2, 3)))
    with pytest.raises(ValueError, match=r"reduction: expected one of"):
        losses.mse(np.zeros(2), np.zeros(2), reduction="avg")
