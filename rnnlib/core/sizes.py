"""Parameter counts of the three layer kinds, and the hidden sizes at which they are equal.

One layer of kind ``"rnn"``, ``"lstm"`` or ``"gru"`` with input size D, hidden size H and both bias
vectors has ``G*H*(D + H) + 2*G*H`` parameters, with G = 1, 4 and 3 gate blocks (``W_ih (G*H, D)``,
``W_hh (G*H, H)``, ``b_ih`` and ``b_hh (G*H,)``, PyTorch's layout). So at equal H an LSTM has four times
and a GRU three times the parameters of a plain RNN; to compare them at equal *parameter count* each
kind needs its own hidden size, which ``matched_hidden_sizes`` finds.
"""

import math
import numbers

from rnnlib.core import gru, lstm, rnn
from rnnlib.core._checks import count_params

KINDS = {"rnn": rnn, "lstm": lstm, "gru": gru}


def _check_kind(name, kind):
    if kind not in KINDS:
        raise ValueError(f"{name}: expected one of {sorted(KINDS)}, got {kind!r}")
    return KINDS[kind].GATES


def param_count(kind, input_size, hidden_size):
    """Parameters of one ``torch.nn.RNN/LSTM/GRU`` layer (tanh, one direction, both biases)."""
    return count_params(_check_kind("kind", kind), input_size, hidden_size)


def hidden_size_for(kind, input_size, n_params):
    """The hidden size H >= 1 at which one layer of ``kind`` has the count closest to ``n_params``.

    Solves ``G*H^2 + G*(D + 2)*H = n_params`` for H and compares the integers on either side of the root
    (a tie goes to the smaller H). Exact equality is rare: check the count with ``param_count``.
    """
    gates = _check_kind("kind", kind)
    count_params(gates, input_size, 1)  # validates input_size
    if not isinstance(n_params, numbers.Real) or isinstance(n_params, bool) or not n_params > 0:
        raise ValueError(f"n_params: expected a positive number of parameters, got {n_params!r}")
    b = input_size + 2
    root = (-b + math.sqrt(b * b + 4 * n_params / gates)) / 2
    candidates = {max(1, math.floor(root)), max(1, math.ceil(root))}
    return min(sorted(candidates), key=lambda h: abs(count_params(gates, input_size, h) - n_params))


def matched_hidden_sizes(input_size, hidden_size, reference="lstm"):
    """Hidden sizes ``{"rnn": H_rnn, "lstm": H_lstm, "gru": H_gru}`` with about the parameter count of a
    ``reference`` layer of size ``hidden_size`` (that kind keeps ``hidden_size`` itself)."""
    _check_kind("reference", reference)
    target = param_count(reference, input_size, hidden_size)
    return {kind: hidden_size if kind == reference else hidden_size_for(kind, input_size, target)
            for kind in KINDS}
