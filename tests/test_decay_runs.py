"""rnnlib.experiments.decay_runs: the gradients it inspects against torch autograd (float64), and the behaviour of
its two short training runs."""

import numpy as np
import pytest
import torch

from rnnlib.analysis import decay
from rnnlib.core import rnn
from rnnlib.core.gradcheck import relative_error
from rnnlib.data import tasks
from rnnlib.experiments import decay_runs


@pytest.fixture(autouse=True)
def one_torch_thread():
    """Small torch runs are fastest, and least disturbed by a busy machine, on one thread."""
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(threads)


def torch_rnn(weights):
    layer = torch.nn.RNN(weights[0].shape[1], weights[1].shape[0], dtype=torch.float64)
    with torch.no_grad():
        for name, w in zip(("weight_ih_l0", "weight_hh_l0", "bias_ih_l0", "bias_hh_l0"), weights):
            getattr(layer, name).copy_(torch.from_numpy(w))
    return layer


def test_agreement_gradient_matches_torch_autograd(rng):
    V, H, k = len(tasks.AGREEMENT_VOCAB), 6, 4
    weights = rnn.init_weights(V, H, rng)
    W_out, b_out = rng.standard_normal((2, H)), rng.standard_normal(2)
    ours = decay_runs.agreement_gradient(k, weights, W_out, b_out, np.random.default_rng(7), n=5)

    tokens, labels = tasks.agreement(5, k, np.random.default_rng(7))
    xs = torch.tensor(tasks.one_hot(tokens, V), requires_grad=True)
    out, _ = torch_rnn(weights)(xs)
    logits = out[-1] @ torch.from_numpy(W_out).T + torch.from_numpy(b_out)
    torch.nn.functional.cross_entropy(logits, torch.from_numpy(labels)).backward()
    assert relative_error(ours, np.linalg.norm(xs.grad[0].numpy())) < 1e-10


def test_adding_gradients_match_torch_autograd(rng):
    H = 5
    weights = rnn.init_weights(2, H, rng)
    w_out, b_out = rng.standard_normal(H), 0.3
    xs, ys = tasks.adding(4, 9, rng)
    loss, grads = decay_runs.adding_gradients(weights, w_out, b_out, xs, ys)

    layer = torch_rnn(weights)
    w_t = torch.tensor(w_out, requires_grad=True)
    b_t = torch.tensor(b_out, dtype=torch.float64, requires_grad=True)
    out, _ = layer(torch.from_numpy(xs))
    loss_t = torch.mean((out[-1] @ w_t + b_t - torch.from_numpy(ys)) ** 2)
    loss_t.backward()
    expected = [getattr(layer, n).grad.numpy() for n in ("weight_ih_l0", "weight_hh_l0", "bias_ih_l0", "bias_hh_l0")]
    expected += [w_t.grad.numpy(), b_t.grad.numpy()]
    assert relative_error(loss, loss_t.item()) < 1e-12
    for ours, theirs in zip(grads, expected):
        assert np.shape(ours) == np.shape(theirs)
        assert relative_error(ours, theirs) < 1e-10


def test_train_agreement_is_seeded_and_learns_a_short_dependency():
    losses, accuracy = decay_runs.train_agreement(1, 80, seed=0, lr=0.3)
    again, accuracy_again = decay_runs.train_agreement(1, 80, seed=0, lr=0.3)
    assert np.array_equal(losses, again) and accuracy == accuracy_again
    assert losses.shape == (80,) and losses[-10:].mean() < 0.5 * losses[:10].mean()
    assert accuracy > 0.95


def test_sgd_adding_run_explodes_at_twice_orthogonal_and_clipping_keeps_it_finite(rng):
    W_hh = decay.scaled_orthogonal(32, 2.0, rng)
    losses, norms = decay_runs.sgd_adding_run(W_hh, 60, seed=0)
    nan_at = int(np.argmax(np.isnan(losses)))
    assert np.isnan(losses).any() and 10 < nan_at < 50
    assert np.all(np.isnan(losses[nan_at:])) and np.all(np.isnan(norms[nan_at + 1:]))
    clipped, clipped_norms = decay_runs.sgd_adding_run(W_hh, 60, seed=0, max_norm=1.0)
    assert np.all(np.isfinite(clipped)) and np.all(np.isfinite(clipped_norms))
    assert clipped_norms[0] == norms[0] > 100  # the same first batch and weights; a large first gradient
    calm, calm_norms = decay_runs.sgd_adding_run(decay.scaled_orthogonal(32, 0.5, rng), 60, seed=0)
    assert np.all(np.isfinite(calm)) and calm_norms[0] < 0.1 * norms[0]


