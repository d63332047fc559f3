"""Greedy and beam search: choosing an output sequence from a model that scores one token at a time.

Chapter 8. A decoder gives, after a prefix ``y_1 .. y_{i-1}``, the log-probabilities of the next token.
The log-likelihood of a whole sequence is the sum of its tokens' log-probabilities,

    log p(y) = sum_i log p(y_i | y_1 .. y_{i-1}),

and the most likely sequence cannot be found by trying all ``V ** length`` of them. *Greedy* decoding takes
the likeliest token at every step. *Beam search* of width ``k`` keeps the ``k`` best prefixes: at every step
it extends each by every token and keeps the ``k`` highest totals among all extensions. A prefix that ends
with the end token ``eos`` is finished and leaves the beam. Width 1 is greedy decoding, and a width at
least as large as the number of possible prefixes is an exhaustive search. ``beam_search`` runs the beams of
a batch of inputs together, one call of the model per step.

The model is a function ``step(tokens (B,), state) -> (log_probs (B, V), state)`` that advances ``B``
prefixes by one token each; ``state`` is anything indexed by prefix on its first axis (a numpy array or a
torch tensor, or a tuple of them), so that ``state[rows]`` keeps the prefixes ``rows``.
"""

import numpy as np


def _take(state, rows):
    if isinstance(state, tuple):
        return tuple(_take(s, rows) for s in state)
    return state[rows]


def _size(state):
    return _size(state[0]) if isinstance(state, tuple) else len(state)


def beam_search(step, state, bos, eos, width, max_len):
    """Beam search of width ``width`` for each of the ``N`` inputs whose states ``state`` holds (first axis
    ``N``), each from one prefix holding just ``bos``; the beams of all inputs advance together.

    Returns ``(tokens, scores)``: for every input the finished sequence (``eos`` included, ``bos`` not) with
    the highest log-likelihood, as a list of ``N`` lists, and those log-likelihoods ``(N,)``. An input with no
    prefix finished within ``max_len`` tokens gets its best unfinished one. An input's search stops as soon as
    its best finished score is at least the best score in its beam (extending a prefix only lowers it).
    """
    if not isinstance(width, (int, np.integer)) or width < 1:
        raise ValueError(f"width: expected a positive integer, got {width!r}")
    N = _size(state)
    owner, prefixes = np.arange(N), [[] for _ in range(N)]  # the input each prefix of the beam belongs to
    scores, last, finished = np.zeros(N), np.full(N, bos), [[] for _ in range(N)]
    for _ in range(max_len):
        if not len(owner):
            break
        log_probs, state = step(last, state)
        total = scores[:, None] + np.asarray(log_probs, dtype=np.float64)
        kept = [pair for n in np.unique(owner)
                for pair in _extend(total, np.flatnonzero(owner == n), width, eos, prefixes, finished[n])]
        rows, tokens = np.array(kept, dtype=np.int64).reshape(-1, 2).T
        prefixes = [prefixes[r] + [t] for r, t in kept]
        scores, last, owner, state = total[rows, tokens], tokens, owner[rows], _take(state, rows)
    unfinished = {n for n in range(N) if not finished[n]}
    for i, n in enumerate(owner):  # still in the beam after max_len tokens, with nothing finished
        if n in unfinished:
            finished[n].append((scores[i], prefixes[i]))
    best = [max(f, key=lambda c: c[0]) for f in finished]  # the first of equal scores
    return [[int(t) for t in tokens] for _, tokens in best], np.array([score for score, _ in best])


def _extend(total, rows, width, eos, prefixes, finished):
    """The ``width`` best extensions of the prefixes ``rows`` of one input: those ending with ``eos`` go to
    ``finished``; returns the others as ``(row, token)`` pairs, or none once a finished one is at least as
    good as all of them."""
    best = np.argsort(-total[rows], axis=None, kind="stable")[:width]
    pairs = [(rows[i], t) for i, t in zip(*np.unravel_index(best, (len(rows), total.shape[1])))]
    finished += [(total[r, t], prefixes[r] + [t]) for r, t in pairs if t == eos]
    kept = [(r, t) for r, t in pairs if t != eos]
    if kept and finished and max(f[0] for f in finished) >= max(total[r, t] for r, t in kept):
        return []
    return kept


def greedy(step, state, bos, eos, max_len):
    """Greedy decoding of a batch: ``state`` holds ``B`` inputs. Returns ``(tokens (B, max_len), scores (B,))``:
    the likeliest token at every step (after ``eos`` a row keeps going; read it up to its first ``eos``) and
    each row's log-likelihood up to and including its first ``eos``."""
    B = _size(state)
    last, out = np.full(B, bos), np.empty((B, max_len), dtype=np.int64)
    scores, done = np.zeros(B), np.zeros(B, dtype=bool)
    for i in range(max_len):
        log_probs, state = step(last, state)
        log_probs = np.asarray(log_probs, dtype=np.float64)
        last = out[:, i] = log_probs.argmax(axis=1)
        scores += np.where(done, 0.0, log_probs[np.arange(B), last])
        done |= last == eos
    return out, scores
