"""Problem set 3, vanishing and exploding gradients: step_jacobian, gradient_norms_by_lag,
clip_by_global_norm, clip_by_value.

For each exercise: the reference (rnnlib), the mistakes students plausibly make with the line that
names each, and the hidden cases (unseen inputs; first the cases that isolate one term each).

The clipping functions take a *list* of arrays of different shapes. A case's arguments cannot hold
such a list as nested numbers (they would become one array), so those cases pass it as
``{"expr": "[np.array(...), ...]"}``, rounded like every hidden input.
"""

import numpy as np

from grader.exercise import Exercise
from rnnlib.analysis import decay
from rnnlib.core import clip, rnn

NOTEBOOK = "ps3_gradient_decay.ipynb"


def step_jacobian(h, W_hh):
    return decay.step_jacobians(h, W_hh)


def gradient_norms_by_lag(xs, h0, W_ih, W_hh, b_ih, b_hh, dh_last):
    return decay.gradient_norms_by_lag(rnn, xs, h0, W_ih, W_hh, b_ih, b_hh, dh_last)


def clip_by_global_norm(grads, max_norm, eps=1e-6):
    return clip.clip_by_global_norm(grads, max_norm, eps=eps)


def clip_by_value(grads, clip_value):
    return clip.clip_by_value(grads, clip_value)


# ---- mistakes: step_jacobian ---------------------------------------------------------------------

def _tanh_slope(h):
    return 1.0 - h * h


def _jacobian_variant(slope=_tanh_slope, weights=lambda W: W, scale_columns=False):
    def jacobian(h, W_hh):
        W = weights(W_hh)
        s = slope(h)
        return s[:, None, :] * W[None, :, :] if scale_columns else s[:, :, None] * W[None, :, :]
    return jacobian


JACOBIAN_MISTAKES = [
    ("W_hh is used transposed: J[n, i, j] = (1 - h[n, i]^2) * W_hh[i, j] (row i of W_hh belongs to output unit i)",
     _jacobian_variant(weights=lambda W: W.T)),
    ("the Jacobian is transposed: J[n, i, j] = dh_t[n, i] / dh_{t-1}[n, j] = (1 - h[n, i]^2) * W_hh[i, j], "
     "the output unit first", _jacobian_variant(weights=lambda W: W.T, scale_columns=True)),
    ("tanh' scales the columns of W_hh instead of its rows: diag(1 - h^2) multiplies W_hh from the left, "
     "so J[n, i, j] = (1 - h[n, i]^2) * W_hh[i, j]", _jacobian_variant(scale_columns=True)),
    ("tanh' is 1 - h^2 (with h = tanh(a)), not 1 - h", _jacobian_variant(slope=lambda h: 1.0 - h)),
    ("h * (1 - h) is the derivative of the sigmoid; for tanh it is 1 - h^2",
     _jacobian_variant(slope=lambda h: h * (1.0 - h))),
    ("h is already the output tanh(a): the derivative is 1 - h^2, not 1 - tanh(h)^2",
     _jacobian_variant(slope=lambda h: 1.0 - np.tanh(h) ** 2)),
    ("the factor tanh' = 1 - h^2 is missing: J[n] = diag(1 - h[n]^2) @ W_hh, not W_hh",
     _jacobian_variant(slope=lambda h: np.ones_like(h))),
]


# ---- mistakes: gradient_norms_by_lag -------------------------------------------------------------

def _states(xs, h0, W_ih, W_hh, b_ih, b_hh):
    h, hs = h0, []
    for x in xs:
        h = np.tanh(x @ W_ih.T + b_ih + h @ W_hh.T + b_hh)
        hs.append(h)
    return hs


def _frobenius(g):
    return np.sqrt(np.sum(g * g))


def _spectral(g):
    """The largest singular value of ``g`` (N, H), by power iteration in ``g``'s own precision (numpy's
    SVD has no long double, and the reference files are computed in long double)."""
    gram = g.T @ g
    v = np.ones(gram.shape[0], dtype=g.dtype)
    for _ in range(500):
        w = gram @ v
        size = np.sqrt(np.sum(w * w))
        if size == 0:
            return size
        v = w / size
    return np.sqrt(v @ gram @ v)


