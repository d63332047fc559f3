"""Problem set 2, backpropagation through time: softmax_cross_entropy, rnn_step_backward, rnn_backward,
numerical_gradient.

For each exercise: the reference (rnnlib), the mistakes students plausibly make with the line that
names each, and the hidden cases (unseen inputs; first the cases that isolate one term each).

Two kinds of argument cannot be written as nested numbers (which become float64 arrays): the integer
class indices ``targets`` of softmax_cross_entropy and the function ``f`` of numerical_gradient. Cases
pass both as ``{"expr": ...}`` (``np.array([[0, 2]])``, ``lambda x: ...``). When the grader evaluates a
case in long double, every array argument is converted, the integer targets included, so the
functions here turn ``targets`` back into integers first.

A softmax cross-entropy without the max-subtraction is *not* in the catalogue: on logits of size 1000
its answer is nan or inf, and the comparison never reproduces a non-finite answer, so no catalogued
mistake could explain it. The visible case with large logits says in its label what goes wrong there
(an overflow of exp, and the cure), so the one-line failure names the mistake all the same.
"""

import numpy as np

from grader.exercise import Exercise
from rnnlib.core import gradcheck, losses, rnn

NOTEBOOK = "ps2_bptt.ipynb"


def _classes(targets):
    return np.asarray(targets).astype(np.intp)


def softmax_cross_entropy(logits, targets):
    return losses.softmax_cross_entropy(logits, _classes(targets))


def rnn_step_backward(dh, x, h_prev, W_ih, W_hh, h):
    return rnn.cell_backward(dh, (x, h_prev, W_ih, W_hh, h))


def rnn_backward(dhs, xs, h0, W_ih, W_hh, hs):
    return rnn.backward(dhs, (xs, h0, W_ih, W_hh, hs))


def numerical_gradient(f, x, eps=1e-6):
    """rnnlib's centred differences for float64 ``x``; in long double (how the grader builds the
    reference files) the same loop, entry by entry, in that precision."""
    if x.dtype == np.float64:
        return gradcheck.numerical_gradient(lambda: f(x), x, eps=eps)
    return _centred(f, x, eps)


def _centred(f, x, eps, restore=True):
    x = x.copy()
    grad = np.zeros_like(x)
    for idx in np.ndindex(x.shape):
        saved = x[idx]
        x[idx] = saved + eps
        up = f(x)
        x[idx] = saved - eps
        down = f(x)
        if restore:
            x[idx] = saved
        grad[idx] = (up - down) / (2 * eps)
    return grad


# ---- mistakes: softmax_cross_entropy --------------------------------------------------------------

def _sce_variant(loss_scale="mean", grad_scale="mean", sign=1.0, normalise=True, over_all=False):
    """Scales: "mean" divides by T*N, "batch" by N only (summed over time), "sum" by nothing."""
    def sce(logits, targets):
        y = _classes(targets)[..., None]
        e = np.exp(logits - logits.max(axis=-1, keepdims=True))
        if over_all:
            p = e / e.sum()
        else:
            p = e / e.sum(axis=-1, keepdims=True) if normalise else e
        onehot = (np.arange(logits.shape[-1]) == y).astype(logits.dtype)
        divisor = {"mean": y.size, "batch": logits.shape[1], "sum": 1}
        loss = -np.log(np.take_along_axis(p, y, axis=-1)).sum() / divisor[loss_scale]
        return loss, sign * (p - onehot) / divisor[grad_scale]
    return sce


SCE_MISTAKES = [
    ("the gradient is not divided by T*N: the loss is the mean over the T*N positions, so each position's "
     "gradient is (p - onehot) / (T*N)", _sce_variant(grad_scale="sum")),
    ("the loss and its gradient are summed over the T*N positions: return their mean (divide both by T*N)",
     _sce_variant(loss_scale="sum", grad_scale="sum")),
    ("the loss and its gradient are summed over time and averaged over the batch: this function averages "
     "over all T*N positions, as torch's cross_entropy does", _sce_variant(loss_scale="batch", grad_scale="batch")),
    ("the gradient has the wrong sign: it is (p - onehot) / (T*N), the prediction minus the truth",
     _sce_variant(sign=-1.0)),
    ("the softmax is not normalised: p = exp(z - max) / (the sum of exp(z - max) over the V classes)",
     _sce_variant(normalise=False)),
    ("the softmax is normalised over the whole array: each position's V probabilities must sum to 1 "
     "(sum over the last axis only, keepdims=True)", _sce_variant(over_all=True)),
]


