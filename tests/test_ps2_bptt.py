"""Problem set 2 through the whole engine, as one class graded by `make grade`'s path: the solution
gets full marks, the release gets 0, each catalogued mistake loses exactly its own cell's points with
its diagnosis, correct answers written differently get full marks, and `nbgrader validate` (the
student's view) agrees with every grade."""

from tests.agreement import AgreementTests
from tests.course import solution_sources
from tests.pset import ProblemSetTests

PS = "ps2_bptt"
NOTEBOOK = "ps2_bptt.ipynb"
SOLUTION = solution_sources(PS, NOTEBOOK)


def sce(body):
    return "def softmax_cross_entropy(logits, targets):\n" + body


def step(body):
    return "def rnn_step_backward(dh, x, h_prev, W_ih, W_hh, h):\n" + body


def bptt(body):
    return "def rnn_backward(dhs, xs, h0, W_ih, W_hh, hs):\n" + body


def gradient(body):
    return "def numerical_gradient(f, x, eps=1e-6):\n" + body


SOFTMAX = ("    z = logits - logits.max(axis=-1, keepdims=True)\n"
           "    p = np.exp(z) / np.exp(z).sum(axis=-1, keepdims=True)\n"
           "    onehot = np.eye(logits.shape[-1])[targets]\n"
           "    loss = -np.sum(onehot * np.log(p)) / targets.size\n")


def step_with(da="dh * (1 - h ** 2)", dx="da @ W_ih", dh_prev="da @ W_hh", dW_ih="da.T @ x",
              dW_hh="da.T @ h_prev", db="da.sum(axis=0)"):
    return step(f"    da = {da}\n    db = {db}\n    return {dx}, {dh_prev}, {dW_ih}, {dW_hh}, db, db\n")


def loop(order="reversed(range(len(xs)))", upstream="dhs[t] + dh", h_prev="hs[t - 1] if t > 0 else h0",
         dh0="dh, "):
    return bptt(
        "    dxs, sums, dh = np.zeros(xs.shape), [0, 0, 0, 0], np.zeros(h0.shape)\n"
        f"    for t in {order}:\n"
        f"        h_prev = {h_prev}\n"
        f"        dxs[t], dh, *grads = rnn_step_backward({upstream}, xs[t], h_prev, W_ih, W_hh, hs[t])\n"
        "        sums = [s + g for s, g in zip(sums, grads)]\n"
        f"    return (dxs, {dh0}*sums)\n")


def centred(update, divide="(up - down) / (2 * eps)"):
    return gradient("    grad = np.zeros(x.shape)\n    for i in np.ndindex(x.shape):\n"
                    f"{update}        grad[i] = {divide}\n    return grad\n")


COPIES = ("        a, b = x.copy(), x.copy()\n        a[i] += eps\n        b[i] -= eps\n"
          "        up, down = f(a), f(b)\n")

