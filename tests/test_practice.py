"""rnnlib.experiments.practice: the torch models against rnnlib's numpy code and torch's functional attention
(float64), the training loop against a hand-written Adam loop, sampling, graph depth, the forecaster's
lack of look-ahead, argument errors."""

import numpy as np
import pytest
import torch
import torch.nn.functional as F

from rnnlib.core import gru, linear, lstm, rnn, torch_bridge
from rnnlib.core.gradcheck import relative_error
from rnnlib.data import series
from rnnlib.experiments import practice
from rnnlib.models import attention

MODULES = {"rnn": rnn, "lstm": lstm, "gru": gru}


def numpy_forward(model, xs):
    """The same model computed with rnnlib's numpy layer and read-out, from a zero state."""
    weights = torch_bridge.to_numpy(model.layer)
    zeros = np.zeros((xs.shape[1], model.layer.hidden_size))
    if model.kind == "lstm":
        hs = lstm.forward(xs, zeros, zeros, *weights)[0]
    else:
        hs = MODULES[model.kind].forward(xs, zeros, *weights)[0]
    return linear.forward(hs, model.head.weight.detach().numpy(), model.head.bias.detach().numpy())[0]


@pytest.mark.parametrize("kind", ["rnn", "lstm", "gru"])
def test_recurrent_equals_rnnlib_layer_and_readout(kind, rng):
    torch.manual_seed(0)
    model = practice.Recurrent(kind, 3, 5, 4).double()
    xs = rng.standard_normal((6, 2, 3))
    ys, state = model(torch.tensor(xs))
    assert ys.shape == (6, 2, 4)
    assert relative_error(ys.detach().numpy(), numpy_forward(model, xs)) < 1e-10
    h_last = state[0] if kind == "lstm" else state
    # the read-out of the last state is the last output: the state is the one to carry on
    torch.testing.assert_close(model.head(h_last[0]), ys[-1])


def test_forget_bias_sets_the_forget_block_only():
    torch.manual_seed(0)
    plain = practice.Recurrent("lstm", 3, 5, 4)
    torch.manual_seed(0)
    biased = practice.Recurrent("lstm", 3, 5, 4, forget_bias=3.0)
    total = (biased.layer.bias_ih_l0 + biased.layer.bias_hh_l0).detach()
    assert torch.equal(total[5:10], torch.full((5,), 3.0))  # torch's gate order i, f, g, o
    for name in ("bias_ih_l0", "bias_hh_l0"):
        before, after = getattr(plain.layer, name).detach(), getattr(biased.layer, name).detach()
        assert torch.equal(torch.cat([before[:5], before[10:]]), torch.cat([after[:5], after[10:]]))


def test_recurrent_with_a_vocabulary_embeds_ids_and_carries_state():
    torch.manual_seed(1)
    model = practice.Recurrent("gru", 4, 6, 7, vocab_size=9)
    ids = torch.randint(9, (8, 3))
    ys, _ = model(ids)
    expected = model.head(model.layer(model.embed(ids))[0])
    torch.testing.assert_close(ys, expected, rtol=0, atol=0)
    first, state = model(ids[:5])
    rest, _ = model(ids[5:], state)
    torch.testing.assert_close(torch.cat([first, rest]), ys)


@pytest.mark.parametrize(("call", "match"), [
    (lambda: practice.Recurrent("tcn", 3, 4, 2), r"kind: expected one of \['gru', 'lstm', 'rnn'\], got 'tcn'"),
    (lambda: practice.Recurrent("rnn", 0, 4, 2), r"input_size: expected a positive integer, got 0"),
    (lambda: practice.Recurrent("rnn", 3, 4, 2, vocab_size=0), r"vocab_size: expected a positive integer, got 0"),
    (lambda: practice.Recurrent("gru", 3, 4, 2, forget_bias=1.0), r"forget_bias: expected None for kind 'gru'"),
    (lambda: practice.Recurrent("lstm", 3, 4, 2, forget_bias=float("nan")),
     r"forget_bias: expected a finite number, got nan"),
    (lambda: practice.Recurrent("rnn", 3, 4, 2)(torch.zeros(5, 2, 4)),
     r"xs: expected shape \(T, N, D=3\), got \(5, 2, 4\)"),
    (lambda: practice.Recurrent("rnn", 3, 4, 2, vocab_size=5)(torch.zeros(5, 2)), r"xs: expected int64 token ids"),
    (lambda: practice.AttentionReader(3, 4, 2)(torch.zeros(5, 3)), r"xs: expected shape \(T, N, D=3\), got \(5, 3\)"),
    (lambda: practice.SelfAttention(4)(torch.zeros(5, 2, 3)), r"xs: expected shape \(T, N, d=4\), got \(5, 2, 3\)"),
])
def test_models_name_bad_arguments(call, match):
    with pytest.raises(ValueError, match=match):
        call()


