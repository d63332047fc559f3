"""rnnlib.lab: the models it builds, the losses and metrics, one training step against a hand-written
torch step, determinism under a seed, and the argument errors."""

import numpy as np
import pytest
import torch

from rnnlib import lab, sizes, tasks


@pytest.fixture(autouse=True)
def one_thread():
    before = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(before)


@pytest.mark.parametrize("kind", ["rnn", "lstm", "gru"])
def test_build_is_torch_default_init_under_the_seed_and_leaves_the_global_generator(kind):
    torch.manual_seed(99)
    state = torch.get_rng_state()
    net = lab.build(kind, "adding", 5, seed=3)
    assert torch.equal(torch.get_rng_state(), state)  # the caller's generator is untouched
    torch.manual_seed(3)
    layer = lab.KINDS[kind](2, 5)
    head = torch.nn.Linear(5, 1)
    for mine, ref in zip(net.parameters(), [*layer.parameters(), *head.parameters()]):
        assert torch.equal(mine, ref)
    assert net(torch.zeros(7, 4, 2)).shape == (4, 1)


def test_make_batch_matches_the_task_generators():
    xs, ys = lab.make_batch("adding", 6, 9, np.random.default_rng(1))
    ref = tasks.adding(6, 9, np.random.default_rng(1))
    assert xs.dtype == torch.float32 and np.allclose(xs.numpy(), ref[0], atol=1e-7) and np.allclose(ys, ref[1])
    xs, labels = lab.make_batch("temporal_order", 6, 12, np.random.default_rng(1))
    tokens, ref_labels = tasks.temporal_order(6, 12, np.random.default_rng(1))
    assert xs.shape == (12, 6, 8) and np.array_equal(xs.argmax(-1).numpy(), tokens)
    assert np.array_equal(labels.numpy(), ref_labels)
    xs, targets = lab.make_batch("copy", 3, 5, np.random.default_rng(1))
    assert xs.shape == (25, 3, 10) and targets.shape == (25, 3)
    assert np.array_equal(targets.numpy(), tasks.copy(3, 5, np.random.default_rng(1))[1])


def test_loss_and_metric_against_numpy(rng):
    out, target = rng.standard_normal((8, 1)), rng.uniform(0, 2, 8)
    loss, metric = lab.loss_and_metric("adding", torch.tensor(out), torch.tensor(target))
    assert np.isclose(loss.item(), np.mean((out[:, 0] - target) ** 2), rtol=1e-12) and metric == loss.item()
    logits, labels = rng.standard_normal((50, 4)), rng.integers(4, size=50)
    loss, metric = lab.loss_and_metric("temporal_order", torch.tensor(logits), torch.tensor(labels))
    logp = logits - np.log(np.exp(logits).sum(1, keepdims=True))
    assert np.isclose(loss.item(), -logp[np.arange(50), labels].mean(), rtol=1e-12)
    assert metric == np.mean(logits.argmax(1) == labels)
    logits, targets = rng.standard_normal((25, 3, 10)), rng.integers(10, size=(25, 3))
    loss, metric = lab.loss_and_metric("copy", torch.tensor(logits), torch.tensor(targets))
    logp = logits - np.log(np.exp(logits).sum(-1, keepdims=True))
    assert np.isclose(loss.item(), -np.take_along_axis(logp, targets[..., None], -1).mean(), rtol=1e-12)
    assert metric == np.mean(logits[-10:].argmax(-1) == targets[-10:])  # only the recall steps count


def test_solved_and_baselines():
    assert lab.solved("adding", 0.01) and not lab.solved("adding", 0.0101)
    assert lab.solved("temporal_order", 0.95) and not lab.solved("temporal_order", 0.949)
    assert lab.TASKS["adding"].baseline == 1 / 6 and lab.TASKS["temporal_order"].baseline == 0.25
    assert lab.TASKS["copy"].input_size == len(range(tasks.COPY_BLANK, 8 + 2))


