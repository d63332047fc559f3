"""What the gates of an LSTM are doing: their activations, step by step and over a sequence, and the
1997 cell without a forget gate as a special case of rnnlib.core.lstm.

Same convention as ``rnnlib.core.lstm`` (PyTorch's layout and gate order i, f, g, o, time-major):

    [a_i, a_f, a_g, a_o] = W_ih x_t + b_ih + W_hh h_{t-1} + b_hh      four blocks of H rows
    i = sigmoid(a_i)   f = sigmoid(a_f)   g = tanh(a_g)   o = sigmoid(a_o)
    c_t = f * c_{t-1} + i * g
    h_t = o * tanh(c_t)

Shapes: x (N, D), xs (T, N, D), h and c (N, H), W_ih (4H, D), W_hh (4H, H), b_ih and b_hh (4H,).
"""

import numpy as np

from rnnlib.core import lstm
from rnnlib.core._checks import check_step, check_weights, sigmoid

GATE_NAMES = ("i", "f", "g", "o")

#: Forget-gate bias that makes ``sigmoid`` round to exactly 1.0 in float64 and float32
#: (``sigmoid(40) = 1 - 4e-18``, closer to 1 than the spacing of doubles just below 1).
OPEN_FORGET_BIAS = 40.0


def gate_activations(x, h_prev, W_ih, W_hh, b_ih, b_hh):
    """The four gate activations of one step: ``(i, f, g, o)``, each ``(N, H)``.

    ``x (N, D)``, ``h_prev (N, H)``, weights as for ``lstm.cell_forward``. ``i, f, o`` lie in (0, 1)
    (sigmoid) and the candidate ``g`` in (-1, 1) (tanh). The cell state does not enter the gates.
    """
    (W_ih, W_hh, b_ih, b_hh), D, H = check_weights("an LSTM", 4, W_ih, W_hh, b_ih, b_hh)
    x, h_prev = check_step(x, {"h_prev": h_prev}, D, H)
    a = x @ W_ih.T + b_ih + h_prev @ W_hh.T + b_hh
    i, f, g, o = (a[:, k * H:(k + 1) * H] for k in range(4))
    return sigmoid(i), sigmoid(f), np.tanh(g), sigmoid(o)


def sequence_gates(xs, h0, c0, W_ih, W_hh, b_ih, b_hh):
    """Run ``lstm.forward`` and return every intermediate as a dict of ``(T, N, H)`` arrays.

    Keys: ``"i", "f", "g", "o"`` (gate activations at each step), ``"c"`` (cell states ``c_1..c_T``)
    and ``"h"`` (hidden states ``h_1..h_T``), all from the same forward pass as ``lstm.forward``.
    """
    hs, cs, cache = lstm.forward(xs, h0, c0, W_ih, W_hh, b_ih, b_hh)
    acts = cache[5]  # (T, N, 4H): lstm.forward stores the activated gates, blocks i, f, g, o
    H = hs.shape[-1]
    out = {name: acts[..., k * H:(k + 1) * H].copy() for k, name in enumerate(GATE_NAMES)}
    out.update(c=cs, h=hs)
    return out


def without_forget_gate(W_ih, W_hh, b_ih, b_hh):
    """Copies of an LSTM's weights turned into the 1997 cell, which had no forget gate: ``f = 1``.

    The forget block's rows of ``W_ih`` and ``W_hh`` are zeroed, its ``b_hh`` entries too, and its
    ``b_ih`` entries set to ``OPEN_FORGET_BIAS``, so that ``f`` is exactly 1.0 at every step whatever the
    input and ``c_t = c_{t-1} + i * g``. Shapes as ``lstm.cell_forward``; returns the four arrays.
    """
    weights, _, H = check_weights("an LSTM", 4, W_ih, W_hh, b_ih, b_hh)
    W_ih, W_hh, b_ih, b_hh = (np.array(w, copy=True) for w in weights)
    forget = slice(H, 2 * H)
    W_ih[forget], W_hh[forget], b_hh[forget] = 0.0, 0.0, 0.0
    b_ih[forget] = OPEN_FORGET_BIAS
    return W_ih, W_hh, b_ih, b_hh