# ---- mistakes: rnn_step_backward ------------------------------------------------------------------

def _step_variant(slope=lambda h, h_prev: 1.0 - h * h, dx_transposed=False, dh_prev_transposed=False,
                  dW_ih_transposed=False, dW_hh_transposed=False, dW_hh_from_h=False, db="sum",
                  batch_mean=False):
    def step_backward(dh, x, h_prev, W_ih, W_hh, h):
        da = dh * slope(h, h_prev)
        dx = da @ (W_ih.T if dx_transposed else W_ih)
        dh_prev = da @ (W_hh.T if dh_prev_transposed else W_hh)
        dW_ih = x.T @ da if dW_ih_transposed else da.T @ x
        state = h if dW_hh_from_h else h_prev
        dW_hh = state.T @ da if dW_hh_transposed else da.T @ state
        db_ = da if db == "none" else da.sum(axis=0)
        scale = x.shape[0] if batch_mean else 1
        return dx, dh_prev, dW_ih / scale, dW_hh / scale, db_ / scale, db_ / scale
    return step_backward


_DW_HH_FROM_H = _step_variant(dW_hh_from_h=True)
STEP_MISTAKES = [
    ("tanh' is 1 - h^2 (h is already tanh(a)), not 1 - h", _step_variant(slope=lambda h, h_prev: 1.0 - h)),
    ("h * (1 - h) is the derivative of the sigmoid; for tanh it is 1 - h^2",
     _step_variant(slope=lambda h, h_prev: h * (1.0 - h))),
    ("h is already the output tanh(a): the derivative is 1 - h^2, not 1 - tanh(h)^2",
     _step_variant(slope=lambda h, h_prev: 1.0 - np.tanh(h) ** 2)),
    ("tanh' is taken at h_prev: the step's derivative is 1 - h^2 with h its own output",
     _step_variant(slope=lambda h, h_prev: 1.0 - h_prev * h_prev)),
    ("the factor tanh' is missing: the gradient of the pre-activation is da = dh * (1 - h^2)",
     _step_variant(slope=lambda h, h_prev: np.ones_like(h))),
    ("dW_hh uses h instead of h_prev: W_hh multiplied the previous state, so dW_hh = da.T @ h_prev",
     _DW_HH_FROM_H),
    ("db is not summed over the batch: db_ih and db_hh have shape (H,), the sum of da over the N examples",
     _step_variant(db="none")),
    ("the parameter gradients are averaged over the batch: they are sums over the N examples",
     _step_variant(batch_mean=True)),
    ("dW_hh is transposed: dW_hh[i, j] = sum over n of da[n, i] * h_prev[n, j], that is da.T @ h_prev",
     _step_variant(dW_hh_transposed=True)),
    ("dW_ih is transposed: it has the shape of W_ih, (H, D): da.T @ x", _step_variant(dW_ih_transposed=True)),
    ("dh_prev uses W_hh transposed: h_prev entered as h_prev @ W_hh.T, so dh_prev = da @ W_hh",
     _step_variant(dh_prev_transposed=True)),
    ("dx uses W_ih transposed: x entered as x @ W_ih.T, so dx = da @ W_ih, shape (N, D)",
     _step_variant(dx_transposed=True)),
]


# ---- mistakes: rnn_backward -----------------------------------------------------------------------

def _bptt(step=rnn_step_backward, carry=True, forwards=False, prev="before", overwrite=False,
          add_dhs="every", dh0="carry"):
    """prev: the h_prev of step t, "before" hs[t-1] (h0 at t = 0), "same" hs[t], "wrap" hs[t-1] with
    Python's hs[-1] at t = 0. add_dhs "last": only dhs[T-1] enters. dh0: "carry", "zeros" or "none"."""
    def backward(dhs, xs, h0, W_ih, W_hh, hs):
        T = len(xs)
        prevs = {"before": [h0] + [hs[t] for t in range(T - 1)], "same": [hs[t] for t in range(T)],
                 "wrap": [hs[t - 1] for t in range(T)]}[prev]
        dxs = np.zeros_like(xs)
        sums = None
        dh_next = np.zeros_like(h0)
        for t in (range(T) if forwards else range(T - 1, -1, -1)):
            upstream = dhs[t] if add_dhs == "every" or t == T - 1 else 0 * dhs[t]
            grads = step(upstream + (dh_next if carry else 0 * dh_next), xs[t], prevs[t], W_ih, W_hh, hs[t])
            dxs[t] = grads[0]
            dh_next = grads[1]
            sums = list(grads[2:]) if sums is None or overwrite else [s + g for s, g in zip(sums, grads[2:])]
        if dh0 == "none":
            return (dxs, *sums)
        return (dxs, 0 * dh_next if dh0 == "zeros" else dh_next, *sums)
    return backward


