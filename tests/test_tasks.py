"""Synthetic task generators of rnnlib.data.tasks: shapes, seeding, and the statistics of what they draw."""

import numpy as np
import pytest

from rnnlib.data import tasks


def test_agreement_shapes_layout_and_seeding():
    tokens, labels = tasks.agreement(16, 5, np.random.default_rng(3))
    assert tokens.shape == (7, 16) and labels.shape == (16,)
    assert tokens.dtype == labels.dtype == np.int64
    again = tasks.agreement(16, 5, np.random.default_rng(3))
    assert np.array_equal(tokens, again[0]) and np.array_equal(labels, again[1])
    assert np.all(tokens[-1] == tasks.AGREEMENT_VOCAB.index(tasks.AGREEMENT_QUERY))
    assert tasks.agreement(4, 0, np.random.default_rng(0))[0].shape == (2, 4)  # subject then query


def test_agreement_label_is_the_number_of_the_subject_and_nothing_else():
    tokens, labels = tasks.agreement(4000, 6, np.random.default_rng(0))
    subjects = [tasks.AGREEMENT_VOCAB[i] for i in tokens[0]]
    plural = {p for _, p in tasks.AGREEMENT_SUBJECTS}
    singular = {s for s, _ in tasks.AGREEMENT_SUBJECTS}
    assert set(subjects) == plural | singular
    assert all((word in plural) == bool(y) for word, y in zip(subjects, labels))
    # Balanced classes (binomial sd of the mean is 0.008 at n=4000).
    assert abs(labels.mean() - 0.5) < 0.04
    # Fillers are never subjects or the query, and are uniform (each about 1/10 of the middle tokens).
    middle = tokens[1:-1].ravel()
    filler_ids = [tasks.AGREEMENT_VOCAB.index(w) for w in tasks.AGREEMENT_FILLERS]
    assert set(np.unique(middle)) == set(filler_ids)
    freq = np.bincount(middle, minlength=len(tasks.AGREEMENT_VOCAB))[filler_ids] / middle.size
    assert np.all(np.abs(freq - 1 / len(filler_ids)) < 0.01)
    # The fillers carry no information about the label: the filler mix is the same in both classes.
    for y in (0, 1):
        part = tokens[1:-1, labels == y].ravel()
        f = np.bincount(part, minlength=len(tasks.AGREEMENT_VOCAB))[filler_ids] / part.size
        assert np.all(np.abs(f - freq) < 0.015)


def test_one_hot_and_sentence():
    tokens, labels = tasks.agreement(3, 2, np.random.default_rng(1))
    x = tasks.one_hot(tokens, len(tasks.AGREEMENT_VOCAB))
    assert x.shape == (4, 3, len(tasks.AGREEMENT_VOCAB))
    assert np.array_equal(x.argmax(-1), tokens) and np.all(x.sum(-1) == 1.0)
    words = tasks.agreement_sentence(tokens[:, 0], labels[0]).split()
    assert len(words) == 4 and words[-1] == tasks.AGREEMENT_VERBS[labels[0]]
    assert tasks.agreement_sentence(tokens[:, 0]).endswith(tasks.AGREEMENT_QUERY)


def test_errors_name_the_argument():
    rng = np.random.default_rng(0)
    with pytest.raises(ValueError, match="n: expected a positive integer"):
        tasks.agreement(0, 3, rng)
    with pytest.raises(ValueError, match="F: expected a non-negative integer"):
        tasks.agreement(2, -1, rng)
    with pytest.raises(ValueError, match=r"tokens: expected ids in \[0, 3\)"):
        tasks.one_hot(np.array([[0, 3]]), 3)
    with pytest.raises(TypeError, match="tokens: expected integer ids"):
        tasks.one_hot(np.array([[0.5]]), 3)


def test_adding_markers_targets_and_the_one_sixth_baseline():
    xs, ys = tasks.adding(20000, 11, np.random.default_rng(5))
    assert xs.shape == (11, 20000, 2) and ys.shape == (20000,)
    markers = xs[:, :, 1]
    assert np.all(markers.sum(axis=0) == 2)
    assert np.all(markers[:5].sum(axis=0) == 1) and np.all(markers[5:].sum(axis=0) == 1)  # one per half
    assert np.allclose(ys, (xs[:, :, 0] * markers).sum(axis=0), rtol=0, atol=1e-15)
    assert 0 <= xs[:, :, 0].min() and xs[:, :, 0].max() < 1
    # Marked positions uniform within each half (each of the 5 or 6 positions about 1/5 or 1/6).
    first = np.bincount(markers[:5].argmax(axis=0), minlength=5) / 20000
    second = np.bincount(markers[5:].argmax(axis=0), minlength=6) / 20000
    assert np.all(np.abs(first - 1 / 5) < 0.015) and np.all(np.abs(second - 1 / 6) < 0.015)
    # The constant answer 1 scores the variance of a sum of two U(0, 1): 1/6 (sd of the estimate ~0.0015).
    assert abs(np.mean((ys - 1.0) ** 2) - 1 / 6) < 0.006 and abs(ys.mean() - 1.0) < 0.01
    again = tasks.adding(20000, 11, np.random.default_rng(5))
    assert np.array_equal(xs, again[0]) and np.array_equal(ys, again[1])


def test_adding_errors_name_the_argument():
    rng = np.random.default_rng(0)
    with pytest.raises(ValueError, match="n: expected a positive integer"):
        tasks.adding(0, 5, rng)
    with pytest.raises(ValueError, match="T: expected an integer sequence length of at least 2"):
        tasks.adding(3, 1, rng)
