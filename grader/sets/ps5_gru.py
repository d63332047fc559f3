"""Problem set 5, gated recurrent units: gru_step_forward, gru_step_backward, param_counts and
gru_step_forward_cho (the reset gate before the product, for the written question).

For each exercise: the reference (rnnlib), the mistakes students plausibly make with the line that
names each, and the hidden cases (unseen inputs; first the cases that isolate one term each).

The wrong answers are built from one GRU step with switches (``_Variant``), forward and backward, so
that a mistake in the forward pass (reset before the product, z and 1 - z swapped, ...) also has its
consistent backward pass, and a mistake of the backward pass alone (the reset path left out, ...) keeps
the right forward pass. Everything keeps the dtype of its inputs (the references are evaluated in long
double).
"""

from dataclasses import dataclass, replace

import numpy as np

from grader.exercise import Exercise
from rnnlib.core import gru, sizes
from rnnlib.core._checks import sigmoid

NOTEBOOK = "ps5_gru.ipynb"


def gru_step_forward(x, h_prev, W_ih, W_hh, b_ih, b_hh):
    return gru.cell_forward(x, h_prev, W_ih, W_hh, b_ih, b_hh)[0]


def gru_step_backward(dh, x, h_prev, W_ih, W_hh, b_ih, b_hh):
    return gru.cell_backward(dh, gru.cell_forward(x, h_prev, W_ih, W_hh, b_ih, b_hh)[1])


def param_counts(input_size, hidden_size):
    return {kind: sizes.param_count(kind, int(input_size), int(hidden_size)) for kind in ("rnn", "lstm", "gru")}


def gru_step_forward_cho(x, h_prev, W_ih, W_hh, b_ih, b_hh):
    return gru.cho_cell_forward(x, h_prev, W_ih, W_hh, b_ih, b_hh)


# ---- one GRU step with switches ------------------------------------------------------------------

@dataclass(frozen=True)
class _Variant:
    reset: str = "after"        # "after" r * (W_hn h + b_hn) | "before" W_hn (r * h) + b_hn |
    #                             "bias_outside" r * (W_hn h) + b_hn | "bias_reset" W_hn (r * h) + r * b_hn | "none"
    order: str = "rz"           # the first two blocks: "rz" (right) or "zr"
    gates_tanh: bool = False    # tanh for r and z, sigmoid for n (swapped)
    swap_z: bool = False        # h = z * n + (1 - z) * h_prev
    no_interpolation: bool = False  # returns n
    b_hh_on: bool = True
    # backward-only slips
    reset_path: bool = True     # the gradient through r
    direct_path: bool = True    # dh * z into dh_prev
    r_on_state_grad: bool = True  # the n block's state-side gradient multiplied by r
    dz_sign: float = 1.0        # -1: dz = dh * (n - h_prev)
    tanh_grad_of_input: bool = False  # 1 - a_n**2 with a_n the argument of tanh instead of 1 - n**2
    batch_mean: bool = False    # parameter gradients divided by N
    r_on_bias_grad: bool = True  # the n block of db_hh multiplied by r
    z_from_reset: bool = False  # z's state term computed from r * h_prev (Cho et al.'s reset misapplied)


def _blocks(a, H):
    return a[:, :H], a[:, H:2 * H], a[:, 2 * H:]


def _parts(v, x, h_prev, W_ih, W_hh, b_ih, b_hh):
    H = h_prev.shape[1]
    b_hh = b_hh if v.b_hh_on else b_hh * 0
    a_first, a_second, a_n = _blocks(x @ W_ih.T + b_ih, H)
    u_first, u_second, _ = _blocks(h_prev @ W_hh.T + b_hh, H)
    gate = np.tanh if v.gates_tanh else sigmoid
    first, second = gate(a_first + u_first), gate(a_second + u_second)
    r, z = (first, second) if v.order == "rz" else (second, first)
    if v.z_from_reset:  # forward only (a mistake of Cho et al.'s convention)
        z = gate(a_second + (r * h_prev) @ W_hh[H:2 * H].T + b_hh[H:2 * H])
    W_hn, b_hn = W_hh[2 * H:], b_hh[2 * H:]
    p = h_prev @ W_hn.T
    recurrent = {"after": r * (p + b_hn), "before": (r * h_prev) @ W_hn.T + b_hn, "bias_outside": r * p + b_hn,
                 "bias_reset": (r * h_prev) @ W_hn.T + r * b_hn, "none": p + b_hn}[v.reset]
    pre_n = a_n + recurrent
    n = sigmoid(pre_n) if v.gates_tanh else np.tanh(pre_n)
    keep = 1 - z if v.swap_z else z
    h = n if v.no_interpolation else keep * h_prev + (1 - keep) * n
    return dict(r=r, z=z, n=n, keep=keep, pre_n=pre_n, p=p, b_hn=b_hn, W_hn=W_hn, h=h)


