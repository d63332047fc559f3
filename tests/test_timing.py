"""rnnlib.experiments.timing: per-step timing with an injected clock, the oneDNN switch, autograd node counts."""

import itertools

import numpy as np
import pytest
import torch

from rnnlib.experiments import timing


class CountingGRU(torch.nn.GRU):
    """A GRU that counts its forward calls."""

    calls = 0

    def forward(self, *args):
        self.calls += 1
        return super().forward(*args)


def fake_clock(durations):
    """A clock whose successive intervals are ``durations`` (start, middle, end for each run)."""
    ticks = itertools.accumulate(itertools.chain([0.0], durations))
    return lambda: next(ticks)


def test_time_per_step_returns_each_repeats_time_over_T_and_skips_the_warmup():
    torch.manual_seed(0)
    module, xs = CountingGRU(3, 4), torch.randn(5, 2, 3)
    # intervals per run: forward, backward, then the gap before the next run's start
    runs = [(10.0, 20.0, 0.0), (1.0, 2.0, 0.0), (3.0, 6.0, 0.0), (2.0, 4.0, 0.0)]
    durations = [d for run in runs for d in run]
    result = timing.time_per_step(module, xs, repeats=3, warmup=1, clock=fake_clock(durations))
    assert module.calls == 4
    np.testing.assert_array_equal(result["forward"], np.array([1.0, 3.0, 2.0]) / 5)
    np.testing.assert_array_equal(result["backward"], np.array([2.0, 6.0, 4.0]) / 5)


def test_time_per_step_runs_a_real_backward_and_clears_gradients_between_runs():
    torch.manual_seed(0)
    module, xs = torch.nn.LSTM(3, 4), torch.randn(5, 2, 3)
    result = timing.time_per_step(module, xs, repeats=2, warmup=0)
    assert all(v.shape == (2,) and np.all(v > 0) for v in result.values())
    out, _ = module(xs)
    expected = torch.autograd.grad(out.sum(), module.weight_hh_l0)[0]
    # without clearing, the two timed runs would have left twice this gradient
    torch.testing.assert_close(module.weight_hh_l0.grad, expected)


@pytest.mark.parametrize(("kwargs", "match"), [
    ({"xs": torch.zeros(5, 3)}, r"xs: expected a tensor of shape \(T, N, D\), got torch.Size\(\[5, 3\]\)"),
    ({"repeats": 0}, r"repeats: expected a positive integer, got 0"),
    ({"warmup": -1}, r"warmup: expected a non-negative integer, got -1"),
])
def test_time_per_step_names_bad_arguments(kwargs, match):
    args = {"xs": torch.zeros(5, 2, 3), **kwargs}
    with pytest.raises(ValueError, match=match):
        timing.time_per_step(torch.nn.GRU(3, 4), **args)


def test_onednn_switches_and_restores_even_after_an_error():
    before = torch.backends.mkldnn.enabled
    with timing.onednn(False):
        assert torch.backends.mkldnn.enabled is False
    assert torch.backends.mkldnn.enabled == before
    with pytest.raises(RuntimeError), timing.onednn(not before):
        assert torch.backends.mkldnn.enabled == (not before)
        raise RuntimeError("inside")
    assert torch.backends.mkldnn.enabled == before


@pytest.mark.skipif(not torch.backends.mkldnn.is_available(), reason="torch built without oneDNN")
def test_float32_lstm_is_one_fused_node_only_with_onednn():
    torch.manual_seed(0)
    lstm, xs = torch.nn.LSTM(3, 4), torch.randn(6, 2, 3)
    with timing.onednn(True):
        fused = timing.autograd_nodes(lstm(xs)[0])
    with timing.onednn(False):
        unfused = timing.autograd_nodes(lstm(xs)[0])
    assert fused == {"MkldnnRnnLayerBackward0": 1, "AccumulateGrad": 4}
    assert unfused["SigmoidBackward0"] == 3 * 6  # three sigmoid gates per step, each its own node


def test_autograd_nodes_counts_a_known_graph():
    a, b = torch.ones(3, requires_grad=True), torch.ones(3, requires_grad=True)
    nodes = timing.autograd_nodes((a * b + a).sum())
    assert nodes == {"SumBackward0": 1, "AddBackward0": 1, "MulBackward0": 1, "AccumulateGrad": 2}


def test_autograd_nodes_of_an_rnn_grow_with_the_number_of_steps():
    torch.manual_seed(0)
    rnn = torch.nn.RNN(3, 4).double()
    for T in (2, 7):
        assert timing.autograd_nodes(rnn(torch.randn(T, 1, 3, dtype=torch.float64))[0])["TanhBackward0"] == T


def test_autograd_nodes_rejects_a_tensor_without_a_graph():
    with pytest.raises(ValueError, match=r"tensor: expected a tensor computed from tensors that require grad"):
        timing.autograd_nodes(torch.ones(3))
