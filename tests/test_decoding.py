"""rnnlib.models.decoding: the step-by-step decoders compute what the whole-sequence layers compute, and hold
what the text says they hold."""

import numpy as np

from rnnlib.core import mingru
from rnnlib.models import attention, decoding


def test_the_recurrent_decoder_is_a_stack_of_mingru_layers(rng):
    T, D, H = 23, 3, 5
    decoder = decoding.RecurrentDecoder(D, H, 2, rng)
    xs = rng.standard_normal((T, D)).astype(np.float32)
    outs, held, _ = decoding.decode(decoder, xs)
    below = xs[:, None, :].astype(np.float64)
    for W_z, b_z, W_h, b_h in decoder.weights:
        below = mingru.forward(below, np.zeros((1, H)), *(w.astype(np.float64) for w in (W_z, b_z, W_h, b_h)))
    np.testing.assert_allclose(outs, below[:, 0], rtol=1e-4, atol=1e-5)
    assert np.all(held == 2 * H * 4)  # two float32 states of H numbers, at every position


def test_the_attention_decoder_is_causal_attention_over_its_cache(rng):
    T, D, d = 17, 3, 4
    decoder = decoding.AttentionDecoder(D, d, rng)
    xs = rng.standard_normal((T, D)).astype(np.float32)
    outs, held, seconds = decoding.decode(decoder, xs)
    q, k, v = (xs.astype(np.float64) @ W.T.astype(np.float64) for W in (decoder.W_q, decoder.W_k, decoder.W_v))
    for t in range(T):  # step t attends to tokens 0..t only
        want = attention.forward(q[t][None, None], k[:t + 1, None], v[:t + 1, None])[0][0, 0]
        np.testing.assert_allclose(outs[t], want, rtol=1e-4, atol=1e-5)
    np.testing.assert_array_equal(held, 2 * d * 4 * np.arange(1, T + 1))  # keys and values, float32
    assert seconds.shape == (T,) and np.all(seconds >= 0)
