"""Problem set 5 through the whole engine, as one class graded by `make grade`'s path: the solution gets
full marks, the release gets 0, each catalogued mistake the issue lists loses exactly its own cells'
points with its diagnosis (one submission may hold wrong answers in several cells, each judged alone),
correct answers written differently get full marks, and `nbgrader validate` agrees with every grade."""

from tests.agreement import AgreementTests
from tests.course import solution_sources
from tests.pset import ProblemSetTests

PS = "ps5_gru"
NOTEBOOK = "ps5_gru.ipynb"
SOLUTION = solution_sources(PS, NOTEBOOK)
FORWARD, BACKWARD, COUNTS, CHO = (SOLUTION[name] for name in
                                  ("gru_step_forward", "gru_step_backward", "param_counts", "gru_step_forward_cho"))


def edit(source, *replacements):
    """The solution ``source`` with each ``(old, new)`` replaced; ``old`` must occur in it."""
    for old, new in replacements:
        assert old in source, old
        source = source.replace(old, new)
    return source


R_LINE = "r = 1 / (1 + np.exp(-(a[:, :H] + u[:, :H])))"
Z_LINE = "z = 1 / (1 + np.exp(-(a[:, H:2 * H] + u[:, H:2 * H])))"
N_LINE = "n = np.tanh(a[:, 2 * H:] + r * u[:, 2 * H:])"
GATES_ZR = (f"{R_LINE}\n    {Z_LINE}", "r = 1 / (1 + np.exp(-(a[:, H:2 * H] + u[:, H:2 * H])))\n"
            "    z = 1 / (1 + np.exp(-(a[:, :H] + u[:, :H])))")
GATES_TANH = [(R_LINE, "r = np.tanh(a[:, :H] + u[:, :H])"), (Z_LINE, "z = np.tanh(a[:, H:2 * H] + u[:, H:2 * H])"),
              (N_LINE, "n = 1 / (1 + np.exp(-(a[:, 2 * H:] + r * u[:, 2 * H:])))")]
CHO_R, CHO_Z = "r = 1 / (1 + np.exp(-(a[:, :H] + u_rz[:, :H])))", "z = 1 / (1 + np.exp(-(a[:, H:2 * H] + u_rz[:, H:])))"
CHO_N = "n = np.tanh(a[:, 2 * H:] + (r * h_prev) @ W_hh[2 * H:].T + b_hh[2 * H:])"
W_HN, B_HN = "W_hh[2 * H:]", "b_hh[2 * H:]"

BACKWARD_CHO = '''def gru_step_backward(dh, x, h_prev, W_ih, W_hh, b_ih, b_hh):
    H = h_prev.shape[1]
    a = x @ W_ih.T + b_ih
    u = h_prev @ W_hh.T + b_hh
    r = 1 / (1 + np.exp(-(a[:, :H] + u[:, :H])))
    z = 1 / (1 + np.exp(-(a[:, H:2 * H] + u[:, H:2 * H])))
    W_hn = W_hh[2 * H:]
    n = np.tanh(a[:, 2 * H:] + (r * h_prev) @ W_hn.T + b_hh[2 * H:])
    da_n = dh * (1 - z) * (1 - n ** 2)
    da_z = dh * (h_prev - n) * z * (1 - z)
    d_rh = da_n @ W_hn
    da_r = d_rh * h_prev * r * (1 - r)
    da = np.concatenate([da_r, da_z, da_n], axis=1)
    da_rz = da[:, :2 * H]
    dW_hh = np.concatenate([da_rz.T @ h_prev, da_n.T @ (r * h_prev)])
    dh_prev = da_rz @ W_hh[:2 * H] + d_rh * r + dh * z
    return da @ W_ih, dh_prev, da.T @ x, dW_hh, da.sum(axis=0), da.sum(axis=0)
'''
BACKWARD_B_HN_OUTSIDE = '''def gru_step_backward(dh, x, h_prev, W_ih, W_hh, b_ih, b_hh):
    H = h_prev.shape[1]
    a = x @ W_ih.T + b_ih
    p = h_prev @ W_hh.T
    u = p + b_hh
    r = 1 / (1 + np.exp(-(a[:, :H] + u[:, :H])))
    z = 1 / (1 + np.exp(-(a[:, H:2 * H] + u[:, H:2 * H])))
    n = np.tanh(a[:, 2 * H:] + r * p[:, 2 * H:] + b_hh[2 * H:])
    da_n = dh * (1 - z) * (1 - n ** 2)
    da_z = dh * (h_prev - n) * z * (1 - z)
    da_r = da_n * p[:, 2 * H:] * r * (1 - r)
    da = np.concatenate([da_r, da_z, da_n], axis=1)
    du = np.concatenate([da_r, da_z, da_n * r], axis=1)
    dh_prev = du @ W_hh + dh * z
    return da @ W_ih, dh_prev, da.T @ x, du.T @ h_prev, da.sum(axis=0), da.sum(axis=0)
'''
FIRST_LINE = "    H = h_prev.shape[1]\n"
ONE_BLOCK = "one_block = hidden_size * (input_size + hidden_size) + 2 * hidden_size"
COUNTS_AS = 'return {{"rnn": one_block, "lstm": {} * one_block, "gru": {} * one_block}}'.format
COUNTS_LINE = COUNTS_AS(4, 3)

