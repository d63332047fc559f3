"""rnnlib.decay_runs: the gradients it inspects against torch autograd (float64), and the behaviour of
its two short training runs."""

import numpy as np
import pytest
import torch

from rnnlib import decay, decay_runs, rnn, tasks
from rnnlib.gradcheck import relative_error


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
