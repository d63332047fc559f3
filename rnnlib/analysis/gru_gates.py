"""What the gates of a GRU do with the old state, and a GRU whose gradient explodes (chapter 5).

Same convention as ``rnnlib.core.gru`` (PyTorch's layout, gate order r, z, n, time-major):

    r = sigmoid(W_ir x + b_ir + W_hr h_prev + b_hr)      z = sigmoid(W_iz x + b_iz + W_hz h_prev + b_hz)
    n = tanh(W_in x + b_in + r * (W_hn h_prev + b_hn))
    h = (1 - z) * n + z * h_prev

The old state reaches ``h`` by two routes: through the candidate (scaled by ``r``) and directly
(scaled by ``z``). ``force_gates`` holds either gate at exactly 0 or 1, so that each route can be cut
on its own, and ``step_jacobian`` measures what is left. ``scaled_recurrent_weights`` and
``sgd_first_value`` reproduce an exploding gradient and its treatment by clipping.
Shapes: x (N, D), xs (T, N, D), h (N, H), W_ih (3H, D), W_hh (3H, H), b_ih and b_hh (3H,).
"""

import numpy as np

from rnnlib.core import gru
from rnnlib.core._checks import check_sequence, check_step, check_weights, sigmoid

GATE_NAMES = ("r", "z", "n")

#: A gate bias at which ``sigmoid`` is exactly 0.0 (or, negated, exactly 1.0) in float64:
#: ``0.5 * (1 + tanh(-500))`` rounds to 0, whatever a few units of weights add to it.
SATURATING_BIAS = 1000.0


def gate_activations(x, h_prev, W_ih, W_hh, b_ih, b_hh):
    """``(r, z, n)`` of one step, each ``(N, H)``, for ``x (N, D)`` and ``h_prev (N, H)``."""
    (W_ih, W_hh, b_ih, b_hh), D, H = check_weights("a GRU", 3, W_ih, W_hh, b_ih, b_hh)
    x, h_prev = check_step(x, {"h_prev": h_prev}, D, H)
    a, u = x @ W_ih.T + b_ih, h_prev @ W_hh.T + b_hh
    rz = sigmoid(a[:, :2 * H] + u[:, :2 * H])
    return rz[:, :H], rz[:, H:], np.tanh(a[:, 2 * H:] + rz[:, :H] * u[:, 2 * H:])


def sequence_gates(xs, h0, W_ih, W_hh, b_ih, b_hh):
    """Every gate of a run over ``xs (T, N, D)`` from ``h0 (N, H)``: a dict of ``(T, N, H)`` arrays.

    Keys ``"r", "z", "n"`` (step by step, as ``gate_activations`` computes them) and ``"h"`` (the states
    ``h_1..h_T`` that ``gru.forward`` returns).
    """
    (W_ih, W_hh, b_ih, b_hh), D, H = check_weights("a GRU", 3, W_ih, W_hh, b_ih, b_hh)
    xs, h0 = check_sequence(xs, {"h0": h0}, D, H)
    hs, _ = gru.forward(xs, h0, W_ih, W_hh, b_ih, b_hh)
    h_prevs = np.concatenate([h0[None], hs[:-1]])
    steps = [gate_activations(x, h, W_ih, W_hh, b_ih, b_hh) for x, h in zip(xs, h_prevs)]
    out = {name: np.stack([s[j] for s in steps]) for j, name in enumerate(GATE_NAMES)}
    out["h"] = hs
    return out


def force_gates(W_ih, W_hh, b_ih, b_hh, r=None, z=None):
    """Copies of GRU weights with the reset gate ``r`` and/or the update gate ``z`` held at exactly
    0.0 or 1.0 at every step, whatever the input and the state (``None`` leaves a gate as it is).

    The gate's rows of ``W_ih`` and ``W_hh`` and its ``b_hh`` entries are zeroed, and its ``b_ih``
    entries set to ``-SATURATING_BIAS`` (gate 0) or ``+SATURATING_BIAS`` (gate 1).
    """
    weights, _, H = check_weights("a GRU", 3, W_ih, W_hh, b_ih, b_hh)
    W_ih, W_hh, b_ih, b_hh = (a.copy() for a in weights)
    for j, value in enumerate((r, z)):
        if value is None:
            continue
        if value not in (0, 1):
            raise ValueError(f"{GATE_NAMES[j]}: expected 0, 1 or None, got {value!r}")
        rows = slice(j * H, (j + 1) * H)
        W_ih[rows], W_hh[rows], b_hh[rows] = 0.0, 0.0, 0.0
        b_ih[rows] = SATURATING_BIAS if value == 1 else -SATURATING_BIAS
    return W_ih, W_hh, b_ih, b_hh


