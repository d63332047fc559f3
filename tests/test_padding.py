"""rnnlib.core.padding against torch.nn.utils.rnn (pad_sequence, pack_padded_sequence) in float64."""

import numpy as np
import pytest
import torch
from torch.nn.utils.rnn import pack_padded_sequence, pad_packed_sequence, pad_sequence

from rnnlib.core import padding, rnn, torch_bridge


def sequences(rng, lengths, D=3):
    return [rng.standard_normal((L, D)) for L in lengths]


@pytest.mark.parametrize("lengths", [(5, 2, 4), (1,), (3, 3), (2, 7, 1, 7)])
def test_pad_equals_torch_pad_sequence_and_the_mask_marks_the_real_steps(rng, lengths):
    seqs = sequences(rng, lengths)
    xs, mask, got_lengths = padding.pad(seqs, value=-2.5)
    reference = pad_sequence([torch.from_numpy(s) for s in seqs], padding_value=-2.5).numpy()  # time-major
    assert xs.dtype == np.float64 and xs.shape == reference.shape and np.array_equal(xs, reference)
    assert got_lengths.dtype == np.int64 and got_lengths.tolist() == list(lengths)
    steps = np.arange(max(lengths))[:, None]
    assert np.array_equal(mask, (steps < np.array(lengths)[None, :]).astype(float))


def test_pad_keeps_float32_and_copies_its_inputs(rng):
    seqs = [s.astype(np.float32) for s in sequences(rng, (3, 1))]
    before = [s.copy() for s in seqs]
    xs, mask, _ = padding.pad(seqs)
    xs[:] = 7.0
    assert xs.dtype == mask.dtype == np.float32
    assert all(np.array_equal(a, b) for a, b in zip(seqs, before))


def test_last_states_equal_h_n_of_torch_on_a_packed_batch_and_each_sequence_run_alone(rng):
    D, H, lengths = 3, 5, (6, 2, 4, 1)
    seqs = sequences(rng, lengths, D)
    params = rnn.init_weights(D, H, rng)
    xs, _, lens = padding.pad(seqs)
    hs, _ = rnn.forward(xs, np.zeros((len(seqs), H)), *params)
    ends = padding.last_states(hs, lens)

    module = torch_bridge.from_numpy(*params)
    packed = pack_padded_sequence(torch.from_numpy(xs), torch.from_numpy(lens), enforce_sorted=False)
    out, h_n = module(packed)
    np.testing.assert_allclose(ends, h_n[0].detach().numpy(), rtol=1e-10, atol=1e-12)
    alone = [rnn.forward(s[:, None], np.zeros((1, H)), *params)[0][-1, 0] for s in seqs]
    np.testing.assert_allclose(ends, np.stack(alone), rtol=1e-10, atol=1e-12)
    # The padded run goes on through the padding: its last state is not the summary of a short sequence.
    assert np.abs(hs[-1, 1] - ends[1]).max() > 1e-3
    padded_out, out_lengths = pad_packed_sequence(out)
    assert out_lengths.tolist() == list(lengths)
    mask = np.arange(xs.shape[0])[:, None] < lens[None, :]
    np.testing.assert_allclose(padded_out.detach().numpy()[mask], hs[mask], rtol=1e-10, atol=1e-12)


def test_masked_mean_equals_torch_masked_select_mean_and_ignores_whatever_padding_holds(rng):
    lengths = (4, 1, 3)
    _, mask, _ = padding.pad(sequences(rng, lengths))
    values = rng.standard_normal((4, 3, 2))
    reference = torch.from_numpy(values).masked_select(torch.from_numpy(mask.astype(bool))[..., None]).mean()
    assert padding.masked_mean(values, mask) == pytest.approx(float(reference), rel=1e-12)
    spoiled = values.copy()
    spoiled[mask == 0] = np.nan
    assert padding.masked_mean(spoiled, mask) == padding.masked_mean(values, mask)
    per_step = values[..., 0]
    assert padding.masked_mean(per_step, mask) == pytest.approx(per_step[mask == 1].sum() / sum(lengths), rel=1e-12)


def test_bad_arguments_name_the_argument_what_was_expected_and_what_was_given(rng):
    with pytest.raises(ValueError, match=r"sequences: expected a non-empty list of \(L, D\) arrays, got none"):
        padding.pad([])
    with pytest.raises(ValueError, match=r"sequences: expected a non-empty list .* got an array of shape \(2, 3, 4\)"):
        padding.pad(np.zeros((2, 3, 4)))
    with pytest.raises(ValueError, match=r"sequences\[1\]: expected shape \(L, D=3\), got \(4, 2\)"):
        padding.pad([np.zeros((2, 3)), np.zeros((4, 2))])
    with pytest.raises(ValueError, match=r"sequences\[0\]: expected at least one step \(L >= 1\), got shape \(0, 3\)"):
        padding.pad([np.zeros((0, 3))])
    with pytest.raises(TypeError, match=r"sequences\[0\]: expected a numeric array, got dtype <U1"):
        padding.pad([np.array([["a"]])])
    hs = rng.standard_normal((4, 2, 3))
    with pytest.raises(ValueError, match=r"lengths: expected every length in 1..T=4, got \[5, 1\]"):
        padding.last_states(hs, np.array([5, 1]))
    with pytest.raises(ValueError, match=r"lengths: expected 2 integers \(one per sequence\), got float64 of shape"):
        padding.last_states(hs, np.array([1.0, 2.0]))
    with pytest.raises(ValueError, match=r"hs: expected shape \(T, N, H\), got \(4, 2\)"):
        padding.last_states(hs[:, :, 0], np.array([1, 2]))
    with pytest.raises(ValueError, match=r"mask: expected shape \(T=4, N=2\), got \(2, 4\)"):
        padding.masked_mean(hs, np.ones((2, 4)))
    with pytest.raises(ValueError, match=r"mask: expected 0s and 1s with at least one 1"):
        padding.masked_mean(hs, np.zeros((4, 2)))
    with pytest.raises(ValueError, match=r"values: expected shape \(T, N, \.\.\.\), got \(4,\)"):
        padding.masked_mean(np.zeros(4), np.ones((4, 1)))
