"""Problem set 4, LSTM: lstm_step_forward, lstm_step_backward, cell_path_gradient.

For each exercise: the reference (rnnlib), the mistakes students plausibly make with the line that
names each, and the hidden cases (unseen inputs; first the cases that isolate one term each).

Every mistake of the step functions is one wrong reading of the same cell, written once in
``_cell``: the gate order, the activations, the update of c and of h, and (for the backward pass) the
way the gradient is sent back. A wrong forward pass inside the backward pass is differentiated
consistently, as a student who recomputes it with the same slip would.
"""

import numpy as np

from grader.exercise import Exercise
from rnnlib.core import lstm
from rnnlib.core._checks import sigmoid

NOTEBOOK = "ps4_lstm.ipynb"


def lstm_step_forward(x, h_prev, c_prev, W_ih, W_hh, b_ih, b_hh):
    h, c, _ = lstm.cell_forward(x, h_prev, c_prev, W_ih, W_hh, b_ih, b_hh)
    return h, c


def lstm_step_backward(dh, dc, x, h_prev, c_prev, W_ih, W_hh, b_ih, b_hh):
    _, _, cache = lstm.cell_forward(x, h_prev, c_prev, W_ih, W_hh, b_ih, b_hh)
    return lstm.cell_backward(dh, dc, cache)


def cell_path_gradient(fs):
    """dc_T/dc_0 along the cell path alone: each step multiplies by its forget gate, so this is the
    product of ``fs (T, N, H)`` over time (``lstm.cell_backward`` with ``dh = 0`` returns ``dc * f``;
    tests/test_ps4_lstm.py checks the two agree on a real LSTM)."""
    return np.prod(fs, axis=0)


# ---- mistakes ------------------------------------------------------------------------------------

def _tanh_grad(y):
    return 1.0 - y * y


def _sigmoid_grad(y):
    return y * (1.0 - y)


ACTIVATIONS = {"sigmoid": (sigmoid, _sigmoid_grad), "tanh": (np.tanh, _tanh_grad)}


def _cell(order="ifgo", gates="sigmoid", candidate="tanh", out_tanh=True, input_gate=True, b_hh_on=True):
    """A forward pass, right or wrong, that keeps what its backward pass needs. ``order`` names the
    gate that each of the four blocks of rows is read as."""
    gate_act, candidate_act = ACTIVATIONS[gates][0], ACTIVATIONS[candidate][0]

    def forward(x, h_prev, c_prev, W_ih, W_hh, b_ih, b_hh):
        H = h_prev.shape[1]
        a = x @ W_ih.T + b_ih + h_prev @ W_hh.T + (b_hh if b_hh_on else 0.0)
        block = {name: a[:, k * H:(k + 1) * H] for k, name in enumerate(order)}
        act = {name: gate_act(block[name]) for name in "ifo"}
        act["g"] = candidate_act(block["g"])
        c = act["f"] * c_prev + (act["i"] * act["g"] if input_gate else act["g"])
        m = np.tanh(c) if out_tanh else c  # what the output gate multiplies
        return act["o"] * m, c, act, m
    return forward


def _forward_variant(swap_outputs=False, **cell):
    forward = _cell(**cell)

    def step(x, h_prev, c_prev, W_ih, W_hh, b_ih, b_hh):
        h, c, _, _ = forward(x, h_prev, c_prev, W_ih, W_hh, b_ih, b_hh)
        return (c, h) if swap_outputs else (h, c)
    return step


CELL_MISTAKES = [
    ("the gate order is i, f, o, g (as in CS231n); PyTorch's blocks are i, f, g, o: the candidate g is the third "
     "block and the output gate o the fourth", dict(order="ifog")),
    ("the forget and input gates are swapped: PyTorch's first block is the input gate i, the second the forget "
     "gate f, and the forget gate multiplies c_prev", dict(order="figo")),
    ("the gate order is i, g, f, o; PyTorch's blocks are i, f, g, o", dict(order="igfo")),
    ("sigmoid and tanh are swapped on the candidate: g = tanh(a_g), while i, f and o use sigmoid",
     dict(candidate="sigmoid")),
    ("sigmoid and tanh are swapped: the gates i, f, o use sigmoid and the candidate g uses tanh",
     dict(gates="tanh", candidate="sigmoid")),
    ("the tanh is left out of the output: h = o * tanh(c), not o * c", dict(out_tanh=False)),
    ("the input gate is left out of the cell update: the new content is i * g, not g alone", dict(input_gate=False)),
    ("b_hh is missing: PyTorch's LSTM has two bias vectors, add both", dict(b_hh_on=False)),
]

FORWARD_MISTAKES = [(message, _forward_variant(**cell)) for message, cell in CELL_MISTAKES] + [
    ("h and c are returned in the wrong order: return (h, c)", _forward_variant(swap_outputs=True)),
]


