"""The diagonal linear recurrence ``h_t = a_t * h_{t-1} + b_t``, by a loop and by a parallel scan.

Chapter 9. Every product is elementwise (a diagonal recurrence): ``a`` and ``b`` have the same shape
``(T, ...)``, time first, and step ``t = 1..T`` is index ``t - 1``. The state before the first step is
``h0`` (zeros by default, of shape ``a.shape[1:]``). Real and complex values work alike.

- ``loop`` computes the states one step after another: ``T`` steps that must run in order.
- ``scan`` computes the same states with the associative scan of Hillis and Steele: one step
  ``(a, b)`` is the affine map ``h -> a * h + b``, two steps compose into one,
  ``(a2, b2) o (a1, b1) = (a2 * a1, a2 * b1 + b2)``, and composition is associative, so after
  ``ceil(log2 T)`` levels of pairwise compositions (``levels``) every prefix is known. Each level is one
  vectorised operation over all ``T`` steps; the work is about ``T log2 T`` compositions against the
  loop's ``T``, and the depth (the number of levels that must run in order) is ``log2 T`` against ``T``.
- ``tree_scan`` is the work-efficient scan (Blelloch 1990): ``2 ceil(log2 T) - 1`` levels
  (``tree_levels``) and fewer than ``2 T`` compositions (``tree_compositions``); ``reverse_scan`` runs
  the same recurrence from the last step to the first.
- ``backward`` is the gradient of a loss through the recurrence, itself a linear recurrence run in
  reverse time (and so computed by ``reverse_scan``): ``g_t = dL/dh_t = e_t + conj(a_{t+1}) * g_{t+1}``,
  where ``e_t`` is the loss's direct gradient on ``h_t``. ``lag_gradients`` gives ``dL/dh_{T-k}`` for a
  loss on the last state, at every lag ``k``.
- ``torch_scan`` is ``tree_scan`` for torch tensors as one autograd operation whose gradient is that
  of ``backward`` (the layers of ``rnnlib.core.mingru`` and ``rnnlib.core.lru`` use it).

``loop``, ``scan``, ``tree_scan`` and ``reverse_scan`` take numpy arrays or torch tensors (autograd goes
through them); ``backward`` and ``lag_gradients`` are numpy.
"""

import math

import numpy as np


def _backend(x):
    """``(concatenate, ones_like, stack)`` for numpy arrays or torch tensors."""
    if type(x).__module__.startswith("torch"):
        import torch

        return torch.cat, torch.ones_like, torch.stack
    return np.concatenate, np.ones_like, np.stack


def _check(a, b, h0):
    if tuple(a.shape) != tuple(b.shape) or len(a.shape) < 1 or a.shape[0] < 1:
        raise ValueError(f"a, b: expected equal shapes (T, ...) with T >= 1, got {tuple(a.shape)} "
                         f"and {tuple(b.shape)}")
    if h0 is not None and tuple(h0.shape) != tuple(a.shape[1:]):
        raise ValueError(f"h0: expected shape {tuple(a.shape[1:])}, got {tuple(h0.shape)}")


def _fold(a, b, h0):
    """``b`` with the first step's ``b_1`` replaced by ``a_1 * h0 + b_1``: from there on, ``h0 = 0``."""
    return b if h0 is None else _backend(a)[0]([(a[0] * h0 + b[0])[None], b[1:]])


def levels(T):
    """The number of levels of ``scan`` for ``T`` steps: ``ceil(log2 T)`` (0 for a single step)."""
    if not isinstance(T, (int, np.integer)) or isinstance(T, bool) or T < 1:
        raise ValueError(f"T: expected a positive integer, got {T!r}")
    return math.ceil(math.log2(T)) if T > 1 else 0


def compositions(T):
    """How many pairwise compositions ``scan`` performs for ``T`` steps: ``sum over levels of T - d``
    for the shifts ``d = 1, 2, 4, ...`` below ``T`` (the loop performs ``T - 1``)."""
    return sum(T - 2 ** level for level in range(levels(T)))


