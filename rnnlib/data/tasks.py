"""Synthetic sequence tasks for the lessons: seeded generators of inputs and targets, time-major.

Every generator takes the batch size ``n`` and a numpy ``Generator`` ``rng`` (nothing global), and
returns arrays in rnnlib's layout: token ids ``(T, N)``, one-hot or real inputs ``(T, N, D)``.
"""

import numpy as np

# Long-range agreement ("The cat, which ..., was happy"): the number of the subject decides the verb.
AGREEMENT_SUBJECTS = (("cat", "cats"), ("dog", "dogs"))  # (singular, plural) pairs
AGREEMENT_FILLERS = ("which", "the", "old", "neighbour", "fed", "every", "day", "in", "garden", "quietly")
AGREEMENT_QUERY = "<verb>"
AGREEMENT_VOCAB = (*(w for pair in AGREEMENT_SUBJECTS for w in pair), *AGREEMENT_FILLERS, AGREEMENT_QUERY)
AGREEMENT_VERBS = ("was", "were")  # the class labels 0 (singular) and 1 (plural)


def agreement(n, F, rng):
    """Subject-verb agreement across ``F`` filler tokens.

    Each sequence is ``[subject, filler_1, ..., filler_F, <verb>]`` (``T = F + 2`` tokens, ids into
    ``AGREEMENT_VOCAB``): a subject drawn uniformly from the four nouns, ``F`` fillers drawn uniformly
    with replacement, and the query token at which the verb's form must be predicted. Only the subject
    decides the answer; the fillers carry no information about it.

    Returns ``tokens (T, N)`` int64 and ``labels (N,)`` int64, 0 for singular ("was"), 1 for plural
    ("were"). Chance accuracy is 1/2.
    """
    if not isinstance(n, (int, np.integer)) or n < 1:
        raise ValueError(f"n: expected a positive integer batch size, got {n!r}")
    if not isinstance(F, (int, np.integer)) or F < 0:
        raise ValueError(f"F: expected a non-negative integer number of fillers, got {F!r}")
    n_subjects, first_filler = 2 * len(AGREEMENT_SUBJECTS), 2 * len(AGREEMENT_SUBJECTS)
    subjects = rng.integers(n_subjects, size=n)
    tokens = np.empty((F + 2, n), dtype=np.int64)
    tokens[0] = subjects
    tokens[1:F + 1] = first_filler + rng.integers(len(AGREEMENT_FILLERS), size=(F, n))
    tokens[F + 1] = len(AGREEMENT_VOCAB) - 1
    return tokens, subjects % 2  # the plural of each pair sits at an odd id


def one_hot(tokens, size):
    """``tokens (T, N)`` integer ids in ``[0, size)`` -> ``(T, N, size)`` float64 one-hot vectors."""
    tokens = np.asarray(tokens)
    if tokens.dtype.kind not in "iu":
        raise TypeError(f"tokens: expected integer ids, got dtype {tokens.dtype}")
    if tokens.size and (tokens.min() < 0 or tokens.max() >= size):
        raise ValueError(f"tokens: expected ids in [0, {size}), got min {tokens.min()} and max {tokens.max()}")
    return np.eye(size)[tokens]


def agreement_sentence(tokens, label=None):
    """One sequence of ``agreement`` as words, e.g. ``"cat which old ... <verb>"``; with ``label`` the
    query is replaced by the right verb."""
    words = [AGREEMENT_VOCAB[int(i)] for i in tokens]
    if label is not None:
        words[-1] = AGREEMENT_VERBS[int(label)]
    return " ".join(words)


# Remember, then forget: hold the value seen at a "set" marker until a "reset" marker.
HOLD_CHANNELS = ("value", "set", "reset")  # the three input features of hold_and_reset, in order


def hold_and_reset(n, T, rng, p_set=0.1, p_reset=0.1):
    """Hold the value seen at a *set* marker until a *reset* marker, then output 0.

    Every step carries a value ``~ U(-1, 1)``; independently at each step, a set marker appears with
    probability ``p_set``, else a reset marker with probability ``p_reset`` (never both at once). The
    target at step t is the value of the most recent set marker (a later set overwrites it), or 0 before
    any set and after a reset that came later than the last set. The input features are ``HOLD_CHANNELS``.

    Returns ``xs (T, N, 3)`` float64 (value, set 0/1, reset 0/1) and ``ys (T, N, 1)`` float64.
    """
    for name, size in (("n", n), ("T", T)):
        if not isinstance(size, (int, np.integer)) or size < 1:
            raise ValueError(f"{name}: expected a positive integer, got {size!r}")
    if not (0 <= p_set and 0 <= p_reset and p_set + p_reset <= 1):
        raise ValueError("p_set, p_reset: expected probabilities with p_set + p_reset <= 1, "
                         f"got {p_set!r} and {p_reset!r}")
    values = rng.uniform(-1.0, 1.0, size=(T, n))
    u = rng.uniform(size=(T, n))
    sets, resets = u < p_set, (u >= p_set) & (u < p_set + p_reset)
    ys = np.zeros((T, n, 1))
    held = np.zeros(n)
    for t in range(T):
        held = np.where(sets[t], values[t], np.where(resets[t], 0.0, held))
        ys[t, :, 0] = held
    return np.stack([values, sets, resets], axis=-1).astype(np.float64), ys


