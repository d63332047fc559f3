"""rnnlib: the course's reference implementations and the lessons' tools, one module per idea, in six
groups:

- ``rnnlib.core``: the numeric core, numpy with hand-written backward passes in PyTorch's layout,
  time-major: ``rnn``, ``lstm``, ``gru``, ``linear``, ``losses``, ``optim``, ``clip``, ``gradcheck``,
  ``tbptt``, ``padding``, ``sizes``, ``torch_bridge``; the linear recurrences of chapter 9: ``scan``,
  ``mingru``, ``lru``.
- ``rnnlib.analysis``: where the gradient goes: ``decay``, ``cell_paths``, ``lstm_gates``, ``gru_gates``,
  ``echo_state``.
- ``rnnlib.models``: models built from the core: ``language_model``, ``classifier``, ``attention``,
  ``sequence_metrics``, ``beam``, ``dropout``, ``seq2seq``, ``decoding``.
- ``rnnlib.experiments``: the lessons' training runs in torch: ``decay_runs``, ``lab``, ``practice``,
  ``timing``.
- ``rnnlib.data``: ``tasks``, ``text``, ``reviews``, ``series`` and the shipped files.
- ``rnnlib.display``: ``plots``, ``widgets``, ``progress``, ``glued``.

The numeric core's cells are also reachable from the top, as in ``from rnnlib import rnn, lstm, gru``.
Modules that need torch (``torch_bridge`` excepted, which imports it when called) are imported on their
own, so ``import rnnlib`` needs numpy only.
"""

from rnnlib.core import clip, gradcheck, gru, linear, losses, lstm, optim, padding, rnn, sizes, tbptt

__all__ = ["clip", "gradcheck", "gru", "linear", "losses", "lstm", "optim", "padding", "rnn", "sizes", "tbptt"]
__version__ = "0.1.0"