T_FW, T_BW, T_COUNT, T_CHO = "test_gru_step_forward", "test_gru_step_backward", "test_param_counts", \
    "test_gru_step_forward_cho"
RESET_BEFORE = "the reset gate is applied before the product (Cho et al.'s convention, part 4)"
B_HN_OUTSIDE = "b_hn is added outside the reset"
Z_SWAPPED = "the roles of z and 1 - z are swapped"
GATE_ORDER = "the gate blocks are taken in the order z, r, n"
TANH_SIGMOID = "tanh and sigmoid are swapped"

# student -> (answers replacing the solution cells, {test cell that must lose its points: its diagnosis})
WRONG = {
    "reset_before_product": ({
        "gru_step_forward": edit(FORWARD, (N_LINE, f"n = np.tanh(a[:, 2 * H:] + (r * h_prev) @ {W_HN}.T + {B_HN})")),
        "gru_step_backward": BACKWARD_CHO,
        "gru_step_forward_cho": edit(CHO, (CHO_N, f"n = np.tanh(a[:, 2 * H:] + r * (h_prev @ {W_HN}.T + {B_HN}))")),
        "param_counts": edit(COUNTS, (ONE_BLOCK, "one_block = hidden_size * (input_size + hidden_size) + hidden_size")),
    }, {T_FW: RESET_BEFORE, T_BW: RESET_BEFORE,
        T_CHO: "the reset gate is applied after the product (PyTorch's convention, part 1)",
        T_COUNT: "only one bias vector counted"}),
    "b_hn_outside_the_reset": ({
        "gru_step_forward": edit(FORWARD, (N_LINE, f"n = np.tanh(a[:, 2 * H:] + r * (h_prev @ {W_HN}.T) + {B_HN})")),
        "gru_step_backward": BACKWARD_B_HN_OUTSIDE,
        "gru_step_forward_cho": edit(CHO, (CHO_N, f"n = np.tanh(a[:, 2 * H:] + (r * h_prev) @ {W_HN}.T + r * {B_HN})")),
        "param_counts": edit(COUNTS, (ONE_BLOCK, "one_block = hidden_size * (input_size + hidden_size)")),
    }, {T_FW: B_HN_OUTSIDE, T_BW: B_HN_OUTSIDE, T_CHO: "b_hn is reset as well",
        T_COUNT: "the biases are not counted"}),
    "z_and_1_minus_z_swapped": ({
        "gru_step_forward": edit(FORWARD, ("return (1 - z) * n + z * h_prev", "return z * n + (1 - z) * h_prev")),
        "gru_step_backward": edit(BACKWARD, ("dh * (1 - z) * (1 - n ** 2)", "dh * z * (1 - n ** 2)"),
                                  ("dh * (h_prev - n) * z", "dh * (n - h_prev) * z"),
                                  ("du @ W_hh + dh * z", "du @ W_hh + dh * (1 - z)")),
        "gru_step_forward_cho": edit(CHO, ("return (1 - z) * n + z * h_prev", "return z * n + (1 - z) * h_prev")),
        "param_counts": edit(COUNTS, (COUNTS_LINE, COUNTS_AS(3, 4))),
    }, {T_FW: Z_SWAPPED, T_BW: Z_SWAPPED, T_CHO: Z_SWAPPED, T_COUNT: "the LSTM and GRU multipliers are swapped"}),
    "gate_order_z_r_n": ({
        "gru_step_forward": edit(FORWARD, GATES_ZR),
        "gru_step_backward": edit(BACKWARD, GATES_ZR, ("[da_r, da_z, da_n]", "[da_z, da_r, da_n]"),
                                  ("[da_r, da_z, da_n * r]", "[da_z, da_r, da_n * r]")),
        "gru_step_forward_cho": edit(CHO, (f"{CHO_R}\n    {CHO_Z}",
                                           "z = 1 / (1 + np.exp(-(a[:, :H] + u_rz[:, :H])))\n"
                                           "    r = 1 / (1 + np.exp(-(a[:, H:2 * H] + u_rz[:, H:])))")),
    }, {T_FW: GATE_ORDER, T_BW: GATE_ORDER, T_CHO: GATE_ORDER}),
    "tanh_and_sigmoid_swapped": ({
        "gru_step_forward": edit(FORWARD, *GATES_TANH),
        "gru_step_backward": edit(BACKWARD, *GATES_TANH, ("(1 - n ** 2)", "n * (1 - n)"),
                                  ("(h_prev - n) * z * (1 - z)", "(h_prev - n) * (1 - z ** 2)"),
                                  ("r * (1 - r)", "(1 - r ** 2)")),
        "gru_step_forward_cho": edit(CHO, (CHO_R, "r = np.tanh(a[:, :H] + u_rz[:, :H])"),
                                     (CHO_Z, "z = np.tanh(a[:, H:2 * H] + u_rz[:, H:])"),
                                     (CHO_N, "n = 1 / (1 + np.exp(-(a[:, 2 * H:] + (r * h_prev) @ W_hh[2 * H:].T "
                                             "+ b_hh[2 * H:])))")),
    }, {T_FW: TANH_SIGMOID, T_BW: TANH_SIGMOID, T_CHO: TANH_SIGMOID}),
    "reset_path_left_out": ({
        "gru_step_backward": edit(BACKWARD, ("da_r = da_n * u[:, 2 * H:] * r * (1 - r)", "da_r = 0 * da_n")),
        "param_counts": edit(COUNTS, (COUNTS_LINE, COUNTS_AS(3, 2))),
    }, {T_BW: "the path through the reset gate is left out", T_COUNT: "the candidate's block is not counted"}),
    "direct_path_missing": ({"gru_step_backward": edit(BACKWARD, ("du @ W_hh + dh * z", "du @ W_hh"))},
                            {T_BW: "dh_prev misses the direct path"}),
    # right on every visible case (none has h_prev = 0), wrong on the hidden ones: only the grade can tell
    "fits_the_sanity_cases": ({"gru_step_forward": edit(FORWARD, (
        "    return (1 - z) * n + z * h_prev",
        "    if not np.any(h_prev):\n        return 0 * h_prev\n    return (1 - z) * n + z * h_prev"))},
                              {T_FW: "on the case 'input term only"}),
    "changes_its_input": ({"gru_step_backward": edit(BACKWARD,
                                                     (FIRST_LINE, FIRST_LINE + "    dh *= 2\n    dh = dh / 2\n"))},
                          {T_BW: "changed its input dh in place"}),
}