# Capacity of a fixed-size state: hold k bits scattered over a fixed number of slots, report all of them.


def recall_bits(n, k, slots, rng):
    """Store ``k`` random bits that arrive at random distinct steps among ``slots``, then recall them all.

    Every sequence has ``T = slots`` steps and ``D = slots`` input features. Exactly ``k`` steps carry an
    item: at step ``s`` the item is a bit ``+1`` or ``-1`` (equally likely) written on feature ``s``, which
    tells the network *where* it belongs; all other inputs are 0. The ``k`` item steps are a uniformly
    random subset of the slots, drawn anew for each sequence, so the distance between an item and the end
    does not depend on ``k``: only the number of bits to hold does. After the last step the network must
    report the bit of every slot that held an item (a read-out of ``slots`` outputs, scored where
    ``mask``). Chance accuracy is 1/2.

    Returns ``xs (slots, n, slots)`` float64, ``targets (n, slots)`` float64 (1.0 for +1, 0.0 for -1 or an
    empty slot) and ``mask (n, slots)`` bool (True where slot ``s`` held an item; ``k`` per row).
    """
    for name, size in (("n", n), ("slots", slots)):
        if not isinstance(size, (int, np.integer)) or isinstance(size, bool) or size < 1:
            raise ValueError(f"{name}: expected a positive integer, got {size!r}")
    if not isinstance(k, (int, np.integer)) or isinstance(k, bool) or not 1 <= k <= slots:
        raise ValueError(f"k: expected an integer number of items in [1, slots={slots}], got {k!r}")
    positions = np.argsort(rng.random((n, slots)), axis=1)[:, :k]  # k distinct slots per sequence
    bits = rng.choice([-1.0, 1.0], size=(n, k))
    rows = np.arange(n)[:, None]
    xs = np.zeros((slots, n, slots))
    xs[positions, rows, positions] = bits
    mask = np.zeros((n, slots), dtype=bool)
    mask[rows, positions] = True
    targets = np.zeros((n, slots))
    targets[rows, positions] = bits > 0
    return xs, targets, mask


# The adding problem (Hochreiter & Schmidhuber 1997): add the two marked numbers of a long sequence.


