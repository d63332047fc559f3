"""Problem set 6, generating sequences and recurrence today (chapters 8 and 9): perplexity_and_bits,
beam_step, linear_scan, mingru_forward.

For each exercise: the reference (rnnlib), the mistakes students plausibly make with the line that
names each, and the hidden cases (unseen inputs; first the cases that isolate one term each).

Two kinds of argument need more than nested numbers: integer symbols (``targets``, ``tokens``) are
passed as ``{"ints": nested list}``, and ``beam_step``'s model is a function, passed as
``{"expr": "lambda tokens, state: ..."}`` with its arrays written out, rounded like every hidden input.
"""

import numpy as np

from grader.exercise import Exercise
from rnnlib.core import scan
from rnnlib.core._checks import sigmoid
from rnnlib.models import sequence_metrics

NOTEBOOK = "ps6_generating_today.ipynb"


def perplexity_and_bits(log_probs, targets, mask):
    keep = np.asarray(mask) > 0
    nats = sequence_metrics.mean_nll(log_probs[keep], targets[keep])
    return {"nats": nats, "perplexity": sequence_metrics.perplexity(nats), "bits": sequence_metrics.bits(nats)}


def _best_first(total, width):
    """The flat indices of the ``width`` largest entries of ``total``, largest first (as rnnlib.models.beam)."""
    return np.argsort(-total, axis=None, kind="stable")[:width]


def beam_step(step, tokens, state, scores, width):
    log_probs, new_state = step(tokens, state)
    total = scores[:, None] + log_probs
    parents, next_tokens = np.unravel_index(_best_first(total, width), total.shape)
    return parents, next_tokens, total[parents, next_tokens], new_state[parents]


def linear_scan(a, b, h0):
    return scan.loop(a, b, h0)


def mingru_forward(xs, h0, W_z, b_z, W_h, b_h):
    from rnnlib.core import mingru  # imports torch: only when references are made, never while grading

    return mingru.forward(xs, h0, W_z, b_z, W_h, b_h)


# ---- mistakes: perplexity_and_bits ---------------------------------------------------------------

def _target_loss(log_probs, targets):
    return -np.take_along_axis(log_probs, targets[..., None], axis=-1)[..., 0]


def _metrics_variant(per_token=_target_loss, average="tokens", ppl=np.exp, bits=lambda nats: nats / np.log(2.0)):
    """``per_token(log_probs, targets)`` gives each position's loss, ``average`` says how they are pooled."""
    def metrics(log_probs, targets, mask):
        loss = per_token(log_probs, targets)
        pooled = {"tokens": lambda v: np.sum(v * mask) / np.sum(mask), "all": np.mean,
                  "sum": lambda v: np.sum(v * mask),
                  "sequences": lambda v: np.mean(np.sum(v * mask, axis=0) / np.sum(mask, axis=0))}
        nats = pooled["tokens" if average == "exp_mean" else average](loss)
        perplexity = pooled["tokens"](np.exp(loss)) if average == "exp_mean" else ppl(nats)
        return {"nats": nats, "perplexity": perplexity, "bits": bits(nats)}
    return metrics


METRICS_MISTAKES = [
    ("the padded positions are counted: average the losses over the positions where mask is 1 only",
     _metrics_variant(average="all")),
    ("each sequence's mean loss is averaged, so a short sequence weighs as much as a long one; average over "
     "all real tokens at once: sum(loss * mask) / sum(mask)", _metrics_variant(average="sequences")),
    ("the losses are summed, not averaged: perplexity and bits are per symbol, from the mean loss",
     _metrics_variant(average="sum")),
    ("the minus sign is missing: the loss of a token is -log p (positive), so the perplexity is at least 1",
     _metrics_variant(per_token=lambda lp, t: -_target_loss(lp, t))),
    ("the perplexity is e^nats, not 2^nats: the losses are natural logarithms (2^bits is the same number)",
     _metrics_variant(ppl=lambda nats: 2.0 ** nats)),
    ("a bit is ln 2 nats: bits = nats / ln 2, not nats * ln 2", _metrics_variant(bits=lambda nats: nats * np.log(2.0))),
    ("the perplexity is the exponential of the mean loss, not the mean of the per-token exponentials",
     _metrics_variant(average="exp_mean")),
    ("the loss uses the likeliest symbol's log-probability; take the target's, log_probs[t, n, targets[t, n]]",
     _metrics_variant(per_token=lambda lp, t: -lp.max(axis=-1))),
    ("the loss of a position is -log_probs[t, n, targets[t, n]], not the mean over all V symbols",
     _metrics_variant(per_token=lambda lp, t: -lp.mean(axis=-1))),
]


