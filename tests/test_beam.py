"""rnnlib.models.beam: greedy decoding and beam search against an exhaustive search on a tiny vocabulary."""

import itertools

import numpy as np
import pytest

from rnnlib.models import beam

V, BOS, EOS = 4, 3, 2  # tokens 0, 1, 2 (= EOS) can be emitted; 3 only starts


def toy_model(rng, max_len):
    """A step function whose next-token distribution depends on the whole prefix: the state is the prefix
    written as a number in base V, and each prefix has its own random log-probabilities."""
    table = rng.standard_normal((V ** (max_len + 2), V)) * 2
    table[:, BOS] = -np.inf  # never emitted
    table -= np.logaddexp.reduce(table, axis=1, keepdims=True)

    def step(tokens, state):
        state = state * V + tokens
        return table[state], state

    return step


def exhaustive(step, max_len):
    """Every finished sequence (ending with EOS within max_len) and its log-likelihood, by brute force."""
    best = (-np.inf, None)
    for length in range(1, max_len + 1):
        for body in itertools.product([t for t in range(V) if t not in (EOS, BOS)], repeat=length - 1):
            seq, state, last, score = [*body, EOS], np.zeros(1, dtype=np.int64), np.array([BOS]), 0.0
            for token in seq:
                log_probs, state = step(last, state)
                score += log_probs[0, token]
                last = np.array([token])
            best = max(best, (score, seq), key=lambda b: b[0])
    return best


@pytest.mark.parametrize("seed", range(8))
def test_a_wide_enough_beam_is_exhaustive(seed):
    max_len = 4
    step = toy_model(np.random.default_rng(seed), max_len)
    score, seq = exhaustive(step, max_len)
    (tokens,), (found,) = beam.beam_search(step, np.zeros(1, dtype=np.int64), BOS, EOS, V ** max_len, max_len)
    assert tokens == seq and found == pytest.approx(score, abs=1e-12)


@pytest.mark.parametrize("seed", range(8))
def test_width_one_is_greedy_and_scores_add_up(seed):
    max_len = 5
    step = toy_model(np.random.default_rng(seed), max_len)
    out, scores = beam.greedy(step, np.zeros(1, dtype=np.int64), BOS, EOS, max_len)
    (tokens,), (score,) = beam.beam_search(step, np.zeros(1, dtype=np.int64), BOS, EOS, 1, max_len)
    row = list(out[0])
    first = row[:row.index(EOS) + 1] if EOS in row else row
    assert tokens == first and score == pytest.approx(scores[0], abs=1e-12)
    state, last, total = np.zeros(1, dtype=np.int64), np.array([BOS]), 0.0
    for token in tokens:  # the score is the sum of the chosen tokens' log-probabilities
        log_probs, state = step(last, state)
        total, last = total + log_probs[0, token], np.array([token])
    assert score == pytest.approx(total, abs=1e-12)


def test_no_width_beats_the_exhaustive_best():
    """Every width returns a sequence scoring at most the exhaustive best; a width of 27 (every prefix of
    three non-final tokens) reaches it."""
    max_len = 4
    for seed in range(5):
        step = toy_model(np.random.default_rng(100 + seed), max_len)
        best, _ = exhaustive(step, max_len)
        for width in (1, 2, 3, 5, 27):
            _, (score,) = beam.beam_search(step, np.zeros(1, dtype=np.int64), BOS, EOS, width, max_len)
            assert score <= best + 1e-12
        assert score == pytest.approx(best, abs=1e-12)


def test_greedy_decodes_each_row_of_a_batch_as_on_its_own(rng):
    step = toy_model(rng, 6)
    starts = np.arange(5)  # five different inputs: five different next-token tables
    out, scores = beam.greedy(step, starts, BOS, EOS, 6)
    assert out.shape == (5, 6)
    for n in range(5):
        alone, score = beam.greedy(step, starts[n:n + 1], BOS, EOS, 6)
        np.testing.assert_array_equal(out[n], alone[0])
        assert scores[n] == pytest.approx(score[0], abs=1e-12)
    with pytest.raises(ValueError, match="width"):
        beam.beam_search(step, np.zeros(1, dtype=np.int64), BOS, EOS, 0, 3)


@pytest.mark.parametrize("width", [1, 2, 3, 5])
def test_a_batch_of_beams_is_each_beam_on_its_own(width):
    step = toy_model(np.random.default_rng(7), 6)
    starts = np.arange(6)
    tokens, scores = beam.beam_search(step, starts, BOS, EOS, width, 6)
    for n in range(6):
        (alone,), (score,) = beam.beam_search(step, starts[n:n + 1], BOS, EOS, width, 6)
        assert tokens[n] == alone and scores[n] == score


def test_without_a_finished_prefix_the_best_unfinished_one_is_returned():
    def step(tokens, state):  # EOS is never likely enough to be kept with width 1
        log_probs = np.log(np.tile([0.6, 0.3, 0.1, 1e-300], (len(tokens), 1)))
        return log_probs, state

    (tokens,), (score,) = beam.beam_search(step, np.zeros(1), BOS, EOS, 1, 3)
    assert tokens == [0, 0, 0] and score == pytest.approx(3 * np.log(0.6))


def test_a_wider_beam_can_find_a_less_likely_sequence():
    """Beam search is not monotone in its width: on this model greedy decoding finds a sequence far
    likelier than a beam of 2 does, because the path greedy follows drops out of the wider beam."""
    step = toy_model(np.random.default_rng(14), 5)
    start = np.zeros(1, dtype=np.int64)
    (_, (greedy_score,)), (_, (beam_score,)) = (beam.beam_search(step, start, BOS, EOS, w, 5) for w in (1, 2))
    assert beam_score < greedy_score - 1
