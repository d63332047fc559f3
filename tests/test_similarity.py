"""Copies found (grader/similarity.py): on problem set 2, a classmate's answers with every variable renamed
and the published solution with its variables renamed are found; two independent correct answers are not,
and the release's signatures and docstrings, which every submission shares, never count."""

import re
import shutil

import nbformat

from grader import similarity
from tests.course import ROOT, solution_sources

PS = "ps2_bptt"
NOTEBOOK = "ps2_bptt.ipynb"
STUB = "    # YOUR CODE HERE\n    raise NotImplementedError()"

ALICE = {
    "softmax_cross_entropy": """
    T, N, V = logits.shape
    z = logits - np.max(logits, axis=2, keepdims=True)
    probs = np.exp(z)
    probs /= probs.sum(axis=2, keepdims=True)
    flat = probs.reshape(T * N, V)
    rows = np.arange(T * N)
    picked = flat[rows, targets.reshape(-1)]
    loss = -np.mean(np.log(picked))
    grad = flat.copy()
    grad[rows, targets.reshape(-1)] -= 1
    return loss, grad.reshape(T, N, V) / (T * N)""",
    "rnn_step_backward": """
    pre = dh * (1.0 - np.square(h))
    grad_b = np.sum(pre, axis=0)
    grad_x = np.dot(pre, W_ih)
    grad_h = np.dot(pre, W_hh)
    grad_Wi = np.dot(pre.T, x)
    grad_Wh = np.dot(pre.T, h_prev)
    return grad_x, grad_h, grad_Wi, grad_Wh, grad_b, np.array(grad_b)""",
    "rnn_backward": """
    steps = xs.shape[0]
    grads_x = np.zeros_like(xs, dtype=float)
    acc = [np.zeros_like(W_ih, dtype=float), np.zeros_like(W_hh, dtype=float),
           np.zeros(W_hh.shape[0]), np.zeros(W_hh.shape[0])]
    carry = np.zeros_like(h0, dtype=float)
    t = steps - 1
    while t >= 0:
        previous = h0 if t == 0 else hs[t - 1]
        out = rnn_step_backward(dhs[t] + carry, xs[t], previous, W_ih, W_hh, hs[t])
        grads_x[t] = out[0]
        carry = out[1]
        for slot in range(4):
            acc[slot] = acc[slot] + out[2 + slot]
        t -= 1
    return grads_x, carry, acc[0], acc[1], acc[2], acc[3]""",
    "numerical_gradient": """
    out = np.zeros_like(x, dtype=float)
    flat_x = x.reshape(-1)
    flat_out = out.reshape(-1)
    for i in range(flat_x.size):
        plus = flat_x.copy()
        minus = flat_x.copy()
        plus[i] = plus[i] + eps
        minus[i] = minus[i] - eps
        flat_out[i] = (f(plus.reshape(x.shape)) - f(minus.reshape(x.shape))) / (2.0 * eps)
    return out""",
}

CAROL = {
    "softmax_cross_entropy": """
    total = 0.0
    d = np.zeros(logits.shape)
    for t in range(logits.shape[0]):
        for n in range(logits.shape[1]):
            e = np.exp(logits[t, n] - logits[t, n].max())
            s = e / e.sum()
            total -= np.log(s[targets[t, n]])
            s[targets[t, n]] -= 1
            d[t, n] = s
    return total / targets.size, d / targets.size""",
    "rnn_step_backward": """
    g = dh * (1 - h * h)
    return (np.einsum('nh,hd->nd', g, W_ih), np.einsum('nh,hk->nk', g, W_hh),
            np.einsum('nh,nd->hd', g, x), np.einsum('nh,nk->hk', g, h_prev), g.sum(0), g.sum(0))""",
    "rnn_backward": """
    results = []
    upstream = 0
    totals = None
    for t in range(len(xs) - 1, -1, -1):
        before = hs[t - 1] if t else h0
        dx, upstream, *params = rnn_step_backward(dhs[t] + upstream, xs[t], before, W_ih, W_hh, hs[t])
        results.insert(0, dx)
        totals = params if totals is None else [a + b for a, b in zip(totals, params)]
    return (np.array(results), upstream, *totals)""",
    "numerical_gradient": """
    g = np.empty(x.shape)
    it = np.nditer(x, flags=['multi_index'])
    while not it.finished:
        i = it.multi_index
        old = x[i]
        x[i] = old + eps
        high = f(x)
        x[i] = old - eps
        low = f(x)
        x[i] = old
        g[i] = (high - low) / eps / 2
        it.iternext()
    return g""",
}

