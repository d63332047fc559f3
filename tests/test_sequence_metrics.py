"""rnnlib.models.sequence_metrics against torch's cross-entropy and against counting by hand."""

import math

import numpy as np
import pytest
import torch
import torch.nn.functional as F

from rnnlib.models import sequence_metrics as sm


def test_mean_nll_is_torch_cross_entropy(rng):
    T, N, V = 7, 3, 5
    scores = rng.standard_normal((T, N, V))
    targets = rng.integers(V, size=(T, N))
    log_probs = F.log_softmax(torch.from_numpy(scores), dim=-1).numpy()
    want = F.cross_entropy(torch.from_numpy(scores).reshape(-1, V), torch.from_numpy(targets).reshape(-1))
    assert sm.mean_nll(log_probs, targets) == pytest.approx(want.item(), rel=1e-12)


def test_perplexity_and_bits_are_the_same_loss_in_other_units(rng):
    V = 7
    uniform = np.log(np.full((20, V), 1.0 / V))
    nats = sm.mean_nll(uniform, rng.integers(V, size=20))
    assert sm.perplexity(nats) == pytest.approx(V, rel=1e-12)  # even over V symbols: exactly V
    assert sm.bits(nats) == pytest.approx(math.log2(V), rel=1e-12)
    for nats in (0.0, 0.7, 2.3):
        assert sm.perplexity(nats) == pytest.approx(2 ** sm.bits(nats), rel=1e-12)


def test_unigram_and_bigram_are_smoothed_counts():
    ids = np.array([0, 1, 1, 2, 1, 0])
    V = 4
    np.testing.assert_allclose(sm.unigram(ids, V, alpha=0.5), np.array([2.5, 3.5, 1.5, 0.5]) / 8)
    P = sm.bigram(ids, V, alpha=1.0)
    # pairs: 01, 11, 12, 21, 10 -> after 1: 0 once, 1 once, 2 once; after 3: never
    np.testing.assert_allclose(P[1], np.array([2, 2, 2, 1]) / 7)
    np.testing.assert_allclose(P[3], np.full(V, 0.25))
    np.testing.assert_allclose(P.sum(axis=1), 1.0)


def test_ngram_nll_scores_each_next_symbol(rng):
    V = 5
    train, test = rng.integers(V, size=200), rng.integers(V, size=50)
    P, p = sm.bigram(train, V, 0.1), sm.unigram(train, V, 0.1)
    by_loop = -np.mean([math.log(P[a, b]) for a, b in zip(test[:-1], test[1:])])
    assert sm.ngram_nll(P, test) == pytest.approx(by_loop, rel=1e-12)
    assert sm.ngram_nll(p, test) == pytest.approx(-np.mean(np.log(p[test[1:]])), rel=1e-12)


def test_bad_arguments_are_named():
    with pytest.raises(ValueError, match="alpha"):
        sm.bigram(np.array([0, 1]), 2, alpha=0)
    with pytest.raises(ValueError, match="train_ids"):
        sm.unigram(np.array([0, 3]), 2)
    with pytest.raises(ValueError, match="probs"):
        sm.ngram_nll(np.ones((2, 3)) / 3, np.array([0, 1]))
    with pytest.raises(ValueError, match="targets"):
        sm.mean_nll(np.zeros((3, 4)), np.zeros(2, dtype=int))