def _forward(v):
    def step(x, h_prev, W_ih, W_hh, b_ih, b_hh):
        return _parts(v, x, h_prev, W_ih, W_hh, b_ih, b_hh)["h"]
    return step


def _gate_grad(v, g):
    return 1 - g * g if v.gates_tanh else g * (1 - g)


def _backward(v):
    def backward(dh, x, h_prev, W_ih, W_hh, b_ih, b_hh):
        s = _parts(v, x, h_prev, W_ih, W_hh, b_ih, b_hh)
        r, z, n, keep, W_hn = s["r"], s["z"], s["n"], s["keep"], s["W_hn"]
        dn = dh * (1 - keep)
        dkeep = dh * (h_prev - n) * v.dz_sign
        dz = -dkeep if v.swap_z else dkeep
        if v.gates_tanh:
            d_pre_n = dn * n * (1 - n)
        else:
            d_pre_n = dn * (1 - (s["pre_n"] ** 2 if v.tanh_grad_of_input else n * n))
        # the recurrent term of the candidate: its gradient with respect to r, W_hn, b_hn and h_prev
        g = d_pre_n * r if v.r_on_state_grad else d_pre_n
        if v.reset == "before":
            dm = d_pre_n @ W_hn
            dr, dW_hn, db_hn, dh_n = dm * h_prev, d_pre_n.T @ (r * h_prev), d_pre_n.sum(axis=0), dm * r
        elif v.reset == "none":
            dr, dW_hn, db_hn, dh_n = d_pre_n * 0, d_pre_n.T @ h_prev, d_pre_n.sum(axis=0), d_pre_n @ W_hn
        elif v.reset == "bias_outside":
            dr, dW_hn, db_hn, dh_n = d_pre_n * s["p"], g.T @ h_prev, d_pre_n.sum(axis=0), g @ W_hn
        else:  # "after" ("bias_reset" is a mistake of the forward pass only, in Cho et al.'s convention)
            dr, dW_hn, dh_n = d_pre_n * (s["p"] + s["b_hn"]), g.T @ h_prev, g @ W_hn
            db_hn = (g if v.r_on_bias_grad else d_pre_n).sum(axis=0)
        d_pre_r = dr * _gate_grad(v, r) * (1 if v.reset_path else 0)
        d_pre_z = dz * _gate_grad(v, z)
        first, second = (d_pre_r, d_pre_z) if v.order == "rz" else (d_pre_z, d_pre_r)
        da = np.concatenate([first, second, d_pre_n], axis=1)
        du_gates = da[:, :2 * first.shape[1]]
        dx = da @ W_ih
        dh_prev = du_gates @ W_hh[:2 * first.shape[1]] + dh_n + (dh * keep if v.direct_path else dh * 0)
        dW_ih = da.T @ x
        dW_hh = np.concatenate([du_gates.T @ h_prev, dW_hn])
        db_ih, db_hh = da.sum(axis=0), np.concatenate([du_gates.sum(axis=0), db_hn])
        scale = x.shape[0] if v.batch_mean else 1
        return dx, dh_prev, dW_ih / scale, dW_hh / scale, db_ih / scale, db_hh / scale
    return backward