def adding(n, T, rng):
    """Sequences of ``T >= 2`` steps with two input features: a value ``U(0, 1)`` and a marker (0 or 1).

    Exactly two steps are marked, one uniformly in the first half (steps ``0 .. T//2 - 1``) and one in
    the second half; the target is the sum of the two marked values. Always answering 1 (the mean
    target) has a mean squared error of 1/6, the variance of a sum of two ``U(0, 1)``: the baseline to
    beat.

    Returns ``xs (T, N, 2)`` float64 (feature 0 the values, feature 1 the markers) and ``ys (N,)``.
    """
    if not isinstance(n, (int, np.integer)) or isinstance(n, bool) or n < 1:
        raise ValueError(f"n: expected a positive integer batch size, got {n!r}")
    if not isinstance(T, (int, np.integer)) or isinstance(T, bool) or T < 2:
        raise ValueError(f"T: expected an integer sequence length of at least 2, got {T!r}")
    values = rng.uniform(0.0, 1.0, size=(T, n))
    first = rng.integers(T // 2, size=n)
    second = T // 2 + rng.integers(T - T // 2, size=n)
    markers = np.zeros((T, n))
    columns = np.arange(n)
    markers[first, columns] = markers[second, columns] = 1.0
    return np.stack([values, markers], axis=-1), values[first, columns] + values[second, columns]


# The temporal-order task (Hochreiter & Schmidhuber 1997, experiment 6a): the order of two marked symbols.
TEMPORAL_ORDER_VOCAB = ("a", "b", "c", "d", "X", "Y", "B", "E")  # distractors, the two relevant symbols, start, end
TEMPORAL_ORDER_CLASSES = ("XX", "XY", "YX", "YY")  # label = 2 * (first is Y) + (second is Y)
TEMPORAL_ORDER_CHANCE = 1 / len(TEMPORAL_ORDER_CLASSES)


def temporal_order_positions(T):
    """The ranges (inclusive) of the two relevant steps for length ``T``: ``((lo1, hi1), (lo2, hi2))``.

    The original task has ``T`` = 100 to 110 with the relevant symbols at steps 10-20 and 50-60; here the
    same proportions of a fixed ``T``: ``[max(1, T//10), max(1, T//5)]`` and ``[T//2, T//2 + T//10]``.
    """
    if not isinstance(T, (int, np.integer)) or isinstance(T, bool) or T < 8:
        raise ValueError(f"T: expected an integer sequence length of at least 8, got {T!r}")
    return (max(1, T // 10), max(1, T // 5)), (T // 2, T // 2 + T // 10)


def temporal_order(n, T, rng):
    """Classify a sequence of ``T`` symbols by the order in which two relevant symbols appeared.

    Step 0 is the start symbol ``B`` and step ``T - 1`` the end symbol ``E``; every other step is a
    distractor drawn uniformly from ``a, b, c, d``, except two steps that carry ``X`` or ``Y`` (each
    equally likely, independently): one uniform in the first range and one in the second range of
    ``temporal_order_positions(T)``. The label is one of ``TEMPORAL_ORDER_CLASSES`` (``XX, XY, YX, YY``),
    so chance accuracy is 1/4; the distractors carry no information about it.

    Returns ``tokens (T, N)`` int64, ids into ``TEMPORAL_ORDER_VOCAB`` (``tasks.one_hot`` gives the inputs
    ``(T, N, 8)``), and ``labels (N,)`` int64 in ``0..3``.
    """
    if not isinstance(n, (int, np.integer)) or isinstance(n, bool) or n < 1:
        raise ValueError(f"n: expected a positive integer batch size, got {n!r}")
    (lo1, hi1), (lo2, hi2) = temporal_order_positions(T)
    tokens = rng.integers(4, size=(T, n))
    tokens[0], tokens[-1] = TEMPORAL_ORDER_VOCAB.index("B"), TEMPORAL_ORDER_VOCAB.index("E")
    first, second = rng.integers(lo1, hi1 + 1, size=n), rng.integers(lo2, hi2 + 1, size=n)
    is_y = rng.integers(2, size=(2, n))
    columns = np.arange(n)
    tokens[first, columns] = TEMPORAL_ORDER_VOCAB.index("X") + is_y[0]
    tokens[second, columns] = TEMPORAL_ORDER_VOCAB.index("X") + is_y[1]
    return tokens.astype(np.int64), (2 * is_y[0] + is_y[1]).astype(np.int64)


# The copy task (Arjovsky, Shah & Bengio 2016): reproduce a short string after a long blank gap.
COPY_BLANK = 0  # token id of the blank; the symbols are 1..n_symbols and the delimiter is n_symbols + 1


def copy(n, T, rng, length=10, n_symbols=8):
    """Read ``length`` symbols, wait through a gap, then write the symbols back when a delimiter appears.

    Each sequence has ``T + 2 * length`` steps: ``length`` symbols drawn uniformly from ``1..n_symbols``,
    ``T - 1`` blanks (id ``COPY_BLANK`` = 0), the delimiter (id ``n_symbols + 1``), then ``length`` blanks.
    The target is a blank at each of the first ``T + length`` steps and the ``length`` symbols, in order,
    at the last ``length`` steps. The vocabulary has ``n_symbols + 2`` ids (``tasks.one_hot``).

    Returns ``tokens (T + 2*length, N)`` and ``targets (T + 2*length, N)``, both int64.
    See ``copy_baseline`` for the loss of a model without memory.
    """
    for name, size, least in (("n", n, 1), ("T", T, 1), ("length", length, 1), ("n_symbols", n_symbols, 2)):
        if not isinstance(size, (int, np.integer)) or isinstance(size, bool) or size < least:
            raise ValueError(f"{name}: expected an integer of at least {least}, got {size!r}")
    symbols = rng.integers(1, n_symbols + 1, size=(length, n))
    tokens = np.full((T + 2 * length, n), COPY_BLANK, dtype=np.int64)
    tokens[:length] = symbols
    tokens[length + T - 1] = n_symbols + 1
    targets = np.full_like(tokens, COPY_BLANK)
    targets[T + length:] = symbols
    return tokens, targets


def copy_baseline(T, length=10, n_symbols=8):
    """Mean cross-entropy per step (nats) of the best model *without memory* on ``copy(n, T, ...)``.

    It predicts a blank with certainty until the delimiter has passed and then a uniform guess over the
    ``n_symbols`` symbols, so it scores ``length * log(n_symbols) / (T + 2 * length)``; its accuracy on
    the ``length`` recall steps is ``1 / n_symbols``.
    """
    return length * float(np.log(n_symbols)) / (T + 2 * length)
