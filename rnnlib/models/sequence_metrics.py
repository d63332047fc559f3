"""How well a model predicts a sequence: cross-entropy, perplexity, bits per symbol, and n-gram baselines.

Chapter 8. A model that gives the next symbol ``c_{t+1}`` the probability ``p_t`` is scored by its mean
negative log-likelihood over the ``n`` predictions of a held-out text,

    L = -(1/n) sum_t ln p_t                     nats per symbol          (mean_nll)
    perplexity = exp(L)                         effective branching factor
    bits per symbol = L / ln 2                  (bits per character, bpc, for a character model)

so ``perplexity == 2 ** bits``. A model that spreads its probability evenly over ``V`` symbols has
perplexity exactly ``V``. The baselines a character model must beat are estimated on the training text
with add-``alpha`` smoothing: ``unigram`` (the symbol frequencies, no context) and ``bigram`` (the
frequencies of each symbol after each symbol); ``ngram_nll`` scores a text under either.

    probs = sequence_metrics.bigram(train_ids, V, alpha=0.1)      # (V, V), rows sum to 1
    nats = sequence_metrics.ngram_nll(probs, held_out_ids)         # mean over the n = len - 1 predictions
    sequence_metrics.perplexity(nats), sequence_metrics.bits(nats)
"""

import math

import numpy as np


def _ids(name, ids, V, at_least=1):
    ids = np.asarray(ids)
    if ids.ndim != 1 or ids.size < at_least or ids.dtype.kind not in "iu":
        raise ValueError(f"{name}: expected a 1-D integer array of at least {at_least} symbols, got "
                         f"{ids.dtype} of shape {ids.shape}")
    if ids.min() < 0 or ids.max() >= V:
        raise ValueError(f"{name}: expected symbols in 0..{V - 1}, got {ids.min()} to {ids.max()}")
    return ids


def _alpha(alpha):
    if not alpha > 0:
        raise ValueError(f"alpha: expected a positive pseudo-count, got {alpha!r}")


def mean_nll(log_probs, targets):
    """Mean of ``-log_probs[..., targets]``: ``log_probs (..., V)`` natural-log probabilities (for
    instance ``log_softmax`` of a model's scores), ``targets (...)`` integer symbols. In nats."""
    log_probs, targets = np.asarray(log_probs, dtype=np.float64), np.asarray(targets)
    if log_probs.shape[:-1] != targets.shape:
        raise ValueError(f"targets: expected shape {log_probs.shape[:-1]} (log_probs without its last axis), "
                         f"got {targets.shape}")
    return float(-np.take_along_axis(log_probs, targets[..., None], axis=-1).mean())


def perplexity(nats):
    """``exp(nats)``: the perplexity of a mean negative log-likelihood given in nats per symbol."""
    return math.exp(nats)


def bits(nats):
    """``nats / ln 2``: the same loss in bits per symbol (bits per character for a character model)."""
    return nats / math.log(2)


def unigram(train_ids, V, alpha=1.0):
    """``(V,)`` symbol probabilities of ``train_ids`` with ``alpha`` added to every count."""
    _alpha(alpha)
    counts = np.bincount(_ids("train_ids", train_ids, V), minlength=V) + alpha
    return counts / counts.sum()


def bigram(train_ids, V, alpha=1.0):
    """``(V, V)`` probabilities ``P[a, b]`` of symbol ``b`` right after symbol ``a`` in ``train_ids``,
    with ``alpha`` added to every count; each row sums to 1."""
    _alpha(alpha)
    ids = _ids("train_ids", train_ids, V, at_least=2)
    counts = np.full((V, V), float(alpha))
    np.add.at(counts, (ids[:-1], ids[1:]), 1.0)
    return counts / counts.sum(axis=1, keepdims=True)


def ngram_nll(probs, ids):
    """Mean negative log-likelihood, in nats, of predicting ``ids[1:]`` under ``probs``: a unigram
    ``(V,)`` ignores the previous symbol, a bigram ``(V, V)`` reads row ``ids[t]`` for ``ids[t + 1]``."""
    probs = np.asarray(probs, dtype=np.float64)
    if not (probs.ndim == 1 or (probs.ndim == 2 and probs.shape[0] == probs.shape[1])):
        raise ValueError(f"probs: expected (V,) or (V, V) probabilities, got shape {probs.shape}")
    ids = _ids("ids", ids, probs.shape[-1], at_least=2)
    p = probs[ids[1:]] if probs.ndim == 1 else probs[ids[:-1], ids[1:]]
    return float(-np.log(p).mean())
