"""Small ``torch.nn`` models and one training loop for the practice lesson (chapter 7).

The earlier lessons build every cell from rnnlib's numpy code; once that code is known to agree with
``torch.nn.RNN/LSTM/GRU`` (``tests/test_against_torch.py``), applications are trained with torch's layers
and autograd, which compute the same numbers much faster. Everything is time-major like the rest of
rnnlib: a batch of sequences is ``(T, N, D)`` (real inputs) or ``(T, N)`` (token ids).

    model = Recurrent("lstm", input_size=D, hidden_size=H, outputs=C)          # real inputs (T, N, D)
    model = Recurrent("gru", input_size=E, hidden_size=H, outputs=C, vocab_size=V)   # ids (T, N)
    ys, state = model(xs)                               # ys (T, N, C): the read-out at every step
    losses = train(model, batches, loss_fn, steps, lr)  # Adam, gradient clipping, one batch per step

``AttentionReader`` is the smallest attention model: the last step's input asks a question (a query)
and reads a weighted average of all the steps (one dot-product attention, no recurrence).
``SelfAttention`` lets every step attend to every step (the T x T score matrix of a Transformer layer),
for timing. torch is imported with this module; ``import rnnlib`` alone does not import it.
"""

import math

import numpy as np
import torch
from torch import nn

from rnnlib.data import series

KINDS = {"rnn": nn.RNN, "lstm": nn.LSTM, "gru": nn.GRU}


def _positive_int(name, value):
    if not isinstance(value, (int, np.integer)) or isinstance(value, bool) or value < 1:
        raise ValueError(f"{name}: expected a positive integer, got {value!r}")


class Recurrent(nn.Module):
    """A one-layer ``torch.nn.RNN`` (tanh), ``LSTM`` or ``GRU`` with a ``Linear`` read-out at every step.

    ``kind`` is ``"rnn"``, ``"lstm"`` or ``"gru"``. With ``vocab_size`` the input is token ids ``(T, N)``
    looked up in an ``nn.Embedding(vocab_size, input_size)``; without it the input is ``(T, N, input_size)``.
    ``forward(xs, state=None)`` returns ``(ys, state)``: ``ys (T, N, outputs)`` and the layer's last state
    (``h (1, N, H)``, or the pair ``(h, c)`` for an LSTM), to carry into the next window of a stream.
    With ``forget_bias`` (LSTM only) the forget block of ``b_ih`` (rows ``H:2H``, torch's order i, f, g,
    o) is set to it and that of ``b_hh`` to 0, so the forget gates start near ``sigmoid(forget_bias)``.
    """

    def __init__(self, kind, input_size, hidden_size, outputs, vocab_size=None, forget_bias=None):
        super().__init__()
        if kind not in KINDS:
            raise ValueError(f"kind: expected one of {sorted(KINDS)}, got {kind!r}")
        for name, size in (("input_size", input_size), ("hidden_size", hidden_size), ("outputs", outputs)):
            _positive_int(name, size)
        if vocab_size is not None:
            _positive_int("vocab_size", vocab_size)
        self.kind = kind
        self.embed = None if vocab_size is None else nn.Embedding(vocab_size, input_size)
        self.layer = KINDS[kind](input_size, hidden_size)
        self.head = nn.Linear(hidden_size, outputs)
        if forget_bias is not None:
            if kind != "lstm":
                raise ValueError(f"forget_bias: expected None for kind {kind!r} (only an LSTM has a forget "
                                 f"gate), got {forget_bias!r}")
            if not math.isfinite(forget_bias):
                raise ValueError(f"forget_bias: expected a finite number, got {forget_bias!r}")
            with torch.no_grad():
                self.layer.bias_ih_l0[hidden_size:2 * hidden_size] = float(forget_bias)
                self.layer.bias_hh_l0[hidden_size:2 * hidden_size] = 0.0

    def forward(self, xs, state=None):
        if self.embed is not None:
            if xs.ndim != 2 or xs.dtype != torch.int64:
                raise ValueError(f"xs: expected int64 token ids of shape (T, N), got {xs.dtype} {tuple(xs.shape)}")
            xs = self.embed(xs)
        elif xs.ndim != 3 or xs.shape[-1] != self.layer.input_size:
            raise ValueError(f"xs: expected shape (T, N, D={self.layer.input_size}), got {tuple(xs.shape)}")
        hs, state = self.layer(xs, state)
        return self.head(hs), state


