"""The small experiments of the gradient-decay lesson: seeded, CPU, a few seconds each.

Gradients that the lesson *inspects* are computed with rnnlib's own numpy code (``rnn.forward`` and
``rnn.backward``). The two training runs use ``torch.nn.RNN`` and autograd, which compute the same
numbers (``tests/test_against_torch.py``) much faster for a training loop.

Shapes are rnnlib's: time-major ``xs (T, N, D)``, weights in PyTorch's layout. Steps are t = 1..T,
``hs[t - 1]`` is h_t and ``hs[-1]`` the last state h_T; lag k means the state h_{T-k}. ``F`` counts the
filler tokens of the agreement task.
"""

import numpy as np

from rnnlib.analysis import decay
from rnnlib.core import rnn
from rnnlib.core._checks import as_array, expect_shape
from rnnlib.data import tasks


def agreement_gradient(F, weights, W_out, b_out, rng, n=256):
    """Norm of the gradient of the verb's loss with respect to the subject's input, across ``F`` fillers.

    A tanh RNN with ``weights = (W_ih, W_hh, b_ih, b_hh)`` reads ``n`` sequences of
    ``tasks.agreement(n, F, rng)`` (one-hot, ``D = len(AGREEMENT_VOCAB)``) from ``h0 = 0``; a linear
    read-out ``logits = h_T W_out^T + b_out`` (``W_out (2, H)``, ``b_out (2,)``) scores "was"/"were"
    with the mean softmax cross-entropy. Returns the Frobenius norm over the batch of ``dL/dx_0``, the
    gradient at the subject token (the first input), computed with ``rnn.backward``.
    """
    tokens, labels = tasks.agreement(n, F, rng)
    xs = tasks.one_hot(tokens, len(tasks.AGREEMENT_VOCAB))
    hs, cache = rnn.forward(xs, np.zeros((n, W_out.shape[1])), *weights)
    logits = hs[-1] @ W_out.T + b_out
    p = np.exp(logits - logits.max(axis=1, keepdims=True))
    p /= p.sum(axis=1, keepdims=True)
    p[np.arange(n), labels] -= 1.0  # d(mean cross-entropy)/d(logits), times n
    dhs = np.zeros_like(hs)
    dhs[-1] = (p / n) @ W_out
    return float(np.linalg.norm(rnn.backward(dhs, cache)[0][0]))


def adding_gradients(weights, w_out, b_out, xs, ys):
    """Gradients of the adding problem's mean squared error for a tanh RNN with a linear read-out.

    ``pred = h_T w_out + b_out`` with ``w_out (H,)``, ``b_out`` a scalar, ``xs (T, N, 2)`` and
    ``ys (N,)`` from ``tasks.adding``, ``h0 = 0``. Returns ``(loss, [dW_ih, dW_hh, db_ih, db_hh, dw_out,
    db_out])`` with rnnlib's ``rnn.backward`` for the recurrent part.
    """
    hs, cache = rnn.forward(xs, np.zeros((xs.shape[1], len(w_out))), *weights)
    err = hs[-1] @ w_out + b_out - ys
    dpred = 2.0 * err / len(ys)
    dhs = np.zeros_like(hs)
    dhs[-1] = np.outer(dpred, w_out)
    dW_ih, dW_hh, db_ih, db_hh = rnn.backward(dhs, cache)[2:]
    return float(np.mean(err ** 2)), [dW_ih, dW_hh, db_ih, db_hh, hs[-1].T @ dpred, np.sum(dpred)]


def _torch_rnn(input_size, hidden_size, outputs, seed, W_hh=None, dtype=None):
    """``torch.nn.RNN`` (tanh) and a ``Linear`` read-out from torch's default init under ``seed``."""
    import torch

    torch.manual_seed(seed)
    dtype = dtype or torch.float32
    net = torch.nn.RNN(input_size, hidden_size, dtype=dtype)
    head = torch.nn.Linear(hidden_size, outputs, dtype=dtype)
    if W_hh is not None:
        with torch.no_grad():
            net.weight_hh_l0.copy_(torch.as_tensor(W_hh))
    return net, head