# student -> (answers replacing the solution cells, the cell that must lose its points, diagnosis)
WRONG = {
    "no_max_subtraction": ({"softmax_cross_entropy": sce(
        "    p = np.exp(logits) / np.exp(logits).sum(axis=-1, keepdims=True)\n"
        "    onehot = np.eye(logits.shape[-1])[targets]\n"
        "    return -np.sum(onehot * np.log(p)) / targets.size, (p - onehot) / targets.size\n")},
        "test_softmax_cross_entropy", "exp overflows (or underflows to 0) unless each position's largest logit is "
                                      "subtracted first' loss: the output contains nan or inf"),
    "gradient_not_divided": ({"softmax_cross_entropy": sce(SOFTMAX + "    return loss, p - onehot\n")},
                             "test_softmax_cross_entropy", "the gradient is not divided by T*N"),
    "onehot_minus_p": ({"softmax_cross_entropy": sce(SOFTMAX + "    return loss, (onehot - p) / targets.size\n")},
                       "test_softmax_cross_entropy", "the gradient has the wrong sign"),
    "unnormalised_softmax": ({"softmax_cross_entropy": sce(
        "    p = np.exp(logits - logits.max(axis=-1, keepdims=True))\n"
        "    onehot = np.eye(logits.shape[-1])[targets]\n"
        "    return -np.sum(onehot * np.log(p)) / targets.size, (p - onehot) / targets.size\n")},
        "test_softmax_cross_entropy", "the softmax is not normalised"),
    "tanh_prime_one_minus_h": ({"rnn_step_backward": step_with(da="dh * (1 - h)")}, "test_rnn_step_backward",
                               "tanh' is 1 - h^2 (h is already tanh(a)), not 1 - h"),
    "tanh_prime_at_h_prev": ({"rnn_step_backward": step_with(da="dh * (1 - h_prev ** 2)")},
                             "test_rnn_step_backward", "tanh' is taken at h_prev"),
    "dW_hh_from_h": ({"rnn_step_backward": step_with(dW_hh="da.T @ h")}, "test_rnn_step_backward",
                     "dW_hh uses h instead of h_prev"),
    "db_not_summed": ({"rnn_step_backward": step_with(db="da")}, "test_rnn_step_backward",
                      "db is not summed over the batch"),
    "dW_hh_transposed": ({"rnn_step_backward": step_with(dW_hh="h_prev.T @ da")}, "test_rnn_step_backward",
                         "dW_hh is transposed"),
    "dh_prev_with_W_hh_T": ({"rnn_step_backward": step_with(dh_prev="da @ W_hh.T")}, "test_rnn_step_backward",
                            "dh_prev uses W_hh transposed"),
    "not_carried": ({"rnn_backward": loop(upstream="dhs[t]")}, "test_rnn_backward",
                    "the gradient from step t+1 is not carried"),
    "loop_forwards": ({"rnn_backward": loop(order="range(len(xs))")}, "test_rnn_backward", "the loop runs forwards"),
    "h_prev_is_hs_t": ({"rnn_backward": loop(h_prev="hs[t]")}, "test_rnn_backward", "h_prev is taken as hs[t]"),
    "dh0_missing": ({"rnn_backward": loop(dh0="")}, "test_rnn_backward", "dh0 is missing"),
    "one_sided": ({"numerical_gradient": centred(
        "        a = x.copy()\n        a[i] += eps\n        up, down = f(a), f(x)\n", "(up - down) / eps")},
        "test_numerical_gradient", "a one-sided difference (f(x + eps) - f(x)) / eps"),
    "x_not_restored": ({"numerical_gradient": centred(
        "        x[i] += eps\n        up = f(x)\n        x[i] -= 2 * eps\n        down = f(x)\n")},
        "test_numerical_gradient", "it changed its input x in place"),
    "divided_by_eps": ({"numerical_gradient": centred(COPIES, "(up - down) / eps")}, "test_numerical_gradient",
                       "the difference is divided by eps: the two points x + eps and x - eps are 2 eps apart"),
    # right on every visible case, wrong on the hidden ones: only the grade can tell
    "fits_the_sanity_cases": ({"rnn_step_backward": step_with(
        da="dh * (1 - h ** 2) * np.any(h)")},  # no visible case has h = 0
        "test_rnn_step_backward", "rnn_step_backward: on the case 'h = 0, so tanh' = 1"),
    "step_changes_dh": ({"rnn_step_backward": step(
        "    dh *= 1 - h ** 2\n    return dh @ W_ih, dh @ W_hh, dh.T @ x, dh.T @ h_prev, dh.sum(0), dh.sum(0)\n")},
        "test_rnn_step_backward", "it changed its input dh in place"),
}