def test_attention_reader_is_one_attention_step_with_the_last_input_as_query(rng):
    torch.manual_seed(2)
    model = practice.AttentionReader(5, 4, 3).double()
    xs = rng.standard_normal((7, 2, 5))
    ys, weights = model(torch.tensor(xs))
    W_q, W_k, W_v = (m.weight.detach().numpy() for m in (model.query, model.key, model.value))
    out, a, _ = attention.forward(xs[-1:] @ W_q.T, xs @ W_k.T, xs @ W_v.T)
    expected = out[0] @ model.head.weight.detach().numpy().T + model.head.bias.detach().numpy()
    assert relative_error(ys.detach().numpy(), expected) < 1e-10
    assert relative_error(weights.detach().numpy(), a[:, 0, :].T) < 1e-10


def test_self_attention_matches_torch_functional(rng):
    torch.manual_seed(3)
    layer = practice.SelfAttention(4).double()
    xs = torch.tensor(rng.standard_normal((6, 2, 4)))
    out, scores = layer(xs)
    q, k, v = layer.qkv(xs.transpose(0, 1)).chunk(3, dim=-1)
    expected = F.scaled_dot_product_attention(q, k, v).transpose(0, 1)
    assert out.shape == (6, 2, 4) and scores.shape == (2, 6, 6)
    assert relative_error(out.detach().numpy(), expected.detach().numpy()) < 1e-10


def toy_problem(seed):
    torch.manual_seed(seed)
    model = practice.Recurrent("lstm", 2, 4, 3)
    g = torch.Generator().manual_seed(seed)
    batches = [(torch.randn(5, 8, 2, generator=g), torch.randint(3, (8,), generator=g)) for _ in range(6)]
    return model, batches


def test_train_is_adam_with_global_norm_clipping():
    model, batches = toy_problem(4)
    reference, _ = toy_problem(4)
    losses = practice.train(model, lambda step: batches[step], practice.last_step_cross_entropy, 6, 0.05,
                            max_norm=0.5)
    optimizer = torch.optim.Adam(reference.parameters(), lr=0.05)
    expected = []
    for xs, labels in batches:
        loss = F.cross_entropy(reference(xs)[0][-1], labels)
        expected.append(loss.item())
        optimizer.zero_grad()
        loss.backward()
        torch.nn.utils.clip_grad_norm_(reference.parameters(), 0.5)
        optimizer.step()
    np.testing.assert_array_equal(losses, expected)
    for mine, theirs in zip(model.parameters(), reference.parameters()):
        torch.testing.assert_close(mine, theirs, rtol=0, atol=0)


def test_train_calls_on_step_and_stops_at_a_non_finite_loss():
    model, batches = toy_problem(5)
    seen = []
    bad = {3}

    def loss_fn(m, batch):
        loss = practice.last_step_cross_entropy(m, batch)
        return loss * float("nan") if len(seen) in bad else loss

    losses = practice.train(model, lambda step: batches[step], loss_fn, 6, 0.01,
                            on_step=lambda step, loss: seen.append(step))
    assert seen == [0, 1, 2]
    assert np.all(np.isfinite(losses[:3])) and np.all(np.isnan(losses[3:]))


@pytest.mark.parametrize(("kwargs", "match"), [
    ({"steps": 0}, r"steps: expected a positive integer, got 0"),
    ({"lr": 0.0}, r"lr: expected a positive learning rate, got 0.0"),
])
def test_train_names_bad_arguments(kwargs, match):
    model, batches = toy_problem(6)
    args = {"steps": 2, "lr": 0.1, **kwargs}
    with pytest.raises(ValueError, match=match):
        practice.train(model, lambda step: batches[step], practice.last_step_cross_entropy, args["steps"], args["lr"])


def test_losses_match_their_definitions():
    torch.manual_seed(7)
    model = practice.Recurrent("gru", 2, 3, 4)
    xs, targets = torch.randn(5, 6, 2), torch.randint(4, (5, 6))
    ys = model(xs)[0]
    torch.testing.assert_close(practice.every_step_cross_entropy(model, (xs, targets)),
                               torch.stack([F.cross_entropy(ys[t], targets[t]) for t in range(5)]).mean())
    torch.testing.assert_close(practice.last_step_cross_entropy(model, (xs, targets[-1])),
                               F.cross_entropy(ys[-1], targets[-1]))
    regressor = practice.Recurrent("gru", 2, 3, 1)
    values = torch.randn(6)
    torch.testing.assert_close(practice.last_step_mse(regressor, (xs, values)),
                               ((regressor(xs)[0][-1, :, 0] - values) ** 2).mean())


