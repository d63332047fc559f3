"""What `nbgrader validate` tells a student is what the grade says (issue 20).

For every problem set, a few notebooks of plausible answers -- the slips the catalogue does not model:
dimensions mixed up (D for H), code written for one example, inputs changed in place, warnings on right
answers, a float where a count is asked, the caller's arrays handed back, and the new catalogue entries
-- filled up with the set's catalogued mistakes and correct answers written differently (whose own tests
validate and grade each of those on its own too). Each notebook holds one changed answer per function,
so a wrong helper meets a dependent's mistake. ``AgreementTests``, mixed into a set's
``ProblemSetTests``, puts them in that set's class (graded and validated with it, so no class is set up
twice) and checks: each test cell passes in both or fails in both; every failure line fits nbgrader
validate's width whole (it indents by four and cuts at 87 characters); and a function that returns
several values names the one that is wrong, in validate and in the feedback.

Students built to pass the visible cases only (``HIDDEN_ONLY``) are left out: they are the one
disagreement the design accepts, and the set's own tests check them.
"""

import functools
import importlib
import re

import nbformat

from tests.course import points, solution_sources

SETS = ["ps1_recurrence", "ps2_bptt", "ps3_gradient_decay", "ps4_lstm", "ps5_gru"]
STUDENT = "slips"  # the packed notebooks are students slips00, slips01, ...
VALIDATE_CUT = 87  # nbgrader validate cuts each line at 90 - 3 characters, after a 4-space indent
INDENT = 4


@functools.cache
def _solutions():
    return {cell: source for ps in SETS for cell, source in solution_sources(ps, f"{ps}.ipynb").items()}


def s(cell, old, new):
    """The instructor's ``cell`` with ``old`` replaced by ``new``."""
    source = _solutions()[cell]
    assert old in source, (cell, old)
    return {cell: source.replace(old, new)}


WARN = "    _ = np.log(np.zeros(1))  # divide by zero: a warning, the answer is still right\n"


