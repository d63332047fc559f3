"""Problem set 4 through the whole engine, as one class graded by `make grade`'s path: the solution
gets full marks, the release gets 0, each catalogued mistake of the issue loses exactly its own cell's
points with its diagnosis, correct answers written differently get full marks, and `nbgrader validate`
(the student's view) agrees with every grade. Also: the reference of cell_path_gradient is what
rnnlib's backward pass does along the cell path."""

import textwrap

import numpy as np

from tests.agreement import AgreementTests
from tests.course import solution_sources
from tests.pset import ProblemSetTests

PS = "ps4_lstm"
NOTEBOOK = "ps4_lstm.ipynb"
SOLUTION = solution_sources(PS, NOTEBOOK)


def edited(name, *replacements):
    """The solution of ``name`` with each ``(old, new)`` replaced once (and each old text present)."""
    source = SOLUTION[name]
    for old, new in replacements:
        assert source.count(old) == 1, f"{old!r} is not once in the solution of {name}"
        source = source.replace(old, new)
    return {name: source}


SIG = "1 / (1 + np.exp(-a[:, {}]))"
BLOCK_G, BLOCK_O = "2 * H:3 * H", "3 * H:"
G_LINE, O_LINE = f"g = np.tanh(a[:, {BLOCK_G}])", f"o = {SIG.format(BLOCK_O)}"
I_LINE, F_LINE = f"i = {SIG.format(':H')}", f"f = {SIG.format('H:2 * H')}"
C_FROM_PART_1 = "_, c = lstm_step_forward(x, h_prev, c_prev, W_ih, W_hh, b_ih, b_hh)  # the new cell state, from part 1"
C_INLINE = (C_FROM_PART_1, "c = f * c_prev + i * g")
IFOG = ((G_LINE, f"g = np.tanh(a[:, {BLOCK_O}])"), (O_LINE, f"o = {SIG.format(BLOCK_G)}"))
DA_G_THEN_O = ("dc_total * i * (1 - g ** 2),       # candidate\n"
               "                         dh * tanh_c * o * (1 - o)],        # output gate")
DA_O_THEN_G = ("dh * tanh_c * o * (1 - o),         # output gate, read as the third block\n"
               "                         dc_total * i * (1 - g ** 2)],      # candidate, read as the fourth")

# student -> (answers replacing the solution cells, the cell that must lose its points, diagnosis)
WRONG = {
    # part 1, the mistakes the issue lists
    "forward_cs231n_order": (edited("lstm_step_forward", *IFOG), "test_lstm_step_forward",
                             "the gate order is i, f, o, g (as in CS231n)"),
    "forward_sigmoid_candidate": (edited("lstm_step_forward", (G_LINE, f"g = {SIG.format(BLOCK_G)}")),
                                  "test_lstm_step_forward", "sigmoid and tanh are swapped on the candidate"),
    "forward_no_tanh": (edited("lstm_step_forward", ("h = o * np.tanh(c)", "h = o * c")), "test_lstm_step_forward",
                        "the tanh is left out of the output"),
    "forward_no_input_gate": (edited("lstm_step_forward", ("c = f * c_prev + i * g", "c = f * c_prev + g")),
                              "test_lstm_step_forward", "the input gate is left out of the cell update"),
    "forward_f_and_i_swapped": (edited("lstm_step_forward", ("c = f * c_prev + i * g", "c = i * c_prev + f * g")),
                                "test_lstm_step_forward", "the forget and input gates are swapped"),
    # part 2: the backward pass's own mistakes, and forward mistakes made again while recomputing
    "backward_not_through_h": (edited("lstm_step_backward", ("dc_total = dc + dh * o * (1 - tanh_c ** 2)",
                                                             "dc_total = dc")),
                               "test_lstm_step_backward", "the gradient that reaches c through h is left out"),
    "backward_dc_prev_not_times_f": (edited("lstm_step_backward", ("dc_total * f, da.T", "dc_total, da.T")),
                                     "test_lstm_step_backward", "dc_prev is not multiplied by the forget gate"),
    "backward_cs231n_order": (edited("lstm_step_backward", *IFOG, C_INLINE, (DA_G_THEN_O, DA_O_THEN_G)),
                              "test_lstm_step_backward",
                              "in the recomputed forward pass, the gate order is i, f, o, g"),
    "backward_sigmoid_candidate": (edited("lstm_step_backward", (G_LINE, f"g = {SIG.format(BLOCK_G)}"), C_INLINE,
                                          ("dc_total * i * (1 - g ** 2)", "dc_total * i * g * (1 - g)")),
                                   "test_lstm_step_backward",
                                   "in the recomputed forward pass, sigmoid and tanh are swapped on the candidate"),
    "backward_no_tanh": (edited("lstm_step_backward", C_INLINE, ("tanh_c = np.tanh(c)", "tanh_c = c"),
                                ("dh * o * (1 - tanh_c ** 2)", "dh * o")),
                         "test_lstm_step_backward", "in the recomputed forward pass, the tanh is left out"),
    # part 3
    "path_sum": ({"cell_path_gradient": "def cell_path_gradient(fs):\n    return fs.sum(axis=0)\n"},
                 "test_cell_path_gradient", "the forget gates are added"),
    "path_first_step_left_out": ({"cell_path_gradient": "def cell_path_gradient(fs):\n"
                                                        "    return np.prod(fs[1:], axis=0)\n"},
                                 "test_cell_path_gradient", "the first step's forget gate is left out"),
    # right on every visible case, wrong on the hidden ones: only the grade can tell
    "fits_the_sanity_cases": ({"cell_path_gradient": "def cell_path_gradient(fs):\n"
                                                     "    return np.prod(fs, axis=0) if len(fs) <= 3 else fs[0]\n"},
                              "test_cell_path_gradient", "on the case 'the same gate at every step"),
    # a correct answer that adds into the caller's dc
    "changes_its_input": (edited("lstm_step_backward", ("dc_total = dc + dh * o * (1 - tanh_c ** 2)",
                                                        "dc += dh * o * (1 - tanh_c ** 2)\n    dc_total = dc")),
                          "test_lstm_step_backward", "changed its input dc in place"),
}

