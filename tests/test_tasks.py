"""Synthetic task generators of rnnlib.tasks: shapes, seeding, and the statistics of what they draw."""

import numpy as np
import pytest

from rnnlib import tasks


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
    with pytest.raises(ValueError, match="k: expected a non-negative integer"):
        tasks.agreement(2, -1, rng)
    with pytest.raises(ValueError, match=r"tokens: expected ids in \[0, 3\)"):
        tasks.one_hot(np.array([[0, 3]]), 3)
    with pytest.raises(TypeError, match="tokens: expected integer ids"):
        tasks.one_hot(np.array([[0.5]]), 3)
