"""minGRU and minLSTM (Feng et al. 2024): gated recurrences whose gates read the input only.

Chapter 9. In a GRU the update gate reads ``h_{t-1}``, so step t cannot start before step t - 1 ends. The
minimal units drop that dependence, and what is left is the diagonal linear recurrence of
``rnnlib.core.scan``, ``h_t = a_t * h_{t-1} + b_t``, with ``a_t`` and ``b_t`` computed from ``x_t`` alone, for
all steps at once:

- minGRU: ``z_t = sigmoid(x_t W_z^T + b_z)``, ``h~_t = x_t W_h^T + b_h``,
  ``h_t = (1 - z_t) * h_{t-1} + z_t * h~_t``, so ``a_t = 1 - z_t`` and ``b_t = z_t * h~_t``;
- minLSTM: ``f_t = sigmoid(x_t W_f^T + b_f)``, ``i_t = sigmoid(x_t W_i^T + b_i)``, the two normalised to
  ``f'_t = f_t / (f_t + i_t)`` and ``i'_t = i_t / (f_t + i_t)``, and ``h_t = f'_t * h_{t-1} + i'_t * h~_t``.

Shapes are time-major as in the rest of rnnlib: ``xs (T, N, D)``, states ``(N, H)``, weights
``W (H, D)`` and biases ``(H,)``. ``forward`` and ``forward_lstm`` are numpy (float64) references;
``MinGRU`` and ``MinLSTM`` are ``torch.nn`` layers (PyTorch's default initialisation for ``Linear``,
``U(-1/sqrt(D), 1/sqrt(D))``) that run the recurrence by ``MODES[mode]``: by default ``"fused"``,
``scan.torch_scan`` (the work-efficient scan with ``scan.backward``'s gradient), or through autograd
``"tree"`` (``scan.tree_scan``), ``"scan"`` (``scan.scan``) or ``"loop"`` (``scan.loop``).

``a_bias`` sets the gate biases so that ``a`` starts near ``sigmoid(a_bias)`` (at a zero input), close
to 1 for a large ``a_bias``: the counterpart of the LSTM's forget-gate bias. The paper also gives a
log-space form for numerical range on long sequences; this module uses the plain form, which float32
handles at the lengths of the chapter.

``Net`` stacks ``layers`` of either kind under a ``Linear`` read-out, called like ``lab.Net``, and
``train`` trains it on a task of ``rnnlib.experiments.lab`` with the lab's protocol, returning a ``lab.Run``;
``seconds_per_update`` times one training update of a ``Net`` or a ``lab.Net``.
"""

import time

import numpy as np
import torch

from rnnlib.core import scan
from rnnlib.experiments import lab


def _sigmoid(a):
    return 0.5 * (1.0 + np.tanh(0.5 * a))


def coefficients(xs, W_z, b_z, W_h, b_h):
    """minGRU's ``(a, b)`` for ``scan``: ``a = 1 - z`` and ``b = z * h~``, each ``(T, N, H)`` (numpy)."""
    z = _sigmoid(xs @ W_z.T + b_z)
    return 1.0 - z, z * (xs @ W_h.T + b_h)


def forward(xs, h0, W_z, b_z, W_h, b_h):
    """minGRU states ``hs (T, N, H)`` from ``h0 (N, H)``, by the parallel scan (numpy)."""
    return scan.scan(*coefficients(xs, W_z, b_z, W_h, b_h), h0)


def lstm_coefficients(xs, W_f, b_f, W_i, b_i, W_h, b_h):
    """minLSTM's ``(a, b)``: ``a = f / (f + i)`` and ``b = i / (f + i) * h~`` (numpy)."""
    f, i = _sigmoid(xs @ W_f.T + b_f), _sigmoid(xs @ W_i.T + b_i)
    return f / (f + i), i / (f + i) * (xs @ W_h.T + b_h)


def forward_lstm(xs, h0, W_f, b_f, W_i, b_i, W_h, b_h):
    """minLSTM states ``hs (T, N, H)`` from ``h0 (N, H)``, by the parallel scan (numpy)."""
    return scan.scan(*lstm_coefficients(xs, W_f, b_f, W_i, b_i, W_h, b_h), h0)