def test_train_is_adam_with_global_norm_clipping_on_the_seeded_batches():
    run = lab.train("gru", "adding", 6, hidden_size=4, steps=3, seed=5, lr=0.05, max_norm=0.1, eval_every=1,
                    n_eval=16)
    net = lab.build("gru", "adding", 4, seed=5)
    opt = torch.optim.Adam(net.parameters(), lr=0.05)
    rng = np.random.default_rng((5, 6))
    for step in range(3):
        xs, ys = lab.make_batch("adding", 64, 6, rng)
        loss = torch.mean((net(xs)[:, 0] - ys) ** 2)
        assert run.loss[step] == loss.item()
        opt.zero_grad()
        loss.backward()
        grads = [p.grad for p in net.parameters()]
        norm = torch.sqrt(sum((g ** 2).sum() for g in grads))
        assert norm > 0.1  # so the clipping below does something
        for g in grads:
            g.mul_(0.1 / (norm + 1e-6))  # torch's clip_grad_norm_ rule
        opt.step()
    for mine, ref in zip(run.net.parameters(), net.parameters()):
        assert torch.allclose(mine, ref, rtol=0, atol=1e-6)
    held_out = lab.make_batch("adding", 16, 6, np.random.default_rng((lab.EVAL_SEED, 6)))
    assert np.isclose(run.metric[-1], lab.evaluate(net, "adding", *held_out), rtol=1e-5)
    assert list(run.eval_step) == [0, 1, 2, 3] and np.all(np.diff(run.seconds) >= 0)


def test_train_is_deterministic_under_a_seed():
    first = lab.train("lstm", "temporal_order", 10, hidden_size=8, steps=30, seed=1, eval_every=10, n_eval=64)
    second = lab.train("lstm", "temporal_order", 10, hidden_size=8, steps=30, seed=1, eval_every=10, n_eval=64)
    other = lab.train("lstm", "temporal_order", 10, hidden_size=8, steps=30, seed=2, eval_every=10, n_eval=64)
    assert np.array_equal(first.loss, second.loss) and np.array_equal(first.metric, second.metric)
    for a, b in zip(first.net.parameters(), second.net.parameters()):
        assert torch.equal(a, b)
    assert not np.array_equal(first.loss, other.loss)
    assert first.loss.shape == (30,) and list(first.eval_step) == [0, 10, 20, 30]
    line = first.summary()
    assert line.startswith("lstm") and "H=8" in line and "T=10" in line and f"{first.final:.4g}" in line
    assert ("not solved in 30 steps" in line) == (first.solved_step is None)


def test_train_learns_and_stops_when_solved():
    calls = []
    run = lab.train("lstm", "adding", 4, hidden_size=16, steps=2000, seed=0, eval_every=50, n_eval=500,
                    stop_when_solved=True, progress=calls.append)
    assert run.metric[0] > 0.1 and run.solved_step is not None and run.solved_step < 2000
    assert run.eval_step[-1] == run.solved_step and len(run.loss) == run.solved_step
    assert lab.solved("adding", run.final) and not any(lab.solved("adding", m) for m in run.metric[:-1])
    assert sum(calls) == run.solved_step and set(calls) == {50}


def test_errors_name_the_argument():
    with pytest.raises(ValueError, match="task: expected one of"):
        lab.train("lstm", "adding_problem", 10)
    with pytest.raises(ValueError, match="kind: expected one of"):
        lab.build("transformer", "adding", 8, seed=0)
    with pytest.raises(ValueError, match="hidden_size: expected a positive integer"):
        lab.build("rnn", "adding", 0, seed=0)
    with pytest.raises(ValueError, match="steps: expected a positive integer"):
        lab.train("rnn", "adding", 10, steps=0)
    with pytest.raises(ValueError, match="T: expected a positive integer"):
        lab.train("rnn", "adding", 2.5)


def test_lstm_gates_are_rnnlib_on_the_trained_weights_and_match_torch():
    net = lab.build("lstm", "adding", 6, seed=4)
    xs, _ = lab.make_batch("adding", 5, 12, np.random.default_rng(0))
    gates = lab.lstm_gates(net, xs)
    assert set(gates) == {"i", "f", "g", "o", "c", "h"} and gates["f"].shape == (12, 5, 6)
    with torch.no_grad():
        hs, _ = net.rnn(xs)
    assert np.allclose(gates["h"], hs.numpy(), rtol=0, atol=1e-6)  # float64 rnnlib vs float32 torch
    assert np.allclose(gates["c"], gates["f"] * np.concatenate([np.zeros((1, 5, 6)), gates["c"][:-1]])
                       + gates["i"] * gates["g"], rtol=0, atol=1e-12)
    with pytest.raises(ValueError, match="net: expected a lab.Net of kind 'lstm', got 'gru'"):
        lab.lstm_gates(lab.build("gru", "adding", 6, seed=4), xs)


def test_sizings_match_the_parameter_counts():
    for task in ("adding", "temporal_order"):
        both = lab.sizings(task, 32)
        assert both["equal H"] == {"rnn": 32, "lstm": 32, "gru": 32}
        counts = {k: sum(p.numel() for p in lab.build(k, task, H, 0).rnn.parameters())
                  for k, H in both["equal params"].items()}
        assert both["equal params"]["lstm"] == 32
        assert all(abs(c / counts["lstm"] - 1) < 0.05 for c in counts.values()), counts


