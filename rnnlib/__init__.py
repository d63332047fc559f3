"""rnnlib: the course's reference implementations and the lessons' tools, one module per idea.

The numeric core (numpy, hand-written backward passes, PyTorch's weight layout, time-major):
``rnn``, ``lstm``, ``gru`` (cell and sequence forward and backward), ``linear`` (per-step output layer),
``losses`` (MSE, softmax cross-entropy), ``optim`` (SGD, Adam), ``clip`` (gradient clipping),
``gradcheck`` (centred differences), ``tbptt`` (truncated BPTT), ``padding`` (padded batches, masks),
``decay`` (gradient norm against lag, step Jacobians), ``cell_paths``, ``lstm_gates``, ``gru_gates``
(what the gates do to the gradient), ``echo_state`` (reservoirs, ridge read-outs), ``scan`` (linear
recurrences by a loop and by parallel scans), ``mingru`` (minGRU, minLSTM), ``lru`` (the linear recurrent
unit), ``beam`` (beam search), ``sequence_metrics`` (perplexity, bits per character, n-gram baselines),
``sizes`` (parameter counts), ``torch_bridge`` (to and from ``torch.nn``).

Tasks and data: ``tasks`` (synthetic long-lag tasks), ``text`` (the shipped sonnets, characters),
``reviews``, ``series`` (chapter 7's data).

Models and experiments: in numpy ``language_model`` (a character RNN), ``classifier``, ``attention``,
``decoding`` (chapter 9's memory and time per generated token); in torch ``decay_runs`` (chapter 3),
``lab`` (chapter 6), ``practice`` (chapter 7), ``dropout`` and ``seq2seq`` (chapter 8), ``timing``
(time per step of torch layers).

Display: ``plots``, ``widgets`` (live controls and their build-time frames), ``progress`` (tqdm bars),
``glued`` (numbers handed from cells to the text).

Imported here are the modules that need only numpy; the others are imported on their own.
"""

from rnnlib import (
    attention,
    beam,
    classifier,
    clip,
    decay,
    echo_state,
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
    scan,
    sequence_metrics,
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
__all__ += ["echo_state"]  # chapter 3: reservoirs
__all__ += ["beam", "scan", "sequence_metrics"]  # chapters 8 and 9
__version__ = "0.1.0"