# Correct answers written differently: all must get full marks.
def source(text):
    return textwrap.dedent(text).lstrip()


RIGHT = {
    "loops": {
        "lstm_step_forward": source("""
            def lstm_step_forward(x, h_prev, c_prev, W_ih, W_hh, b_ih, b_hh):
                N, H = h_prev.shape
                gates = {}
                for k, name in enumerate('ifgo'):
                    rows = slice(k * H, (k + 1) * H)
                    a = np.zeros((N, H))
                    for n in range(N):
                        a[n] = W_ih[rows] @ x[n] + b_ih[rows] + W_hh[rows] @ h_prev[n] + b_hh[rows]
                    gates[name] = np.tanh(a) if name == 'g' else 0.5 * (1 + np.tanh(a / 2))
                c = gates['f'] * c_prev + gates['i'] * gates['g']
                return gates['o'] * np.tanh(c), c
            """),
        "lstm_step_backward": source("""
            def lstm_step_backward(dh, dc, x, h_prev, c_prev, W_ih, W_hh, b_ih, b_hh):
                N, H = h_prev.shape
                outs = [np.zeros_like(x), np.zeros_like(h_prev), np.zeros_like(c_prev),
                        np.zeros_like(W_ih), np.zeros_like(W_hh), np.zeros_like(b_ih)]
                for n in range(N):
                    a = W_ih @ x[n] + b_ih + W_hh @ h_prev[n] + b_hh
                    s = 1 / (1 + np.exp(-a))
                    i, f, o, g = s[:H], s[H:2 * H], s[3 * H:], np.tanh(a[2 * H:3 * H])
                    c = f * c_prev[n] + i * g
                    dcn = dc[n] + dh[n] * o * (1 - np.tanh(c) ** 2)
                    da = np.concatenate([dcn * g * i * (1 - i), dcn * c_prev[n] * f * (1 - f),
                                         dcn * i * (1 - g * g), dh[n] * np.tanh(c) * o * (1 - o)])
                    outs[0][n], outs[1][n], outs[2][n] = W_ih.T @ da, W_hh.T @ da, dcn * f
                    outs[3] += np.outer(da, x[n])
                    outs[4] += np.outer(da, h_prev[n])
                    outs[5] += da
                return (*outs, outs[5].copy())
            """),
        "cell_path_gradient": source("""
            def cell_path_gradient(fs):
                out = np.ones(fs.shape[1:])
                for f in fs:
                    out = out * f
                return out
            """),
    },
    "einsum_and_column_vectors": {
        "lstm_step_forward": source("""
            def lstm_step_forward(x, h_prev, c_prev, W_ih, W_hh, b_ih, b_hh):
                H = W_hh.shape[1]
                a = (W_ih @ x.T + W_hh @ h_prev.T + (b_ih + b_hh)[:, None]).reshape(4, H, -1)
                i, f, g, o = 1 / (1 + np.exp(-a[0])), 1 / (1 + np.exp(-a[1])), np.tanh(a[2]), 1 / (1 + np.exp(-a[3]))
                c = f * c_prev.T + i * g
                return (o * np.tanh(c)).T, c.T
            """),
        "lstm_step_backward": source("""
            def lstm_step_backward(dh, dc, x, h_prev, c_prev, W_ih, W_hh, b_ih, b_hh):
                H = W_hh.shape[1]
                a = np.einsum('gd,nd->ng', W_ih, x) + np.einsum('gk,nk->ng', W_hh, h_prev) + b_ih + b_hh
                i, f, g, o = np.split(1 / (1 + np.exp(-a)), 4, axis=1)
                g = np.tanh(a[:, 2 * H:3 * H])
                h, c = lstm_step_forward(x, h_prev, c_prev, W_ih, W_hh, b_ih, b_hh)
                t = np.tanh(c)
                dct = dc + dh * o * (1 - t * t)
                da = np.hstack([dct * g, dct * c_prev, dct, dh * t]) * np.hstack(
                    [i * (1 - i), f * (1 - f), i * (1 - g * g), o * (1 - o)])
                db = np.einsum('ng->g', da)
                dx, dh_prev = np.einsum('ng,gd->nd', da, W_ih), np.einsum('ng,gk->nk', da, W_hh)
                return dx, dh_prev, f * dct, np.einsum('ng,nd->gd', da, x), np.einsum('ng,nk->gk', da, h_prev), db, db
            """),
        "cell_path_gradient": source("""
            import functools


            def cell_path_gradient(fs):
                return functools.reduce(np.multiply, list(fs))
            """),
    },
    "float32": {
        name: text.replace("    H = h_prev.shape[1]\n",
                           "    H = h_prev.shape[1]\n    x, h_prev, c_prev, W_ih, W_hh, b_ih, b_hh = (\n"
                           "        v.astype(np.float32) for v in (x, h_prev, c_prev, W_ih, W_hh, b_ih, b_hh))\n")
        for name, text in SOLUTION.items() if name != "cell_path_gradient"
    } | {"cell_path_gradient": "def cell_path_gradient(fs):\n    return np.prod(fs.astype(np.float32), axis=0)\n"},
}