RIGHT = _Variant()
PYTORCH_N = "r * (h_prev @ W_hn.T + b_hn)"
CHO_N = "(r * h_prev) @ W_hn.T + b_hn"
CONVENTION_MISTAKES = [
    ("the roles of z and 1 - z are swapped: the new state is (1 - z) * n + z * h_prev, so z is the share kept",
     dict(swap_z=True)),
    ("the gate blocks are taken in the order z, r, n: PyTorch stacks them r, z, n (rows 0:H are the reset gate)",
     dict(order="zr")),
    ("tanh and sigmoid are swapped: the gates r and z use the sigmoid, the candidate n uses tanh",
     dict(gates_tanh=True)),
    ("b_hh is missing: each of the three blocks has two biases, b_ih's and b_hh's", dict(b_hh_on=False)),
]
FORWARD_MISTAKES = [
    (f"the reset gate is applied before the product (Cho et al.'s convention, part 4): PyTorch's candidate "
     f"uses {PYTORCH_N}", dict(reset="before")),
    (f"b_hn is added outside the reset: in PyTorch's convention it is reset too, {PYTORCH_N}",
     dict(reset="bias_outside")),
    (f"the reset gate is not applied: the candidate uses {PYTORCH_N}", dict(reset="none")),
] + CONVENTION_MISTAKES
INTERPOLATION_MISSING = ("the interpolation is missing: the candidate n is returned, not (1 - z) * n + z * h_prev",
                         dict(no_interpolation=True))
BACKWARD_MISTAKES = FORWARD_MISTAKES + [
    ("the path through the reset gate is left out: the candidate depends on r through r * (h_prev @ W_hn.T + b_hn), so"
     " r's pre-activation (and W_ir, W_hr, b_ir, b_hr) gets a gradient too", dict(reset_path=False)),
    ("dh_prev misses the direct path: h = (1 - z) * n + z * h_prev, so dh_prev gets dh * z as well",
     dict(direct_path=False)),
    ("the gradient reaching W_hn, b_hn and h_prev through the candidate is not multiplied by r: the candidate "
     f"sees {PYTORCH_N}", dict(r_on_state_grad=False)),
    ("the update gate's gradient has the wrong sign: dL/dz = dh * (h_prev - n)", dict(dz_sign=-1.0)),
    ("the tanh derivative is taken at the wrong point: d tanh(a)/da = 1 - n**2 with n = tanh(a), not 1 - a**2",
     dict(tanh_grad_of_input=True)),
    ("the parameter gradients are averaged over the batch: they are sums over the N examples",
     dict(batch_mean=True)),
    ("the n block of db_hh is not multiplied by r: b_hn sits inside the reset, r * (h_prev @ W_hn.T + b_hn), "
     "so its gradient is the sum of r * (the gradient of n's pre-activation)", dict(r_on_bias_grad=False)),
]
CHO_MISTAKES = [
    (f"the reset gate is applied after the product (PyTorch's convention, part 1): Cho et al.'s candidate uses "
     f"{CHO_N}", dict(reset="after")),
    (f"b_hn is reset as well: in Cho et al.'s convention only h_prev is, {CHO_N}", dict(reset="bias_reset")),
    (f"the reset gate is not applied: Cho et al.'s candidate uses {CHO_N}", dict(reset="none")),
    ("the update gate is computed from r * h_prev: only the candidate sees the reset state; z uses h_prev "
     "itself, as in part 1", dict(reset="before", z_from_reset=True)),
] + CONVENTION_MISTAKES


def _catalogue(mistakes, make, base=RIGHT):
    return [(message, make(replace(base, **switches))) for message, switches in mistakes]


def _count_mistake(message, formula):
    def counts(input_size, hidden_size):
        D, H = int(input_size), int(hidden_size)
        return {kind: formula(G, D, H) for kind, G in (("rnn", 1), ("lstm", 4), ("gru", 3))}
    return message, counts


def _gate_count_mistake(message, gates):
    def counts(input_size, hidden_size):
        D, H = int(input_size), int(hidden_size)
        return {kind: G * (H * (D + H) + 2 * H) for kind, G in zip(("rnn", "lstm", "gru"), gates)}
    return message, counts


COUNT_MISTAKES = [
    _count_mistake("only one bias vector counted: each layer has b_ih and b_hh, G*H entries each",
                   lambda G, D, H: G * H * (D + H) + G * H),
    _count_mistake("the biases are not counted", lambda G, D, H: G * H * (D + H)),
    _count_mistake("the biases are counted once per layer (2H) instead of once per block (2GH): the LSTM has "
                   "four blocks of b_ih and b_hh, the GRU three", lambda G, D, H: G * H * (D + H) + 2 * H),
    _count_mistake("W_hh is (G*H, H), so it has G*H*H entries, not G*H*D", lambda G, D, H: G * (2 * H * D + 2 * H)),
    _gate_count_mistake("the LSTM and GRU multipliers are swapped: the LSTM has 4 blocks (i, f, g, o), the GRU 3 "
                        "(r, z, n)", (1, 3, 4)),
    _gate_count_mistake("the candidate's block is not counted: the LSTM has 4 blocks (i, f, g, o), the GRU 3 "
                        "(r, z, n)", (1, 3, 2)),
]


