"""Dropout on the non-recurrent connections of a recurrent model (Zaremba et al. 2014), and a training run
that records the held-out loss.

Chapter 8. ``DropoutRecurrent`` is ``practice.Recurrent`` with dropout of rate ``p`` on the two connections
that do not carry the state from one step to the next: the layer's input (the embedded token) and its
output (before the read-out). The recurrent connection ``h_{t-1} -> h_t`` is left alone, so what the state
remembers is not damaged at every step. In training mode each entry of those two tensors is zeroed with
probability ``p`` and the rest are divided by ``1 - p`` (``torch.nn.functional.dropout``), a fresh mask for
every step and sequence; in evaluation mode (``model.eval()``) nothing is dropped. With the same seed it is
built with exactly the parameters of ``practice.Recurrent``, so ``p = 0`` is that model.

    model = DropoutRecurrent("lstm", 16, 64, V, vocab_size=V, p=0.25)
    losses, curve, best = train_with_held_out(model, batches, loss_fn, steps, lr, held_out, every=25)
"""

import copy

import numpy as np
import torch
from torch.nn import functional as F

from rnnlib.experiments import practice


class DropoutRecurrent(practice.Recurrent):
    """``practice.Recurrent`` with dropout ``p`` on the input and the output of the recurrent layer."""

    def __init__(self, kind, input_size, hidden_size, outputs, vocab_size=None, p=0.0, forget_bias=None):
        super().__init__(kind, input_size, hidden_size, outputs, vocab_size, forget_bias)
        if not 0 <= p < 1:
            raise ValueError(f"p: expected a dropout rate in [0, 1), got {p!r}")
        self.p = p

    def forward(self, xs, state=None):
        if self.embed is not None:
            if xs.ndim != 2 or xs.dtype != torch.int64:
                raise ValueError(f"xs: expected int64 token ids of shape (T, N), got {xs.dtype} {tuple(xs.shape)}")
            xs = self.embed(xs)
        hs, state = self.layer(F.dropout(xs, self.p, self.training), state)
        return self.head(F.dropout(hs, self.p, self.training)), state


def train_with_held_out(model, batches, loss_fn, steps, lr, held_out, every, on_step=None):
    """``practice.train`` (Adam, clipping at 1), measuring ``held_out(model)`` (a float) in evaluation mode
    before training and after every ``every`` updates.

    Returns ``(losses (steps,), curve (M, 2), best)``: the training losses, the rows ``(update, held-out
    loss)``, and a copy of the model's parameters (``state_dict``) at the lowest held-out loss measured, the
    model to keep (early stopping). ``on_step(step, loss)`` is called after every update.
    """

    def measure(update):
        model.eval()
        with torch.no_grad():
            curve.append((update, float(held_out(model))))
        model.train()
        if curve[-1][1] <= min(c[1] for c in curve):
            best.update(copy.deepcopy(model.state_dict()))

    def after(step, loss):
        if (step + 1) % every == 0:
            measure(step + 1)
        if on_step is not None:
            on_step(step, loss)

    curve, best = [], {}
    model.train()
    measure(0)
    losses = practice.train(model, batches, loss_fn, steps, lr, on_step=after)
    return losses, np.array(curve), best
