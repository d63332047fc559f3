"""A small encoder-decoder (sequence to sequence) in torch, with or without additive attention, and the
task it is trained on: writing a string of digits backwards.

Chapter 8. Time-major like the rest of rnnlib. Tokens: the digits 0-9, ``BOS`` (start of the output) and
``EOS`` (end of the output). A source ``x_1 .. x_S`` of digits becomes the target ``x_S .. x_1 EOS``.

Encoder: the embedded digits go through a bidirectional GRU of ``H // 2`` units each way; the annotation
``h_j (H,)`` of source position ``j`` joins both directions, and the *summary* ``z (H,)`` joins the last
state of each direction. Decoder: a GRU of ``H`` units that starts from ``s_0 = z`` and reads, at output
position ``i``, the embedded previous token with the summary, ``[E y_{i-1}; z]``. The read-out is

    log p(y_i | y_<i, x) = log_softmax(W_o [s_i; c_i] + b_o)

where the context ``c_i`` is the summary ``z`` for every ``i`` without attention (the whole source reaches
the decoder through ``H`` numbers), and with attention the additive attention of Bahdanau et al. (2015),
queried with the new state ``s_i`` as in Luong et al. (2015):

    e_ij = v . tanh(W s_i + U h_j + b),   a_ij = softmax_j(e_ij),   c_i = sum_j a_ij h_j,

with ``W (A, H)``, ``U (A, H)``, ``b, v (A,)`` and an attention size ``A`` (32 by default).

Because ``c_i`` does not feed back into the recurrence, the teacher-forced decoder runs its GRU over all
output positions in one call, and so does ``decode`` over any number of given tokens.

    model = Seq2Seq(hidden_size=64, attention=True)
    src, dec_in, target = reversal_batch(rng, n=7, N=32)     # (7, 32), (8, 32), (8, 32)
    log_probs, state, weights = model.decode(dec_in, model.encode(src))   # (8, 32, 12), (32, 64), (32, 8, 7)
"""

import math
from typing import NamedTuple

import numpy as np
import torch
from torch import nn

from rnnlib.models import beam

DIGITS, BOS, EOS = 10, 10, 11
VOCAB = 12  # ten digits, BOS, EOS


def reversal_batch(rng, n, N):
    """``N`` random strings of ``n`` digits (numpy ``Generator`` ``rng``), as int64 tensors: the source
    ``(n, N)``, the decoder's teacher-forced input ``BOS x_n .. x_1`` and the target ``x_n .. x_1 EOS``,
    both ``(n + 1, N)``."""
    if not isinstance(n, (int, np.integer)) or n < 1:
        raise ValueError(f"n: expected a positive number of digits, got {n!r}")
    src = torch.as_tensor(rng.integers(DIGITS, size=(n, N)))
    backwards = src.flip(0)
    return (src, torch.cat([torch.full((1, N), BOS), backwards]),
            torch.cat([backwards, torch.full((1, N), EOS)]))


def reversal_sampler(rng, lengths, N):
    """A ``batches(step)`` function for ``practice.train``: a batch of ``N`` strings whose common length is
    drawn from ``lengths`` at every call."""
    lengths = list(lengths)
    return lambda step: reversal_batch(rng, int(rng.choice(lengths)), N)


class Memory(NamedTuple):
    """What the encoder hands to the decoder: ``annotations (S, N, H)``, ``keys (S, N, A)`` (``U h_j + b``,
    computed once; ``None`` without attention) and ``summary (N, H)``."""

    annotations: torch.Tensor
    keys: torch.Tensor | None
    summary: torch.Tensor

    def rows(self, index):
        """The memory of the inputs ``index`` (on the batch axis), in that order."""
        index = torch.as_tensor(index)
        keys = None if self.keys is None else self.keys[:, index]
        return Memory(self.annotations[:, index], keys, self.summary[index])


class AdditiveAttention(nn.Module):
    """``e_ij = v . tanh(W s_i + U h_j + b)``, ``a_ij = softmax_j(e_ij)``, ``c_i = sum_j a_ij h_j``.

    ``keys(annotations (S, N, H))`` computes ``U h_j + b (S, N, A)`` once per source;
    ``forward(queries (T, N, Hq), keys (S, N, A), annotations (S, N, H))`` returns the contexts
    ``(T, N, H)`` and the weights ``(N, T, S)`` (each row sums to 1 over the source positions ``j``).
    """

    def __init__(self, query_size, key_size, attention_size):
        super().__init__()
        self.W = nn.Linear(query_size, attention_size, bias=False)
        self.U = nn.Linear(key_size, attention_size)
        self.v = nn.Linear(attention_size, 1, bias=False)

    def keys(self, annotations):
        return self.U(annotations)

    def forward(self, queries, keys, annotations):
        scores = self.v(torch.tanh(self.W(queries)[:, None] + keys[None]))[..., 0]  # (T, S, N)
        weights = torch.softmax(scores, dim=1).permute(2, 0, 1)  # (N, T, S)
        return torch.einsum("nts,snh->tnh", weights, annotations), weights