BPTT_MISTAKES = [
    ("the gradient from step t+1 is not carried: the gradient reaching h_t is dhs[t] plus the dh_prev that "
     "step t+1 returned", _bptt(carry=False)),
    ("the loop runs forwards: BPTT starts at the last step, t = T-1, and carries dh_prev back to t = 0",
     _bptt(forwards=True)),
    ("h_prev is taken as hs[t] (or dW_hh uses h): step t read the state before it, hs[t-1] (h0 at t = 0), and "
     "dW_hh sums da.T @ h_prev", _bptt(prev="same")),
    ("at t = 0, hs[t - 1] is hs[-1], the last state: the state before the first step is h0", _bptt(prev="wrap")),
    ("the parameter gradients are overwritten at each step: they are sums over all T steps",
     _bptt(overwrite=True)),
    ("only the loss at the last step enters: the gradient reaching h_t is dhs[t] (the loss at step t) plus "
     "what comes back from step t+1", _bptt(add_dhs="last")),
    ("dh0 is missing: return six values, dxs, dh0, dW_ih, dW_hh, db_ih, db_hh, with dh0 the dh_prev that the "
     "first step returns", _bptt(dh0="none")),
    ("dh0 is zero: it is the dh_prev that the first step (t = 0) returns, what flows back into h0",
     _bptt(dh0="zeros")),
] + [(f"inside the loop, {message}", _bptt(step=step)) for message, step in STEP_MISTAKES
      if step is not _DW_HH_FROM_H]  # inside the loop, that one is h_prev taken as hs[t], above


# ---- mistakes: numerical_gradient -----------------------------------------------------------------

def _difference_variant(rule):
    def gradient(f, x, eps=1e-6):
        x = x.copy()
        grad = np.zeros_like(x)
        for idx in np.ndindex(x.shape):
            def at(step, idx=idx, saved=x[idx]):
                return _at(f, x, idx, saved + step)
            grad[idx] = rule(at, eps, f(x))
        return grad
    return gradient


def _at(f, x, idx, value):
    saved = x[idx]
    x[idx] = value
    try:
        return f(x)
    finally:
        x[idx] = saved


def _not_restored(f, x, eps=1e-6):
    return _centred(f, x, eps, restore=False)


def _fixed_step(f, x, eps=1e-6):
    return _centred(f, x, 1e-6)


def _first_axis_only(f, x, eps=1e-6):
    """``for i in range(len(x))``: a whole row of a matrix moved at once."""
    x = x.copy()
    grad = np.zeros_like(x)
    for i in range(len(x)):
        saved = x[i].copy()
        x[i] = saved + eps
        up = f(x)
        x[i] = saved - eps
        down = f(x)
        x[i] = saved
        grad[i] = (up - down) / (2 * eps)
    return grad


def _all_at_once(f, x, eps=1e-6):
    return np.ones_like(x) * ((f(x + eps) - f(x - eps)) / (2 * eps))


GRADIENT_MISTAKES = [
    ("a one-sided difference (f(x + eps) - f(x)) / eps: use the centred difference "
     "(f(x + eps) - f(x - eps)) / (2 eps)", _difference_variant(lambda at, eps, f0: (at(eps) - f0) / eps)),
    ("a one-sided difference (f(x) - f(x - eps)) / eps: use the centred difference "
     "(f(x + eps) - f(x - eps)) / (2 eps)", _difference_variant(lambda at, eps, f0: (f0 - at(-eps)) / eps)),
    ("the difference is divided by eps: the two points x + eps and x - eps are 2 eps apart, divide by 2 * eps",
     _difference_variant(lambda at, eps, f0: (at(eps) - at(-eps)) / eps)),
    ("(up - down) / 2 * eps divides by 2 and then multiplies by eps: write (up - down) / (2 * eps)",
     _difference_variant(lambda at, eps, f0: (at(eps) - at(-eps)) / 2 * eps)),
    ("x is not restored after each entry: put back the entry's original value before moving to the next one",
     _not_restored),
    ("the eps argument is not used: perturb each entry by the eps given", _fixed_step),
    ("the whole array is shifted at once: perturb one entry at a time, so that entry i of the result is "
     "the slope of f along x[i] alone", _all_at_once),
    ("the loop runs over the first axis only, so a matrix's whole row is moved at once: visit every entry "
     "(for idx in np.ndindex(x.shape)) and perturb x[idx] alone", _first_axis_only),
]