RENAMES = {"z": "shifted_scores", "probs": "p", "flat": "table", "rows": "index", "picked": "chosen",
           "loss": "L", "grad": "gradient", "pre": "delta", "grad_b": "bias_g", "grad_x": "gx", "grad_h": "gh",
           "grad_Wi": "gWi", "grad_Wh": "gWh", "steps": "n_steps", "grads_x": "dX", "acc": "sums",
           "carry": "dh_running", "previous": "h_before", "out": "res", "slot": "k", "flat_x": "xv",
           "flat_out": "gv", "plus": "xp", "minus": "xm", "i": "j",
           "shifted": "centred", "log_p": "logprob", "onehot": "hot", "positions": "count", "da": "dpre",
           "db": "dbias", "dW_ih": "gi", "dW_hh": "gh2", "db_ih": "bi", "db_hh": "bh", "dh_next": "running",
           "h_prev": "hp", "dWi": "a1", "dWh": "a2", "dbi": "a3", "dbh": "a4", "index": "position", "up": "hi",
           "down": "lo"}


def renamed(code):
    return re.sub(r"\b[A-Za-z_]\w*\b", lambda m: RENAMES.get(m.group(0), m.group(0)), code)


def notebook(bodies=None, whole=None):
    """The release notebook with each answer cell's stub replaced by a body (or the whole cell)."""
    nb = nbformat.read(ROOT / "exercises" / PS / NOTEBOOK, as_version=4)
    for cell in nb.cells:
        grade_id = cell.metadata.get("nbgrader", {}).get("grade_id")
        if cell.metadata.get("nbgrader", {}).get("solution") and cell.cell_type == "code":
            if whole and grade_id in whole:
                cell.source = whole[grade_id]
            elif bodies and grade_id in bodies:
                cell.source = cell.source.replace(STUB, bodies[grade_id].strip("\n"))
    return nb


def test_renamed_copies_are_found_and_independent_answers_are_not(tmp_path):
    solution = solution_sources(PS, NOTEBOOK)
    students = {
        "alice": notebook(ALICE),
        "bob <copies>": notebook({k: renamed(v) for k, v in ALICE.items()}),
        "carol": notebook(CAROL),
        "eve": notebook(whole={k: renamed(v) for k, v in solution.items()}),
        "blank": notebook(),
    }
    for folder in ("exercises", "solutions"):
        shutil.copytree(ROOT / folder / PS, tmp_path / folder / PS)
    for student, nb in students.items():
        (tmp_path / "autograded" / student / PS).mkdir(parents=True)
        nbformat.write(nb, tmp_path / "autograded" / student / PS / NOTEBOOK)

    submissions, published, release = similarity.collect(tmp_path, PS)
    assert sorted(submissions) == sorted(students)
    pairs = {(p["a"], p["b"]) for p in similarity.find_pairs(submissions, published, release)}
    assert pairs == {("alice", "bob <copies>"), ("eve", similarity.SOLUTION)}, pairs
    # the docstrings and signatures given in the release are in every submission, and count for nothing
    assert similarity.compare(*(similarity.fingerprint(submissions[s], similarity.fingerprint(release).hashes)
                                for s in ("blank", "carol")))[0] == 0

    page = similarity.write_report(tmp_path, PS)
    assert page == tmp_path / "reports" / PS / "similarity.html"
    text = page.read_text()
    assert "bob &lt;copies&gt;" in text and "<copies>" not in text and "<mark>" in text
    assert not re.search(r"""(src|href)=["']?(https?:)?//""", text) and "default-src 'none'" in text