MODES = {"fused": scan.torch_scan, "tree": scan.tree_scan, "scan": scan.scan, "loop": scan.loop}


class _Minimal(torch.nn.Module):
    """A layer ``h_t = a_t * h_{t-1} + b_t`` whose ``(a, b)`` come from ``x_t`` (``coefficients``)."""

    n_linear = 0

    def __init__(self, input_size, hidden_size, mode="fused", a_bias=None):
        super().__init__()
        if mode not in MODES:
            raise ValueError(f"mode: expected one of {sorted(MODES)}, got {mode!r}")
        self.mode, self.hidden_size = mode, int(hidden_size)
        self.linear = torch.nn.Linear(input_size, self.n_linear * self.hidden_size)
        if a_bias is not None:
            with torch.no_grad():
                self.set_a_bias(float(a_bias))

    def forward(self, xs, h0=None):
        """``(hs (T, N, H), h_T (N, H))`` for ``xs (T, N, D)``, as ``torch.nn.GRU`` returns them."""
        a, b = self.coefficients(xs)
        hs = MODES[self.mode](a, b, h0)
        return hs, hs[-1]


class MinGRU(_Minimal):
    """minGRU as a ``torch.nn`` layer; ``self.linear`` holds ``[W_z; W_h]`` and ``[b_z; b_h]``.

    With ``selective=False`` the decay no longer depends on the input: ``a`` is a learned constant per
    unit, ``sigmoid(self.retain)`` (``retain (H,)`` starts at ``a_bias``, or 0), and only the input
    ``b_t = z_t * h~_t`` stays gated: a time-invariant recurrence with a gated input.
    """

    n_linear = 2

    def __init__(self, input_size, hidden_size, mode="fused", a_bias=None, selective=True):
        super().__init__(input_size, hidden_size, mode, a_bias)
        self.selective = selective
        if not selective:
            start = 0.0 if a_bias is None else float(a_bias)
            self.retain = torch.nn.Parameter(torch.full((self.hidden_size,), start))

    def set_a_bias(self, value):
        """``b_z = -value``: at a zero input ``a = 1 - sigmoid(b_z) = sigmoid(value)``."""
        self.linear.bias[:self.hidden_size] = -value

    def coefficients(self, xs):
        """``(a, b)`` of every step: ``a = 1 - z``, ``b = z * h~``, each ``(T, N, H)``."""
        gate, candidate = self.linear(xs).chunk(2, dim=-1)
        z = torch.sigmoid(gate)
        a = 1 - z if self.selective else torch.sigmoid(self.retain).expand_as(z)
        return a, z * candidate


class MinLSTM(_Minimal):
    """minLSTM as a ``torch.nn`` layer; ``self.linear`` holds ``[W_f; W_i; W_h]`` and the biases."""

    n_linear = 3

    def set_a_bias(self, value):
        """``b_f = value`` and ``b_i = -value``: at a zero input ``a = f / (f + i) = sigmoid(value)``."""
        self.linear.bias[:self.hidden_size] = value
        self.linear.bias[self.hidden_size:2 * self.hidden_size] = -value

    def coefficients(self, xs):
        """``(a, b)`` of every step: ``a = f / (f + i)``, ``b = i / (f + i) * h~``."""
        forget, inp, candidate = self.linear(xs).chunk(3, dim=-1)
        f, i = torch.sigmoid(forget), torch.sigmoid(inp)
        return f / (f + i), i / (f + i) * candidate


LAYERS = {"mingru": MinGRU, "minlstm": MinLSTM}


def param_count(kind, input_size, hidden_size, layers=1):
    """Parameters of ``layers`` stacked layers of ``kind`` ("mingru", "minlstm"), read-out not counted:
    ``n (D H + H)`` for the first layer and ``n (H H + H)`` for each further one (n = 2 or 3)."""
    n = LAYERS[kind].n_linear
    return n * (input_size * hidden_size + hidden_size) + (layers - 1) * n * (hidden_size + 1) * hidden_size


