"""Problem set 1, recurrence: rnn_step, rnn_forward, rnn_param_count.

For each exercise: the reference (rnnlib), the mistakes students plausibly make with the line that
names each, and the hidden cases (unseen inputs; first the cases that isolate one term each).
"""

import numpy as np

from grader.exercise import Exercise
from rnnlib.core import rnn
from rnnlib.core._checks import sigmoid

NOTEBOOK = "ps1_recurrence.ipynb"


def rnn_step(x, h_prev, W_ih, W_hh, b_ih, b_hh):
    return rnn.cell_forward(x, h_prev, W_ih, W_hh, b_ih, b_hh)[0]


def rnn_forward(xs, h0, W_ih, W_hh, b_ih, b_hh):
    return rnn.forward(xs, h0, W_ih, W_hh, b_ih, b_hh)[0]


def rnn_param_count(input_size, hidden_size):
    return rnn.param_count(int(input_size), int(hidden_size))


# ---- mistakes ------------------------------------------------------------------------------------

def _step_variant(activation=np.tanh, input_term=True, state_term=True, b_ih_on=True, b_hh_on=True,
                  transpose_ih=False, transpose_hh=False):
    def step(x, h_prev, W_ih, W_hh, b_ih, b_hh):
        a = np.zeros((x.shape[0], W_hh.shape[0]), dtype=x.dtype)
        if input_term:
            a = a + x @ (W_ih if transpose_ih else W_ih.T)
        if state_term:
            a = a + h_prev @ (W_hh if transpose_hh else W_hh.T)
        a = a + (b_ih if b_ih_on else 0.0) + (b_hh if b_hh_on else 0.0)
        return activation(a)
    return step


STEP_MISTAKES = [
    ("W_hh is used transposed: the state term is h_prev @ W_hh.T (W_hh is (H, H), rows = outputs)",
     _step_variant(transpose_hh=True)),
    ("W_ih is used transposed: the input term is x @ W_ih.T (W_ih is (H, D))", _step_variant(transpose_ih=True)),
    ("both biases are missing: add b_ih + b_hh", _step_variant(b_ih_on=False, b_hh_on=False)),
    ("b_hh is missing: PyTorch's RNN has two bias vectors, add both", _step_variant(b_hh_on=False)),
    ("b_ih is missing: PyTorch's RNN has two bias vectors, add both", _step_variant(b_ih_on=False)),
    ("the tanh is missing: h is tanh of the pre-activation", _step_variant(activation=lambda a: a)),
    ("sigmoid used where the RNN uses tanh", _step_variant(activation=sigmoid)),
    ("ReLU used where this RNN uses tanh", _step_variant(activation=lambda a: np.maximum(a, 0.0))),
    ("the state term h_prev @ W_hh.T is missing", _step_variant(state_term=False)),
    ("the input term x @ W_ih.T is missing", _step_variant(input_term=False)),
]


def _scan(step, start_from_h0=False, shift=False, reverse=False):
    def forward(xs, h0, W_ih, W_hh, b_ih, b_hh):
        h, hs = h0, []
        order = range(len(xs) - 1, -1, -1) if reverse else range(len(xs))
        for t in order:
            h_new = step(xs[t], h0 if start_from_h0 else h, W_ih, W_hh, b_ih, b_hh)
            hs.append(h if shift else h_new)
            h = h_new
        return np.stack(hs[::-1] if reverse else hs)
    return forward


FORWARD_MISTAKES = [
    ("the state is not carried: every step starts from h0 instead of the previous step's h",
     _scan(rnn_step, start_from_h0=True)),
    ("hs is shifted by one step: hs[t] is the state after reading xs[t], not before it", _scan(rnn_step, shift=True)),
    ("the sequence is processed backwards", _scan(rnn_step, reverse=True)),
] + [(f"inside the loop, {message}", _scan(step)) for message, step in STEP_MISTAKES]


def _count_mistake(message, formula):
    return message, lambda input_size, hidden_size: formula(int(input_size), int(hidden_size))


