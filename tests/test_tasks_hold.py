"""rnnlib.data.tasks.hold_and_reset: shapes, seeding, targets against a plain per-sequence loop, and the
statistics of the markers and of the holding state against their probabilities."""

import numpy as np
import pytest

from rnnlib.data import tasks


def reference_targets(values, sets, resets):
    """The task's definition, one sequence and one step at a time."""
    T, N = values.shape
    ys = np.zeros((T, N))
    for n in range(N):
        held = 0.0
        for t in range(T):
            if sets[t, n]:
                held = values[t, n]
            elif resets[t, n]:
                held = 0.0
            ys[t, n] = held
    return ys


def test_shapes_dtypes_and_seeding():
    xs, ys = tasks.hold_and_reset(5, 12, np.random.default_rng(1))
    assert xs.shape == (12, 5, len(tasks.HOLD_CHANNELS)) and ys.shape == (12, 5, 1)
    assert xs.dtype == ys.dtype == np.float64
    again = tasks.hold_and_reset(5, 12, np.random.default_rng(1))
    np.testing.assert_array_equal(xs, again[0])
    np.testing.assert_array_equal(ys, again[1])
    other = tasks.hold_and_reset(5, 12, np.random.default_rng(2))
    assert not np.array_equal(xs, other[0])


def test_targets_follow_the_definition():
    xs, ys = tasks.hold_and_reset(50, 60, np.random.default_rng(0), p_set=0.15, p_reset=0.1)
    values, sets, resets = xs[..., 0], xs[..., 1] == 1, xs[..., 2] == 1
    np.testing.assert_array_equal(ys[..., 0], reference_targets(values, sets, resets))


def test_marker_and_value_statistics():
    p_set, p_reset, T, N = 0.08, 0.12, 200, 500
    xs, _ = tasks.hold_and_reset(N, T, np.random.default_rng(4), p_set=p_set, p_reset=p_reset)
    values, sets, resets = xs[..., 0], xs[..., 1], xs[..., 2]
    assert set(np.unique(sets)) <= {0.0, 1.0} and set(np.unique(resets)) <= {0.0, 1.0}
    assert not np.any((sets == 1) & (resets == 1))  # never both at one step
    n = T * N
    for observed, p in ((sets.mean(), p_set), (resets.mean(), p_reset)):
        assert abs(observed - p) < 5 * np.sqrt(p * (1 - p) / n)  # five binomial standard errors
    assert values.min() >= -1 and values.max() < 1
    assert abs(values.mean()) < 5 * np.sqrt(1 / 3 / n)  # U(-1, 1): mean 0, variance 1/3
    assert abs(values.var() - 1 / 3) < 0.01


def test_fraction_of_time_holding_matches_the_markov_chain():
    # Holding is a two-state chain: a set switches it on, a reset off, anything else keeps it.
    # Starting off, P(holding at step t, counted from 1) = q (1 - (1 - p_set - p_reset)^t)
    # with q = p_set / (p_set + p_reset), the chain's stationary probability.
    p_set, p_reset, T, N = 0.1, 0.05, 40, 20000
    xs, ys = tasks.hold_and_reset(N, T, np.random.default_rng(5), p_set=p_set, p_reset=p_reset)
    holding = ys[..., 0] != 0  # a held value is exactly 0 with probability 0
    steps = np.arange(1, T + 1)
    expected = p_set / (p_set + p_reset) * (1 - (1 - p_set - p_reset) ** steps)
    observed = holding.mean(axis=1)
    assert np.all(np.abs(observed - expected) < 5 * np.sqrt(expected * (1 - expected) / N) + 1e-12)


def test_extreme_probabilities():
    xs, ys = tasks.hold_and_reset(3, 10, np.random.default_rng(0), p_set=0.0, p_reset=0.5)
    assert np.all(ys == 0) and np.all(xs[..., 1] == 0)
    xs, ys = tasks.hold_and_reset(3, 10, np.random.default_rng(0), p_set=1.0, p_reset=0.0)
    np.testing.assert_array_equal(ys[..., 0], xs[..., 0])  # a set at every step: the target is the input


@pytest.mark.parametrize(("kwargs", "message"), [
    ({"n": 0, "T": 5}, "n: expected a positive integer, got 0"),
    ({"n": 2, "T": 2.5}, "T: expected a positive integer, got 2.5"),
    ({"n": 2, "T": 5, "p_set": 0.7, "p_reset": 0.5}, "p_set, p_reset: expected probabilities"),
    ({"n": 2, "T": 5, "p_set": -0.1}, "p_set, p_reset: expected probabilities"),
])
def test_argument_errors(kwargs, message):
    with pytest.raises(ValueError, match=message):
        tasks.hold_and_reset(rng=np.random.default_rng(0), **kwargs)
