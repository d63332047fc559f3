"""A short text shipped with the course, and the character-level encoding used to model it.

``load()`` returns sixteen of Shakespeare's sonnets (1609, public domain; spelling of the Project
Gutenberg edition), about 10 KB, read from ``rnnlib/data/sonnets.txt`` next to this module, so no
download is ever needed. Lines of that file starting with ``#`` are a header, not part of the text.

    text = text.load()
    vocab = text.Vocabulary(text)            # the sorted set of characters, V = len(vocab)
    ids = vocab.encode(text)                 # (L,) integers in 0 .. V-1
    vocab.decode(ids[:20])                   # back to a string
    xs = text.one_hot(ids, len(vocab))       # (L, V) floats, one 1.0 per row
    streams = text.streams(ids, N)           # (L // N, N): N contiguous pieces side by side, time-major
"""

import pathlib

import numpy as np

DATA_DIR = pathlib.Path(__file__).resolve().parent
TEXTS = ("sonnets",)


def load(name="sonnets"):
    """The shipped text ``name`` as one string, without its ``#`` header lines."""
    if name not in TEXTS:
        raise ValueError(f"name: expected one of the shipped texts {TEXTS}, got {name!r}")
    lines = (DATA_DIR / f"{name}.txt").read_text(encoding="utf-8").splitlines(keepends=True)
    return "".join(line for line in lines if not line.startswith("#"))


class Vocabulary:
    """The characters of a text, sorted, each with its index: ``encode`` and ``decode`` convert."""

    def __init__(self, text):
        if not isinstance(text, str) or not text:
            raise ValueError(f"text: expected a non-empty string, got {type(text).__name__} of length "
                             f"{len(text) if hasattr(text, '__len__') else None}")
        self.chars = sorted(set(text))
        self.index = {c: i for i, c in enumerate(self.chars)}

    def __len__(self):
        return len(self.chars)

    def encode(self, text):
        """``(len(text),)`` int64 indices of the characters of ``text``."""
        unknown = sorted(set(text) - self.index.keys())
        if unknown:
            raise ValueError(f"text: expected only characters of the vocabulary, got {unknown[:5]!r}")
        return np.fromiter((self.index[c] for c in text), dtype=np.int64, count=len(text))

    def decode(self, ids):
        """The string spelled by the indices ``ids`` (any shape, read in order)."""
        ids = np.asarray(ids).ravel()
        if ids.size and (ids.dtype.kind not in "iu" or ids.min() < 0 or ids.max() >= len(self)):
            raise ValueError(f"ids: expected integers in 0..{len(self) - 1}, got {ids.dtype} values "
                             f"from {ids.min()} to {ids.max()}")
        return "".join(self.chars[i] for i in ids)


def one_hot(ids, V, dtype=np.float64):
    """``(..., V)`` array with a 1 at position ``ids[...]`` of the last axis and 0 elsewhere."""
    ids = np.asarray(ids)
    if ids.dtype.kind not in "iu":
        raise TypeError(f"ids: expected an integer array, got dtype {ids.dtype}")
    if ids.size and (ids.min() < 0 or ids.max() >= V):
        raise ValueError(f"ids: expected values in 0..{V - 1} (V={V}), got values from {ids.min()} to {ids.max()}")
    out = np.zeros((*ids.shape, V), dtype=dtype)
    np.put_along_axis(out, ids[..., None], 1.0, axis=-1)
    return out


def streams(ids, N):
    """Cut ``ids (L,)`` into ``N`` contiguous pieces of ``L // N`` symbols, one per column: ``(L // N, N)``.

    Column ``n`` is ``ids[n * S:(n + 1) * S]`` with ``S = L // N`` (the last ``L % N`` symbols are
    dropped). Reading the rows in order walks all N pieces forward in parallel, which is how a batch of
    text is fed to a recurrent network whose state is carried from one window to the next.
    """
    ids = np.asarray(ids)
    if ids.ndim != 1:
        raise ValueError(f"ids: expected a 1-D array of symbols, got shape {ids.shape}")
    if not isinstance(N, (int, np.integer)) or not 1 <= N <= len(ids):
        raise ValueError(f"N: expected an integer from 1 to len(ids)={len(ids)}, got {N!r}")
    S = len(ids) // N
    return ids[: N * S].reshape(N, S).T.copy()


def unigram_entropy(ids, V):
    """Entropy, in nats, of the symbol frequencies of ``ids``: the loss of the best model that ignores
    context. It is at most ``ln V``, the loss of the uniform guess."""
    counts = np.bincount(np.asarray(ids).ravel(), minlength=V).astype(np.float64)
    p = counts[counts > 0] / counts.sum()
    return float(-(p * np.log(p)).sum())