# Correct answers written differently: all must get full marks.
RIGHT = {
    "loops": {
        "softmax_cross_entropy": sce(
            "    T, N, V = logits.shape\n    loss, d = 0.0, np.zeros((T, N, V))\n"
            "    for t in range(T):\n        for n in range(N):\n"
            "            z = logits[t, n] - max(logits[t, n])\n"
            "            s = sum(np.exp(z[j]) for j in range(V))\n"
            "            loss += np.log(s) - z[targets[t, n]]\n"
            "            for j in range(V):\n"
            "                d[t, n, j] = (np.exp(z[j]) / s - (j == targets[t, n])) / (T * N)\n"
            "    return loss / (T * N), d\n"),
        "rnn_step_backward": step(
            "    N, D = x.shape\n    H = h.shape[1]\n    da = np.zeros((N, H))\n"
            "    for n in range(N):\n        for i in range(H):\n"
            "            da[n, i] = dh[n, i] * (1 - h[n, i] * h[n, i])\n"
            "    dx = np.array([[sum(da[n, i] * W_ih[i, d] for i in range(H)) for d in range(D)] for n in range(N)])\n"
            "    dhp = np.array([[sum(da[n, i] * W_hh[i, j] for i in range(H)) for j in range(H)] for n in range(N)])\n"
            "    dWi = np.array([[sum(da[n, i] * x[n, d] for n in range(N)) for d in range(D)] for i in range(H)])\n"
            "    dWh = np.array([[sum(da[n, i] * h_prev[n, j] for n in range(N)) for j in range(H)]\n"
            "                    for i in range(H)])\n"
            "    db = np.array([sum(da[n, i] for n in range(N)) for i in range(H)])\n"
            "    return dx, dhp, dWi, dWh, db, db\n"),
        "rnn_backward": bptt(
            "    T = len(xs)\n    dxs = [None] * T\n    dh = 0 * h0\n    dWi = dWh = dbi = dbh = 0\n"
            "    t = T - 1\n    while t >= 0:\n"
            "        g = rnn_step_backward(dhs[t] + dh, xs[t], hs[t - 1] if t else h0, W_ih, W_hh, hs[t])\n"
            "        dxs[t], dh = g[0], g[1]\n"
            "        dWi, dWh, dbi, dbh = dWi + g[2], dWh + g[3], dbi + g[4], dbh + g[5]\n"
            "        t -= 1\n"
            "    return np.array(dxs), dh, dWi, dWh, dbi, dbh\n"),
        "numerical_gradient": gradient(
            "    flat, grad = x.ravel().copy(), np.zeros(x.size)\n    for i in range(x.size):\n"
            "        e = np.zeros(x.size)\n        e[i] = eps\n"
            "        grad[i] = (f((flat + e).reshape(x.shape)) - f((flat - e).reshape(x.shape))) / (2 * eps)\n"
            "    return grad.reshape(x.shape)\n"),
    },
    "einsum_and_column_vectors": {
        "softmax_cross_entropy": sce(
            "    from math import prod\n    shifted = logits - np.max(logits, axis=2)[:, :, None]\n"
            "    log_p = shifted - np.log(np.einsum('tnv->tn', np.exp(shifted)))[:, :, None]\n"
            "    index = targets[..., None]\n    picked = np.take_along_axis(log_p, index, axis=-1)\n"
            "    d = np.exp(log_p)\n"
            "    np.put_along_axis(d, index, np.take_along_axis(d, index, axis=-1) - 1, axis=-1)\n"
            "    return float(-picked.mean()), d / prod(targets.shape)\n"),
        "rnn_step_backward": step(
            "    da = (dh * (1 - h ** 2)).T  # (H, N): examples as columns\n"
            "    return ((W_ih.T @ da).T, (W_hh.T @ da).T, np.einsum('in,nd->id', da, x), da @ h_prev,\n"
            "            da @ np.ones(da.shape[1]), np.einsum('in->i', da))\n"),
        "rnn_backward": bptt(
            "    prevs = np.concatenate([h0[None], hs[:-1]])\n    das = np.zeros(hs.shape)\n"
            "    carry = np.zeros(h0.shape)\n"
            "    for t in range(len(xs) - 1, -1, -1):\n"
            "        das[t] = (dhs[t] + carry) * (1 - hs[t] ** 2)\n        carry = das[t] @ W_hh\n"
            "    db = das.sum(axis=(0, 1))\n"
            "    return (np.einsum('tnh,hd->tnd', das, W_ih), carry, np.einsum('tnh,tnd->hd', das, xs),\n"
            "            np.einsum('tnh,tnk->hk', das, prevs), db, db)\n"),
    },
    "float32_and_restored_in_place": {
        "softmax_cross_entropy": sce(
            "    z = (logits - logits.max(axis=-1, keepdims=True)).astype(np.float32)\n"
            "    log_p = z - np.log(np.exp(z).sum(axis=-1, keepdims=True))\n"
            "    onehot = np.eye(logits.shape[-1], dtype=np.float32)[targets]\n"
            "    return np.float32(-(onehot * log_p).sum() / targets.size), (np.exp(log_p) - onehot) / targets.size\n"),
        "rnn_step_backward": step(
            "    f32 = [a.astype(np.float32) for a in (dh, x, h_prev, W_ih, W_hh, h)]\n"
            "    dh, x, h_prev, W_ih, W_hh, h = f32\n    da = dh * (1 - h * h)\n"
            "    return da @ W_ih, da @ W_hh, da.T @ x, da.T @ h_prev, da.sum(0), da.sum(0)\n"),
        "numerical_gradient": gradient(
            "    grad = np.zeros_like(x)\n    for i in np.ndindex(*x.shape):\n        saved = x[i]\n"
            "        x[i] = saved + eps\n        up = f(x)\n        x[i] = saved - eps\n        down = f(x)\n"
            "        x[i] = saved\n        grad[i] = (up - down) / (2 * eps)\n    return grad\n"),
    },
}


class TestProblemSet2(AgreementTests, ProblemSetTests):
    PS, NOTEBOOK, WRONG, RIGHT = PS, NOTEBOOK, WRONG, RIGHT

    def test_the_ungraded_cells_that_use_the_students_code_run_cleanly(self, course):
        nb = course.autograded_notebook(PS, "solution", NOTEBOOK)
        for grade_id in ("bptt_check", "truncation_experiment"):
            (cell,) = [c for c in nb.cells if c.metadata.get("nbgrader", {}).get("grade_id") == grade_id]
            assert cell.outputs and not [o for o in cell.outputs if o.output_type == "error"]

    def test_the_experiment_shows_the_student_the_cut(self, course):
        nb = course.autograded_notebook(PS, "solution", NOTEBOOK)
        (cell,) = [c for c in nb.cells if c.metadata.get("nbgrader", {}).get("grade_id") == "truncation_experiment"]
        printed = "".join(o.get("text", "") for o in cell.outputs)
        for k in (5, 10, 15):
            assert f"window k = {k:<3} gradient reaching the subject (input 15): 0.000e+00" in printed
        assert "full BPTT" in printed and "changes the last state by" in printed
