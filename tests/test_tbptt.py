"""rnnlib.core.tbptt: truncated BPTT equals torch autograd with the state detached every tau steps."""

import numpy as np
import pytest
import torch

from rnnlib.core import rnn, tbptt, torch_bridge
from rnnlib.core.gradcheck import numerical_gradient, relative_error

TOL = 1e-10
NAMES = ("dxs", "dh0", "dW_ih", "dW_hh", "db_ih", "db_hh")


def problem(rng, T=11, N=3, D=2, H=4):
    weights = rnn.init_weights(D, H, rng)
    return rng.standard_normal((T, N, D)), 0.5 * rng.standard_normal((N, H)), weights, rng.standard_normal((T, N, H))


def torch_truncated(xs, h0, weights, dhs, tau, align="start"):
    """Gradients of sum(hs * dhs) when torch runs the RNN window by window and detaches the carried state."""
    module = torch_bridge.from_numpy(*weights)
    xs_t = torch.tensor(xs, requires_grad=True)
    h0_t = torch.tensor(h0[None], requires_grad=True)
    h, outs = h0_t, []
    for a, b in tbptt.windows(len(xs), tau, align):
        out, h = module(xs_t[a:b], h if a == 0 else h.detach())
        outs.append(out)
    (torch.cat(outs) * torch.from_numpy(dhs)).sum().backward()
    params = [module.weight_ih_l0, module.weight_hh_l0, module.bias_ih_l0, module.bias_hh_l0]
    return [xs_t.grad.numpy(), h0_t.grad[0].numpy(), *(p.grad.numpy() for p in params)], torch.cat(outs)


@pytest.mark.parametrize("align", ["start", "end"])
@pytest.mark.parametrize("tau", [1, 2, 3, 5, 10, 11, 50])
def test_truncated_backward_matches_torch_with_detach(rng, tau, align):
    xs, h0, weights, dhs = problem(rng)
    hs, cache = rnn.forward(xs, h0, *weights)
    ours = tbptt.backward(dhs, cache, tau, align)
    theirs, out = torch_truncated(xs, h0, weights, dhs, tau, align)
    assert relative_error(hs, out.detach().numpy()) < TOL  # detaching changes no forward value
    for name, a, b in zip(NAMES, ours, theirs):
        assert a.shape == b.shape, name
        assert relative_error(a, b) < TOL, name


def test_window_covering_the_stream_is_full_bptt_exactly(rng):
    xs, h0, weights, dhs = problem(rng)
    cache = rnn.forward(xs, h0, *weights)[1]
    full = rnn.backward(dhs, cache)
    for tau in (len(xs), len(xs) + 5):
        for a, b in zip(tbptt.backward(dhs, cache, tau), full):
            assert np.array_equal(a, b)


def test_truncation_changes_the_gradient(rng):
    xs, h0, weights, dhs = problem(rng)
    cache = rnn.forward(xs, h0, *weights)[1]
    full, cut = rnn.backward(dhs, cache), tbptt.backward(dhs, cache, 3)
    assert relative_error(full[3], cut[3]) > 1e-3  # dW_hh loses the terms that crossed a boundary


def test_a_loss_reaches_no_input_before_its_window(rng):
    xs, h0, weights, _ = problem(rng, T=16)
    dhs = np.zeros((16, 3, 4))
    dhs[-1] = rng.standard_normal((3, 4))  # one loss, at the last step
    cache = rnn.forward(xs, h0, *weights)[1]
    dxs = tbptt.backward(dhs, cache, 5)[0]  # windows [0,5) [5,10) [10,15) [15,16)
    assert np.all(dxs[:15] == 0.0) and np.all(dxs[15] != 0.0)
    dxs = tbptt.backward(dhs, cache, 8)[0]  # windows [0,8) [8,16)
    assert np.all(dxs[:8] == 0.0) and np.all(np.abs(dxs[8:]).sum(axis=(1, 2)) > 0)
    dxs = tbptt.backward(dhs, cache, 5, align="end")[0]  # windows [0,1) [1,6) [6,11) [11,16)
    assert np.all(dxs[:11] == 0.0) and np.all(np.abs(dxs[11:]).sum(axis=(1, 2)) > 0)


def test_truncated_gradient_is_the_gradient_with_carried_states_held_constant(rng):
    # Centred differences on a function in which each window starts from a fixed (precomputed) state.
    xs, h0, weights, dhs = problem(rng, T=7, N=2, D=2, H=3)
    tau = 3
    hs, cache = rnn.forward(xs, h0, *weights)
    starts = {a: (h0 if a == 0 else hs[a - 1].copy()) for a, _ in tbptt.windows(7, tau)}
    W_hh = weights[1].copy()

    def loss():
        return sum(np.sum(rnn.forward(xs[a:b], starts[a], weights[0], W_hh, *weights[2:])[0] * dhs[a:b])
                   for a, b in tbptt.windows(7, tau))

    numeric = numerical_gradient(loss, W_hh)
    assert relative_error(tbptt.backward(dhs, cache, tau)[3], numeric) < 1e-7


@pytest.mark.parametrize("tau", [1, 4, 11, 20])
def test_stream_gradients_equal_truncated_backward(rng, tau):
    xs, h0, weights, dhs = problem(rng)
    hs, cache = rnn.forward(xs, h0, *weights)
    seen = []

    def window_loss(a, b, hs_window):
        seen.append((a, b))
        return float(np.sum(hs_window * dhs[a:b])), dhs[a:b]

    loss, grads, h_T = tbptt.stream_gradients(xs, h0, *weights, window_loss, tau)
    assert seen == tbptt.windows(len(xs), tau)
    assert abs(loss - np.sum(hs * dhs)) < 1e-12 and relative_error(h_T, hs[-1]) < 1e-14
    for a, b in zip(grads, tbptt.backward(dhs, cache, tau)[2:]):
        assert relative_error(a, b) < 1e-12


def test_windows_and_argument_errors(rng):
    assert tbptt.windows(10, 4) == [(0, 4), (4, 8), (8, 10)]
    assert tbptt.windows(3, 5) == [(0, 3)]
    assert tbptt.windows(10, 4, align="end") == [(0, 2), (2, 6), (6, 10)]
    assert tbptt.windows(3, 5, align="end") == [(0, 3)]
    with pytest.raises(ValueError, match=r"align: expected 'start' or 'end', got 'middle'"):
        tbptt.windows(10, 4, align="middle")
    with pytest.raises(ValueError, match=r"tau: expected a positive integer window length, got 0"):
        tbptt.windows(10, 0)
    with pytest.raises(ValueError, match=r"tau: expected a positive integer window length, got 2.5"):
        tbptt.windows(10, 2.5)
    xs, h0, weights, dhs = problem(rng)
    cache = rnn.forward(xs, h0, *weights)[1]
    with pytest.raises(ValueError, match=r"dhs: expected the shape of the forward output, \(11, 3, 4\), got"):
        tbptt.backward(np.zeros((11, 3, 5)), cache, 3)
    with pytest.raises(ValueError, match=r"xs: expected shape \(T, N, D\), got \(11, 3\)"):
        tbptt.stream_gradients(xs[..., 0], h0, *weights, None, 3)
