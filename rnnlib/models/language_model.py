"""A character-level language model built from rnnlib's parts: one-hot input, tanh RNN, linear
readout, softmax cross-entropy against the next character.

    x_t = onehot(c_t)                                   (N, V)
    h_t = tanh(W_ih x_t + b_ih + W_hh h_{t-1} + b_hh)  (N, H)    rnnlib.core.rnn
    y_t = W_hy h_t + b_y                                (N, V)    rnnlib.core.linear
    L   = mean over t, n of  -log softmax(y_t)[c_{t+1}]           rnnlib.core.losses

The parameters are the list ``[W_ih (H, V), W_hh (H, H), b_ih (H,), b_hh (H,), W_hy (V, H), b_y (V,)]``,
PyTorch's layout for ``torch.nn.RNN(V, H)`` followed by ``torch.nn.Linear(H, V)``; it is the list an
optimiser of ``rnnlib.core.optim`` updates in place. Sequences are time-major: ``inputs (T, N)`` integers.
"""

import re

import numpy as np

from rnnlib.core import linear, losses, rnn
from rnnlib.data.text import one_hot

PARAM_NAMES = ("W_ih", "W_hh", "b_ih", "b_hh", "W_hy", "b_y")


def init_params(V, H, rng):
    """The six parameters, drawn as ``torch.nn.RNN(V, H)`` and ``torch.nn.Linear(H, V)`` draw them."""
    return [*rnn.init_weights(V, H, rng), *linear.init_weights(H, V, rng)]


def loss_and_grads(params, inputs, targets, h0):
    """Forward and backward over one window of text.

    ``inputs (T, N)`` and ``targets (T, N)`` are character indices (targets are usually the inputs
    shifted by one step), ``h0 (N, H)`` the state carried in. Returns ``(loss, grads, h_T)``: the mean
    cross-entropy in nats per character, one gradient per parameter (same order and shapes), and the
    last state ``(N, H)`` to carry into the next window.
    """
    W_ih, W_hh, b_ih, b_hh, W_hy, b_y = params
    hs, rnn_cache = rnn.forward(one_hot(inputs, W_ih.shape[1]), h0, W_ih, W_hh, b_ih, b_hh)
    logits, out_cache = linear.forward(hs, W_hy, b_y)
    loss, dlogits = losses.softmax_cross_entropy(logits, targets)
    dhs, dW_hy, db_y = linear.backward(dlogits, out_cache)
    _, _, dW_ih, dW_hh, db_ih, db_hh = rnn.backward(dhs, rnn_cache)
    return loss, [dW_ih, dW_hh, db_ih, db_hh, dW_hy, db_y], hs[-1].copy()


def evaluate(params, ids):
    """Mean cross-entropy, in nats per character, of predicting ``ids[1:]`` from ``ids[:-1]`` (a 1-D
    array of indices read as one sequence from a zero state). Forward pass only."""
    ids = np.asarray(ids)
    if ids.ndim != 1 or ids.size < 2:
        raise ValueError(f"ids: expected a 1-D array of at least two indices, got shape {ids.shape}")
    W_ih, W_hh, b_ih, b_hh, W_hy, b_y = params
    hs, _ = rnn.forward(one_hot(ids[:-1, None], W_ih.shape[1]), np.zeros((1, W_hh.shape[0])), W_ih, W_hh, b_ih, b_hh)
    return losses.softmax_cross_entropy(linear.forward(hs, W_hy, b_y)[0], ids[1:, None])[0]


def train(params, optimizer, streams, tau, steps, on_step=None):
    """Truncated BPTT over a text laid out as ``streams (L, N)`` (``rnnlib.data.text.streams``).

    Each step takes the next window of ``tau`` rows as inputs and the same rows shifted by one as
    targets, runs ``loss_and_grads`` from the state carried out of the previous window, and calls
    ``optimizer.step`` (an ``rnnlib.core.optim`` optimiser built on ``params``). At the end of the streams
    it starts again from the top with a zero state. ``on_step(step, loss)``, if given, is called after
    every update. Returns the ``(steps,)`` training losses.
    """
    streams = np.asarray(streams)
    if streams.ndim != 2 or len(streams) < tau + 1:
        raise ValueError(f"streams: expected shape (L, N) with L >= tau + 1 = {tau + 1}, got {streams.shape}")
    zero = np.zeros((streams.shape[1], params[1].shape[0]))
    h, pos, curve = zero, 0, np.empty(steps)
    for step in range(steps):
        if pos + tau + 1 > len(streams):
            h, pos = zero, 0
        curve[step], grads, h = loss_and_grads(params, streams[pos:pos + tau], streams[pos + 1:pos + tau + 1], h)
        optimizer.step(grads)
        pos += tau
        if on_step is not None:
            on_step(step, curve[step])
    return curve


def sample(params, prompt, length, rng, temperature=1.0):
    """Generate ``length`` characters after the prompt ``prompt`` (a 1-D array of indices, at least one).

    The prompt is read into the state; then each next character is drawn from
    ``softmax(y_t / temperature)`` with the generator ``rng`` and fed back in. Returns the ``(length,)``
    int64 indices generated (the prompt not included).
    """
    W_ih, W_hh, b_ih, b_hh, W_hy, b_y = params
    prompt = np.asarray(prompt)
    if prompt.ndim != 1 or prompt.size < 1:
        raise ValueError(f"prompt: expected a 1-D array of at least one index, got shape {prompt.shape}")
    if not temperature > 0:
        raise ValueError(f"temperature: expected a positive number, got {temperature!r}")
    V = W_ih.shape[1]
    hs, _ = rnn.forward(one_hot(prompt[:, None], V), np.zeros((1, W_hh.shape[0])), W_ih, W_hh, b_ih, b_hh)
    h, out = hs[-1], np.empty(length, dtype=np.int64)
    for t in range(length):
        p = losses.softmax((h @ W_hy.T + b_y) / temperature)[0]
        out[t] = rng.choice(V, p=p)
        h, _ = rnn.cell_forward(one_hot(out[t:t + 1], V), h, W_ih, W_hh, b_ih, b_hh)
    return out


def sample_statistics(sample, reference):
    """How much a generated text looks like ``reference`` on the surface, as a dict:

    ``word_length``, the mean length of its words (runs of letters and apostrophes);
    ``known_words``, the share of those words, lower-cased, that occur in ``reference``;
    ``capital_lines``, the share of its non-empty lines after the first (the first continues a
    prompt) whose first non-blank character is an upper-case letter (NaN if there are none).
    """
    words = re.findall(r"[A-Za-z']+", sample)
    if not words:
        raise ValueError("sample: expected at least one word, got none")
    known = set(re.findall(r"[a-z']+", reference.lower()))
    lines = [line.strip() for line in sample.split("\n")[1:] if line.strip()]
    return {"word_length": float(np.mean([len(w) for w in words])),
            "known_words": float(np.mean([w.lower() in known for w in words])),
            "capital_lines": float(np.mean([line[0].isupper() for line in lines])) if lines else float("nan")}
