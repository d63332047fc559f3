"""The numeric core: numpy cells with hand-written backward passes (PyTorch's layout, time-major),
losses, optimisers, clipping, gradient checks, linear recurrences and the torch bridge.

Modules: rnn, lstm, gru, linear, losses, optim, clip, gradcheck, tbptt, padding, sizes, torch_bridge, scan, mingru, lru.
"""