def extras(ps):
    """The slips beyond the catalogue, as ``[answers]``: changes to the instructor's solution."""
    return {
        "ps1_recurrence": [
            s("rnn_step", "return np.tanh(x @ W_ih.T + b_ih + h_prev @ W_hh.T + b_hh)",
              "return np.tanh(W_ih @ x[0] + b_ih + W_hh @ h_prev[0] + b_hh)[None, :]"),  # one example
            s("rnn_step", "    return np.tanh", WARN + "    return np.tanh"),
            s("rnn_forward", "    hs = []\n    h = h0\n    for x in xs:\n"
              "        h = rnn_step(x, h, W_ih, W_hh, b_ih, b_hh)\n        hs.append(h)\n    return np.stack(hs)",
              "    hs = np.zeros((xs.shape[0], xs.shape[1], xs.shape[2]))  # D where H belongs\n    h = h0\n"
              "    for t, x in enumerate(xs):\n        h = rnn_step(x, h, W_ih, W_hh, b_ih, b_hh)\n        hs[t] = h\n"
              "    return hs"),
            s("rnn_forward", "        h = rnn_step(x, h, W_ih, W_hh, b_ih, b_hh)\n        hs.append(h)",
              "        h[...] = rnn_step(x, h, W_ih, W_hh, b_ih, b_hh)  # writes into h0\n        hs.append(h.copy())"),
            s("rnn_param_count", "    return hidden_size", "    return 1.0 * hidden_size"),  # a float count
            s("rnn_param_count", "hidden_size * (input_size + hidden_size) + 2 * hidden_size",
              "input_size * (input_size + hidden_size) + 2 * input_size"),  # D and H swapped
        ],
        "ps2_bptt": [
            s("softmax_cross_entropy", "positions = targets.size", "positions = logits.shape[0] * logits.shape[2]"),
            s("softmax_cross_entropy", "    shifted =", WARN + "    shifted ="),
            s("softmax_cross_entropy", "(np.exp(log_p) - onehot) / positions", "np.exp(log_p) - onehot"),
            s("rnn_step_backward", "db = da.sum(axis=0)", "db = da[0]"),  # one example
            s("rnn_step_backward", "    da = dh", WARN + "    da = dh"),
            s("rnn_backward", "        dxs[t], dh_next, dWi, dWh, dbi, dbh = rnn_step_backward(dhs[t] + dh_next,",
              "        dhs[t] += dh_next  # writes into the caller's dhs\n"
              "        dxs[t], dh_next, dWi, dWh, dbi, dbh = rnn_step_backward(dhs[t],"),
            s("rnn_backward", "dxs = np.zeros(xs.shape)", "dxs = np.zeros((xs.shape[0], xs.shape[1], W_hh.shape[0]))"),
            s("rnn_backward", "return dxs, dh_next,", "return dxs, 0 * dh_next,"),
            s("numerical_gradient", "    for index in np.ndindex(x.shape):", "    for index in range(len(x)):"),
            s("numerical_gradient", "        up, down = x.copy(), x.copy()\n        up[index] += eps\n"
              "        down[index] -= eps\n        grad[index] = (f(up) - f(down)) / (2 * eps)",
              "        x[index] += eps\n        up = f(x)\n        x[index] -= 2 * eps\n        down = f(x)\n"
              "        x[index] += eps\n        grad[index] = (up - down) / (2 * eps)"),  # x changed in place
        ],
        "ps3_gradient_decay": [
            s("step_jacobian", "return slope[:, :, None] * W_hh[None, :, :]",
              "return (slope[0][:, None] * W_hh)[None]"),
            s("gradient_norms_by_lag", "norms.append(np.sqrt(np.sum(g * g)))", "norms.append(np.linalg.norm(g, 2))"),
            s("gradient_norms_by_lag", "states, h = [], h0",
              "states, h = [], np.zeros((xs.shape[1], xs.shape[2])) + h0"),
            s("gradient_norms_by_lag", "    states, h", WARN + "    states, h"),
            s("clip_by_global_norm", "        return [g * factor for g in grads], total_norm\n"
              "    return [g.copy() for g in grads], total_norm",
              "        for g in grads:\n            g *= factor\n    return grads, total_norm"),
            s("clip_by_global_norm", "return [g * factor for g in grads], total_norm",
              "return [g * factor for g in grads], np.sqrt(sum(np.sum((g * factor) ** 2) for g in grads))"),
            s("clip_by_value", "    return [np.clip(g, -clip_value, clip_value) for g in grads]",
              "    if all(np.all(np.abs(g) <= clip_value) for g in grads):\n        return grads  # the caller's own\n"
              "    return [np.clip(g, -clip_value, clip_value) for g in grads]"),
            s("clip_by_value", "np.clip(g, -clip_value, clip_value)", "np.clip(g, 0.0, clip_value)"),
        ],
        "ps4_lstm": [
            s("lstm_step_forward", "H = h_prev.shape[1]", "H = x.shape[1]"),
            s("lstm_step_forward", "    c = f * c_prev + i * g", "    c_prev *= f  # writes into the caller's c_prev\n"
              "    c = c_prev + i * g"),
            s("lstm_step_forward", "return h, c", "return c, h"),
            s("lstm_step_backward", "H = h_prev.shape[1]", "H = x.shape[1]"),
            s("lstm_step_backward", "dc_total * f, da.T", "dc_total, da.T"),
            s("cell_path_gradient", "return np.prod(fs, axis=0)", "return np.exp(np.sum(np.log(fs), axis=0))"),
        ],
        "ps5_gru": [
            s("gru_step_forward", "H = h_prev.shape[1]", "H = x.shape[1]"),
            s("gru_step_forward", "    return (1 - z) * n + z * h_prev",
              "    h_prev *= z  # writes into the caller's h_prev\n    return (1 - z) * n + h_prev"),
            s("gru_step_backward", "H = h_prev.shape[1]", "H = x.shape[1]"),
            s("gru_step_backward", "da.sum(axis=0), du.sum(axis=0)", "da.sum(axis=0), da.sum(axis=0)"),
            s("gru_step_backward", "    H = h_prev", WARN + "    H = h_prev"),
            s("param_counts", "one_block = hidden_size", "one_block = 1.0 * hidden_size"),
            s("gru_step_forward_cho", "z = 1 / (1 + np.exp(-(a[:, H:2 * H] + u_rz[:, H:])))",
              "z = 1 / (1 + np.exp(-(a[:, H:2 * H] + (r * h_prev) @ W_hh[H:2 * H].T + b_hh[H:2 * H])))"),
        ],
    }[ps]