COUNT_MISTAKES = [
    _count_mistake("only one bias vector counted: torch.nn.RNN has both b_ih and b_hh", lambda D, H: H * (D + H) + H),
    _count_mistake("the biases are not counted", lambda D, H: H * (D + H)),
    _count_mistake("the biases have H entries each, not D", lambda D, H: H * (D + H) + 2 * D),
    _count_mistake("W_hh is (H, H), so it has H*H entries, not H*D", lambda D, H: 2 * H * D + 2 * H),
    _count_mistake("W_ih is (H, D), so it has H*D entries, not H*H", lambda D, H: 2 * H * H + 2 * H),
]


# ---- hidden cases --------------------------------------------------------------------------------

def _weights(rng, D, H, scale=0.8):
    def uniform(*shape):
        return rng.uniform(-scale, scale, size=shape)
    return {"W_ih": uniform(H, D), "W_hh": uniform(H, H), "b_ih": uniform(H), "b_hh": uniform(H)}


def step_cases(rng):
    N, D, H = 2, 3, 4
    full = dict(x=rng.standard_normal((N, D)), h_prev=rng.uniform(-1, 1, (N, H)), **_weights(rng, D, H))
    no_bias = {"b_ih": np.zeros(H), "b_hh": np.zeros(H)}
    square = dict(x=rng.standard_normal((1, 3)), h_prev=rng.uniform(-1, 1, (1, 3)), **_weights(rng, 3, 3))
    return [
        ("input term only (h_prev = 0, no bias)", {**full, "h_prev": np.zeros((N, H)), **no_bias}),
        ("state term only (x = 0, no bias)", {**full, "x": np.zeros((N, D)), **no_bias}),
        ("biases only (x = 0, h_prev = 0)", {**full, "x": np.zeros((N, D)), "h_prev": np.zeros((N, H))}),
        ("all terms, N = 2, D = 3, H = 4", full),
        ("all terms, N = 1, D = H = 3", square),
    ]


def forward_cases(rng):
    def case(T, N, D, H, h0_zero=False):
        h0 = np.zeros((N, H)) if h0_zero else rng.uniform(-1, 1, (N, H))
        return dict(xs=rng.standard_normal((T, N, D)), h0=h0, **_weights(rng, D, H))

    return [
        ("one step, T = 1", case(1, 2, 3, 4)),
        ("T = 6 from h0 = 0", case(6, 2, 3, 4, h0_zero=True)),
        ("T = 6 from a nonzero h0", case(6, 2, 3, 4)),
        ("T = 4, N = 1, D = 2, H = 5", case(4, 1, 2, 5)),
    ]


def count_cases(rng):
    sizes = [(1, 1), (3, 5), (10, 7), (7, 3), (128, 256)]
    return [(f"D = {D}, H = {H}", {"input_size": D, "hidden_size": H}) for D, H in sizes]


LAYOUT_HINT = ("a shape mismatch: in PyTorch's layout W_ih is (H, D) and W_hh is (H, H), "
               "so the products are x @ W_ih.T and h @ W_hh.T")

EXERCISES = [
    Exercise(
        name="rnn_step", test_cell="test_rnn_step", reference=rnn_step, hidden_cases=step_cases, seed=101,
        mistakes=STEP_MISTAKES,
        hints={"reversed": "the output is transposed: h is (N, H)", "error:matmul": LAYOUT_HINT,
               "error:shapes": LAYOUT_HINT, "error:broadcast": LAYOUT_HINT},
    ),
    Exercise(
        name="rnn_forward", test_cell="test_rnn_forward", reference=rnn_forward, hidden_cases=forward_cases,
        seed=102, mistakes=FORWARD_MISTAKES, helpers=("rnn_step",),
        hints={
            "missing_first": "only the last state is returned; return all T states, (T, N, H)",
            "swap01": "the output is batch-first (N, T, H); this course is time-major, (T, N, H)",
            "one_more_first": "h0 is included; hs[t] is the state after step t, so there are exactly T of them",
            "error:matmul": LAYOUT_HINT,
        },
    ),
    Exercise(
        name="rnn_param_count", test_cell="test_rnn_param_count", reference=rnn_param_count,
        hidden_cases=count_cases, seed=103, mistakes=COUNT_MISTAKES,
    ),
]
