"""Move one layer's parameters between ``torch.nn.RNN/LSTM/GRU`` and rnnlib's four numpy arrays.

The layouts are the same, so this is a copy: ``weight_ih_l0 -> W_ih``, ``weight_hh_l0 -> W_hh``,
``bias_ih_l0 -> b_ih``, ``bias_hh_l0 -> b_hh``. torch is imported only when these are called.
"""

import numpy as np

from rnnlib.core._checks import as_array

_KINDS = {1: "RNN", 4: "LSTM", 3: "GRU"}  # gate blocks per kind


def to_numpy(module):
    """``(W_ih, W_hh, b_ih, b_hh)`` as numpy copies from a single-layer, one-direction torch module."""
    import torch

    if not isinstance(module, (torch.nn.RNN, torch.nn.LSTM, torch.nn.GRU)):
        raise TypeError(f"module: expected a torch.nn.RNN, LSTM or GRU, got {type(module).__name__}")
    problems = []
    if module.num_layers != 1:
        problems.append(f"num_layers=1, got {module.num_layers}")
    if module.bidirectional:
        problems.append("bidirectional=False, got True")
    if not module.bias:
        problems.append("bias=True, got False")
    if getattr(module, "proj_size", 0):
        problems.append(f"proj_size=0, got {module.proj_size}")
    if getattr(module, "nonlinearity", "tanh") != "tanh":
        problems.append(f"nonlinearity='tanh', got {module.nonlinearity!r}")
    if problems:
        raise ValueError("module: expected " + "; ".join(problems))
    names = ("weight_ih_l0", "weight_hh_l0", "bias_ih_l0", "bias_hh_l0")
    return tuple(getattr(module, n).detach().cpu().numpy().copy() for n in names)


def from_numpy(W_ih, W_hh, b_ih, b_hh):
    """A torch module holding these parameters; RNN, LSTM or GRU is read from the gate blocks in
    ``W_hh (G*H, H)``. The dtype follows ``W_ih`` (float64 stays float64)."""
    import torch

    arrays = [as_array(n, a) for n, a in zip(("W_ih", "W_hh", "b_ih", "b_hh"), (W_ih, W_hh, b_ih, b_hh))]
    W_hh = arrays[1]
    if W_hh.ndim != 2 or W_hh.shape[1] == 0 or W_hh.shape[0] // W_hh.shape[1] not in _KINDS \
            or W_hh.shape[0] % W_hh.shape[1]:
        raise ValueError(f"W_hh: expected shape (G*H, H) with G = 1 (RNN), 3 (GRU) or 4 (LSTM), got {W_hh.shape}")
    H = W_hh.shape[1]
    gates = W_hh.shape[0] // H
    from rnnlib.core._checks import check_weights

    check_weights(f"{_KINDS[gates]} (read from W_hh)", gates, *arrays)
    dtype = torch.float64 if arrays[0].dtype == np.float64 else torch.float32
    module = getattr(torch.nn, _KINDS[gates])(arrays[0].shape[1], H, dtype=dtype)
    with torch.no_grad():
        for name, array in zip(("weight_ih_l0", "weight_hh_l0", "bias_ih_l0", "bias_hh_l0"), arrays):
            getattr(module, name).copy_(torch.from_numpy(np.ascontiguousarray(array)))
    return module