def catalogue(wrong, right, hidden_only):
    """The catalogued mistakes (but those built to pass the visible cases only) and the correct answers
    written differently, from a set's ``WRONG``, ``RIGHT`` and ``HIDDEN_ONLY``."""
    return [spec[0] for student, spec in wrong.items() if student not in hidden_only] + list(right.values())


def pack(answer_sets, notebooks=None, limit=None):
    """Notebooks with at most one changed answer per function each, in as few notebooks as fit; with
    ``limit``, answers that would need a notebook beyond that many are left out."""
    notebooks = [] if notebooks is None else notebooks
    for answers in answer_sets:
        for notebook in notebooks:
            if not set(notebook) & set(answers):
                notebook.update(answers)
                break
        else:
            if limit is None or len(notebooks) < limit:
                notebooks.append(dict(answers))
    return notebooks


def the_class(tests):
    """Every extra slip of the set of ``tests`` (a ``ProblemSetTests`` class), and as many of its catalogued
    answers as fit into the notebooks those need (the set's own tests grade and validate each catalogued
    answer on its own as well): ``{student: answers}``."""
    notebooks = pack(extras(tests.PS))
    notebooks = pack(catalogue(tests.WRONG, tests.RIGHT, tests.HIDDEN_ONLY), notebooks, limit=len(notebooks))
    return {f"{STUDENT}{i:02d}": answers for i, answers in enumerate(notebooks)}


def _outputs(ps):
    module = importlib.import_module(f"grader.sets.{ps}")
    return {e.test_cell: [name.removesuffix("[]") for name in e.outputs] for e in module.EXERCISES if e.outputs}


class AgreementTests:
    """Mixed into a problem set's ``ProblemSetTests`` (before it): the set's class also holds
    ``the_class`` of its slips, graded and validated with the rest."""

    @classmethod
    def validated_more(cls):
        return the_class(cls)

    def slips(self, course):
        """``{student: answers}`` and ``{student: what validate said}`` of the packed notebooks."""
        students = self.validated_more()
        return students, {student: course.validation[student] for student in students}

    def test_each_cell_passes_validate_iff_it_passes_the_grade(self, course):
        ps, (students, validation) = self.PS, self.slips(course)
        tests = points(ps, f"{ps}.ipynb")
        disagree = {}
        for student in students:
            scores = course.scores(ps, student)
            lost = {cell for cell in tests if scores[cell][0] < scores[cell][1]}
            if lost != set(validation[student]):
                disagree[student] = {"graded failing": sorted(lost), "validate failing": sorted(validation[student]),
                                     "answers": sorted(students.get(student, {}))}
        assert disagree == {}

    def test_every_failure_line_fits_validate_whole_and_names_the_output(self, course):
        ps, validation = self.PS, self.slips(course)[1]
        named = _outputs(ps)
        seen_names = set()
        for student, failures in validation.items():
            nb = course.autograded_notebook(ps, student, f"{ps}.ipynb")
            cells = {c.metadata.get("nbgrader", {}).get("grade_id"): c for c in nb.cells}
            for cell, error in failures.items():
                feedback = [line for o in cells[cell].outputs if o.output_type == "error" for line in o.traceback]
                for line in error.splitlines() + feedback:
                    assert len(line) + INDENT <= VALIDATE_CUT, f"{student} {cell}: cut by validate: {line!r}"
                if cell in named:
                    for text in (error, "\n".join(feedback)):
                        assert not re.search(r"\boutput \d", text), f"{student} {cell}: an unnamed output: {text}"
                    seen_names |= {(cell, name) for name in named[cell]
                                   if re.search(rf"(^|\s){re.escape(name)}(\[\d+\])?:", " ".join(error.split()))}
        missing = set(named) - {cell for cell, _ in seen_names}
        assert not missing, f"no wrong answer in the class shows a named output of {sorted(missing)}"

    def test_the_class_report_names_each_kind_of_failure(self, course):
        ps, students = self.PS, self.validated_more()
        kinds = set()
        for student in students:
            nb = nbformat.read(course.root / "autograded" / student / ps / f"{ps}.ipynb", as_version=4)
            kinds |= {v.get("kind") for v in nb.metadata["grader"]["verdicts"].values() if not v["passed"]}
        assert "changed its inputs in place" in kinds  # every set has an in-place slip among its extras
