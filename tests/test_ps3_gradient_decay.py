"""Problem set 3 through the whole engine, as one class graded by `make grade`'s path: the solution
gets full marks, the release gets 0, each catalogued mistake loses exactly its own cell's points with
its diagnosis, correct answers written differently get full marks, and `nbgrader validate` (the
student's view) agrees with every grade."""



from tests.agreement import AgreementTests
from tests.course import solution_sources
from tests.pset import ProblemSetTests

PS = "ps3_gradient_decay"
NOTEBOOK = "ps3_gradient_decay.ipynb"
SOLUTION = solution_sources(PS, NOTEBOOK)


def jacobian(body):
    return "def step_jacobian(h, W_hh):\n" + body


def norms(body):
    return "def gradient_norms_by_lag(xs, h0, W_ih, W_hh, b_ih, b_hh, dh_last):\n" + body


def by_norm(body):
    return "def clip_by_global_norm(grads, max_norm, eps=1e-6):\n" + body


def by_value(body):
    return f"def clip_by_value(grads, clip_value):\n    return {body}\n"


FORWARD = ("    hs, h = [], h0\n    for x in xs:\n        h = np.tanh(x @ W_ih.T + b_ih + h @ W_hh.T + b_hh)\n"
           "        hs.append(h)\n")


def walk_back(step):
    """A gradient_norms_by_lag whose step back from g at the state h is ``step``."""
    return norms(FORWARD + "    out, g = [], dh_last\n    for h in hs[::-1]:\n        out.append(np.linalg.norm(g))\n"
                 f"        g = {step}\n    return np.array(out)\n")


def global_norm_clip(total, factor, clip_when):
    return by_norm(f"    total = {total}\n    factor = {factor}\n"
                   f"    return ([g * factor for g in grads] if {clip_when} else [g.copy() for g in grads]), total\n")


TOTAL = "np.sqrt(sum(np.sum(g ** 2) for g in grads))"

# student -> (answers replacing the solution cells, the cell that must lose its points, diagnosis)
WRONG = {
    "jacobian_w_hh_transposed": ({"step_jacobian": jacobian("    return (1 - h ** 2)[:, :, None] * W_hh.T[None]\n")},
                                 "test_step_jacobian", "W_hh is used transposed"),
    # the solution's gradient_norms_by_lag calls this step_jacobian: graded with a correct one in its place
    "jacobian_one_minus_h": ({"step_jacobian": jacobian("    return (1 - h)[:, :, None] * W_hh[None]\n")},
                             "test_step_jacobian", "tanh' is 1 - h^2 (with h = tanh(a)), not 1 - h"),
    "norms_by_step": ({"gradient_norms_by_lag": norms(
        FORWARD + "    out, g = [], dh_last\n    for h in hs[::-1]:\n        out.append(np.linalg.norm(g))\n"
        "        g = (g * (1 - h ** 2)) @ W_hh\n    return np.array(out[::-1])\n")},
        "test_gradient_norms_by_lag", "the norms are in time order; index them by lag"),
    "norms_without_tanh_slope": ({"gradient_norms_by_lag": walk_back("g @ W_hh")}, "test_gradient_norms_by_lag",
                                 "the gradient is not multiplied by tanh' at each step back"),
    "norms_w_hh_transposed": ({"gradient_norms_by_lag": walk_back("(g * (1 - h ** 2)) @ W_hh.T")},
                              "test_gradient_norms_by_lag", "W_hh is used transposed: one step back is"),
    "clip_per_array": ({"clip_by_global_norm": by_norm(
        f"    total = {TOTAL}\n"
        "    return [g * min(1.0, max_norm / (np.linalg.norm(g) + eps)) for g in grads], total\n")},
        "test_clip_by_global_norm", "each array is clipped on its own"),
    "clip_under_the_limit_too": ({"clip_by_global_norm": global_norm_clip(TOTAL, "max_norm / (total + eps)", "True")},
                                 "test_clip_by_global_norm", "the gradients are scaled even when they are under"),
    "clip_without_eps": ({"clip_by_global_norm": global_norm_clip(TOTAL, "max_norm / total", "factor < 1")},
                         "test_clip_by_global_norm", "the epsilon is missing, or the eps argument is not used"),
    "clip_eps_hard_coded": ({"clip_by_global_norm": global_norm_clip(TOTAL, "max_norm / (total + 1e-6)", "factor < 1")},
                            "test_clip_by_global_norm", "the epsilon is missing, or the eps argument is not used"),
    "clip_value_upper_only": ({"clip_by_value": by_value("[np.minimum(g, clip_value) for g in grads]")},
                              "test_clip_by_value", "only the upper limit is applied"),
    "changes_its_input": ({"step_jacobian": jacobian("    h *= h\n    return (1 - h)[:, :, None] * W_hh[None]\n")},
                          "test_step_jacobian", "changed its input h in place"),
}

