"""Generating one token at a time: what a recurrent layer and an attention layer keep between tokens.

Chapter 9. A model that generates text feeds each new token back in and computes one step. Between two
steps a recurrent layer keeps its state, ``H`` numbers per layer whatever the position; a causal
attention layer keeps the key and the value of every token so far (its *KV cache*), ``2 d`` numbers per
token, and at position ``t`` reads all ``t`` of them.

Both decoders here are numpy, float32, one sequence, with random weights (what they hold does not depend
on training): ``RecurrentDecoder`` is a stack of minGRU layers (``mingru``) and ``AttentionDecoder`` one
head of scaled dot-product attention (``attention``) whose cache grows by concatenation, as a
dynamically sized cache does. ``held_bytes()`` is the size of the arrays a decoder keeps between steps;
``decode`` runs a sequence through a decoder and records it and the time of every step.
"""

import math
import time

import numpy as np


def _sigmoid(a):
    return 0.5 * (1.0 + np.tanh(0.5 * a))


class RecurrentDecoder:
    """``layers`` minGRU layers of width ``H`` over inputs of width ``D``; ``step(x (D,))`` returns the
    top layer's new state ``(H,)``. The states start at zero."""

    def __init__(self, D, H, layers, rng):
        sizes = [D] + [H] * layers
        self.weights = [tuple(rng.uniform(-1, 1, shape).astype(np.float32) / math.sqrt(d)
                              for shape in ((H, d), (H,), (H, d), (H,))) for d in sizes[:-1]]
        self.states = [np.zeros(H, dtype=np.float32) for _ in range(layers)]

    def step(self, x):
        for j, (W_z, b_z, W_h, b_h) in enumerate(self.weights):
            z = _sigmoid(W_z @ x + b_z)
            self.states[j] = x = (1 - z) * self.states[j] + z * (W_h @ x + b_h)
        return x

    def held_bytes(self):
        return sum(h.nbytes for h in self.states)


class AttentionDecoder:
    """One causal attention head of width ``d`` over inputs of width ``D``; ``step(x (D,))`` appends the
    token's key and value to the cache and returns the attention read-out ``(d,)`` over every token so
    far (itself included)."""

    def __init__(self, D, d, rng):
        self.W_q, self.W_k, self.W_v = (rng.standard_normal((d, D)).astype(np.float32) / math.sqrt(D)
                                        for _ in range(3))
        self.K = self.V = np.zeros((0, d), dtype=np.float32)

    def step(self, x):
        self.K = np.concatenate([self.K, (self.W_k @ x)[None]])
        self.V = np.concatenate([self.V, (self.W_v @ x)[None]])
        scores = self.K @ (self.W_q @ x) / math.sqrt(self.K.shape[1])
        weights = np.exp(scores - scores.max())
        return (weights / weights.sum()) @ self.V

    def held_bytes(self):
        return self.K.nbytes + self.V.nbytes


def decode(decoder, xs, clock=time.perf_counter):
    """Feed ``xs (T, D)`` to ``decoder`` one step at a time. Returns ``outs (T, width)``, ``held (T,)``
    (``held_bytes()`` after each step) and ``seconds (T,)`` (the time of each step, by ``clock``)."""
    outs, held, seconds = [], np.zeros(len(xs), dtype=np.int64), np.zeros(len(xs))
    for t, x in enumerate(xs):
        start = clock()
        outs.append(decoder.step(x))
        seconds[t] = clock() - start
        held[t] = decoder.held_bytes()
    return np.array(outs), held, seconds
