"""rnnlib.models.language_model against torch.nn.RNN + Linear + cross_entropy (float64), and centred differences."""

import numpy as np
import pytest
import torch
import torch.nn.functional as F

from rnnlib.core import optim, torch_bridge
from rnnlib.core.gradcheck import numerical_gradient, relative_error
from rnnlib.models import language_model as lm

TOL = 1e-10


def torch_model(params):
    """The same parameters in a float64 torch.nn.RNN and torch.nn.Linear."""
    rnn_module = torch_bridge.from_numpy(*params[:4])
    readout = torch.nn.Linear(params[0].shape[0], params[0].shape[1], dtype=torch.float64)
    with torch.no_grad():
        readout.weight.copy_(torch.from_numpy(params[4]))
        readout.bias.copy_(torch.from_numpy(params[5]))
    return rnn_module, readout


def test_loss_gradients_and_state_match_torch(rng):
    T, N, V, H = 9, 3, 6, 5
    params = lm.init_params(V, H, rng)
    assert [p.shape for p in params] == [(H, V), (H, H), (H,), (H,), (V, H), (V,)]
    inputs, targets = rng.integers(V, size=(T, N)), rng.integers(V, size=(T, N))
    h0 = 0.3 * rng.standard_normal((N, H))
    loss, grads, h_T = lm.loss_and_grads(params, inputs, targets, h0)

    rnn_module, readout = torch_model(params)
    out, h_n = rnn_module(F.one_hot(torch.from_numpy(inputs), V).double(), torch.tensor(h0[None]))
    ref = F.cross_entropy(readout(out).reshape(-1, V), torch.from_numpy(targets).reshape(-1))
    ref.backward()
    ref_grads = [rnn_module.weight_ih_l0, rnn_module.weight_hh_l0, rnn_module.bias_ih_l0, rnn_module.bias_hh_l0,
                 readout.weight, readout.bias]
    assert abs(loss - ref.item()) < TOL * ref.item()
    assert relative_error(h_T, h_n[0].detach().numpy()) < TOL
    for name, ours, theirs in zip(lm.PARAM_NAMES, grads, ref_grads):
        assert ours.shape == theirs.shape, name
        assert relative_error(ours, theirs.grad.numpy()) < TOL, name


def test_gradients_pass_gradcheck(rng):
    params = lm.init_params(4, 3, rng)
    inputs, targets, h0 = rng.integers(4, size=(5, 2)), rng.integers(4, size=(5, 2)), np.zeros((2, 3))
    _, grads, _ = lm.loss_and_grads(params, inputs, targets, h0)
    for name, p, g in zip(lm.PARAM_NAMES, params, grads):
        numeric = numerical_gradient(lambda: lm.loss_and_grads(params, inputs, targets, h0)[0], p)
        assert relative_error(g, numeric) < 1e-6, name


def test_initial_loss_is_near_log_V(rng):
    V = 40
    params = lm.init_params(V, 32, rng)
    inputs = rng.integers(V, size=(30, 8))
    loss = lm.loss_and_grads(params, inputs, rng.integers(V, size=(30, 8)), np.zeros((8, 32)))[0]
    assert abs(loss - np.log(V)) < 0.1  # small random weights give nearly uniform predictions


def test_sampling_is_seeded_and_greedy_at_low_temperature(rng):
    V, H = 5, 4
    params = lm.init_params(V, H, rng)
    params[4] *= 20  # sharpen the predictions so that the greedy path is unambiguous
    prompt = np.array([1, 3])
    a = lm.sample(params, prompt, 12, np.random.default_rng(0))
    assert a.shape == (12,) and a.dtype == np.int64 and a.min() >= 0 and a.max() < V
    assert np.array_equal(a, lm.sample(params, prompt, 12, np.random.default_rng(0)))
    # At a tiny temperature each character is the argmax of torch's prediction, fed back in.
    rnn_module, readout = torch_model(params)
    greedy = lm.sample(params, prompt, 8, np.random.default_rng(1), temperature=1e-6)
    seq = list(prompt)
    with torch.no_grad():
        for _ in range(8):
            out, _ = rnn_module(F.one_hot(torch.tensor(seq)[:, None], V).double())
            seq.append(int(readout(out[-1, 0]).argmax()))
    assert greedy.tolist() == seq[2:]