def _norms_variant(step=lambda g, s, W: (g * s) @ W, slope=_tanh_slope, slope_at_previous=False,
                   norm=_frobenius, lags=slice(0, -1), reverse=False):
    """The norms at lags 0..T (the last one at h0) are computed, then ``lags`` of them are returned."""
    def norms(xs, h0, W_ih, W_hh, b_ih, b_hh, dh_last):
        hs = _states(xs, h0, W_ih, W_hh, b_ih, b_hh)
        befores = [h0] + hs[:-1]
        g, out = dh_last, [norm(dh_last)]
        for t in range(len(hs) - 1, -1, -1):
            g = step(g, slope(befores[t] if slope_at_previous else hs[t]), W_hh)
            out.append(norm(g))
        out = np.stack(out)[lags]
        return out[::-1] if reverse else out
    return norms


NORMS_MISTAKES = [
    ("the norms are in time order; index them by lag: norms[0] is the norm of dh_last (at the last state), "
     "norms[T-1] the one at hs[0]", _norms_variant(reverse=True)),
    ("the gradient is not multiplied by tanh' at each step back: g_{k+1} = (g_k * (1 - h^2)) @ W_hh, "
     "with h the state the step produced", _norms_variant(step=lambda g, s, W: g @ W)),
    ("W_hh is used transposed: one step back is (g * (1 - h^2)) @ W_hh, not @ W_hh.T",
     _norms_variant(step=lambda g, s, W: (g * s) @ W.T)),
    ("the Jacobian is applied from the wrong side: with g as a row, g_{k+1} = g_k J = (g_k * (1 - h^2)) @ W_hh, "
     "not J g_k = (g_k @ W_hh.T) * (1 - h^2)", _norms_variant(step=lambda g, s, W: (g @ W.T) * s)),
    ("tanh' is 1 - h^2, not 1 - h", _norms_variant(slope=lambda h: 1.0 - h)),
    ("tanh' is taken at the wrong state: the step from h_{t-1} to h_t uses 1 - h_t^2 (its own output), "
     "not 1 - h_{t-1}^2", _norms_variant(slope_at_previous=True)),
    ("T + 1 norms: stop at the gradient on hs[0] (lag T-1); the gradient on h0 is not one of them",
     _norms_variant(lags=slice(None))),
    ("the norms start one lag late: norms[0] is the norm of dh_last itself, before any step back",
     _norms_variant(lags=slice(1, None))),
    ("the norm is taken per example and summed; take one norm over the whole (N, H) gradient, "
     "the square root of the sum of all its squared entries",
     _norms_variant(norm=lambda g: np.sum(np.sqrt(np.sum(g * g, axis=1))))),
    ("the norm is the spectral norm (the largest singular value, np.linalg.norm(g, 2)); the gradient's size is "
     "its Frobenius norm, the square root of the sum of all its squared entries (np.linalg.norm(g))",
     _norms_variant(norm=_spectral)),
]


# ---- mistakes: clip_by_global_norm ---------------------------------------------------------------

def _sum_of_squares(grads):
    return sum(np.sum(g * g) for g in grads)


def _scaled(grads, coef):
    return [g * coef for g in grads] if coef < 1 else [g.copy() for g in grads]


def _per_array(grads, max_norm, eps=1e-6):
    clipped = [_scaled([g], max_norm / (np.sqrt(np.sum(g * g)) + eps))[0] for g in grads]
    return clipped, np.sqrt(_sum_of_squares(grads))


def _always_scaled(grads, max_norm, eps=1e-6):
    total = np.sqrt(_sum_of_squares(grads))
    return [g * (max_norm / (total + eps)) for g in grads], total


def _without_eps(grads, max_norm, eps=1e-6):
    total = np.sqrt(_sum_of_squares(grads))
    with np.errstate(divide="ignore", invalid="ignore"):
        coef = max_norm / total
    return _scaled(grads, coef), total


def _norm_after(grads, max_norm, eps=1e-6):
    clipped, _ = clip_by_global_norm(grads, max_norm, eps)
    return clipped, np.sqrt(_sum_of_squares(clipped))


def _with_total(total_of):
    def clipped(grads, max_norm, eps=1e-6):
        total = total_of(grads)
        return _scaled(grads, max_norm / (total + eps)), total
    return clipped