def test_sampler_draws_examples_along_axis_one():
    xs, targets = torch.arange(24.0).reshape(4, 6, 1), torch.arange(6)
    batch = practice.sampler(xs, targets, 5, np.random.default_rng(8))
    picked_xs, picked = batch(0)
    expected = np.random.default_rng(8).integers(6, size=5)
    np.testing.assert_array_equal(picked.numpy(), expected)
    torch.testing.assert_close(picked_xs, xs[:, torch.as_tensor(expected)])
    with pytest.raises(ValueError, match=r"targets: expected 6 examples on axis 0 .*got shape \(4,\)"):
        practice.sampler(xs, torch.arange(4), 5, np.random.default_rng(8))
    with pytest.raises(ValueError, match=r"batch_size: expected a positive integer, got 0"):
        practice.sampler(xs, targets, 0, np.random.default_rng(8))


def test_sample_is_seeded_and_greedy_at_low_temperature():
    torch.manual_seed(9)
    model = practice.Recurrent("lstm", 4, 8, 6, vocab_size=6)
    prompt = torch.tensor([1, 2, 3])
    one = practice.sample(model, prompt, 12, torch.Generator().manual_seed(1))
    two = practice.sample(model, prompt, 12, torch.Generator().manual_seed(1))
    assert one.shape == (12,) and one.dtype == torch.int64 and torch.equal(one, two)
    greedy = practice.sample(model, prompt, 10, torch.Generator().manual_seed(2), temperature=1e-6)
    ids = prompt.tolist()
    with torch.no_grad():
        for _ in range(10):
            ids.append(int(model(torch.tensor(ids)[:, None])[0][-1, 0].argmax()))
    assert greedy.tolist() == ids[3:]
    with pytest.raises(ValueError, match=r"temperature: expected a positive number, got 0"):
        practice.sample(model, prompt, 3, torch.Generator(), temperature=0)
    with pytest.raises(ValueError, match=r"prompt: expected a 1-D tensor of at least one id"):
        practice.sample(model, torch.tensor([[1]]), 3, torch.Generator())


def test_graph_depth_counts_the_longest_chain():
    x = torch.randn(3, requires_grad=True)
    y = x
    for _ in range(7):
        y = torch.tanh(y)
    assert practice.graph_depth(y) == 8  # seven tanh nodes and the leaf's AccumulateGrad
    assert practice.graph_depth(torch.tanh(y) + x) == 10  # the add, eight tanh nodes and the leaf: the longer branch
    torch.manual_seed(10)
    layer, attend = torch.nn.RNN(2, 3), practice.SelfAttention(2)
    depth = {T: (practice.graph_depth(layer(torch.randn(T, 1, 2))[0]),
                 practice.graph_depth(attend(torch.randn(T, 1, 2))[0])) for T in (5, 10, 400)}
    per_step = (depth[10][0] - depth[5][0]) / 5
    assert per_step >= 1 and depth[400][0] - depth[10][0] == per_step * 390  # grows linearly with T
    assert depth[5][1] == depth[10][1] == depth[400][1]  # constant for attention
    with pytest.raises(ValueError, match=r"tensor: expected a tensor computed from tensors that require grad"):
        practice.graph_depth(torch.zeros(2))


def test_forecaster_never_uses_the_value_it_forecasts_or_later_ones():
    y = series.seasonal(200, 12, np.random.default_rng(11), noise=0.1)
    times, forecasts, losses = practice.fit_forecaster(y, 12, 120, steps=15, seed=3)
    np.testing.assert_array_equal(times, np.arange(120, 200))
    assert forecasts.shape == (80,) and losses.shape == (15,)
    changed = y.copy()
    changed[150:] = 50.0  # the future after t = 150 changes completely
    _, again, _ = practice.fit_forecaster(changed, 12, 120, steps=15, seed=3)
    np.testing.assert_array_equal(again[times <= 150], forecasts[times <= 150])
    assert not np.array_equal(again[times > 150], forecasts[times > 150])


def test_forecaster_learns_a_clean_seasonal_series_better_than_the_naive_forecast():
    torch.set_num_threads(1)
    y = series.seasonal(400, 12, np.random.default_rng(12), noise=0.02)
    times, forecasts, _ = practice.fit_forecaster(y, 12, 300, steps=150, seed=4, hidden_size=16)
    naive_mse = np.mean((series.naive(y, times) - y[times]) ** 2)
    assert np.mean((forecasts - y[times]) ** 2) < 0.25 * naive_mse


@pytest.mark.parametrize(("kwargs", "match"), [
    ({"cut": 5}, r"cut: expected an integer with L \+ 2 = 14 <= cut < len\(y\) = 50, got 5"),
    ({"cut": 50}, r"cut: expected an integer with L \+ 2 = 14 <= cut < len\(y\) = 50, got 50"),
    ({"L": 0}, r"L: expected a positive integer, got 0"),
])
def test_forecaster_names_bad_arguments(kwargs, match):
    args = {"L": 12, "cut": 30, **kwargs}
    with pytest.raises(ValueError, match=match):
        practice.fit_forecaster(np.zeros(50), args["L"], args["cut"], steps=1, seed=0)