def step_jacobian(x, h_prev, W_ih, W_hh, b_ih, b_hh):
    """``J (N, H, H)``, the Jacobian of one step for each example: ``J[n, i, j] = dh_i / dh_prev_j``.

    Computed with ``gru.cell_backward``: an upstream gradient equal to the i-th unit vector returns the
    i-th row of ``J``, so the step runs once on H copies of each example.
    """
    (W_ih, W_hh, b_ih, b_hh), D, H = check_weights("a GRU", 3, W_ih, W_hh, b_ih, b_hh)
    x, h_prev = check_step(x, {"h_prev": h_prev}, D, H)
    N = x.shape[0]
    _, cache = gru.cell_forward(np.repeat(x, H, axis=0), np.repeat(h_prev, H, axis=0),
                                W_ih, W_hh, b_ih, b_hh)
    rows = gru.cell_backward(np.tile(np.eye(H, dtype=h_prev.dtype), (N, 1)), cache)[1]
    return rows.reshape(N, H, H)


def scaled_recurrent_weights(input_size, hidden_size, scale, rng):
    """GRU weights drawn as ``torch.nn.GRU`` does, except ``W_hh``: all three blocks (r, z, n) drawn
    from a normal distribution with standard deviation ``scale / sqrt(H)``.

    PyTorch's default ``U(-1/sqrt(H), 1/sqrt(H))`` corresponds to ``scale = 1/sqrt(3)``.
    """
    W_ih, W_hh, b_ih, b_hh = gru.init_weights(input_size, hidden_size, rng)
    W_hh = scale * rng.standard_normal(W_hh.shape) / np.sqrt(hidden_size)
    return W_ih, W_hh, b_ih, b_hh


def sgd_first_value(weights, steps, seed, lr=0.1, max_norm=None, T=50, batch_size=32,
                    progress=iter):
    """Plain SGD on recalling the first input after ``T`` steps, for a float64 ``torch.nn.GRU``.

    ``weights`` are the GRU's four arrays (``D`` inputs, ``H`` units); a ``Linear(H, 1)`` read-out
    (torch's default init under ``seed``) maps the last state to a prediction of ``x_1[0]``. Inputs are
    drawn from ``U(-1, 1)`` with a generator seeded by ``seed``, so predicting 0 gives a mean squared
    error of 1/3. With ``max_norm`` the gradient is clipped to that global norm
    (``torch.nn.utils.clip_grad_norm_``) before each step. The run stops at the first loss that is not
    finite. ``progress`` wraps the step range (pass ``tqdm`` for a bar).

    Returns ``(losses, grad_norms)``, arrays of length ``steps``: the loss and the global gradient norm
    *before* clipping at each step, nan after a stop.
    """
    import torch

    from rnnlib.core import torch_bridge

    torch.manual_seed(seed)
    net = torch_bridge.from_numpy(*(np.asarray(w, dtype=np.float64) for w in weights))
    readout = torch.nn.Linear(net.hidden_size, 1, dtype=torch.float64)
    params = [*net.parameters(), *readout.parameters()]
    opt, rng = torch.optim.SGD(params, lr=lr), np.random.default_rng(seed)
    losses, norms = np.full(steps, np.nan), np.full(steps, np.nan)
    for step in progress(range(steps)):
        xs = torch.tensor(rng.uniform(-1.0, 1.0, size=(T, batch_size, net.input_size)))
        loss = ((readout(net(xs)[0][-1]) - xs[0, :, :1]) ** 2).mean()
        opt.zero_grad()
        loss.backward()
        norms[step] = torch.nn.utils.clip_grad_norm_(params, max_norm or float("inf")).item()
        losses[step] = loss.item()
        if not np.isfinite(losses[step]):
            break
        opt.step()
    return losses, norms