class AttentionReader(nn.Module):
    """One scaled dot-product attention read-out, with no recurrence.

    The last step ``x_T`` asks the question: ``q = W_q x_T`` (N, d). Every step t = 1..T (the last one
    included) offers a key ``k_t = W_k x_t`` and a value ``v_t = W_v x_t``; the weights
    ``a_t = softmax_t(q . k_t / sqrt(d))`` pick the steps whose keys match, and the answer is
    ``y = W_o sum_t a_t v_t``. Every input reaches the output through one attention step, whatever its lag.
    ``forward(xs (T, N, D))`` returns ``(ys (N, outputs), weights (T, N))``.
    """

    def __init__(self, input_size, d, outputs):
        super().__init__()
        for name, size in (("input_size", input_size), ("d", d), ("outputs", outputs)):
            _positive_int(name, size)
        self.query, self.key, self.value = (nn.Linear(input_size, d, bias=False) for _ in range(3))
        self.head = nn.Linear(d, outputs)

    def forward(self, xs):
        if xs.ndim != 3 or xs.shape[-1] != self.query.in_features:
            raise ValueError(f"xs: expected shape (T, N, D={self.query.in_features}), got {tuple(xs.shape)}")
        q, k, v = self.query(xs[-1]), self.key(xs), self.value(xs)
        weights = torch.softmax((k * q).sum(-1) / math.sqrt(q.shape[-1]), dim=0)  # (T, N), sums to 1 over T
        return self.head((weights[..., None] * v).sum(0)), weights


class SelfAttention(nn.Module):
    """Single-head self-attention over a whole sequence: every step attends to every step.

    ``forward(xs (T, N, d))`` returns ``(out (T, N, d), scores (N, T, T))``, with
    ``out_t = sum_s softmax_s(q_t . k_s / sqrt(d)) v_s`` and ``q, k, v`` linear maps of ``xs``. The
    ``(N, T, T)`` scores are what makes its cost grow as T^2; all T outputs are computed at once.
    """

    def __init__(self, d):
        super().__init__()
        _positive_int("d", d)
        self.qkv = nn.Linear(d, 3 * d, bias=False)

    def forward(self, xs):
        if xs.ndim != 3 or xs.shape[-1] * 3 != self.qkv.out_features:
            raise ValueError(f"xs: expected shape (T, N, d={self.qkv.in_features}), got {tuple(xs.shape)}")
        q, k, v = self.qkv(xs.transpose(0, 1)).chunk(3, dim=-1)  # (N, T, d) each
        scores = q @ k.transpose(1, 2) / math.sqrt(q.shape[-1])
        return (torch.softmax(scores, dim=-1) @ v).transpose(0, 1), scores


def train(model, batches, loss_fn, steps, lr, max_norm=1.0, on_step=None):
    """Adam with learning rate ``lr`` for ``steps`` updates, gradients clipped to global norm ``max_norm``.

    ``batches(step)`` returns the step's batch (anything), ``loss_fn(model, batch)`` a scalar tensor.
    ``on_step(step, loss)``, if given, is called after every update (to advance a progress bar).
    Returns the ``(steps,)`` training losses as floats; a non-finite loss stops the run and the rest is nan.
    """
    _positive_int("steps", steps)
    if not lr > 0:
        raise ValueError(f"lr: expected a positive learning rate, got {lr!r}")
    optimizer = torch.optim.Adam(model.parameters(), lr=lr)
    losses = np.full(steps, np.nan)
    for step in range(steps):
        loss = loss_fn(model, batches(step))
        losses[step] = loss.item()
        if not math.isfinite(losses[step]):
            break
        optimizer.zero_grad()
        loss.backward()
        if max_norm is not None:
            nn.utils.clip_grad_norm_(model.parameters(), max_norm)
        optimizer.step()
        if on_step is not None:
            on_step(step, losses[step])
    return losses


def sampler(xs, targets, batch_size, rng):
    """A ``batches`` function for ``train``: each call draws ``batch_size`` examples with replacement.

    ``xs`` is time-major, ``(T, M, ...)`` (the examples on axis 1), ``targets`` has the examples on axis 0;
    ``rng`` is a numpy ``Generator``. The returned function ignores its ``step`` argument.
    """
    if xs.shape[1] != targets.shape[0]:
        raise ValueError(f"targets: expected {xs.shape[1]} examples on axis 0 (xs is time-major, examples on "
                         f"axis 1), got shape {tuple(targets.shape)}")
    _positive_int("batch_size", batch_size)

    def batch(step):
        pick = torch.as_tensor(rng.integers(xs.shape[1], size=batch_size))
        return xs[:, pick], targets[pick]

    return batch