class TestProblemSet4(AgreementTests, ProblemSetTests):
    PS, NOTEBOOK, WRONG, RIGHT = PS, NOTEBOOK, WRONG, RIGHT
    ALONE = ("forward_cs231n_order", "forward_no_tanh", "forward_f_and_i_swapped")  # the backward keeps its points

    def test_a_wrong_forward_does_not_cost_the_backward_that_calls_it(self, course):
        """The solution's backward takes c from lstm_step_forward: with a wrong forward, the grader (and
        validate) put a correct one in its place, so only part 1 loses points."""
        for student in self.ALONE:
            assert "lstm_step_forward(" in WRONG[student][0].get("lstm_step_backward", SOLUTION["lstm_step_backward"])
            assert self.failing(course, student) == {"test_lstm_step_forward"}
            assert "test_lstm_step_backward" not in course.validation[student]


def test_the_cell_path_reference_is_what_rnnlib_sends_back_along_the_cell_path():
    """cell_path_gradient's reference, the product of the forget gates, equals lstm.cell_backward chained
    over a real sequence with no gradient on h (so only the cell path carries it), and the 1997 cell
    (f = 1) keeps the gradient exactly."""
    from grader.sets import ps4_lstm
    from rnnlib.analysis import lstm_gates
    from rnnlib.core import lstm

    rng = np.random.default_rng(0)
    T, N, D, H = 12, 3, 2, 4
    weights = lstm.init_weights(D, H, rng, forget_bias=1.0)
    xs, h0, c0 = rng.standard_normal((T, N, D)), rng.standard_normal((N, H)), rng.standard_normal((N, H))
    for w in (weights, lstm_gates.without_forget_gate(*weights)):
        run = lstm_gates.sequence_gates(xs, h0, c0, *w)
        hs, cs = np.concatenate([h0[None], run["h"]]), np.concatenate([c0[None], run["c"]])
        dc = np.ones((N, H))
        for t in reversed(range(T)):
            _, _, cache = lstm.cell_forward(xs[t], hs[t], cs[t], *w)
            dc = lstm.cell_backward(np.zeros((N, H)), dc, cache)[2]
        np.testing.assert_allclose(ps4_lstm.cell_path_gradient(run["f"]), dc, rtol=1e-13, atol=0)
    assert np.all(dc == 1.0)


def test_the_step_references_are_rnnlib_and_every_mistake_model_is_a_consistent_derivative():
    """The correct settings of the mistake models reproduce the references, and each backward model is
    the exact derivative of its own (wrong) forward pass, checked by centred differences."""
    from grader.sets import ps4_lstm as m
    from rnnlib.core.gradcheck import numerical_gradient

    rng = np.random.default_rng(1)
    args = m._step_inputs(rng, 2, 3, 2)
    dh, dc = rng.standard_normal((2, 2)), rng.standard_normal((2, 2))
    for got, want in zip(m._backward_variant()(dh, dc, **args), m.lstm_step_backward(dh, dc, **args), strict=True):
        np.testing.assert_allclose(got, want, rtol=1e-13, atol=1e-15)
    for got, want in zip(m._forward_variant()(**args), m.lstm_step_forward(**args), strict=True):
        np.testing.assert_allclose(got, want, rtol=1e-13, atol=1e-15)
    for _, cell in m.CELL_MISTAKES:
        forward, backward = m._cell(**cell), m._backward_variant(**cell)(dh, dc, **args)
        for name, grad in zip(("x", "h_prev", "c_prev", "W_ih", "W_hh", "b_ih", "b_hh"), backward, strict=True):
            value = args[name].copy()  # numerical_gradient changes it in place, one entry at a time

            def loss(name=name, value=value, forward=forward):
                h, c, _, _ = forward(**{**args, name: value})
                return np.sum(h * dh) + np.sum(c * dc)
            np.testing.assert_allclose(numerical_gradient(loss, value), grad, rtol=1e-6, atol=1e-8)
