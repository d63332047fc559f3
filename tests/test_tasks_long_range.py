"""The temporal-order and copy tasks of rnnlib.data.tasks: layout, seeding and the statistics of what they draw."""

import numpy as np
import pytest

from rnnlib.data import tasks

VOCAB = tasks.TEMPORAL_ORDER_VOCAB


def test_temporal_order_layout_and_seeding():
    tokens, labels = tasks.temporal_order(64, 30, np.random.default_rng(2))
    assert tokens.shape == (30, 64) and labels.shape == (64,)
    assert tokens.dtype == labels.dtype == np.int64
    assert np.all(tokens[0] == VOCAB.index("B")) and np.all(tokens[-1] == VOCAB.index("E"))
    again = tasks.temporal_order(64, 30, np.random.default_rng(2))
    assert np.array_equal(tokens, again[0]) and np.array_equal(labels, again[1])
    assert tasks.temporal_order_positions(100) == ((10, 20), (50, 60))  # the original task's ranges


@pytest.mark.parametrize("T", [8, 13, 50, 101])
def test_temporal_order_label_is_the_order_of_the_two_relevant_symbols(T):
    n = 8000
    tokens, labels = tasks.temporal_order(n, T, np.random.default_rng(T))
    relevant = (tokens == VOCAB.index("X")) | (tokens == VOCAB.index("Y"))
    assert np.all(relevant.sum(axis=0) == 2)
    (lo1, hi1), (lo2, hi2) = tasks.temporal_order_positions(T)
    steps = np.sort(np.argwhere(relevant.T)[:, 1].reshape(n, 2), axis=1)
    assert steps[:, 0].min() == lo1 and steps[:, 0].max() == hi1  # every position of each range is used
    assert steps[:, 1].min() == lo2 and steps[:, 1].max() == hi2
    symbols = tokens[steps.T, np.arange(n)] - VOCAB.index("X")  # 0 for X, 1 for Y, in time order
    assert np.array_equal(labels, 2 * symbols[0] + symbols[1])
    # Four balanced classes (binomial sd of each frequency ~0.005 at n=8000), so chance is 1/4.
    assert np.all(np.abs(np.bincount(labels, minlength=4) / n - tasks.TEMPORAL_ORDER_CHANCE) < 0.025)
    # Distractors: only a-d between the ends, uniform, and the same mix whatever the label.
    middle = tokens[1:-1][~relevant[1:-1]]
    assert set(np.unique(middle)) == {0, 1, 2, 3}
    freq = np.bincount(middle, minlength=4) / middle.size
    assert np.all(np.abs(freq - 0.25) < 0.01)
    for y in range(4):
        part = tokens[1:-1, labels == y][~relevant[1:-1, labels == y]]
        assert np.all(np.abs(np.bincount(part, minlength=4) / part.size - freq) < 0.02)


def test_copy_layout_targets_and_seeding():
    T, L, K = 7, 4, 5
    tokens, targets = tasks.copy(300, T, np.random.default_rng(4), length=L, n_symbols=K)
    assert tokens.shape == targets.shape == (T + 2 * L, 300) and tokens.dtype == targets.dtype == np.int64
    assert np.all((tokens[:L] >= 1) & (tokens[:L] <= K))  # the string to copy
    assert np.all(tokens[L:L + T - 1] == tasks.COPY_BLANK)  # the gap
    assert np.all(tokens[L + T - 1] == K + 1)  # the delimiter
    assert np.all(tokens[L + T:] == tasks.COPY_BLANK)
    assert np.all(targets[:T + L] == tasks.COPY_BLANK) and np.array_equal(targets[T + L:], tokens[:L])
    again = tasks.copy(300, T, np.random.default_rng(4), length=L, n_symbols=K)
    assert np.array_equal(tokens, again[0]) and np.array_equal(targets, again[1])


def test_copy_symbols_are_uniform_and_the_memoryless_baseline():
    T, L, K, n = 20, 10, 8, 5000
    tokens, targets = tasks.copy(n, T, np.random.default_rng(6), length=L, n_symbols=K)
    freq = np.bincount(tokens[:L].ravel(), minlength=K + 1)[1:] / (L * n)
    assert np.all(np.abs(freq - 1 / K) < 0.006)  # sd ~0.0015 at 50000 draws
    # The baseline: blanks predicted with certainty, then a uniform guess, scored with the cross-entropy.
    probs = np.zeros((T + 2 * L, n, K + 2))
    probs[:T + L, :, tasks.COPY_BLANK] = 1.0
    probs[T + L:, :, 1:K + 1] = 1.0 / K
    picked = np.take_along_axis(probs, targets[..., None], axis=-1)[..., 0]
    assert np.isclose(-np.mean(np.log(picked)), tasks.copy_baseline(T, L, K), rtol=1e-12)
    # ... which is the closed form in the docstring.
    assert tasks.copy_baseline(T, L, K) == pytest.approx(L * np.log(K) / (T + 2 * L), rel=1e-15)


def test_errors_name_the_argument():
    rng = np.random.default_rng(0)
    with pytest.raises(ValueError, match="T: expected an integer sequence length of at least 8"):
        tasks.temporal_order(4, 7, rng)
    with pytest.raises(ValueError, match="n: expected a positive integer"):
        tasks.temporal_order(0, 20, rng)
    with pytest.raises(ValueError, match="length: expected an integer of at least 1"):
        tasks.copy(4, 10, rng, length=0)
    with pytest.raises(ValueError, match="n_symbols: expected an integer of at least 2"):
        tasks.copy(4, 10, rng, n_symbols=1)
    with pytest.raises(ValueError, match="T: expected an integer of at least 1"):
        tasks.copy(4, 0, rng)