def test_sgd_adding_run_first_gradient_norm_is_rnnlibs(rng):
    """The norm the run reports before its first step is the global norm of adding_gradients (float32
    torch against float64 numpy, hence the tolerance)."""
    W_hh = decay.scaled_orthogonal(8, 1.5, rng)
    _, norms = decay_runs.sgd_adding_run(W_hh, 1, seed=3, T=12, batch_size=16)
    net, head = decay_runs._torch_rnn(2, 8, 1, 3, W_hh=W_hh.astype(np.float32))
    weights = [getattr(net, n).detach().double().numpy()
               for n in ("weight_ih_l0", "weight_hh_l0", "bias_ih_l0", "bias_hh_l0")]
    xs, ys = tasks.adding(16, 12, np.random.default_rng(3))
    _, grads = decay_runs.adding_gradients(weights, head.weight.detach().double().numpy()[0],
                                           float(head.bias.item()), xs, ys)
    assert relative_error(norms[0], np.sqrt(sum(np.sum(g ** 2) for g in grads))) < 1e-4


def test_jacobian_product_rate_is_the_spectral_radius_in_the_linear_regime(rng):
    """At h_t = 0 every Jacobian is W_hh: s x orthogonal grows every vector by exactly s, and for a
    diagonal matrix the rows turn to the largest eigenvalue's direction."""
    hs, v = np.zeros((60, 3, 4)), rng.standard_normal((3, 4))
    assert abs(decay_runs.jacobian_product_rate(hs, decay.scaled_orthogonal(4, 0.7, rng), v) - 0.7) < 1e-12
    diagonal = np.diag([0.3, -2.0, 0.5, 1.0])
    assert abs(decay_runs.jacobian_product_rate(hs, diagonal, v, skip=30) - 2.0) < 1e-9


def test_jacobian_product_rate_includes_tanh_slope_and_matches_the_gradient(rng):
    """Saturation scales each Jacobian by 1 - h^2; on a real trajectory the rate is the one that
    decay.per_step_rate fits to the BPTT gradient norms. The inputs are left unchanged."""
    W = decay.scaled_orthogonal(5, 1.5, rng)
    hs, v = np.full((40, 2, 5), 0.6), rng.standard_normal((2, 5))
    v_before = v.copy()
    assert abs(decay_runs.jacobian_product_rate(hs, W, v) - 1.5 * (1 - 0.36)) < 1e-12
    assert np.array_equal(v, v_before)

    T, N, H = 200, 16, 32
    W_ih, _, b_ih, b_hh = rnn.init_weights(1, H, rng)
    W_hh = decay.scaled_orthogonal(H, 1.5, rng)
    xs, h0 = rng.standard_normal((T, N, 1)), np.zeros((N, H))
    hs, _ = rnn.forward(xs, h0, W_ih, W_hh, b_ih, b_hh)
    norms = decay.gradient_norms_by_lag(rnn, xs, h0, W_ih, W_hh, b_ih, b_hh, rng.standard_normal((N, H)))
    measured = decay.per_step_rate(norms, start=20)
    product = decay_runs.jacobian_product_rate(hs, W_hh, rng.standard_normal((N, H)), skip=20)
    assert abs(product / measured - 1) < 0.03 and measured < 0.8 * 1.5  # far below the spectral radius


def test_jacobian_product_rate_rejects_bad_shapes_and_skip(rng):
    hs, W, v = np.zeros((5, 2, 3)), np.eye(3), np.ones((2, 3))
    with pytest.raises(ValueError, match="v: expected shape"):
        decay_runs.jacobian_product_rate(hs, W, np.ones((3, 3)))
    with pytest.raises(ValueError, match="hs: expected shape"):
        decay_runs.jacobian_product_rate(hs[0], W, v)
    with pytest.raises(ValueError, match="W_hh"):
        decay_runs.jacobian_product_rate(hs, np.eye(4), v)
    with pytest.raises(ValueError, match="skip"):
        decay_runs.jacobian_product_rate(hs, W, v, skip=5)