def test_argument_errors_name_the_argument(rng):
    params = lm.init_params(4, 3, rng)
    with pytest.raises(ValueError, match=r"prompt: expected a 1-D array of at least one index, got shape \(0,\)"):
        lm.sample(params, np.array([], dtype=int), 3, rng)
    with pytest.raises(ValueError, match=r"temperature: expected a positive number, got 0"):
        lm.sample(params, np.array([1]), 3, rng, temperature=0)
    with pytest.raises(ValueError, match=r"ids: expected values in 0\.\.3 \(V=4\)"):
        lm.loss_and_grads(params, np.full((2, 1), 4), np.zeros((2, 1), dtype=int), np.zeros((1, 3)))


def test_evaluate_is_the_forward_loss_of_one_sequence(rng):
    params = lm.init_params(6, 5, rng)
    ids = rng.integers(6, size=40)
    expected = lm.loss_and_grads(params, ids[:-1, None], ids[1:, None], np.zeros((1, 5)))[0]
    assert abs(lm.evaluate(params, ids) - expected) < 1e-14
    with pytest.raises(ValueError, match=r"ids: expected a 1-D array of at least two indices, got shape \(1,\)"):
        lm.evaluate(params, ids[:1])


def test_train_carries_the_state_and_restarts_at_the_end(rng):
    V, H, N, tau = 5, 4, 3, 4
    streams = rng.integers(V, size=(11, N))  # windows at rows 0 and 4; row 8 would need rows up to 12
    params = lm.init_params(V, H, rng)
    replay = [p.copy() for p in params]
    seen = []
    curve = lm.train(params, optim.SGD(params, lr=0.1), streams, tau, 5, on_step=lambda s, loss: seen.append((s, loss)))
    assert curve.shape == (5,) and [s for s, _ in seen] == list(range(5))
    assert np.array_equal(curve, [loss for _, loss in seen])
    # The same updates written out: windows at rows 0, 4, then 0, 4, 0 again, with the state reset at each restart.
    opt, h = optim.SGD(replay, lr=0.1), np.zeros((N, H))
    for step, pos in enumerate([0, 4, 0, 4, 0]):
        h = np.zeros((N, H)) if pos == 0 else h
        loss, grads, h = lm.loss_and_grads(replay, streams[pos:pos + tau], streams[pos + 1:pos + tau + 1], h)
        opt.step(grads)
        assert loss == curve[step]
    for a, b in zip(params, replay):
        assert np.array_equal(a, b)


def test_training_lowers_the_loss_below_log_V():
    from rnnlib.data import text

    body = text.load()[:3000]
    vocab = text.Vocabulary(body)
    ids = vocab.encode(body)
    params = lm.init_params(len(vocab), 32, np.random.default_rng(0))
    curve = lm.train(params, optim.Adam(params, lr=1e-2), text.streams(ids, 8), 16, 120)
    assert curve[:5].mean() > np.log(len(vocab)) - 0.2
    assert curve[-20:].mean() < text.unigram_entropy(ids, len(vocab))  # learned more than letter frequencies
    with pytest.raises(ValueError, match=r"streams: expected shape \(L, N\) with L >= tau \+ 1 = 17, got \(10, 8\)"):
        lm.train(params, optim.SGD(params, lr=0.1), np.zeros((10, 8), dtype=int), 16, 3)


def test_sample_statistics_by_hand():
    reference = "Shall I compare thee\nto a summer's day?"
    stats = lm.sample_statistics("so thee xq\nShall we\n  then\n\nTo day", reference)
    assert stats["word_length"] == (2 + 4 + 2 + 5 + 2 + 4 + 2 + 3) / 8
    assert stats["known_words"] == 4 / 8  # thee, shall, to, day
    assert stats["capital_lines"] == 2 / 3  # the first line is not counted, nor blank ones
    one_line = lm.sample_statistics("Thee", reference)
    assert one_line["known_words"] == 1.0 and np.isnan(one_line["capital_lines"])
    with pytest.raises(ValueError, match=r"sample: expected at least one word, got none"):
        lm.sample_statistics(" ,.; ", reference)