def _backward_variant(through_h=True, times_f=True, dc_prev_through_h=True, df_from_c=False, do_from_c=False,
                      tanh_grad=True, **cell):
    forward = _cell(**cell)
    gate_grad = ACTIVATIONS[cell.get("gates", "sigmoid")][1]
    candidate_grad = ACTIVATIONS[cell.get("candidate", "tanh")][1]
    order, out_tanh = cell.get("order", "ifgo"), cell.get("out_tanh", True)

    def step(dh, dc, x, h_prev, c_prev, W_ih, W_hh, b_ih, b_hh):
        _, c, act, m = forward(x, h_prev, c_prev, W_ih, W_hh, b_ih, b_hh)
        from_h = dh * act["o"] * (_tanh_grad(m) if out_tanh and tanh_grad else 1.0)
        dc_total = dc + from_h if through_h else dc
        d = {"o": dh * (c if do_from_c else m), "f": dc_total * (c if df_from_c else c_prev),
             "i": dc_total * act["g"], "g": dc_total * act["i"] if cell.get("input_gate", True) else dc_total}
        if not cell.get("input_gate", True):
            d["i"] = d["i"] * 0.0
        blocks = [d[name] * (candidate_grad(act[name]) if name == "g" else gate_grad(act[name])) for name in order]
        da = np.concatenate(blocks, axis=1)
        dc_prev = (dc_total if dc_prev_through_h else dc) * (act["f"] if times_f else 1.0)
        db = da.sum(axis=0)
        db_hh = db if cell.get("b_hh_on", True) else db * 0.0
        return da @ W_ih, da @ W_hh, dc_prev, da.T @ x, da.T @ h_prev, db, db_hh
    return step


BACKWARD_MISTAKES = [
    ("the gradient that reaches c through h is left out: c also feeds h = o * tanh(c), so dc + dh * o * "
     "(1 - tanh(c)**2) is what flows into the gates and on to c_prev", _backward_variant(through_h=False)),
    ("dc_prev is not multiplied by the forget gate: along the cell path dc_prev = f * (gradient on c)",
     _backward_variant(times_f=False)),
    ("dc_prev misses the gradient that reached c through h: it is f * (dc + dh * o * (1 - tanh(c)**2)), "
     "the same total that the gates receive", _backward_variant(dc_prev_through_h=False)),
    ("the derivative of tanh(c) is left out of the path through h: dh * o * (1 - tanh(c)**2), not dh * o",
     _backward_variant(tanh_grad=False)),
    ("the forget gate's gradient uses the new cell state: c = f * c_prev + ..., so it is (gradient on c) * c_prev",
     _backward_variant(df_from_c=True)),
    ("the output gate's gradient uses c instead of tanh(c): h = o * tanh(c), so it is dh * tanh(c)",
     _backward_variant(do_from_c=True)),
] + [(f"in the recomputed forward pass, {message}", _backward_variant(**cell)) for message, cell in CELL_MISTAKES]


PATH_MISTAKES = [
    ("the forget gates are added; along the cell path each step multiplies the gradient by f_t, so "
                  "take their product over time", lambda fs: np.sum(fs, axis=0)),
    ("the first step's forget gate is left out: c_T depends on c_0 through all T steps, f_1 to f_T",
                  lambda fs: np.prod(fs[1:], axis=0)),
    ("the last step's forget gate is left out: c_T depends on c_0 through all T steps, f_1 to f_T",
                  lambda fs: np.prod(fs[:-1], axis=0)),
    ("the product is of 1 - f; the cell path keeps the fraction f of the gradient at each step",
                  lambda fs: np.prod(1.0 - fs, axis=0)),
    ("the sigmoid's derivative f * (1 - f) is multiplied in; dc_t/dc_{t-1} is f_t itself (the gates "
                  "do not depend on c_{t-1})", lambda fs: np.prod(fs * (1.0 - fs), axis=0)),
    ("only the last forget gate is used, raised to the power T; the gates differ from step to step, "
                  "multiply all of them", lambda fs: fs[-1] ** len(fs)),
]


# ---- hidden cases --------------------------------------------------------------------------------

def _weights(rng, D, H, scale=0.8):
    def uniform(*shape):
        return rng.uniform(-scale, scale, size=shape)
    return {"W_ih": uniform(4 * H, D), "W_hh": uniform(4 * H, H), "b_ih": uniform(4 * H), "b_hh": uniform(4 * H)}


def _step_inputs(rng, N, D, H):
    return dict(x=rng.standard_normal((N, D)), h_prev=rng.uniform(-1, 1, (N, H)), c_prev=rng.standard_normal((N, H)),
                **_weights(rng, D, H))


