"""rnnlib.models.dropout: dropout on the input and output of the recurrent layer only, and the held-out run."""

import numpy as np
import pytest
import torch
import torch.nn.functional as F

from rnnlib.experiments import practice
from rnnlib.models import dropout


def test_same_parameters_as_practice_recurrent_and_p0_is_that_model():
    torch.manual_seed(0)
    plain = practice.Recurrent("lstm", 5, 7, 11, vocab_size=11)
    torch.manual_seed(0)
    model = dropout.DropoutRecurrent("lstm", 5, 7, 11, vocab_size=11, p=0.0)
    for a, b in zip(plain.parameters(), model.parameters(), strict=True):
        torch.testing.assert_close(a, b, rtol=0, atol=0)
    xs = torch.randint(11, (6, 3))
    torch.testing.assert_close(model(xs)[0], plain(xs)[0], rtol=0, atol=0)


def test_masks_fall_on_the_input_and_output_and_vanish_in_eval():
    torch.manual_seed(1)
    model = dropout.DropoutRecurrent("gru", 4, 6, 9, vocab_size=9, p=0.5)
    xs = torch.randint(9, (5, 2))
    torch.manual_seed(2)
    ys, _ = model(xs)
    torch.manual_seed(2)  # the same two masks, drawn in the same order by hand
    with torch.no_grad():
        hs, _ = model.layer(F.dropout(model.embed(xs), 0.5, True))
        want = model.head(F.dropout(hs, 0.5, True))
    torch.testing.assert_close(ys, want, rtol=1e-6, atol=1e-7)
    model.eval()
    plain = practice.Recurrent("gru", 4, 6, 9, vocab_size=9)
    plain.load_state_dict(model.state_dict())
    torch.testing.assert_close(model(xs)[0], plain(xs)[0], rtol=0, atol=0)
    with pytest.raises(ValueError, match="p"):
        dropout.DropoutRecurrent("gru", 4, 6, 9, vocab_size=9, p=1.0)


def test_train_with_held_out_keeps_the_best_model(rng):
    torch.manual_seed(3)
    model = dropout.DropoutRecurrent("rnn", 3, 4, 5, vocab_size=5, p=0.2)
    xs = torch.as_tensor(rng.integers(5, size=(8, 4)))
    batch = (xs[:-1], xs[1:])
    seen = []

    def held_out(m):
        assert not m.training  # measured in evaluation mode
        with torch.no_grad():
            return practice.every_step_cross_entropy(m, batch).item()

    losses, curve, best = dropout.train_with_held_out(
        model, lambda step: batch, practice.every_step_cross_entropy, 9, 0.05, held_out, every=3,
        on_step=lambda step, loss: seen.append(step))
    assert model.training and seen == list(range(9)) and losses.shape == (9,)
    np.testing.assert_array_equal(curve[:, 0], [0, 3, 6, 9])
    model.load_state_dict(best)
    model.eval()
    assert held_out(model) == pytest.approx(curve[:, 1].min())
