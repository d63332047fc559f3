"""rnnlib.models.attention: scaled dot-product attention against torch (float64, forward and autograd), its
backward against centred differences, argument errors; marked_recall's definition and statistics."""

import numpy as np
import pytest
import torch
import torch.nn.functional as F

from rnnlib.core.gradcheck import numerical_gradient, relative_error
from rnnlib.models import attention


def draw(rng, Tq=3, T=5, N=2, d=4, dv=3):
    return rng.standard_normal((Tq, N, d)), rng.standard_normal((T, N, d)), rng.standard_normal((T, N, dv))


def torch_attention(q, k, v):
    """torch's scaled_dot_product_attention on time-major numpy arrays (it is batch-first)."""
    tensors = [torch.tensor(a.transpose(1, 0, 2), requires_grad=True) for a in (q, k, v)]
    return tensors, F.scaled_dot_product_attention(*tensors)


def test_forward_matches_torch_scaled_dot_product_attention(rng):
    q, k, v = draw(rng)
    out, weights, _ = attention.forward(q, k, v)
    _, expected = torch_attention(q, k, v)
    assert out.shape == (3, 2, 3) and weights.shape == (2, 3, 5)
    assert relative_error(out, expected.detach().numpy().transpose(1, 0, 2)) < 1e-10
    np.testing.assert_allclose(weights.sum(-1), 1.0, rtol=0, atol=1e-14)


def test_weights_are_the_softmax_of_the_scaled_scores_one_pair_at_a_time(rng):
    q, k, v = draw(rng, Tq=2, T=4, N=1, d=6)
    _, weights, _ = attention.forward(q, k, v)
    for i in range(2):
        scores = np.array([q[i, 0] @ k[j, 0] / np.sqrt(6) for j in range(4)])
        np.testing.assert_allclose(weights[0, i], np.exp(scores) / np.exp(scores).sum(), rtol=1e-13)


def test_large_scores_do_not_overflow(rng):
    q, k, v = draw(rng)
    out, weights, _ = attention.forward(1e3 * q, 1e3 * k, v)
    assert np.all(np.isfinite(out)) and np.all(np.isfinite(weights))


def test_backward_matches_torch_autograd(rng):
    q, k, v = draw(rng)
    dout = rng.standard_normal((3, 2, 3))
    _, _, cache = attention.forward(q, k, v)
    ours = attention.backward(dout, cache)
    tensors, out = torch_attention(q, k, v)
    (out * torch.tensor(dout.transpose(1, 0, 2))).sum().backward()
    for mine, tensor in zip(ours, tensors):
        assert relative_error(mine, tensor.grad.numpy().transpose(1, 0, 2)) < 1e-10


def test_backward_passes_a_centred_difference_check(rng):
    arrays = list(draw(rng, Tq=2, T=4, N=2, d=3, dv=2))
    dout = rng.standard_normal((2, 2, 2))
    analytic = attention.backward(dout, attention.forward(*arrays)[2])
    for index, grad in enumerate(analytic):
        numeric = numerical_gradient(lambda: attention.forward(*arrays)[0], arrays[index], dout, eps=1e-5)
        assert relative_error(grad, numeric, floor=1e-2) < 1e-7


@pytest.mark.parametrize(("shapes", "match"), [
    (((3, 2), (5, 2, 4), (5, 2, 3)), r"q: expected shape \(Tq, N, d\), got \(3, 2\)"),
    (((3, 2, 4), (5, 2, 6), (5, 2, 3)), r"k: expected shape \(T, N=2, d=4\), got \(5, 2, 6\)"),
    (((3, 2, 4), (5, 2, 4), (6, 2, 3)), r"v: expected shape \(T=5, N=2, dv\), got \(6, 2, 3\)"),
])
def test_forward_names_the_bad_argument(shapes, match):
    with pytest.raises(ValueError, match=match):
        attention.forward(*(np.zeros(s) for s in shapes))


def test_backward_names_a_bad_upstream_gradient(rng):
    cache = attention.forward(*draw(rng))[2]
    with pytest.raises(ValueError, match=r"dout: expected the shape of the forward output, \(3, 2, 3\), got \(3, 2\)"):
        attention.backward(np.zeros((3, 2)), cache)


def test_marked_recall_follows_its_definition(rng):
    xs, targets, lags = attention.marked_recall(200, 12, rng, 5)
    assert xs.shape == (12, 200, 7) and targets.shape == lags.shape == (200,)
    assert targets.dtype == lags.dtype == np.int64
    values, marker, query = xs[:, :, :5], xs[:, :, 5], xs[:, :, 6]
    np.testing.assert_array_equal(values[:-1].sum(-1), 1.0)  # one value per step before the query
    np.testing.assert_array_equal(values[-1], 0.0)
    np.testing.assert_array_equal(marker.sum(0), 1.0)  # exactly one marked step
    np.testing.assert_array_equal(query[-1], 1.0)
    assert query[:-1].sum() == 0
    for n in range(200):
        position = int(np.flatnonzero(marker[:, n])[0])
        assert position < 12 // 2
        assert lags[n] == 11 - position
        assert targets[n] == int(np.argmax(values[position, n]))


def test_marked_recall_statistics_and_seeding():
    xs, targets, lags = attention.marked_recall(20000, 10, np.random.default_rng(5), 4)
    np.testing.assert_allclose(np.bincount(targets, minlength=4) / 20000, 0.25, atol=0.015)  # chance 1/n_values
    np.testing.assert_allclose(np.bincount(lags)[6:11] / 20000, 0.2, atol=0.015)  # positions uniform in 0..4
    assert lags.min() == 10 - 10 // 2 and lags.max() == 9
    again = attention.marked_recall(20000, 10, np.random.default_rng(5), 4)
    np.testing.assert_array_equal(xs, again[0])


@pytest.mark.parametrize(("kwargs", "match"), [
    ({"n": 0}, r"n: expected a positive integer, got 0"),
    ({"T": 2}, r"T: expected an integer sequence length of at least 3, got 2"),
    ({"n_values": 1.5}, r"n_values: expected a positive integer, got 1.5"),
])
def test_marked_recall_names_bad_arguments(kwargs, match):
    args = {"n": 4, "T": 6, "n_values": 3, **kwargs}
    with pytest.raises(ValueError, match=match):
        attention.marked_recall(args["n"], args["T"], np.random.default_rng(0), args["n_values"])