# ---- hidden cases --------------------------------------------------------------------------------

def _weights(rng, D, H, scale=0.8):
    def uniform(*shape):
        return rng.uniform(-scale, scale, size=shape)
    return {"W_ih": uniform(3 * H, D), "W_hh": uniform(3 * H, H), "b_ih": uniform(3 * H), "b_hh": uniform(3 * H)}


def _step_cases(rng, upstream=False):
    def case(N, D, H):
        args = dict(x=rng.standard_normal((N, D)), h_prev=rng.uniform(-1, 1, (N, H)), **_weights(rng, D, H))
        return {"dh": rng.standard_normal((N, H)), **args} if upstream else args

    N, D, H = 2, 3, 4
    full = case(N, D, H)
    no_bias = {"b_ih": np.zeros(3 * H), "b_hh": np.zeros(3 * H)}
    return [
        ("input term only (h_prev = 0, no bias), N = 2, D = 3, H = 4", {**full, "h_prev": np.zeros((N, H)), **no_bias}),
        ("state term only (x = 0, no bias), N = 2, D = 3, H = 4", {**full, "x": np.zeros((N, D)), **no_bias}),
        ("biases only (x = 0, h_prev = 0), N = 2, D = 3, H = 4",
         {**full, "x": np.zeros((N, D)), "h_prev": np.zeros((N, H))}),
        ("all terms, N = 2, D = 3, H = 4", full),
        ("all terms, N = 3, D = 2, H = 3", case(3, 2, 3)),
    ]


def step_cases(rng):
    return _step_cases(rng)


def backward_cases(rng):
    return _step_cases(rng, upstream=True)


def count_cases(rng):
    sizes_ = [(1, 1), (3, 5), (10, 7), (7, 3), (128, 256)]
    return [(f"D = {D}, H = {H}", {"input_size": D, "hidden_size": H}) for D, H in sizes_]


LAYOUT_HINT = ("a shape mismatch: in PyTorch's layout W_ih is (3H, D) and W_hh is (3H, H), blocks r, z, n of H rows "
               "each, so the products are x @ W_ih.T and h_prev @ W_hh.T, and each gate takes H columns of them")
SHAPE_HINTS = {"error:matmul": LAYOUT_HINT, "error:shapes": LAYOUT_HINT, "error:broadcast": LAYOUT_HINT}

EXERCISES = [
    Exercise(
        name="gru_step_forward", test_cell="test_gru_step_forward", reference=gru_step_forward,
        hidden_cases=step_cases, seed=501, mistakes=_catalogue(FORWARD_MISTAKES + [INTERPOLATION_MISSING], _forward),
        hints={"reversed": "the output is transposed: h is (N, H)", **SHAPE_HINTS},
    ),
    Exercise(
        name="gru_step_backward", test_cell="test_gru_step_backward", reference=gru_step_backward,
        hidden_cases=backward_cases, seed=502, mistakes=_catalogue(BACKWARD_MISTAKES, _backward),
        outputs=("dx", "dh_prev", "dW_ih", "dW_hh", "db_ih", "db_hh"),
        hints={"reversed": "a gradient is transposed: each gradient has the shape of its variable", **SHAPE_HINTS},
    ),
    Exercise(
        name="param_counts", test_cell="test_param_counts", reference=param_counts,
        hidden_cases=count_cases, seed=503, mistakes=COUNT_MISTAKES,
    ),
    Exercise(
        name="gru_step_forward_cho", test_cell="test_gru_step_forward_cho", reference=gru_step_forward_cho,
        hidden_cases=step_cases, seed=504, mistakes=_catalogue(CHO_MISTAKES + [INTERPOLATION_MISSING], _forward,
                                                                replace(RIGHT, reset="before")),
        hints={"reversed": "the output is transposed: h is (N, H)", **SHAPE_HINTS},
    ),
]
