"""rnnlib: the course's numpy reference implementations of RNN, LSTM and GRU.

Modules: ``rnn``, ``lstm``, ``gru`` (cell and sequence forward/backward, PyTorch layout, time-major),
``gradcheck`` (centred differences), ``clip`` (gradient clipping), ``torch_bridge`` (to and from
``torch.nn`` modules), ``decay`` (gradient norm against time lag, step Jacobians), ``losses`` (MSE and
softmax cross-entropy with gradients), ``optim`` (SGD, Adam), ``linear`` (per-step output layer),
``tbptt`` (truncated BPTT), ``text`` (the shipped text, character encoding), ``language_model``
(a character-level RNN model), ``sizes`` (parameter counts, equal-count hidden sizes), ``timing``
(time per step of torch layers), ``classifier`` (an RNN that labels a sequence from its last state),
``padding`` (padded batches, masks, each sequence's last state). Imported on their own because they need
torch at import: ``lab`` (chapter 6: torch.nn models trained on long-lag tasks, the sweep's CSV).
Chapter 7: ``attention`` (scaled dot-product attention, the marked-recall task), ``reviews`` (template-built
reviews, a held-out split), ``series`` (synthetic series, windows without look-ahead, naive forecasts);
``practice`` needs torch at import (torch.nn models, a training loop, the forecaster).
"""

from rnnlib import (
    attention,
    classifier,
    clip,
    decay,
    gradcheck,
    gru,
    language_model,
    linear,
    losses,
    lstm,
    optim,
    padding,
    reviews,
    rnn,
    series,
    sizes,
    tbptt,
    text,
    timing,
    torch_bridge,
)

__all__ = ["clip", "decay", "gradcheck", "gru", "lstm", "rnn", "torch_bridge"]
__all__ += ["classifier", "language_model", "linear", "losses", "optim", "tbptt", "text"]
__all__ += ["sizes", "timing"]  # chapter 5: parameter counts and matched sizes; time per step
__all__ += ["padding"]  # chapter 1: batches of sequences of different lengths
__all__ += ["attention", "reviews", "series"]  # chapter 7: attention, reviews, forecasting
__version__ = "0.1.0"