def test_climb_gives_up_after_two_unsolved_lengths():
    lengths = (4, 6, 8, 10, 12)
    # One step cannot solve anything, so the climb stops after the first two lengths.
    runs = list(lab.climb("rnn", "adding", lengths, 4, seed=0, steps=1, n_eval=32))
    assert [r.T for r in runs] == [4, 6] and all(r.solved_step is None for r in runs)
    runs = list(lab.climb("rnn", "adding", lengths, 4, seed=0, give_up_after=10, steps=1, n_eval=32))
    assert [r.T for r in runs] == list(lengths)


def test_csv_round_trip_and_longest_solved(tmp_path):
    runs = [lab.train("rnn", "adding", T, 4, steps=2, seed=s, eval_every=1, n_eval=16) for T in (4, 6) for s in (0, 1)]
    rows = [row for run in runs for row in lab.run_rows(run)]
    path = tmp_path / "sweep.csv"
    lab.write_csv(path, rows, notes=["command: test", "seed: 0 1"])
    back, notes = lab.read_csv(path)
    assert notes == ["command: test", "seed: 0 1"] and len(back) == 4
    for run in runs:
        rec = back[("adding", "rnn", 4, run.T, run.seed)]
        assert np.array_equal(rec["step"], run.eval_step) and np.array_equal(rec["metric"], run.metric)  # repr: exact
        assert rec["solved_step"] is None and rec["n_params"] == sizes.param_count("rnn", 2, 4)
    # longest_solved: a majority of the seeds must solve every length up to it; a missing run is unsolved.
    fake = {("adding", "lstm", 8, T, s): {"solved_step": step}
            for (T, s), step in {(10, 0): 100, (10, 1): 300, (10, 2): None, (20, 0): 500, (20, 1): None,
                                 (20, 2): None, (30, 0): 900}.items()}
    assert lab.longest_solved(fake, "adding", "lstm", 8) == (10, {0: 30, 1: 10, 2: 0})
    # A length solved after a miss does not count: the reach ends at the first miss.
    fake.update({("adding", "lstm", 8, 20, 1): {"solved_step": 700}, ("adding", "lstm", 8, 40, 0): {"solved_step": 1},
                 ("adding", "lstm", 8, 40, 1): {"solved_step": 1}, ("adding", "lstm", 8, 30, 1): {"solved_step": None}})
    assert lab.longest_solved(fake, "adding", "lstm", 8) == (20, {0: 40, 1: 20, 2: 0})
    with pytest.raises(ValueError, match="runs: no run of task='adding', kind='gru'"):
        lab.longest_solved(fake, "adding", "gru", 8)


def test_compare_with_sweep_uses_three_sd_across_seeds():
    run = lab.train("rnn", "temporal_order", 10, 4, steps=2, seed=0, eval_every=1, n_eval=16)
    key = ("temporal_order", "rnn", 4, 10)

    def seeds(*curves):
        return {(*key, s): {"step": np.arange(len(c)), "metric": np.array(c)} for s, c in enumerate(curves, 1)}

    m = run.metric
    ok, rows = lab.compare_with_sweep(run, seeds(m - 0.1, m + 0.1, m[:2]))  # step 2 has two seeds only
    assert ok and [r[0] for r in rows] == [0, 1, 2]
    assert np.isclose(rows[0][3], 3 * 0.1)  # sample sd of (-0.1, 0.1, 0) is 0.1
    assert np.isclose(rows[2][3], 3 * 0.1 * np.sqrt(2))  # sample sd of (-0.1, 0.1) is 0.1 * sqrt(2)
    ok, rows = lab.compare_with_sweep(run, seeds(m + 0.5, m + 0.5 + 1e-3, m + 0.5))  # the floor (0.05) applies
    assert not ok and rows[0][3] == 0.05
    with pytest.raises(ValueError, match="runs: expected at least two seeds"):
        lab.compare_with_sweep(run, seeds(m))
    # The adding problem is compared in log10 of the error.
    run = lab.train("rnn", "adding", 6, 4, steps=1, seed=0, eval_every=1, n_eval=16)
    key = ("adding", "rnn", 4, 6)
    ok, rows = lab.compare_with_sweep(run, seeds(run.metric * 1.5, run.metric / 1.5))
    assert ok and np.isclose(rows[0][1], np.log10(run.metric[0])) and np.isclose(rows[0][2], np.log10(run.metric[0]))
