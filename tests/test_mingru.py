"""rnnlib.core.mingru: minGRU and minLSTM, numpy against torch, every scan against the loop, the gradient
against autograd through the loop and centred differences, and the training run."""

import numpy as np
import pytest
import torch

from rnnlib.core import mingru
from rnnlib.core.gradcheck import numerical_gradient, relative_error
from rnnlib.experiments import lab


def sigmoid(a):
    return 1 / (1 + np.exp(-a))


def weights(rng, n, D, H):
    return [x for _ in range(n) for x in (rng.standard_normal((H, D)), rng.standard_normal(H))]


def test_mingru_forward_is_the_papers_update_step_by_step(rng):
    T, N, D, H = 7, 3, 2, 4
    xs, h0 = rng.standard_normal((T, N, D)), rng.standard_normal((N, H))
    W_z, b_z, W_h, b_h = weights(rng, 2, D, H)
    h, want = h0, []
    for x in xs:
        z, candidate = sigmoid(x @ W_z.T + b_z), x @ W_h.T + b_h
        h = (1 - z) * h + z * candidate
        want.append(h)
    assert np.max(np.abs(mingru.forward(xs, h0, W_z, b_z, W_h, b_h) - np.array(want))) < 1e-12


def test_minlstm_forward_is_the_papers_update_step_by_step(rng):
    T, N, D, H = 7, 3, 2, 4
    xs, h0 = rng.standard_normal((T, N, D)), rng.standard_normal((N, H))
    W_f, b_f, W_i, b_i, W_h, b_h = weights(rng, 3, D, H)
    h, want = h0, []
    for x in xs:
        f, i = sigmoid(x @ W_f.T + b_f), sigmoid(x @ W_i.T + b_i)
        h = f / (f + i) * h + i / (f + i) * (x @ W_h.T + b_h)
        want.append(h)
    assert np.max(np.abs(mingru.forward_lstm(xs, h0, W_f, b_f, W_i, b_i, W_h, b_h) - np.array(want))) < 1e-12


def layer_weights(layer):
    W, b = layer.linear.weight.detach().numpy(), layer.linear.bias.detach().numpy()
    H = layer.hidden_size
    return [x for j in range(layer.n_linear) for x in (W[j * H:(j + 1) * H], b[j * H:(j + 1) * H])]


@pytest.mark.parametrize("mode", sorted(mingru.MODES))
@pytest.mark.parametrize("kind", sorted(mingru.LAYERS))
def test_torch_layers_equal_the_numpy_reference_in_every_mode(rng, kind, mode):
    T, N, D, H = 13, 3, 2, 5
    torch.manual_seed(0)
    layer = mingru.LAYERS[kind](D, H, mode).double()
    xs, h0 = rng.standard_normal((T, N, D)), rng.standard_normal((N, H))
    hs, last = layer(torch.tensor(xs), torch.tensor(h0))
    reference = mingru.forward if kind == "mingru" else mingru.forward_lstm
    want = reference(xs, h0, *layer_weights(layer))
    assert np.max(np.abs(hs.detach().numpy() - want)) < 1e-12
    assert torch.equal(last, hs[-1])


def gradients(layer, xs, dhs):
    layer.zero_grad()
    xs = xs.clone().requires_grad_(True)
    (layer(xs)[0] * dhs).sum().backward()
    return [xs.grad] + [p.grad.clone() for p in layer.parameters()]


@pytest.mark.parametrize("kind, selective", [("mingru", True), ("mingru", False), ("minlstm", True)])
def test_the_fused_scan_has_the_gradient_of_autograd_through_the_loop(rng, kind, selective):
    T, N, D, H = 21, 3, 2, 4
    extra = {} if kind == "minlstm" else {"selective": selective}
    torch.manual_seed(1)
    fused = mingru.LAYERS[kind](D, H, "fused", **extra).double()
    loop = mingru.LAYERS[kind](D, H, "loop", **extra).double()
    loop.load_state_dict(fused.state_dict())
    xs, dhs = torch.tensor(rng.standard_normal((T, N, D))), torch.tensor(rng.standard_normal((T, N, H)))
    for x, y in zip(gradients(fused, xs, dhs), gradients(loop, xs, dhs)):
        assert torch.max(torch.abs(x - y)) < 1e-12


