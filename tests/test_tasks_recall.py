"""rnnlib.data.tasks.recall_bits: shapes, seeding, the structure of each sequence, and the statistics of the
bits and of the item positions against their probabilities."""

import numpy as np
import pytest

from rnnlib.data import tasks


def test_shapes_dtypes_and_seeding():
    xs, targets, mask = tasks.recall_bits(7, 3, 10, np.random.default_rng(1))
    assert xs.shape == (10, 7, 10) and targets.shape == (7, 10) and mask.shape == (7, 10)
    assert xs.dtype == targets.dtype == np.float64 and mask.dtype == bool
    again = tasks.recall_bits(7, 3, 10, np.random.default_rng(1))
    for a, b in zip((xs, targets, mask), again):
        np.testing.assert_array_equal(a, b)
    other = tasks.recall_bits(7, 3, 10, np.random.default_rng(2))
    assert not np.array_equal(xs, other[0])


@pytest.mark.parametrize(("k", "slots"), [(1, 1), (1, 8), (5, 8), (8, 8)])
def test_each_sequence_holds_k_items_on_their_own_slot_and_the_targets_are_those_bits(k, slots):
    n = 50
    xs, targets, mask = tasks.recall_bits(n, k, slots, np.random.default_rng(3))
    assert np.all(mask.sum(axis=1) == k)
    for i in range(n):
        seq = xs[:, i, :]  # (T, D)
        busy = np.flatnonzero(np.abs(seq).sum(axis=1))  # the steps that carry anything
        np.testing.assert_array_equal(busy, np.flatnonzero(mask[i]))
        for s in busy:  # an item at step s is a single +-1 on feature s
            assert np.count_nonzero(seq[s]) == 1 and seq[s, s] in (-1.0, 1.0)
            assert targets[i, s] == (seq[s, s] > 0)
    assert np.all(targets[~mask] == 0.0)


def test_bits_are_balanced_and_positions_uniform():
    n, k, slots = 20_000, 3, 8
    xs, targets, mask = tasks.recall_bits(n, k, slots, np.random.default_rng(4))
    # P(bit = +1) = 1/2: 60,000 bits, standard error 0.002
    assert abs(targets[mask].mean() - 0.5) < 0.01
    # each slot holds an item with probability k / slots = 0.375, standard error about 0.0034 per slot
    assert np.all(np.abs(mask.mean(axis=0) - k / slots) < 0.02)
    # the k positions of a sequence are a uniform subset: all C(8, 3) = 56 subsets turn up about equally
    subsets, counts = np.unique(mask, axis=0, return_counts=True)
    assert len(subsets) == 56
    assert counts.min() > 0.7 * n / 56 and counts.max() < 1.3 * n / 56
    # bits at different slots are independent: +1 at one slot says nothing about another
    both = mask[:, 0] & mask[:, 1]
    agree = (targets[both, 0] == targets[both, 1]).mean()
    assert abs(agree - 0.5) < 0.05


@pytest.mark.parametrize(("args", "match"), [
    ((0, 1, 4), r"n: expected a positive integer, got 0"),
    ((3, 1, 0), r"slots: expected a positive integer, got 0"),
    ((3, 5, 4), r"k: expected an integer number of items in \[1, slots=4\], got 5"),
    ((3, 0, 4), r"k: expected an integer number of items in \[1, slots=4\], got 0"),
    ((3, 1.5, 4), r"k: expected an integer number of items .*got 1.5"),
])
def test_bad_arguments_are_named(args, match):
    with pytest.raises(ValueError, match=match):
        tasks.recall_bits(*args, np.random.default_rng(0))