GLOBAL_MISTAKES = [
    ("each array is clipped on its own; the global norm treats all arrays as one vector and scales them all "
     "by the same factor", _per_array),
    ("the gradients are scaled even when they are under the limit: multiply by the factor only when it is "
     "below 1", _always_scaled),
    ("the epsilon is missing, or the eps argument is not used: the factor is max_norm / (total_norm + eps)",
     _without_eps),
    ("the norm returned is the one after clipping; return the norm before clipping, as torch does", _norm_after),
    ("the square root is missing: the global norm is sqrt of the sum of all squared entries",
     _with_total(_sum_of_squares)),
    ("the global norm is not the sum of the arrays' norms: it is sqrt of the sum of all squared entries",
     _with_total(lambda grads: sum(np.sqrt(np.sum(g * g)) for g in grads))),
    ("only the clipped list is returned; return two things, (clipped, total_norm)",
     lambda grads, max_norm, eps=1e-6: clip_by_global_norm(grads, max_norm, eps)[0]),
]


# ---- mistakes: clip_by_value ---------------------------------------------------------------------

VALUE_MISTAKES = [
    ("only the upper limit is applied: clamp every entry to [-clip_value, clip_value]",
     lambda grads, clip_value: [np.minimum(g, clip_value) for g in grads]),
    ("the lower limit is -clip_value, not 0", lambda grads, clip_value: [np.clip(g, 0.0, clip_value) for g in grads]),
    ("the entries outside the range are set to 0; they become -clip_value or clip_value",
     lambda grads, clip_value: [np.where(np.abs(g) > clip_value, 0.0 * g, g) for g in grads]),
    ("each array is rescaled by its norm; clipping by value clamps every entry on its own",
     lambda grads, clip_value: [_scaled([g], clip_value / np.sqrt(np.sum(g * g)))[0] for g in grads]),
    ("this clips the global norm; clipping by value clamps every entry to [-clip_value, clip_value] on its own",
     lambda grads, clip_value: clip_by_global_norm(grads, clip_value)[0]),
]


# ---- hidden cases --------------------------------------------------------------------------------

def _uniform(rng, low, high, *shape):
    return rng.uniform(low, high, size=shape)


def jacobian_cases(rng):
    return [
        ("h = 0, so tanh' = 1 and J[n] = W_hh (N = 2, H = 3)",
         {"h": np.zeros((2, 3)), "W_hh": _uniform(rng, -1, 1, 3, 3)}),
        ("W_hh = identity, so J[n] = diag(tanh') (N = 2, H = 3)",
         {"h": _uniform(rng, -0.95, 0.95, 2, 3), "W_hh": np.eye(3)}),
        ("all terms, N = 3, H = 4", {"h": _uniform(rng, -0.99, 0.99, 3, 4), "W_hh": _uniform(rng, -1, 1, 4, 4)}),
        ("one example, N = 1, H = 5", {"h": _uniform(rng, -0.99, 0.99, 1, 5), "W_hh": _uniform(rng, -1, 1, 5, 5)}),
    ]


def _network(rng, T, N, D, H, scale=0.8):
    return {"xs": rng.standard_normal((T, N, D)), "h0": _uniform(rng, -1, 1, N, H),
            "W_ih": _uniform(rng, -scale, scale, H, D), "W_hh": _uniform(rng, -scale, scale, H, H),
            "b_ih": _uniform(rng, -scale, scale, H), "b_hh": _uniform(rng, -scale, scale, H),
            "dh_last": rng.standard_normal((N, H))}


def norms_cases(rng):
    only_w = _network(rng, 5, 2, 2, 3)
    only_w.update(xs=np.zeros((5, 2, 2)), h0=np.zeros((2, 3)), b_ih=np.zeros(3), b_hh=np.zeros(3))
    saturated = _network(rng, 4, 2, 2, 3)
    saturated["W_ih"] = 3.0 * saturated["W_ih"]
    return [
        ("only W_hh acts: zero inputs, biases and h0, so every state is 0 and tanh' = 1 (T = 5, N = 2, H = 3)",
         only_w),
        ("one step, T = 1 (N = 3, H = 4)", _network(rng, 1, 3, 2, 4)),
        ("large inputs, tanh' far from 1 (T = 4, N = 2, D = 2, H = 3)", saturated),
        ("all terms, T = 6, N = 2, D = 3, H = 4", _network(rng, 6, 2, 3, 4)),
        ("all terms, T = 5, N = 1, D = 1, H = 5", _network(rng, 5, 1, 1, 5)),
    ]