def _isolating(full, N, D, H):
    """The cases of one step that keep a single term of the pre-activation (and c_prev) each."""
    no_bias = {"b_ih": np.zeros(4 * H), "b_hh": np.zeros(4 * H)}
    x0, h0, c0 = np.zeros((N, D)), np.zeros((N, H)), np.zeros((N, H))
    return [
        ("input term only (h_prev = 0, c_prev = 0, no bias)", {**full, "h_prev": h0, "c_prev": c0, **no_bias}),
        ("state term only (x = 0, c_prev = 0, no bias)", {**full, "x": x0, "c_prev": c0, **no_bias}),
        ("biases only (x = 0, h_prev = 0, c_prev = 0)", {**full, "x": x0, "h_prev": h0, "c_prev": c0}),
        ("previous cell state only (x = 0, h_prev = 0, no bias)", {**full, "x": x0, "h_prev": h0, **no_bias}),
    ]


def forward_cases(rng):
    N, D, H = 2, 3, 4
    full = _step_inputs(rng, N, D, H)
    return _isolating(full, N, D, H) + [
        ("all terms, N = 2, D = 3, H = 4", full),
        ("all terms, N = 1, D = 2, H = 3", _step_inputs(rng, 1, 2, 3)),
    ]


def backward_cases(rng):
    N, D, H = 2, 3, 4
    full = {**_step_inputs(rng, N, D, H), "dh": rng.standard_normal((N, H)), "dc": rng.standard_normal((N, H))}
    zero = np.zeros((N, H))
    return [
        ("gradient on c only (dh = 0), N = 2, D = 3, H = 4", {**full, "dh": zero}),
        ("gradient on h only (dc = 0), N = 2, D = 3, H = 4", {**full, "dc": zero}),
        ("gradient on h only, from h_prev = 0 and c_prev = 0 (no bias)",
         {**full, "dc": zero, "h_prev": zero, "c_prev": zero, "b_ih": np.zeros(4 * H), "b_hh": np.zeros(4 * H)}),
        ("all terms, N = 2, D = 3, H = 4", full),
        ("all terms, N = 1, D = 2, H = 3",
         {**_step_inputs(rng, 1, 2, 3), "dh": rng.standard_normal((1, 3)), "dc": rng.standard_normal((1, 3))}),
    ]


def path_cases(rng):
    def gates(T, N, H, low=0.05, high=0.999):
        return rng.uniform(low, high, size=(T, N, H))

    constant = np.broadcast_to(rng.uniform(0.3, 0.95, size=(1, 2, 3)), (5, 2, 3)).copy()
    cut = gates(6, 1, 4, 0.8, 0.99)
    cut[2, 0, 1] = 0.0
    return [
        ("one step, T = 1, N = 2, H = 3", {"fs": gates(1, 2, 3)}),
        ("the same gate at every step, T = 5, N = 2, H = 3", {"fs": constant}),
        ("one gate shut at one step, T = 6, N = 1, H = 4", {"fs": cut}),
        ("gates near 1, T = 40, N = 2, H = 2", {"fs": gates(40, 2, 2, 0.9, 0.999)}),
        ("T = 7, N = 3, H = 2", {"fs": gates(7, 3, 2)}),
    ]


LAYOUT_HINT = ("a shape mismatch: in PyTorch's layout W_ih is (4H, D) and W_hh is (4H, H), so the pre-activations "
               "are x @ W_ih.T + h_prev @ W_hh.T, of shape (N, 4H), split into four blocks of H columns")

EXERCISES = [
    Exercise(
        name="lstm_step_forward", test_cell="test_lstm_step_forward", reference=lstm_step_forward,
        hidden_cases=forward_cases, seed=401, mistakes=FORWARD_MISTAKES,
        hints={"reversed": "the output is transposed: h and c are (N, H)", "error:matmul": LAYOUT_HINT,
               "error:shapes": LAYOUT_HINT, "error:broadcast": LAYOUT_HINT},
        outputs=("h", "c"),
    ),
    Exercise(
        name="lstm_step_backward", test_cell="test_lstm_step_backward", reference=lstm_step_backward,
        hidden_cases=backward_cases, seed=402, mistakes=BACKWARD_MISTAKES, helpers=("lstm_step_forward",),
        hints={"reversed": "a gradient is transposed: each has the shape of what it is the gradient of "
                           "(dW_ih is (4H, D) like W_ih, dx is (N, D) like x)",
               "error:matmul": LAYOUT_HINT, "error:shapes": LAYOUT_HINT, "error:broadcast": LAYOUT_HINT},
        outputs=("dx", "dh_prev", "dc_prev", "dW_ih", "dW_hh", "db_ih", "db_hh"),
    ),
    Exercise(
        name="cell_path_gradient", test_cell="test_cell_path_gradient", reference=cell_path_gradient,
        hidden_cases=path_cases, seed=403, mistakes=PATH_MISTAKES,
        hints={"reversed": "the output is transposed: it is (N, H), one factor per example and unit"},
    ),
]
