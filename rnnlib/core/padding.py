"""Batches of sequences of different lengths: padding, masks, and the state at each sequence's end.

    xs, mask, lengths = padding.pad(sequences)     # xs (T, N, D), mask (T, N), lengths (N,)
    h_end = padding.last_states(hs, lengths)       # hs (T, N, H) -> (N, H)
    loss = padding.masked_mean(values, mask)       # values (T, N, ...) -> mean over the real steps

Time-major, as in the rest of rnnlib and as ``torch.nn.utils.rnn.pad_sequence`` (``batch_first=False``):
sequence ``n`` fills ``xs[:lengths[n], n]`` and the padding after it holds ``value``. ``mask[t, n]`` is
1.0 where ``xs[t, n]`` is a real step and 0.0 where it is padding. A recurrent layer run over the padded
batch keeps updating the state through the padding, so the state that summarises sequence ``n`` is
``hs[lengths[n] - 1, n]`` (``last_states``), not ``hs[-1, n]``; this is the ``h_n`` that
``torch.nn.utils.rnn.pack_padded_sequence`` makes a torch module return.
"""

import numpy as np

from rnnlib.core._checks import as_array, expect_shape


def pad(sequences, value=0.0):
    """Stack ``N`` sequences of shapes ``(L_n, D)`` into ``xs (T, N, D)`` with ``T = max L_n``.

    Returns ``xs`` (float, the dtype of the inputs), ``mask (T, N)`` (1.0 on real steps, 0.0 on
    padding, same dtype) and ``lengths (N,)`` (int64). Every sequence needs at least one step.
    """
    if isinstance(sequences, np.ndarray) or not len(sequences):
        raise ValueError("sequences: expected a non-empty list of (L, D) arrays, got "
                         + (f"an array of shape {sequences.shape}" if isinstance(sequences, np.ndarray) else "none"))
    arrays = [as_array(f"sequences[{n}]", seq) for n, seq in enumerate(sequences)]
    D = arrays[0].shape[-1] if arrays[0].ndim == 2 else None
    for n, seq in enumerate(arrays):
        expect_shape(f"sequences[{n}]", seq, (("L", None), ("D", D)))
        if not len(seq):
            raise ValueError(f"sequences[{n}]: expected at least one step (L >= 1), got shape {seq.shape}")
    lengths = np.array([len(seq) for seq in arrays], dtype=np.int64)
    dtype = np.result_type(*arrays)
    xs = np.full((lengths.max(), len(arrays), D), value, dtype=dtype)
    mask = np.zeros((lengths.max(), len(arrays)), dtype=dtype)
    for n, seq in enumerate(arrays):
        xs[: len(seq), n] = seq
        mask[: len(seq), n] = 1.0
    return xs, mask, lengths


def _lengths(lengths, T, N):
    lengths = np.asarray(lengths)
    if lengths.shape != (N,) or lengths.dtype.kind not in "iu":
        raise ValueError(f"lengths: expected {N} integers (one per sequence), got {lengths.dtype} of shape "
                         f"{lengths.shape}")
    if lengths.min() < 1 or lengths.max() > T:
        raise ValueError(f"lengths: expected every length in 1..T={T}, got {lengths.tolist()}")
    return lengths


def last_states(hs, lengths):
    """The state of each sequence at its own last real step: ``hs[lengths[n] - 1, n]``.

    ``hs (T, N, H)`` are the states of a padded batch, ``lengths (N,)`` integers in ``1..T``.
    Returns ``(N, H)``.
    """
    hs = as_array("hs", hs)
    expect_shape("hs", hs, (("T", None), ("N", None), ("H", None)))
    lengths = _lengths(lengths, hs.shape[0], hs.shape[1])
    return hs[lengths - 1, np.arange(hs.shape[1])]


def masked_mean(values, mask):
    """Mean of ``values (T, N, ...)`` over the real steps only: ``sum(values * mask) / count``.

    ``mask (T, N)`` holds 1.0 on real steps and 0.0 on padding; trailing dimensions of ``values`` (such
    as the K outputs of a regression) are averaged too, so ``count = mask.sum() * K``. Padded entries
    do not enter the result at all, whatever they hold (even inf or nan). Returns a float.
    """
    values, mask = as_array("values", values), as_array("mask", mask)
    if values.ndim < 2:
        raise ValueError(f"values: expected shape (T, N, ...), got {values.shape}")
    expect_shape("mask", mask, (("T", values.shape[0]), ("N", values.shape[1])))
    if not np.all((mask == 0) | (mask == 1)) or not mask.any():
        raise ValueError("mask: expected 0s and 1s with at least one 1")
    real = mask.astype(bool)
    return float(values[real].mean())