def _as_list_expr(arrays, decimals=3):
    """A list of arrays of different shapes as a case argument (see the module docstring)."""
    return {"expr": "[" + ", ".join(f"np.array({np.round(a, decimals).tolist()})" for a in arrays) + "]"}


def _grads(rng, shapes, scale=1.0):
    return [scale * rng.standard_normal(shape) for shape in shapes]


def _limit(grads, factor):
    """A max_norm ``factor`` times the global norm of ``grads`` as they will be rounded, rounded itself."""
    return round(float(factor * np.sqrt(sum(np.sum(np.round(g, 3) ** 2) for g in grads))), 3)


def global_cases(rng):
    cases = []
    for label, shapes, factor, eps in [
        ("one array, under the limit", [(2, 3)], 1.7, None),
        ("one array, over the limit", [(2, 3)], 0.4, None),
        ("three arrays of different shapes (two matrices and a vector), over the limit", [(3, 2), (3, 3), (3,)],
         0.25, None),
        ("three arrays of different shapes, under the limit", [(2, 2), (2, 1), (2,)], 1.3, None),
        ("two arrays over the limit, with a large eps", [(2, 2), (2,)], 0.5, 0.75),
    ]:
        grads = _grads(rng, shapes)
        args = {"grads": _as_list_expr(grads), "max_norm": _limit(grads, factor)}
        cases.append((label, args if eps is None else {**args, "eps": eps}))
    return cases


def value_cases(rng):
    return [
        ("one array, every entry inside the range", {"grads": _as_list_expr([_uniform(rng, -0.9, 0.9, 2, 3)]),
                                                     "clip_value": 1.0}),
        ("one array, every entry outside the range",
         {"grads": _as_list_expr([np.sign(rng.standard_normal(4)) * _uniform(rng, 1.5, 3, 4)]), "clip_value": 1.0}),
        ("three arrays of different shapes, some entries outside the range",
         {"grads": _as_list_expr(_grads(rng, [(3, 2), (2, 2), (3,)], scale=1.5)), "clip_value": 1.0}),
        ("two arrays, a small clip_value", {"grads": _as_list_expr(_grads(rng, [(2, 3), (3,)])), "clip_value": 0.3}),
    ]


LAYOUT_HINT = "a shape mismatch: h is (N, H) and W_hh is (H, H); each of the N Jacobians is (H, H)"
FORWARD_HINT = ("a shape mismatch: in PyTorch's layout W_ih is (H, D) and W_hh is (H, H), so the forward "
                "products are x @ W_ih.T and h @ W_hh.T")

EXERCISES = [
    Exercise(
        name="step_jacobian", test_cell="test_step_jacobian", reference=step_jacobian, hidden_cases=jacobian_cases,
        seed=301, mistakes=JACOBIAN_MISTAKES,
        hints={"missing_first": "one Jacobian for the whole batch: return one per example, shape (N, H, H)",
               "error:broadcast": LAYOUT_HINT, "error:matmul": LAYOUT_HINT},
    ),
    Exercise(
        name="gradient_norms_by_lag", test_cell="test_gradient_norms_by_lag", reference=gradient_norms_by_lag,
        hidden_cases=norms_cases, seed=302, mistakes=NORMS_MISTAKES, helpers=("step_jacobian",),
        hints={"missing_first": "a single number: return the T norms, one per lag, shape (T,)",
               "one_more_first": "T + 1 norms: stop at the gradient on hs[0]; the one on h0 is not included",
               "error:matmul": FORWARD_HINT, "error:broadcast": FORWARD_HINT},
    ),
    Exercise(
        name="clip_by_global_norm", test_cell="test_clip_by_global_norm", reference=clip_by_global_norm,
        hidden_cases=global_cases, seed=303, mistakes=GLOBAL_MISTAKES,
        outputs=("clipped", "total_norm"),
    ),
    Exercise(
        name="clip_by_value", test_cell="test_clip_by_value", reference=clip_by_value, hidden_cases=value_cases,
        seed=304, mistakes=VALUE_MISTAKES,
        outputs=("clipped[]",),
    ),
]