def loop(a, b, h0=None):
    """States ``hs (T, ...)`` of ``h_t = a_t * h_{t-1} + b_t``, one step at a time (``hs[t-1]`` is h_t)."""
    _check(a, b, h0)
    h, hs = (b[0] * 0 if h0 is None else h0), []
    for a_t, b_t in zip(a, b):
        h = a_t * h + b_t
        hs.append(h)
    return _backend(a)[2](hs)


def scan(a, b, h0=None):
    """The states of ``loop(a, b, h0)`` by a Hillis-Steele associative scan in ``levels(T)`` levels.

    At the level with shift ``d`` (1, 2, 4, ...), the pair at step ``t`` (the composition of the steps
    ``t - d + 1 .. t``) is composed with the pair at step ``t - d``; after the last level the pair at
    ``t`` covers steps ``1 .. t``, and its ``b`` part is ``h_t`` (``h0`` is folded into the first ``b``).
    """
    _check(a, b, h0)
    concatenate = _backend(a)[0]
    A, B = a, _fold(a, b, h0)
    d = 1
    while d < len(a):
        A, B = (concatenate([A[:d], A[d:] * A[:-d]]),
                concatenate([B[:d], A[d:] * B[:-d] + B[d:]]))
        d *= 2
    return B


def backward(a, hs, dhs, h0=None):
    """Gradients of a loss through ``hs = loop(a, b, h0)`` given ``dhs = dL/dhs`` (its direct part).

    The total gradient on each state is ``g_t = dhs_t + conj(a_{t+1}) * g_{t+1}`` (``g_T = dhs_T``), a
    linear recurrence in reverse time, computed here by ``scan``. Returns ``(da, db, dh0)``:
    ``db_t = g_t``, ``da_t = g_t * conj(h_{t-1})`` and ``dh0 = conj(a_1) * g_1`` (for complex values,
    the gradient with respect to the conjugate, as torch defines it).
    """
    _check(a, hs, h0)
    _check(a, dhs, None)
    a_next = np.concatenate([a[1:], np.zeros_like(a[:1])])  # a_{t+1}; nothing after the last step
    g = reverse_scan(np.conj(a_next), dhs)
    h_prev = np.concatenate([(np.zeros_like(hs[0]) if h0 is None else h0)[None], hs[:-1]])
    return g * np.conj(h_prev), g, np.conj(a[0]) * g[0]


def lag_gradients(a, dh_last):
    """``g (T, ...)`` with ``g[k] = dL/dh_{T-k}`` for a loss on the last state only (lag ``k``).

    Through the recurrence each step back multiplies by ``a`` (its conjugate, for complex values):
    ``g[k] = dh_last * prod_{s=T-k+1}^{T} conj(a_s)``, so ``|g[k]| = |dh_last| * prod |a_s|`` exactly.
    Computed by ``backward`` with ``dL/dh_t = 0`` except at ``t = T``; the states do not matter.
    """
    dhs = np.zeros(a.shape, dtype=np.result_type(a, dh_last))
    dhs[-1] = dh_last
    return backward(a, np.zeros_like(dhs), dhs)[1][::-1]


def tree_scan(a, b, h0=None):
    """The states of ``loop(a, b, h0)`` by the work-efficient scan (Blelloch 1990), written recursively.

    Up: compose the steps in pairs, ``(a_2i, b_2i) o (a_2i-1, b_2i-1)``, which halves the sequence; solve
    the half-length recurrence the same way, which gives every second state; down: one step from each of
    those gives the states in between. An odd length is padded with the identity step ``(1, 0)``. Fewer
    than ``2 T`` compositions in ``2 ceil(log2 T) - 1`` levels (``tree_levels``), against ``scan``'s
    ``ceil(log2 T)`` levels and about ``T log2 T`` compositions.
    """
    _check(a, b, h0)
    return _tree(a, _fold(a, b, h0), *_backend(a))


