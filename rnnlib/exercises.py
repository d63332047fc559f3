"""The graded exercises of the problem sets: for each, the reference answer (from rnnlib), the
mistakes students plausibly make, and the one-line diagnosis that names each of them.

``scripts/make_references.py`` uses ``reference`` to write the hidden tests' expected outputs;
``rnnlib.grading.check`` uses the rest to tell a student what went wrong.
"""

from dataclasses import dataclass, field

import numpy as np

from rnnlib import rnn
from rnnlib._checks import sigmoid

# Captured at import: the grader blocks the public names while student code runs.
_rnn_cell_forward, _rnn_forward, _rnn_param_count = rnn.cell_forward, rnn.forward, rnn.param_count
FORBIDDEN = [(rnn, "cell_forward"), (rnn, "forward"), (rnn, "param_count")]


@dataclass
class Exercise:
    reference: callable
    mistakes: list = field(default_factory=list)  # (message, function of the same arguments)
    scalar: bool = False
    isolate: dict = field(default_factory=dict)  # notebook helpers replaced by correct ones while graded
    shape_hints: list = field(default_factory=list)  # (predicate(got_shape, expected_shape), message)

    def diagnose(self, run, cases):
        """The message of the first known mistake that reproduces the student's answers on every case
        (outputs, or the same exception), or None. ``run(case)`` returns the student's output or error."""
        answers = [run(case) for case in cases]
        for message, wrong in self.mistakes:
            if all(_reproduces(wrong, case, answer) for case, answer in zip(cases, answers)):
                return message
        return None

    def hint_for_shape(self, got_shape, expected_shape):
        for applies, message in self.shape_hints:
            if applies(got_shape, expected_shape):
                return message
        return None

    @staticmethod
    def hint_for_error(error):
        text = str(error)
        if isinstance(error, ValueError) and ("matmul" in text or "shapes" in text or "broadcast" in text):
            return ("a shape mismatch: in PyTorch's layout W_ih is (H, D) and W_hh is (H, H), "
                    "so the products are x @ W_ih.T and h @ W_hh.T")
        return None


def case_args(case):
    """A case's keyword arguments: nested lists become fresh float64 arrays, sizes stay Python ints."""
    return {k: v if isinstance(v, int) else np.array(v, dtype=np.float64) for k, v in case["args"].items()}


def _reproduces(wrong, case, answer):
    try:
        candidate = wrong(**case_args(case))
    except Exception as error:
        return isinstance(answer, Exception) and type(answer) is type(error) and str(answer) == str(error)
    return not isinstance(answer, Exception) and _same(answer, candidate)


def _same(got, candidate):
    try:
        got = np.asarray(got, dtype=np.float64)
    except (TypeError, ValueError):
        return False
    candidate = np.asarray(candidate, dtype=np.float64)
    return got.shape == candidate.shape and bool(np.all(np.abs(got - candidate) <= 1e-8 + 1e-6 * np.abs(candidate)))


# ---- ps1_recurrence ----------------------------------------------------------------------------

def rnn_step(x, h_prev, W_ih, W_hh, b_ih, b_hh):
    return _rnn_cell_forward(x, h_prev, W_ih, W_hh, b_ih, b_hh)[0]


def rnn_forward(xs, h0, W_ih, W_hh, b_ih, b_hh):
    return _rnn_forward(xs, h0, W_ih, W_hh, b_ih, b_hh)[0]


def rnn_param_count(input_size, hidden_size):
    return _rnn_param_count(int(input_size), int(hidden_size))


def _step_variant(activation=np.tanh, input_term=True, state_term=True, b_ih_on=True, b_hh_on=True,
                  transpose_ih=False, transpose_hh=False):
    def step(x, h_prev, W_ih, W_hh, b_ih, b_hh):
        a = np.zeros((x.shape[0], W_hh.shape[0]))
        if input_term:
            a = a + x @ (W_ih if transpose_ih else W_ih.T)
        if state_term:
            a = a + h_prev @ (W_hh if transpose_hh else W_hh.T)
        a = a + (b_ih if b_ih_on else 0.0) + (b_hh if b_hh_on else 0.0)
        return activation(a)
    return step


_STEP_MISTAKES = [
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


_FORWARD_MISTAKES = [
    ("the state is not carried: every step starts from h0 instead of the previous step's h",
     _scan(rnn_step, start_from_h0=True)),
    ("hs is shifted by one step: hs[t] is the state after reading xs[t], not before it", _scan(rnn_step, shift=True)),
    ("the sequence is processed backwards", _scan(rnn_step, reverse=True)),
] + [(f"inside the loop, {message}", _scan(step)) for message, step in _STEP_MISTAKES]


def _param_mistake(message, formula):
    return message, lambda input_size, hidden_size: formula(int(input_size), int(hidden_size))


EXERCISES = {
    "rnn_step": Exercise(
        reference=rnn_step,
        mistakes=_STEP_MISTAKES,
        shape_hints=[(lambda got, exp: got == exp[::-1], "the output is transposed: h is (N, H)")],
    ),
    "rnn_forward": Exercise(
        reference=rnn_forward,
        mistakes=_FORWARD_MISTAKES,
        isolate={"rnn_step": rnn_step},
        shape_hints=[
            (lambda got, exp: got == exp[1:], "only the last state is returned; return all T states, (T, N, H)"),
            (lambda got, exp: got == (exp[1], exp[0], exp[2]),
             "the output is batch-first (N, T, H); this course is time-major, (T, N, H)"),
            (lambda got, exp: len(got) == 3 and got[0] == exp[0] + 1,
             "h0 is included; hs[t] is the state after step t, so there are exactly T of them"),
        ],
    ),
    "rnn_param_count": Exercise(
        reference=rnn_param_count,
        scalar=True,
        mistakes=[
            _param_mistake("only one bias vector counted: torch.nn.RNN has both b_ih and b_hh",
                           lambda D, H: H * (D + H) + H),
            _param_mistake("the biases are not counted", lambda D, H: H * (D + H)),
            _param_mistake("the biases have H entries each, not D", lambda D, H: H * (D + H) + 2 * D),
            _param_mistake("W_hh is (H, H), so it has H*H entries, not H*D", lambda D, H: 2 * H * D + 2 * H),
            _param_mistake("W_ih is (H, D), so it has H*D entries, not H*H", lambda D, H: 2 * H * H + 2 * H),
        ],
    ),
}