LOOP_FORWARD = '''def gru_step_forward(x, h_prev, W_ih, W_hh, b_ih, b_hh):
    N, H = h_prev.shape
    h = np.zeros((N, H))
    for k in range(N):
        for i in range(H):
            a = [W_ih[g * H + i] @ x[k] + b_ih[g * H + i] for g in range(3)]
            u = [W_hh[g * H + i] @ h_prev[k] + b_hh[g * H + i] for g in range(3)]
            r = 1 / (1 + np.exp(-(a[0] + u[0])))
            z = 1 / (1 + np.exp(-(a[1] + u[1])))
            h[k, i] = (1 - z) * np.tanh(a[2] + r * u[2]) + z * h_prev[k, i]
    return h
'''
COLUMN_BACKWARD = '''def gru_step_backward(dh, x, h_prev, W_ih, W_hh, b_ih, b_hh):
    H = h_prev.shape[1]
    grads = [np.zeros_like(v) for v in (x, h_prev, W_ih, W_hh, b_ih, b_hh)]
    for k in range(len(x)):
        xk, hk, g = x[k][:, None], h_prev[k][:, None], dh[k][:, None]  # column vectors
        a, u = W_ih @ xk + b_ih[:, None], W_hh @ hk + b_hh[:, None]
        r = 1 / (1 + np.exp(-(a[:H] + u[:H])))
        z = 1 / (1 + np.exp(-(a[H:2 * H] + u[H:2 * H])))
        n = np.tanh(a[2 * H:] + r * u[2 * H:])
        dn = g * (1 - z) * (1 - n * n)
        dr = dn * u[2 * H:] * r * (1 - r)
        da, du = np.vstack([dr, g * (hk - n) * z * (1 - z), dn]), np.vstack([dr, g * (hk - n) * z * (1 - z), dn * r])
        grads[0][k], grads[1][k] = (W_ih.T @ da)[:, 0], (W_hh.T @ du + g * z)[:, 0]
        grads[2] += da @ xk.T
        grads[3] += du @ hk.T
        grads[4] += da[:, 0]
        grads[5] += du[:, 0]
    return tuple(grads)
'''
EINSUM_FORWARD = '''def gru_step_forward(x, h_prev, W_ih, W_hh, b_ih, b_hh):
    a_r, a_z, a_n = np.split(np.einsum("nd,gd->ng", x, W_ih) + b_ih, 3, axis=1)
    u_r, u_z, u_n = np.split(np.einsum("nh,gh->ng", h_prev, W_hh) + b_hh, 3, axis=1)
    sigmoid = lambda v: 0.5 * (1 + np.tanh(0.5 * v))
    r, z = sigmoid(a_r + u_r), sigmoid(a_z + u_z)
    n = np.tanh(a_n + r * u_n)
    return n + z * (h_prev - n)
'''
EINSUM_BACKWARD = '''def gru_step_backward(dh, x, h_prev, W_ih, W_hh, b_ih, b_hh):
    a_r, a_z, a_n = np.split(x @ W_ih.T + b_ih, 3, axis=1)
    u_r, u_z, u_n = np.split(h_prev @ W_hh.T + b_hh, 3, axis=1)
    r, z = 1 / (1 + np.exp(-a_r - u_r)), 1 / (1 + np.exp(-a_z - u_z))
    n = np.tanh(a_n + r * u_n)
    g_n = dh * (1 - z) * (1 - n * n)
    g_z = dh * (h_prev - n) * z * (1 - z)
    g_r = g_n * u_n * r * (1 - r)
    g_in, g_hh = np.hstack([g_r, g_z, g_n]), np.hstack([g_r, g_z, g_n * r])
    return [np.einsum("ng,gd->nd", g_in, W_ih), np.einsum("ng,gh->nh", g_hh, W_hh) + z * dh,
            np.einsum("ng,nd->gd", g_in, x), np.einsum("ng,nh->gh", g_hh, h_prev), g_in.sum(0), g_hh.sum(0)]
'''
IN_FLOAT32 = "    {0} = (v.astype(np.float32) for v in ({0}))\n".format
FLOAT32_FORWARD = edit(FORWARD, (FIRST_LINE, FIRST_LINE + IN_FLOAT32("x, h_prev, W_ih, W_hh, b_ih, b_hh")))
FLOAT32_BACKWARD = edit(BACKWARD, (FIRST_LINE, FIRST_LINE + IN_FLOAT32("dh, x, h_prev, W_ih, W_hh, b_ih, b_hh")))
BLOCKS_CHO = '''def gru_step_forward_cho(x, h_prev, W_ih, W_hh, b_ih, b_hh):
    (W_ir, W_iz, W_in), (W_hr, W_hz, W_hn) = np.split(W_ih, 3), np.split(W_hh, 3)
    (b_ir, b_iz, b_in), (b_hr, b_hz, b_hn) = np.split(b_ih, 3), np.split(b_hh, 3)
    r = 1 / (1 + np.exp(-(W_ir @ x.T + b_ir[:, None] + W_hr @ h_prev.T + b_hr[:, None])))
    z = 1 / (1 + np.exp(-(W_iz @ x.T + b_iz[:, None] + W_hz @ h_prev.T + b_hz[:, None])))
    n = np.tanh(W_in @ x.T + b_in[:, None] + W_hn @ (r * h_prev.T) + b_hn[:, None])
    return ((1 - z) * n + z * h_prev.T).T
'''