class Net(torch.nn.Module):
    """``layers`` stacked minimal layers of ``kind`` (``self.rnn``) and a ``Linear`` read-out
    (``self.head``), called as ``lab.Net``: ``forward(xs (T, N, D))`` returns the read-out of the last
    state ``(N, output_size)``, or of every state with ``every_step``."""

    def __init__(self, kind, input_size, hidden_size, output_size, layers=1, every_step=False, mode="fused",
                 a_bias=None):
        super().__init__()
        if kind not in LAYERS:
            raise ValueError(f"kind: expected one of {sorted(LAYERS)}, got {kind!r}")
        sizes = [input_size] + [hidden_size] * layers
        self.kind, self.every_step = kind, every_step
        self.rnn = torch.nn.ModuleList(LAYERS[kind](d, hidden_size, mode, a_bias) for d in sizes[:-1])
        self.head = torch.nn.Linear(hidden_size, output_size)

    def forward(self, xs):
        for layer in self.rnn:
            xs, _ = layer(xs)
        return self.head(xs if self.every_step else xs[-1])


def build(kind, task, hidden_size, seed, layers=1, mode="fused", a_bias=None):
    """A ``Net`` for a task of ``lab.TASKS``, initialised by torch under ``seed`` (as ``lab.build``)."""
    spec = lab.get_task(task)
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(seed)
        return Net(kind, spec.input_size, hidden_size, spec.output_size, layers, spec.every_step, mode,
                   a_bias)


def train(kind, task, T, hidden_size, layers=1, steps=1500, seed=0, lr=1e-2, batch_size=64, max_norm=1.0,
          eval_every=100, n_eval=1000, stop_when_solved=False, progress=None, a_bias=None):
    """``lab.train`` for a minimal-unit ``Net``: the same batches, held-out set, Adam, clipping and
    evaluations (see there), so a run compares with the lab's GRU run of the same seed. Returns a
    ``lab.Run`` whose ``kind`` is ``kind`` and ``forget_bias`` None."""
    net = build(kind, task, hidden_size, seed, layers, a_bias=a_bias)
    rng = np.random.default_rng((seed, T))
    eval_data = lab.make_batch(task, n_eval, T, np.random.default_rng((lab.EVAL_SEED, T)))
    opt = torch.optim.Adam(net.parameters(), lr=lr)
    losses, spent, solved_step = np.full(steps, np.nan), 0.0, None
    record = [(0, lab.evaluate(net, task, *eval_data), 0.0)]
    for step in range(1, steps + 1):
        start = time.process_time()
        losses[step - 1] = lab._step(net, opt, task, lab.make_batch(task, batch_size, T, rng), max_norm)
        spent += time.process_time() - start
        if step % eval_every == 0 or step == steps:
            record.append((step, lab.evaluate(net, task, *eval_data), spent))
            if progress is not None:
                progress(step - record[-2][0])
            if solved_step is None and lab.solved(task, record[-1][1]):
                solved_step = step
                if stop_when_solved:
                    break
    eval_step, metric, seconds = (np.array(column) for column in zip(*record))
    return lab.Run(kind, task, int(T), int(hidden_size), int(seed), None, losses[:step], eval_step.astype(int),
                   metric, seconds, solved_step, net)


def seconds_per_update(net, task, T, updates=3, warmup=1, seed=0):
    """CPU seconds (``time.process_time``) of one training update of ``net`` (a ``Net`` or a ``lab.Net``)
    on a batch of 64 sequences of ``task`` at length ``T``: Adam, clipping, as in ``train``. The fastest
    of ``updates`` timed updates after ``warmup`` untimed ones; ``net`` is trained by them."""
    batch = lab.make_batch(task, 64, T, np.random.default_rng((seed, T)))
    opt = torch.optim.Adam(net.parameters(), lr=1e-2)
    times = []
    for _ in range(warmup + updates):
        start = time.process_time()
        lab._step(net, opt, task, batch, 1.0)
        times.append(time.process_time() - start)
    return min(times[warmup:])
