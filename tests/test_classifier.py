"""rnnlib.models.classifier against torch (nn.RNN, Linear, cross_entropy, and detach for truncation)."""

import numpy as np
import pytest
import torch
import torch.nn.functional as F

from rnnlib.core import tbptt, torch_bridge
from rnnlib.core.gradcheck import numerical_gradient, relative_error
from rnnlib.models import classifier

TOL = 1e-10


def torch_run(params, xs, labels, window=None):
    rnn_module = torch_bridge.from_numpy(*params[:4])
    W_hy, b_y = (torch.tensor(p, requires_grad=True) for p in params[4:])
    xs_t = torch.tensor(xs, requires_grad=True)
    h = torch.zeros(1, xs.shape[1], params[1].shape[0], dtype=torch.float64)
    for a, b in tbptt.windows(len(xs), window or len(xs), align="end"):
        _, h = rnn_module(xs_t[a:b], h if a == 0 else h.detach())
    loss = F.cross_entropy(F.linear(h[0], W_hy, b_y), torch.from_numpy(labels))
    loss.backward()
    params_t = [rnn_module.weight_ih_l0, rnn_module.weight_hh_l0, rnn_module.bias_ih_l0, rnn_module.bias_hh_l0]
    return loss.item(), [p.grad.numpy() for p in [*params_t, W_hy, b_y]], xs_t.grad.numpy()


@pytest.mark.parametrize("window", [None, 1, 3, 7, 20])
def test_matches_torch(rng, window):
    T, N, D, H, C = 9, 5, 3, 4, 3
    params = classifier.init_params(D, H, C, rng)
    xs, labels = rng.standard_normal((T, N, D)), rng.integers(C, size=N)
    loss, grads, dxs, accuracy = classifier.loss_and_grads(params, xs, labels, window)
    ref_loss, ref_grads, ref_dxs = torch_run(params, xs, labels, window)
    assert abs(loss - ref_loss) < TOL * ref_loss
    assert relative_error(dxs, ref_dxs) < TOL
    for ours, theirs in zip(grads, ref_grads):
        assert ours.shape == theirs.shape and relative_error(ours, theirs) < TOL
    assert accuracy in {i / N for i in range(N + 1)}


def test_full_gradient_passes_gradcheck_and_truncation_zeroes_early_inputs(rng):
    params = classifier.init_params(2, 3, 2, rng)
    xs, labels = rng.standard_normal((6, 2, 2)), rng.integers(2, size=2)
    _, grads, dxs, _ = classifier.loss_and_grads(params, xs, labels)
    numeric = numerical_gradient(lambda: classifier.loss_and_grads(params, xs, labels)[0], params[1])
    assert relative_error(grads[1], numeric) < 1e-7
    numeric = numerical_gradient(lambda: classifier.loss_and_grads(params, xs, labels)[0], xs)
    assert np.allclose(dxs, numeric, rtol=1e-6, atol=1e-9)  # early inputs have tiny gradients: absolute floor
    _, _, dxs_cut, _ = classifier.loss_and_grads(params, xs, labels, window=4)  # windows [0,2) [2,6)
    assert np.all(dxs_cut[:2] == 0.0) and np.array_equal(dxs_cut[2:] != 0, dxs[2:] != 0)


def test_accuracy_counts_correct_argmax(rng):
    params = classifier.init_params(1, 2, 2, rng)
    params[4][:] = 0.0
    params[5][:] = [0.0, 1.0]  # always predicts class 1
    _, _, _, accuracy = classifier.loss_and_grads(params, np.zeros((3, 4, 1)), np.array([1, 1, 0, 1]))
    assert accuracy == 0.75
