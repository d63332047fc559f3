"""rnnlib.models.seq2seq: additive attention against a hand computation and centred differences, the decoder
step by step against the teacher-forced pass, and decoding against rnnlib.models.beam."""

import numpy as np
import pytest
import torch

from rnnlib.models import seq2seq


def test_reversal_batches_spell_the_source_backwards(rng):
    src, dec_in, target = seq2seq.reversal_batch(rng, 5, 3)
    assert src.shape == (5, 3) and dec_in.shape == target.shape == (6, 3)
    for n in range(3):
        digits = src[:, n].tolist()
        assert target[:, n].tolist() == digits[::-1] + [seq2seq.EOS]
        assert dec_in[:, n].tolist() == [seq2seq.BOS] + digits[::-1]
    with pytest.raises(ValueError, match="n"):
        seq2seq.reversal_batch(rng, 0, 3)


def test_additive_attention_is_the_formula(rng):
    torch.manual_seed(0)
    T, S, N, Hq, H, A = 3, 5, 2, 4, 6, 7
    att = seq2seq.AdditiveAttention(Hq, H, A).double()
    queries, annotations = torch.randn(T, N, Hq, dtype=torch.float64), torch.randn(S, N, H, dtype=torch.float64)
    contexts, weights = att(queries, att.keys(annotations), annotations)
    W, U, b, v = (p.detach().numpy() for p in (att.W.weight, att.U.weight, att.U.bias, att.v.weight[0]))
    s, h = queries.numpy(), annotations.numpy()
    for n in range(N):
        for i in range(T):
            e = np.array([v @ np.tanh(W @ s[i, n] + U @ h[j, n] + b) for j in range(S)])
            a = np.exp(e - e.max()) / np.exp(e - e.max()).sum()
            np.testing.assert_allclose(weights[n, i].detach().numpy(), a, rtol=1e-12)
            np.testing.assert_allclose(contexts[i, n].detach().numpy(), a @ h[:, n], rtol=1e-12, atol=1e-14)


def test_additive_attention_gradients_match_centred_differences():
    torch.manual_seed(1)
    att = seq2seq.AdditiveAttention(3, 4, 5).double()
    queries = torch.randn(2, 2, 3, dtype=torch.float64, requires_grad=True)
    annotations = torch.randn(4, 2, 4, dtype=torch.float64, requires_grad=True)

    def contexts(q, h):
        return att(q, att.keys(h), h)[0]

    assert torch.autograd.gradcheck(contexts, (queries, annotations), eps=1e-6, atol=1e-8)


@pytest.mark.parametrize("attention", [False, True])
def test_decoding_one_token_at_a_time_is_the_teacher_forced_pass(rng, attention):
    torch.manual_seed(2)
    model = seq2seq.Seq2Seq(hidden_size=8, embed_size=4, attention=attention).double()
    src, dec_in, _ = seq2seq.reversal_batch(rng, 6, 3)
    memory = model.encode(src)
    with torch.no_grad():
        together, _, weights = model.decode(dec_in, memory)
        state, one_by_one = None, []
        for i in range(len(dec_in)):
            log_probs, state, w = model.decode(dec_in[i:i + 1], memory, state)
            one_by_one.append(log_probs[0])
            if attention:
                torch.testing.assert_close(w[:, 0], weights[:, i], rtol=1e-12, atol=1e-14)
    torch.testing.assert_close(torch.stack(one_by_one), together, rtol=1e-12, atol=1e-12)
    assert (weights is None) == (not attention)
    if attention:
        torch.testing.assert_close(weights.sum(-1), torch.ones(3, 7, dtype=torch.float64))


@pytest.mark.parametrize("attention", [False, True])
def test_greedy_and_beam_agree_with_the_model_scores(rng, attention):
    torch.manual_seed(3)
    model = seq2seq.Seq2Seq(hidden_size=8, embed_size=4, attention=attention)
    src, _, target = seq2seq.reversal_batch(rng, 4, 5)
    out, scores = seq2seq.greedy(model, src, 5)
    found, beam_scores = seq2seq.beam_decode(model, src, 1, 5)
    for n in range(5):
        row = out[n].tolist()
        assert found[n] == (row[:row.index(seq2seq.EOS) + 1] if seq2seq.EOS in row else row)
    np.testing.assert_allclose(beam_scores, scores, rtol=1e-6)
    wider, wide_scores = seq2seq.beam_decode(model, src, 4, 5)
    for n in range(5):  # a finished beam output is scored the same by the teacher-forced pass
        tokens = torch.as_tensor(wider[n])[:, None]
        if wider[n][-1] == seq2seq.EOS:
            ll = seq2seq.log_likelihood(model, src[:, n:n + 1], tokens)
            assert ll[0] == pytest.approx(wide_scores[n], abs=1e-4)
    assert seq2seq.log_likelihood(model, src, target).shape == (5,)


def test_matches_reads_outputs_up_to_their_first_eos():
    E = seq2seq.EOS
    target = torch.tensor([[3, 1], [2, 4], [E, E]])
    outputs = np.array([[3, 2, E, 7], [1, 5, E, E]])
    np.testing.assert_array_equal(seq2seq.matches(outputs, target), [True, False])
    assert seq2seq.matches([[3, 2, 5]], target[:, :1]).tolist() == [False]


def test_entropy_of_attention_rows():
    S = 8
    assert seq2seq.entropy_bits(torch.full((3, S), 1 / S)) == pytest.approx(3.0)
    assert seq2seq.entropy_bits(torch.eye(S)) == pytest.approx(0.0, abs=1e-9)
