"""rnnlib: the course's numpy reference implementations of RNN, LSTM and GRU.

Modules: ``rnn``, ``lstm``, ``gru`` (cell and sequence forward/backward, PyTorch layout, time-major),
``gradcheck`` (centred differences), ``clip`` (gradient clipping), ``torch_bridge`` (to and from
``torch.nn`` modules), ``decay`` (gradient norm against time lag, step Jacobians).
"""

from rnnlib import clip, decay, gradcheck, gru, lstm, rnn, torch_bridge

__all__ = ["clip", "decay", "gradcheck", "gru", "lstm", "rnn", "torch_bridge"]
__version__ = "0.1.0"