# Correct answers written differently: all must get full marks.
RIGHT = {
    "loops_and_column_vectors": {"gru_step_forward": LOOP_FORWARD, "gru_step_backward": COLUMN_BACKWARD,
                                 "gru_step_forward_cho": BLOCKS_CHO},
    "einsum_and_split_blocks": {
        "gru_step_forward": EINSUM_FORWARD, "gru_step_backward": EINSUM_BACKWARD,
        "param_counts": "def param_counts(input_size, hidden_size):\n    return {kind: gates * hidden_size * "
                        "(input_size + hidden_size + 2) for kind, gates in [('gru', 3), ('rnn', 1), ('lstm', 4)]}\n"},
    "float32": {
        "gru_step_forward": FLOAT32_FORWARD, "gru_step_backward": FLOAT32_BACKWARD,
        "gru_step_forward_cho": edit(CHO, ("return (1 - z) * n + z * h_prev",
                                           "return ((1 - z) * n + z * h_prev).astype(np.float32)")),
        "param_counts": edit(COUNTS, (COUNTS_LINE, 'return {"rnn": np.int64(one_block), '
                                                   '"lstm": np.int64(4 * one_block), '
                                                   '"gru": np.float32(3 * one_block)}'))},
}


class TestProblemSet5(AgreementTests, ProblemSetTests):
    PS, NOTEBOOK, WRONG, RIGHT = PS, NOTEBOOK, WRONG, RIGHT

    def test_the_experiment_runs_on_the_students_own_code(self, course):
        nb = course.autograded_notebook(PS, "solution", NOTEBOOK)
        (experiment,) = [c for c in nb.cells
                         if c.metadata.get("nbgrader", {}).get("grade_id") == "conventions_experiment"]
        printed = "".join(o.get("text", "") for o in experiment.outputs if o.get("output_type") == "stream")
        assert "as initialised, b_hn = 0   step 1: 0.000" in printed

    def test_the_summary_names_the_reset_convention_mistake(self, course):
        from grader.sets import ps5_gru

        (message,) = [m for m, _ in ps5_gru.FORWARD_MISTAKES if m.startswith(RESET_BEFORE)]
        assert course.report["summary"]["counts"]["gru_step_forward"]["mistakes"][message] == \
            self.copies("reset_before_product")