# ---- mistakes: beam_step -------------------------------------------------------------------------

def _beam_variant(rank=lambda scores, log_probs: scores[:, None] + log_probs, order=_best_first,
                  unravel=lambda best, shape: np.unravel_index(best, shape), score_of="total",
                  state_of=lambda new_state, state, parents: new_state[parents]):
    def step_beam(step, tokens, state, scores, width):
        log_probs, new_state = step(tokens, state)
        total = rank(scores, log_probs)
        parents, next_tokens = unravel(order(total, width), total.shape)
        kept = (scores[:, None] + log_probs if score_of == "total" else log_probs)[parents, next_tokens]
        return parents, next_tokens, kept, state_of(new_state, state, parents)
    return step_beam


def _per_prefix_best(step, tokens, state, scores, width):
    log_probs, new_state = step(tokens, state)
    total = scores[:, None] + log_probs
    best = np.argmax(total, axis=1)
    order = np.argsort(-total[np.arange(len(best)), best], kind="stable")
    return order, best[order], total[order, best[order]], new_state[order]


BEAM_MISTAKES = [
    ("the extensions are ranked by the new token's log-probability alone; rank them by the total, "
     "scores[b] + log_probs[b, v]",
     _beam_variant(rank=lambda scores, log_probs: log_probs + 0.0 * scores[:, None])),
    ("the kept scores are the new token's log-probabilities; return the totals, scores[b] + log_probs[b, v]",
     _beam_variant(score_of="token")),
    ("log-probabilities add along a sequence: the total is scores[b] + log_probs[b, v], not their product",
     _beam_variant(rank=lambda scores, log_probs: scores[:, None] * log_probs)),
    ("the worst extensions are kept: keep the width largest totals",
     _beam_variant(order=lambda total, width: np.argsort(total, axis=None, kind="stable")[:width])),
    ("the kept extensions are not in order: return them best first",
     _beam_variant(order=lambda total, width: np.sort(_best_first(total, width)))),
    ("the flat index was split with B instead of V: in a (B, V) array, index i is row i // V, column i % V",
     _beam_variant(unravel=lambda best, shape: (best // shape[0], best % shape[0]))),
    ("each prefix keeps only its own best token; compare all B * V extensions together and keep the width best",
     _per_prefix_best),
    ("the state is not reordered: the kept extensions' states are new_state[parents]",
     _beam_variant(state_of=lambda new_state, state, parents: new_state)),
    ("the state returned is the old one: keep the state the step function returned, new_state[parents]",
     _beam_variant(state_of=lambda new_state, state, parents: state[parents])),
]


# ---- mistakes: linear_scan -----------------------------------------------------------------------

def _fold(a, b, h0):
    return np.concatenate([(a[0] * h0 + b[0])[None], b[1:]])


def _scan_variant(fold=_fold, levels=None, compose="right", update_a=True, shift=lambda d: 2 * d,
                  roll=False, with_h0=False):
    """Hillis-Steele with one thing changed. ``levels(T)`` fixes the number of levels (else while d < T)."""
    def scan_states(a, b, h0):
        A, B, T, d, level = a, fold(a, b, h0), len(a), 1, 0
        while (d < T) if levels is None else (level < levels(T)):
            if roll:
                A_prev, B_prev = np.roll(A, d, axis=0), np.roll(B, d, axis=0)
                A_new, B_new = A * A_prev, A * B_prev + B
            else:
                A_prev = np.concatenate([np.ones_like(A[:d]), A[:-d]])
                B_prev = np.concatenate([np.zeros_like(B[:d]), B[:-d]])
                A_new = A * A_prev
                B_new = {"right": A * B_prev + B, "left": A_prev * B + B_prev,  # left: the earlier map last
                         "a_first": A_new * B_prev + B}[compose]
            A, B = (A_new if update_a else A), B_new
            d, level = shift(d), level + 1
        return np.concatenate([h0[None], B]) if with_h0 else B
    return scan_states


SCAN_MISTAKES = [
    ("one level short when T is not a power of 2: keep doubling d while d < T (ceil(log2 T) levels, "
     "int(log2 T) is one too few)", _scan_variant(levels=lambda T: int(np.log2(T)))),
    ("h0 is left out: fold it into the first step, b_1 becomes a_1 * h0 + b_1",
     _scan_variant(fold=lambda a, b, h0: b)),
    ("h0 enters without a_1: the first state is h_1 = a_1 * h0 + b_1, not h0 + b_1",
     _scan_variant(fold=lambda a, b, h0: np.concatenate([(h0 + b[0])[None], b[1:]]))),
    ("the two maps are composed in the wrong order: the earlier pair (A', B') goes first, "
     "(A, B) o (A', B') = (A * A', A * B' + B)", _scan_variant(compose="left")),
    ("A was updated before B used it: compute the new B with the A of the previous level",
     _scan_variant(compose="a_first")),
    ("A is never updated: at every level both parts of the pair are composed, A becomes A * A'",
     _scan_variant(update_a=False)),
    ("the shift grows by 1 each level; it doubles, d = 1, 2, 4, ..., so each pair is composed with the "
     "one that ends just before it starts", _scan_variant(shift=lambda d: d + 1)),
    ("np.roll wraps the last steps around to the front: the first d pairs have nothing before them and "
     "stay as they are", _scan_variant(roll=True)),
    ("T + 1 states: return h_1 .. h_T; h0 is not one of them", _scan_variant(with_h0=True)),
]


# ---- mistakes: mingru_forward --------------------------------------------------------------------

def _mingru_variant(gate=sigmoid, candidate=lambda c: c, old_weight="1 - z", new_weight="z", start=True,
                    swapped=False):
    """A minGRU with one thing changed, whose recurrence is the reference ``linear_scan``: the grader then
    knows the calls a mistake makes to the helper, and names the mistake when the student's scan is wrong
    too (its stand-in answers those calls)."""
    def forward(xs, h0, W_z, b_z, W_h, b_h):
        if swapped:
            W_z, b_z, W_h, b_h = W_h, b_h, W_z, b_z
        z = gate(xs @ W_z.T + b_z)
        h_tilde = candidate(xs @ W_h.T + b_h)
        weights = {"1 - z": 1.0 - z, "z": z, "1": np.ones_like(z)}
        return linear_scan(weights[old_weight], weights[new_weight] * h_tilde, h0 if start else np.zeros_like(h0))
    return forward


MINGRU_MISTAKES = [
    ("z weighs the candidate in the minGRU: h_t = (1 - z) * h_{t-1} + z * h~ (PyTorch's GRU puts z on the "
     "old state instead)", _mingru_variant(old_weight="z", new_weight="1 - z")),
    ("the minGRU's candidate has no tanh: h~ = x W_h^T + b_h", _mingru_variant(candidate=np.tanh)),
    ("the sigmoid is missing: z = sigmoid(x W_z^T + b_z), a number between 0 and 1",
     _mingru_variant(gate=lambda a: a)),
    ("h0 is left out: the recurrence starts from the h0 it is given", _mingru_variant(start=False)),
    ("the candidate is not weighted by z: b_t = z * h~, so h_t = (1 - z) * h_{t-1} + z * h~",
     _mingru_variant(new_weight="1")),
    ("W_z, b_z and W_h, b_h are swapped: the gate z uses W_z and b_z, the candidate W_h and b_h",
     _mingru_variant(swapped=True)),
]


# ---- hidden cases --------------------------------------------------------------------------------

def _ints(array):
    return {"ints": np.asarray(array, dtype=np.int64).tolist()}


def _log_softmax(scores):
    shifted = scores - scores.max(axis=-1, keepdims=True)
    return shifted - np.log(np.exp(shifted).sum(axis=-1, keepdims=True))


def _lengths_mask(T, lengths):
    return (np.arange(T)[:, None] < np.asarray(lengths)[None, :]).astype(np.float64)


def metrics_cases(rng):
    def case(T, N, V, lengths, spread=1.5, uniform=False):
        log_probs = np.full((T, N, V), -np.log(V)) if uniform else _log_softmax(spread * rng.standard_normal((T, N, V)))
        return {"log_probs": log_probs, "targets": _ints(rng.integers(V, size=(T, N))),
                "mask": _lengths_mask(T, lengths)}
    return [
        ("a uniform model over V = 5 symbols, no padding: the perplexity is V (T = 3, N = 2)",
         case(3, 2, 5, [3, 3], uniform=True)),
        ("no padding, one sequence (T = 6, N = 1, V = 4)", case(6, 1, 4, [6])),
        ("padding, sequences of lengths 4, 1 and 2 (T = 4, N = 3, V = 6)", case(4, 3, 6, [4, 1, 2])),
        ("a sharp model, padding (T = 5, N = 2, V = 3)", case(5, 2, 3, [5, 2], spread=4.0)),
        ("every term, T = 7, N = 4, V = 8", case(7, 4, 8, [7, 3, 5, 1])),
    ]


def _literal(array):
    return f"np.array({np.round(array, 3).tolist()})"


def _model_expr(rng, V, H, state_matters=True):
    """A decoder step as an expression: log-probs from the last token and (if ``state_matters``) the state,
    and a new state from both."""
    L, E = rng.standard_normal((V, V)), rng.standard_normal((V, H))
    U = rng.standard_normal((H, V)) if state_matters else np.zeros((H, V))
    A = rng.uniform(-0.8, 0.8, (H, H))
    return {"expr": (f"lambda tokens, state: (lambda s: (s - np.log(np.sum(np.exp(s), axis=1))[:, None], "
                     f"np.tanh(state @ {_literal(A)} + {_literal(E)}[tokens])))"
                     f"({_literal(L)}[tokens] + state @ {_literal(U)})")}


def beam_cases(rng):
    def case(B, V, H, width, equal_scores=False, state_matters=True):
        scores = np.zeros(B) if equal_scores else -np.sort(rng.uniform(0.2, 4.0, B))
        return {"step": _model_expr(rng, V, H, state_matters), "tokens": _ints(rng.integers(V, size=B)),
                "state": rng.uniform(-1, 1, (B, H)), "scores": scores, "width": width}
    return [
        ("equal scores, so the totals rank as the log-probabilities (B = 3, V = 4, H = 2, width 2)",
         case(3, 4, 2, 2, equal_scores=True)),
        ("the first step: one prefix (B = 1, V = 6, H = 3, width 4)", {**case(1, 6, 3, 4), "scores": np.zeros(1)}),
        ("width 1, greedy (B = 2, V = 5, H = 3)", case(2, 5, 3, 1)),
        ("log-probabilities that do not depend on the state (B = 4, V = 3, H = 2, width 3)",
         case(4, 3, 2, 3, state_matters=False)),
        ("every term, more kept than there are prefixes (B = 3, V = 7, H = 4, width 5)", case(3, 7, 4, 5)),
        ("every term, B = 5, V = 6, H = 2, width 5", case(5, 6, 2, 5)),
    ]


def scan_cases(rng):
    def case(T, N, H, a=None, b=None, h0=None):
        # |a| near 1 on long sequences, so that the first steps still count at the end: a scan that stops a
        # level early (or after a fixed number of levels) leaves them out, and the answer must show it
        low = 0.3 if T < 10 else 1 - 2 / T
        a = np.where(rng.random((T, N, H)) < 0.5, -1, 1) * rng.uniform(low, 1, (T, N, H)) if a is None else a
        return {"a": a,
                "b": rng.standard_normal((T, N, H)) if b is None else b,
                "h0": rng.standard_normal((N, H)) if h0 is None else h0}
    return [
        ("a = 1 and h0 = 0: a running sum of b (T = 5, N = 2, H = 3)",
         case(5, 2, 3, a=np.ones((5, 2, 3)), h0=np.zeros((2, 3)))),
        ("b = 0: h0 times the products of a (T = 6, N = 1, H = 2)", case(6, 1, 2, b=np.zeros((6, 1, 2)))),
        ("one step, T = 1 (N = 2, H = 3)", case(1, 2, 3)),
        ("T = 2 (N = 3, H = 1)", case(2, 3, 1)),
        ("T = 8, a power of 2 (N = 2, H = 3)", case(8, 2, 3)),
        ("T = 13 (N = 2, H = 4)", case(13, 2, 4)),
        ("T = 33, one more than a power of 2 (N = 1, H = 2)", case(33, 1, 2)),
        ("T = 100 (N = 2, H = 2)", case(100, 2, 2)),
        ("T = 21, and a drawn from the whole range (-1, 1) (N = 3, H = 2)",
         case(21, 3, 2, a=rng.uniform(-1, 1, (21, 3, 2)))),
    ]


def mingru_cases(rng):
    def case(T, N, D, H, **given):
        args = {"xs": rng.standard_normal((T, N, D)), "h0": rng.standard_normal((N, H)),
                "W_z": rng.uniform(-1, 1, (H, D)), "b_z": rng.uniform(-1, 1, H),
                "W_h": rng.uniform(-1, 1, (H, D)), "b_h": rng.uniform(-1, 1, H)}
        return {**args, **given}
    return [
        ("W_z = 0 and b_z = 0, so z = 1/2 everywhere (T = 3, N = 2, D = 2, H = 3)",
         case(3, 2, 2, 3, W_z=np.zeros((3, 2)), b_z=np.zeros(3))),
        ("h0 = 0 (T = 4, N = 1, D = 3, H = 2)", case(4, 1, 3, 2, h0=np.zeros((1, 2)))),
        ("the candidate is 0 (W_h = 0, b_h = 0): h_t is h0 times the products of 1 - z (T = 5, N = 2, D = 1, H = 2)",
         case(5, 2, 1, 2, W_h=np.zeros((2, 1)), b_h=np.zeros(2))),
        ("every term, T = 6, N = 3, D = 2, H = 4", case(6, 3, 2, 4)),
        ("every term, T = 9, N = 2, D = 5, H = 3", case(9, 2, 5, 3)),
    ]


MINGRU_LAYOUT = ("a shape mismatch: in PyTorch's layout W_z and W_h are (H, D), so the products are xs @ W_z.T "
                 "and xs @ W_h.T")
BEAM_SHAPES = "a shape mismatch: log_probs is (B, V), one row per prefix; scores (B,) goes along the rows"

EXERCISES = [
    Exercise(
        name="perplexity_and_bits", test_cell="test_perplexity_and_bits", reference=perplexity_and_bits,
        hidden_cases=metrics_cases, seed=601, mistakes=METRICS_MISTAKES,
        hints={"error:broadcast": "a shape mismatch: log_probs is (T, N, V), targets and mask are (T, N)"},
    ),
    Exercise(
        name="beam_step", test_cell="test_beam_step", reference=beam_step, hidden_cases=beam_cases, seed=602,
        mistakes=BEAM_MISTAKES, outputs=("parents", "tokens", "scores", "state"),
        hints={"error:broadcast": BEAM_SHAPES,
               "error:out of bounds": "an index out of range: in the (B, V) array of totals the flat index i is "
                                      "row i // V and column i % V (np.unravel_index does it)"},
    ),
    Exercise(
        name="linear_scan", test_cell="test_linear_scan", reference=linear_scan, hidden_cases=scan_cases, seed=603,
        mistakes=SCAN_MISTAKES,
        hints={"one_more_first": "T + 1 states: return h_1 .. h_T; h0 is not one of them",
               "missing_first": "one state: return all T states, shape (T, N, H)"},
    ),
    Exercise(
        name="mingru_forward", test_cell="test_mingru_forward", reference=mingru_forward, hidden_cases=mingru_cases,
        seed=604, mistakes=MINGRU_MISTAKES, helpers=("linear_scan",),
        hints={"error:matmul": MINGRU_LAYOUT, "error:broadcast": MINGRU_LAYOUT,
               "missing_first": "the last state only: return all T states, shape (T, N, H)"},
    ),
]
