"""A sequence classifier: a tanh RNN reads the whole sequence, a linear layer reads its last state.

    h_t    = tanh(W_ih x_t + b_ih + W_hh h_{t-1} + b_hh)     t = 1 .. T, from h_0 = 0   (rnnlib.core.rnn)
    y      = W_hy h_T + b_y                                   (N, C) class scores        (rnnlib.core.linear)
    L      = mean over the batch of -log softmax(y)[label]                               (rnnlib.core.losses)

The loss sits at the last step only, so its gradient enters the recurrence at ``h_T`` and reaches an
input ``x_t`` only by flowing back through every step after it. ``window=tau`` switches from full
backpropagation through time to truncated BPTT (``rnnlib.core.tbptt``): the backward pass stops ``tau`` steps
before the loss, so only ``x_{T-tau+1} .. x_T`` receive a gradient.

Parameters: ``[W_ih (H, D), W_hh (H, H), b_ih (H,), b_hh (H,), W_hy (C, H), b_y (C,)]``, PyTorch's
layout for ``torch.nn.RNN(D, H)`` followed by ``torch.nn.Linear(H, C)``. Inputs ``xs (T, N, D)``,
integer ``labels (N,)``.
"""

import numpy as np

from rnnlib.core import linear, losses, rnn, tbptt


def init_params(D, H, C, rng):
    """The six parameters, drawn as ``torch.nn.RNN(D, H)`` and ``torch.nn.Linear(H, C)`` draw them."""
    return [*rnn.init_weights(D, H, rng), *linear.init_weights(H, C, rng)]


def loss_and_grads(params, xs, labels, window=None):
    """Forward over ``xs (T, N, D)``, cross-entropy of the last step's scores against ``labels (N,)``,
    and the backward pass: full BPTT when ``window`` is None, else truncated to the last ``window``
    steps (windows cut back from the end, ``tbptt.backward(..., align="end")``).

    Returns ``(loss, grads, dxs, accuracy)``: the mean loss, one gradient per parameter (same order and
    shapes), the gradient with respect to every input ``(T, N, D)``, and the fraction of the batch whose
    highest score is the label.
    """
    W_ih, W_hh, b_ih, b_hh, W_hy, b_y = params
    hs, cache = rnn.forward(xs, np.zeros((np.shape(xs)[1], W_hh.shape[0])), W_ih, W_hh, b_ih, b_hh)
    scores, out_cache = linear.forward(hs[-1], W_hy, b_y)
    loss, dscores = losses.softmax_cross_entropy(scores, labels)
    dh_T, dW_hy, db_y = linear.backward(dscores, out_cache)
    dhs = np.zeros_like(hs)
    dhs[-1] = dh_T  # the only step with a loss
    dxs, _, *rnn_grads = rnn.backward(dhs, cache) if window is None else tbptt.backward(dhs, cache, window, "end")
    accuracy = float(np.mean(scores.argmax(axis=-1) == labels))
    return loss, [*rnn_grads, dW_hy, db_y], dxs, accuracy