# Correct answers written differently: all must get full marks.
RIGHT = {
    "loops": {
        "step_jacobian": jacobian("    N, H = h.shape\n    J = np.zeros((N, H, H))\n    for n in range(N):\n"
                                  "        for i in range(H):\n            for j in range(H):\n"
                                  "                J[n, i, j] = (1 - h[n, i] * h[n, i]) * W_hh[i, j]\n    return J\n"),
        "gradient_norms_by_lag": norms(
            "    T = len(xs)\n    hs = np.zeros((T,) + h0.shape)\n    h = h0\n    for t in range(T):\n"
            "        h = np.tanh(W_ih @ xs[t].T + W_hh @ h.T + (b_ih + b_hh)[:, None]).T\n        hs[t] = h\n"
            "    result, g = [], dh_last.copy()\n    for k in range(T):\n"
            "        result.append(float(np.sqrt((g ** 2).sum())))\n        h = hs[T - 1 - k]\n"
            "        g = np.array([g[n] @ (np.diag(1 - h[n] ** 2) @ W_hh) for n in range(len(h))])\n"
            "    return result\n"),
        "clip_by_global_norm": by_norm(
            "    total = np.linalg.norm(np.concatenate([np.ravel(g) for g in grads]))\n"
            "    out = [np.array(g, copy=True) for g in grads]\n    for o in out:\n"
            "        o *= min(1.0, max_norm / (total + eps))\n    return tuple(out), total\n"),
        "clip_by_value": by_value("[np.minimum(np.maximum(g, -clip_value), clip_value) for g in grads]"),
    },
    "einsum_and_column_vectors": {
        "step_jacobian": jacobian("    return np.einsum('ni,ij->nij', 1 - h * h, W_hh)\n"),
        "gradient_norms_by_lag": norms(
            FORWARD + "    out, gT = [], dh_last.T\n    for h in reversed(hs):\n"
            "        out.append(np.linalg.norm(gT, 'fro'))\n        gT = W_hh.T @ (gT * (1 - h.T ** 2))\n"
            "    return np.array(out)\n"),
        "clip_by_value": by_value("[np.where(g > clip_value, clip_value, np.where(g < -clip_value, -clip_value, g)) "
                                  "for g in grads]"),
    },
    "float32": {
        "step_jacobian": jacobian("    h = h.astype(np.float32)\n"
                                  "    return (1 - h ** 2)[:, :, None] * W_hh.astype(np.float32)[None]\n"),
        "gradient_norms_by_lag": walk_back("((g * (1 - h ** 2)) @ W_hh).astype(np.float32)"),
        "clip_by_global_norm": by_norm(
            "    grads = [g.astype(np.float32) for g in grads]\n"
            "    total = np.float32(np.sqrt(sum(float(np.vdot(g, g)) for g in grads)))\n"
            "    factor = np.float32(max_norm / (total + eps))\n"
            "    return [g * min(factor, 1) for g in grads], total\n"),
    },
}


class TestProblemSet3(AgreementTests, ProblemSetTests):
    PS, NOTEBOOK, WRONG, RIGHT = PS, NOTEBOOK, WRONG, RIGHT
    ALONE = ("jacobian_one_minus_h",)  # the exercise that calls it must get its points

    def test_a_wrong_helper_is_replaced_by_a_correct_one_for_the_exercise_that_calls_it(self, course):
        """The solution's gradient_norms_by_lag calls step_jacobian; with a wrong one it still gets its points."""
        scores = course.scores(PS, "jacobian_one_minus_h")
        assert scores["test_gradient_norms_by_lag"] == (3.0, 3.0)