# ---- hidden cases ---------------------------------------------------------------------------------

def _targets(rng, T, N, V):
    return {"expr": f"np.array({rng.integers(V, size=(T, N)).tolist()})"}


def sce_cases(rng):
    def case(T, N, V, scale=2.0, offset=0.0):
        return {"logits": offset + scale * rng.standard_normal((T, N, V)), "targets": _targets(rng, T, N, V)}

    return [
        ("one position, T = N = 1, V = 4", case(1, 1, 4)),
        ("all logits equal at each position, so p is uniform (T = 2, N = 3, V = 5)",
         {"logits": np.repeat(rng.standard_normal((2, 3, 1)), 5, axis=2), "targets": _targets(rng, 2, 3, 5)}),
        ("a mean over the batch only, T = 1, N = 4, V = 3", case(1, 4, 3)),
        ("a mean over time only, T = 4, N = 1, V = 3", case(4, 1, 3)),
        ("T = 3, N = 2, V = 4", case(3, 2, 4)),
        ("large positive logits (exp overflows unless the largest logit is subtracted), T = 2, N = 2, V = 4",
         case(2, 2, 4, scale=1.5, offset=997.0)),
        ("large negative logits (exp underflows unless the largest logit is subtracted), T = 2, N = 1, V = 3",
         case(2, 1, 3, scale=1.5, offset=-997.0)),
    ]


def _weights(rng, D, H, scale=0.8):
    return {"W_ih": rng.uniform(-scale, scale, (H, D)), "W_hh": rng.uniform(-scale, scale, (H, H))}


def _states(rng, xs, h0, W_ih, W_hh):
    """The states of a forward pass with random biases (which the backward pass does not need)."""
    b = rng.uniform(-0.5, 0.5, W_hh.shape[0])
    h, hs = h0, []
    for x in xs:
        h = np.tanh(x @ W_ih.T + h @ W_hh.T + b)
        hs.append(h)
    return np.stack(hs)


def step_backward_cases(rng):
    def case(N, D, H):
        weights = _weights(rng, D, H)
        x, h_prev = rng.standard_normal((N, D)), rng.uniform(-1, 1, (N, H))
        h = _states(rng, x[None], h_prev, **weights)[0]
        return dict(dh=rng.standard_normal((N, H)), x=x, h_prev=h_prev, h=h, **weights)

    N, D, H = 2, 3, 4
    full = case(N, D, H)
    return [
        ("h = 0, so tanh' = 1 (N = 2, D = 3, H = 4)", {**full, "h": np.zeros((N, H))}),
        ("h_prev = 0, so dW_hh = 0 (N = 2, D = 3, H = 4)", {**full, "h_prev": np.zeros((N, H))}),
        ("x = 0, so dW_ih = 0 (N = 2, D = 3, H = 4)", {**full, "x": np.zeros((N, D))}),
        ("all terms, N = 2, D = 3, H = 4", full),
        ("one example, N = 1, D = 2, H = 3", case(1, 2, 3)),
        ("square weights, N = 3, D = H = 3", case(3, 3, 3)),
    ]