def _tree(a, b, concatenate, ones_like, stack):
    T = len(a)
    if T == 1:
        return b
    if T % 2:  # pad with the identity step, drop its state at the end
        a, b = concatenate([a, ones_like(a[:1])]), concatenate([b, 0 * b[:1]])
    a1, a2 = a.reshape((-1, 2, *a.shape[1:]))[:, 0], a.reshape((-1, 2, *a.shape[1:]))[:, 1]
    b1, b2 = b.reshape((-1, 2, *b.shape[1:]))[:, 0], b.reshape((-1, 2, *b.shape[1:]))[:, 1]
    odd = _tree(a2 * a1, a2 * b1 + b2, concatenate, ones_like, stack)  # h_2, h_4, ...: pairs composed
    even = concatenate([b1[:1], a1[1:] * odd[:-1] + b1[1:]])  # h_1, h_3, ...: one step on
    return stack([even, odd], 1).reshape((-1, *even.shape[1:]))[:T]


def reverse_scan(c, b):
    """``r (T, ...)`` with ``r_t = c_t * r_{t+1} + b_t`` and ``r_{T+1} = 0``: the recurrence of ``tree_scan``
    run from the last step to the first (as in a backward pass), without reversing any array."""
    _check(c, b, None)
    return _tree_reverse(c, b, *_backend(c))


def _tree_reverse(c, b, concatenate, ones_like, stack):
    T = len(c)
    if T == 1:
        return b
    if T % 2:  # pad with the identity step at the end: r_{T+1} = 0 is then its state
        c, b = concatenate([c, ones_like(c[:1])]), concatenate([b, 0 * b[:1]])
    c1, c2 = c.reshape((-1, 2, *c.shape[1:]))[:, 0], c.reshape((-1, 2, *c.shape[1:]))[:, 1]
    b1, b2 = b.reshape((-1, 2, *b.shape[1:]))[:, 0], b.reshape((-1, 2, *b.shape[1:]))[:, 1]
    first = _tree_reverse(c1 * c2, c1 * b2 + b1, concatenate, ones_like, stack)  # r_1, r_3, ...
    second = concatenate([c2[:-1] * first[1:] + b2[:-1], b2[-1:]])  # r_2, r_4, ...: one step back
    return stack([first, second], 1).reshape((-1, *first.shape[1:]))[:T]


def tree_levels(T):
    """The number of levels of ``tree_scan`` for ``T`` steps: ``2 ceil(log2 T) - 1`` (0 for one step)."""
    return max(2 * levels(T) - 1, 0)


def tree_compositions(T):
    """How many compositions ``tree_scan`` needs for ``T`` steps (the identity padding not counted): the
    ``T // 2`` pairs on the way up, the half-length problem, then one step on for each state in between
    on the way down; fewer than ``2 T``."""
    if levels(T) == 0:
        return 0
    half = (T + 1) // 2
    return T // 2 + tree_compositions(half) + half - 1


def torch_scan(a, b, h0=None):
    """``tree_scan`` for torch tensors, with the gradient of ``backward`` (a reverse scan) instead of
    autograd through every level: ``torch.autograd`` sees one operation. Returns ``hs (T, ...)``."""
    _check(a, b, h0)
    return _scan_function()(a, _fold(a, b, h0))


_FUNCTION = []


def _scan_function():
    """The ``torch.autograd.Function`` of ``torch_scan`` (built once, when first needed)."""
    if _FUNCTION:
        return _FUNCTION[0].apply
    import torch

    class LinearScan(torch.autograd.Function):
        @staticmethod
        def forward(ctx, a, b):
            hs = tree_scan(a.detach(), b.detach())
            ctx.save_for_backward(a, hs)
            return hs

        @staticmethod
        def backward(ctx, dhs):
            a, hs = ctx.saved_tensors
            a_next = torch.cat([a[1:], torch.zeros_like(a[:1])]).conj()  # a_{t+1}, 0 after the last
            g = reverse_scan(a_next, dhs)  # g_t = dhs_t + conj(a_{t+1}) g_{t+1}
            h_prev = torch.cat([torch.zeros_like(hs[:1]), hs[:-1]])
            return g * h_prev.conj(), g

    _FUNCTION.append(LinearScan)
    return LinearScan.apply