def train_agreement(F, steps, seed, hidden_size=32, lr=0.1, momentum=0.9, batch_size=64, n_test=1000,
                    max_norm=1.0, progress=iter):
    """Train a tanh ``torch.nn.RNN`` + ``Linear`` on ``tasks.agreement`` with ``F`` fillers.

    SGD with momentum on the mean cross-entropy at the query step, gradients clipped to global norm
    ``max_norm``, a fresh batch each step (``numpy`` generator seeded with ``seed``, torch's init with
    ``seed`` too). ``progress`` wraps the step range (pass ``tqdm`` for a progress bar).

    Returns ``(losses (steps,), accuracy)``: the training loss per step and the accuracy on ``n_test``
    fresh sequences (chance is 1/2).
    """
    import torch

    rng = np.random.default_rng(seed)
    V = len(tasks.AGREEMENT_VOCAB)
    net, head = _torch_rnn(V, hidden_size, 2, seed)
    params = [*net.parameters(), *head.parameters()]
    opt = torch.optim.SGD(params, lr=lr, momentum=momentum)

    def logits(tokens):
        out, _ = net(torch.as_tensor(tasks.one_hot(tokens, V), dtype=torch.float32))
        return head(out[-1])

    losses = np.empty(steps)
    for step in progress(range(steps)):
        tokens, labels = tasks.agreement(batch_size, F, rng)
        loss = torch.nn.functional.cross_entropy(logits(tokens), torch.as_tensor(labels))
        opt.zero_grad()
        loss.backward()
        torch.nn.utils.clip_grad_norm_(params, max_norm)
        opt.step()
        losses[step] = loss.item()
    tokens, labels = tasks.agreement(n_test, F, rng)
    with torch.no_grad():
        accuracy = float(np.mean(logits(tokens).argmax(dim=1).numpy() == labels))
    return losses, accuracy


def sgd_adding_run(W_hh, steps, seed, T=50, lr=0.1, max_norm=None, batch_size=64, progress=iter):
    """Plain SGD on the adding problem for a float32 tanh ``torch.nn.RNN`` whose ``W_hh`` is given.

    ``W_hh (H, H)`` replaces torch's initial recurrent matrix (the rest is torch's default init under
    ``seed``); the read-out is one ``Linear(H, 1)``, the loss the mean squared error on the last step.
    With ``max_norm`` the gradients are clipped to that global norm (``torch.nn.utils.clip_grad_norm_``)
    before each step. The run stops at the first loss that is NaN (an inf loss is still recorded).

    Returns ``(losses, grad_norms)``, arrays of length ``steps`` holding the loss and the global gradient
    norm *before* clipping at each step, padded with nan after a stop.
    """
    import torch

    rng = np.random.default_rng(seed)
    net, head = _torch_rnn(2, np.shape(W_hh)[0], 1, seed, W_hh=np.asarray(W_hh, dtype=np.float32))
    params = [*net.parameters(), *head.parameters()]
    opt = torch.optim.SGD(params, lr=lr)
    losses, norms = np.full(steps, np.nan), np.full(steps, np.nan)
    for step in progress(range(steps)):
        xs, ys = tasks.adding(batch_size, T, rng)
        out, _ = net(torch.as_tensor(xs, dtype=torch.float32))
        loss = torch.mean((head(out[-1])[:, 0] - torch.as_tensor(ys, dtype=torch.float32)) ** 2)
        opt.zero_grad()
        loss.backward()
        norms[step] = torch.nn.utils.clip_grad_norm_(params, max_norm or float("inf")).item()
        losses[step] = loss.item()
        if np.isnan(losses[step]):
            break
        opt.step()
    return losses, norms


def jacobian_product_rate(hs, W_hh, v, skip=0):
    """Per-step growth of the product of a tanh RNN's step Jacobians along its own trajectory.

    ``hs (T, N, H)`` are the states h_1..h_T (``rnn.forward``), ``W_hh (H, H)``, ``v (N, H)`` a start row
    vector per example. Walking back from h_T, each row is multiplied by its example's Jacobian
    ``J_t = diag(1 - h_t^2) W_hh`` (``decay.step_jacobians``) and rescaled to norm 1; the log of the
    norm before rescaling is that step's growth. Returns ``exp`` of the mean growth over the examples and
    the steps after the first ``skip`` (the rows need a few steps to turn to the fastest-growing
    direction): an estimate of the exponential of the top Lyapunov exponent of the product
    ``J_T J_{T-1} ... J_1``. With every ``h_t = 0`` it is the growth of ``W_hh^k``, the spectral radius.
    """
    hs, W_hh, v = as_array("hs", hs), as_array("W_hh", W_hh), as_array("v", v)
    expect_shape("hs", hs, (("T", None), ("N", None), ("H", None)))
    T, N, H = hs.shape
    expect_shape("v", v, (("N", N), ("H", H)))
    expect_shape("W_hh", W_hh, (("H", H), ("H", H)))
    if not 0 <= skip < T:
        raise ValueError(f"skip: expected 0 <= skip < T = {T}, got {skip}")
    growth = np.empty((T, N))
    v = v / np.linalg.norm(v, axis=1, keepdims=True)
    for step, h in enumerate(hs[::-1]):
        v = np.einsum("ni,nij->nj", v, decay.step_jacobians(h, W_hh))
        norm = np.linalg.norm(v, axis=1)
        growth[step] = np.log(norm)
        v = v / norm[:, None]
    return float(np.exp(growth[skip:].mean()))