def bptt_cases(rng):
    def case(T, N, D, H, h0_zero=False, loss_at=None):
        weights = _weights(rng, D, H)
        xs = rng.standard_normal((T, N, D))
        h0 = np.zeros((N, H)) if h0_zero else rng.uniform(-1, 1, (N, H))
        dhs = rng.standard_normal((T, N, H))
        if loss_at is not None:
            dhs[np.arange(T) != loss_at] = 0.0
        return dict(dhs=dhs, xs=xs, h0=h0, hs=_states(rng, xs, h0, **weights), **weights)

    return [
        ("one step, T = 1 (N = 2, D = 3, H = 4)", case(1, 2, 3, 4)),
        ("a loss at the last step only, T = 5 (N = 2, D = 2, H = 3)", case(5, 2, 2, 3, loss_at=4)),
        ("a loss at the first step only, T = 4 (N = 2, D = 3, H = 2)", case(4, 2, 3, 2, loss_at=0)),
        ("a loss at every step from h0 = 0, T = 4 (N = 2, D = 2, H = 3)", case(4, 2, 2, 3, h0_zero=True)),
        ("a loss at every step from a nonzero h0, T = 5 (N = 1, D = 3, H = 2)", case(5, 1, 3, 2)),
        ("square weights, T = 3 (N = 2, D = H = 3)", case(3, 2, 3, 3)),
    ]


def gradient_cases(rng):
    return [
        ("a linear function of a vector (4 entries), large eps",
         {"f": {"expr": f"lambda x: np.sum(np.array({np.round(rng.uniform(-2, 2, 4), 2).tolist()}) * x)"},
          "x": rng.uniform(-2, 2, 4), "eps": 0.5}),
        ("a quadratic of a vector (3 entries), large eps",
         {"f": {"expr": "lambda x: np.sum(x * x) + x[0] * x[2]"}, "x": rng.uniform(-2, 2, 3), "eps": 0.25}),
        ("a cubic of a matrix (2 x 3), large eps",
         {"f": {"expr": "lambda x: np.sum(x ** 3)"}, "x": rng.uniform(-2, 2, (2, 3)), "eps": 0.5}),
        ("a product coupling all entries of a vector (4 entries), small eps",
         {"f": {"expr": "lambda x: np.prod(x)"}, "x": rng.uniform(0.5, 2, 4), "eps": 0.05}),
        ("a smooth function of a matrix (3 x 2), small eps",
         {"f": {"expr": "lambda x: np.sum(np.sin(x) * x) + np.sum(x) ** 2"}, "x": rng.uniform(-2, 2, (3, 2)),
          "eps": 0.02}),
    ]


STEP_HINT = ("a shape mismatch: W_ih is (H, D) and W_hh is (H, H), so dx = da @ W_ih is (N, D), "
             "dh_prev = da @ W_hh is (N, H), dW_ih = da.T @ x is (H, D) and dW_hh = da.T @ h_prev is (H, H)")
STEP_HINTS = {"reversed": "a gradient is transposed: each gradient has the shape of its variable",
              "error:matmul": STEP_HINT, "error:aligned": STEP_HINT, "error:broadcast": STEP_HINT}

EXERCISES = [
    Exercise(
        name="softmax_cross_entropy", test_cell="test_softmax_cross_entropy", reference=softmax_cross_entropy,
        hidden_cases=sce_cases, seed=201, mistakes=SCE_MISTAKES,
        hints={"error:index": "targets holds integer class indices, shape (T, N): pick p[t, n, targets[t, n]], "
                              "e.g. with np.take_along_axis(p, targets[..., None], axis=-1)"},
        outputs=("loss", "dlogits"),
    ),
    Exercise(
        name="rnn_step_backward", test_cell="test_rnn_step_backward", reference=rnn_step_backward,
        hidden_cases=step_backward_cases, seed=202, mistakes=STEP_MISTAKES, hints=STEP_HINTS,
        outputs=("dx", "dh_prev", "dW_ih", "dW_hh", "db_ih", "db_hh"),
    ),
    Exercise(
        name="rnn_backward", test_cell="test_rnn_backward", reference=rnn_backward, hidden_cases=bptt_cases,
        seed=203, mistakes=BPTT_MISTAKES, helpers=("rnn_step_backward",),
        outputs=("dxs", "dh0", "dW_ih", "dW_hh", "db_ih", "db_hh"),
        hints={**STEP_HINTS, "swap01": "the output is batch-first (N, T, D); this course is time-major, (T, N, D)"},
    ),
    Exercise(
        name="numerical_gradient", test_cell="test_numerical_gradient", reference=numerical_gradient,
        hidden_cases=gradient_cases, seed=204, mistakes=GRADIENT_MISTAKES,
        hints={"mutated": "perturb one entry, evaluate f, and put the saved value back before the next entry"},
    ),
]