def test_the_layer_gradient_equals_centred_differences(rng):
    T, N, D, H = 9, 2, 3, 4
    torch.manual_seed(2)
    layer = mingru.MinGRU(D, H).double()
    xs, dhs = rng.standard_normal((T, N, D)), rng.standard_normal((T, N, H))
    _, *analytic = gradients(layer, torch.tensor(xs), torch.tensor(dhs))
    W = layer.linear.weight.detach().numpy().copy()
    b = layer.linear.bias.detach().numpy().copy()

    def states():
        return mingru.forward(xs, np.zeros((N, H)), W[:H], b[:H], W[H:], b[H:])

    assert relative_error(analytic[0].numpy(), numerical_gradient(states, W, dhs)) < 1e-7
    assert relative_error(analytic[1].numpy(), numerical_gradient(states, b, dhs)) < 1e-7


def test_a_non_selective_mingru_has_one_decay_per_unit_for_every_step(rng):
    torch.manual_seed(3)
    layer = mingru.MinGRU(2, 4, selective=False, a_bias=3.0)
    a, b = layer.coefficients(torch.tensor(rng.standard_normal((6, 3, 2)), dtype=torch.float32))
    assert torch.allclose(layer.retain, torch.full((4,), 3.0))
    assert torch.equal(a, torch.sigmoid(layer.retain).expand(6, 3, 4))
    selective = mingru.MinGRU(2, 4, selective=True)
    assert not hasattr(selective, "retain")


def test_the_a_bias_starts_a_near_its_sigmoid_at_a_zero_input():
    for kind in mingru.LAYERS:
        layer = mingru.LAYERS[kind](3, 5, a_bias=2.5)
        a, _ = layer.coefficients(torch.zeros(1, 1, 3))
        assert torch.allclose(a, torch.sigmoid(torch.tensor(2.5)).expand(1, 1, 5), atol=1e-6)
        assert not torch.all(layer.linear.bias[-5:] == -2.5)  # the candidate's bias is left alone


def test_parameter_counts_match_the_modules():
    for kind in mingru.LAYERS:
        for D, H, layers in ((2, 40, 2), (8, 40, 2), (3, 7, 1), (1, 5, 3)):
            net = mingru.Net(kind, D, H, 1, layers)
            assert mingru.param_count(kind, D, H, layers) == sum(p.numel() for p in net.rnn.parameters())
    assert mingru.param_count("mingru", 2, 40, 2) == 3520  # next to the GRU's 3456 at H = 32, D = 2


def test_net_reads_the_last_state_or_every_state():
    xs = torch.randn(11, 3, 2)
    assert mingru.Net("mingru", 2, 6, 4, layers=2)(xs).shape == (3, 4)
    assert mingru.Net("minlstm", 2, 6, 4, every_step=True)(xs).shape == (11, 3, 4)
    with pytest.raises(ValueError, match="kind: expected one of"):
        mingru.Net("gru", 2, 6, 4)
    with pytest.raises(ValueError, match="mode: expected one of"):
        mingru.MinGRU(2, 6, mode="parallel")


def test_a_training_run_is_a_seeded_lab_run():
    kw = dict(steps=4, eval_every=2, n_eval=20, batch_size=8, layers=2, a_bias=3.0)
    runs = [mingru.train("mingru", "temporal_order", 12, 5, seed=7, **kw) for _ in range(2)]
    run = runs[0]
    assert isinstance(run, lab.Run) and run.kind == "mingru" and run.forget_bias is None
    assert list(run.eval_step) == [0, 2, 4] and run.loss.shape == (4,)
    np.testing.assert_array_equal(run.loss, runs[1].loss)
    np.testing.assert_array_equal(run.metric, runs[1].metric)
    assert np.all(np.diff(run.seconds) >= 0)
    assert len(run.summary()) <= 88


def test_seconds_per_update_times_a_training_update_of_either_kind_of_net():
    for net in (mingru.build("mingru", "adding", 6, 0, layers=2), lab.build("gru", "adding", 6, 0)):
        before = [p.detach().clone() for p in net.parameters()]
        seconds = mingru.seconds_per_update(net, "adding", 12, updates=2, warmup=1)
        assert isinstance(seconds, float) and seconds > 0
        assert any(not torch.equal(a, b) for a, b in zip(before, net.parameters()))  # it trained