def fit_forecaster(y, L, cut, steps, seed, hidden_size=32, lr=1e-2, batch_size=64, on_step=None):
    """Train an LSTM one-step forecaster on the past of ``y (T,)`` and forecast every later value.

    The input for target time ``t`` is the window ``y[t-L:t]`` minus its last value ``y[t-1]``, and the
    model predicts the change ``y[t] - y[t-1]``, both divided by the standard deviation of the one-step
    changes of ``y[:cut]``: a forecast of exactly 0 is the naive forecast. It trains (``train``, Adam,
    float32, ``torch.manual_seed(seed)``) on the target times ``t < cut`` only, then forecasts each
    ``t >= cut`` from ``y[t-L:t]``. No forecast uses ``y[t]`` or anything later.

    Returns ``(times (M,), forecasts (M,), losses (steps,))`` with ``times = range(max(cut, L), T)``.
    """
    y = np.asarray(y, dtype=np.float64)
    _positive_int("L", L)
    if not isinstance(cut, (int, np.integer)) or not L + 2 <= cut < len(y):
        raise ValueError(f"cut: expected an integer with L + 2 = {L + 2} <= cut < len(y) = {len(y)}, got {cut!r}")
    scale = float(np.std(np.diff(y[:cut])))
    xs, targets, times = series.windows(y, L)
    last = xs[-1, :, 0]
    inputs = torch.tensor((xs - last[None, :, None]) / scale, dtype=torch.float32)
    changes = torch.tensor((targets - last) / scale, dtype=torch.float32)
    past = torch.as_tensor(np.flatnonzero(times < cut))
    torch.manual_seed(seed)
    model = Recurrent("lstm", 1, hidden_size, 1)
    batches = sampler(inputs[:, past], changes[past], batch_size, np.random.default_rng(seed))
    losses = train(model, batches, last_step_mse, steps, lr, on_step=on_step)
    future = times >= cut
    with torch.no_grad():
        predicted = model(inputs[:, torch.as_tensor(np.flatnonzero(future))])[0][-1, :, 0].numpy()
    return times[future], last[future] + scale * predicted.astype(np.float64), losses


def last_step_cross_entropy(model, batch):
    """Mean cross-entropy of the last step's scores ``ys[-1] (N, C)`` against ``labels (N,)``;
    ``batch = (xs, labels)``."""
    xs, labels = batch
    return nn.functional.cross_entropy(model(xs)[0][-1], labels)


def every_step_cross_entropy(model, batch):
    """Mean cross-entropy over every step: ``ys (T, N, C)`` against ``targets (T, N)``; ``batch = (xs, targets)``."""
    xs, targets = batch
    ys = model(xs)[0]
    return nn.functional.cross_entropy(ys.reshape(-1, ys.shape[-1]), targets.reshape(-1))


def last_step_mse(model, batch):
    """Mean squared error of the last step's single output ``ys[-1, :, 0] (N,)`` against ``ys (N,)``."""
    xs, targets = batch
    return torch.mean((model(xs)[0][-1, :, 0] - targets) ** 2)


def graph_depth(tensor):
    """Number of autograd nodes on the longest path from ``tensor`` back to a leaf of its graph.

    Backpropagation has to visit these nodes one after the other: it is the length of the longest chain
    of operations between the inputs and ``tensor``. For a recurrent layer it grows with the number of
    steps; for attention it does not. (A fused kernel, such as torch's oneDNN LSTM, counts as one node.)
    """
    if getattr(tensor, "grad_fn", None) is None:
        raise ValueError("tensor: expected a tensor computed from tensors that require grad (grad_fn set), "
                         f"got {type(tensor).__name__} with grad_fn None")
    depth, opened, stack = {}, set(), [(tensor.grad_fn, False)]
    while stack:  # iterative post-order, so long chains do not hit Python's recursion limit
        node, done = stack.pop()
        if done:
            depth[node] = 1 + max((depth[c] for c, _ in node.next_functions if c is not None), default=0)
        elif node not in depth and node not in opened:
            opened.add(node)
            stack.append((node, True))
            stack.extend((c, False) for c, _ in node.next_functions if c is not None and c not in depth)
    return depth[tensor.grad_fn]


@torch.no_grad()
def sample(model, prompt, length, generator, temperature=1.0):
    """Generate ``length`` tokens after ``prompt`` (1-D int64 ids) from a token model (``vocab_size`` set).

    The prompt is read into the state; then each next token is drawn from ``softmax(y / temperature)``
    with the ``torch.Generator`` ``generator`` and fed back. Returns ``(length,)`` int64 ids, prompt excluded.
    """
    prompt = torch.as_tensor(prompt)
    if prompt.ndim != 1 or prompt.numel() < 1:
        raise ValueError(f"prompt: expected a 1-D tensor of at least one id, got shape {tuple(prompt.shape)}")
    if not temperature > 0:
        raise ValueError(f"temperature: expected a positive number, got {temperature!r}")
    ys, state = model(prompt[:, None])
    out = torch.empty(length, dtype=torch.int64)
    for t in range(length):
        p = torch.softmax(ys[-1, 0] / temperature, dim=0)
        out[t] = torch.multinomial(p, 1, generator=generator)
        ys, state = model(out[t:t + 1, None], state)
    return out