class Seq2Seq(nn.Module):
    """The encoder-decoder of the module docstring; ``attention=False`` reads the summary only, and
    ``attention_size`` is ``A``."""

    def __init__(self, hidden_size=64, embed_size=16, attention=True, attention_size=32):
        super().__init__()
        if hidden_size < 2 or hidden_size % 2:
            raise ValueError(f"hidden_size: expected an even number of at least 2, got {hidden_size!r}")
        H, E = hidden_size, embed_size
        self.source_embed = nn.Embedding(DIGITS, E)
        self.encoder = nn.GRU(E, H // 2, bidirectional=True)
        self.target_embed = nn.Embedding(VOCAB, E)
        self.decoder = nn.GRU(E + H, H)
        self.attention = AdditiveAttention(H, H, attention_size) if attention else None
        self.head = nn.Linear(2 * H, VOCAB)

    def encode(self, src):
        """``src (S, N)`` digits -> ``Memory``."""
        annotations, last = self.encoder(self.source_embed(src))  # last (2, N, H / 2): each direction
        keys = None if self.attention is None else self.attention.keys(annotations)
        return Memory(annotations, keys, torch.cat([last[0], last[1]], dim=-1))

    def decode(self, tokens, memory, state=None):
        """Read ``tokens (T, N)`` (``BOS`` and the outputs so far) from ``state (N, H)`` (default: the
        summary, the start of decoding). Returns the log-probabilities of the next token at every position
        ``(T, N, VOCAB)``, the last state ``(N, H)`` and the attention weights ``(N, T, S)`` (or ``None``)."""
        state = memory.summary if state is None else state
        summary = memory.summary.expand(len(tokens), *memory.summary.shape)
        states, last = self.decoder(torch.cat([self.target_embed(tokens), summary], dim=-1), state[None])
        if self.attention is None:
            contexts, weights = summary, None
        else:
            contexts, weights = self.attention(states, memory.keys, memory.annotations)
        scores = self.head(torch.cat([states, contexts], dim=-1))
        return torch.log_softmax(scores, dim=-1), last[0], weights

    def forward(self, src, dec_in):
        """Teacher forcing: the log-probabilities ``(T, N, VOCAB)`` of the next token after each prefix of
        ``dec_in (T, N)``."""
        return self.decode(dec_in, self.encode(src))[0]


def teacher_forced_loss(model, batch):
    """Mean cross-entropy of the targets given the true previous tokens; ``batch = (src, dec_in, target)``
    (``reversal_batch``). A loss function for ``practice.train``."""
    src, dec_in, target = batch
    return nn.functional.nll_loss(model(src, dec_in).reshape(-1, VOCAB), target.reshape(-1))


def decoder_step(model, memory):
    """A ``step(tokens, state)`` for ``rnnlib.models.beam`` over the inputs of ``memory``. Its ``state`` is the pair
    ``(s (B, H), rows (B,))``: each prefix's decoder state and the input it belongs to."""

    @torch.no_grad()
    def step(tokens, state):
        s, rows = state
        log_probs, s, _ = model.decode(torch.as_tensor(tokens)[None], memory.rows(rows), s)
        return log_probs[0].double().numpy(), (s, rows)

    return step


def start(memory, rows):
    """The ``state`` that starts ``decoder_step`` on the inputs ``rows`` of ``memory``."""
    rows = torch.as_tensor(rows)
    return memory.summary[rows], rows


@torch.no_grad()
def greedy(model, src, max_len):
    """Greedy decoding of ``src (S, N)``: ``(tokens (N, max_len), log-likelihoods (N,))`` (``beam.greedy``)."""
    memory = model.encode(src)
    return beam.greedy(decoder_step(model, memory), start(memory, range(src.shape[1])), BOS, EOS, max_len)


@torch.no_grad()
def beam_decode(model, src, width, max_len):
    """Beam search of width ``width`` for each input of ``src (S, N)``: a list of ``N`` token lists (with
    ``EOS``) and their log-likelihoods ``(N,)``."""
    memory = model.encode(src)
    return beam.beam_search(decoder_step(model, memory), start(memory, range(src.shape[1])), BOS, EOS,
                            width, max_len)


@torch.no_grad()
def log_likelihood(model, src, target):
    """``(N,)`` log-likelihood of each ``target`` column (ending with ``EOS``) under the model, in float64."""
    dec_in = torch.cat([torch.full((1, target.shape[1]), BOS), target[:-1]])
    log_probs = model(src, dec_in).double()
    return log_probs.gather(2, target[..., None])[..., 0].sum(0).numpy()


def matches(outputs, target):
    """``(N,)`` booleans: output ``n`` (a row of tokens, read up to its first ``EOS``) equals target column
    ``n`` (which ends with ``EOS``)."""
    want = target.T.tolist()
    return np.array([_until_eos(list(out)) == w for out, w in zip(outputs, want)])


def _until_eos(tokens):
    tokens = [int(t) for t in tokens]
    return tokens[:tokens.index(EOS) + 1] if EOS in tokens else tokens


def parameter_count(model):
    return sum(p.numel() for p in model.parameters())


def entropy_bits(weights):
    """Mean entropy, in bits, of attention rows ``weights (..., S)``: 0 for a row on one position,
    ``log2 S`` for a uniform row."""
    w = weights.clamp_min(1e-30)
    return float(-(w * torch.log(w)).sum(-1).mean() / math.log(2))
