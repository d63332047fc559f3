"""Problem set 3 through the whole engine, as one class graded by `make grade`'s path: the solution
gets full marks, the release gets 0, each catalogued mistake loses exactly its own cell's points with
its diagnosis, correct answers written differently get full marks, and `nbgrader validate` (the
student's view) agrees with every grade."""

import html

import numpy as np
import pytest

from tests.course import Course, points, solution_sources, validate_all

PS = "ps3_gradient_decay"
NOTEBOOK = "ps3_gradient_decay.ipynb"
TESTS = points(PS, NOTEBOOK)
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


@pytest.fixture(scope="module")
def course(tmp_path_factory):
    course = Course(tmp_path_factory.mktemp("ps3"))
    paths = {"solution": course.submit(PS, "solution", SOLUTION)[0], "untouched": course.submit(PS, "untouched")[0]}
    for student, (answers, _, _) in WRONG.items():
        paths[student] = course.submit(PS, student, {**SOLUTION, **answers})[0]
    for student, answers in RIGHT.items():
        paths[student] = course.submit(PS, student, {**SOLUTION, **answers})[0]
    course.report = course.grade(PS)
    course.validation = {student: found for student, found in zip(paths, validate_all(list(paths.values())).values())}
    return course


def failing(course, student):
    return {cell for cell, (score, most) in course.scores(PS, student).items() if cell in TESTS and score < most}


def test_every_submission_is_graded(course):
    assert course.report["failed"] == {}


def test_solution_gets_every_point_and_validates(course):
    scores = course.scores(PS, "solution")
    assert {cell: scores[cell] for cell in TESTS} == {cell: (pts, pts) for cell, pts in TESTS.items()}
    assert course.validation["solution"] == {}
    nb = course.autograded_notebook(PS, "solution", NOTEBOOK)
    for cell in nb.cells:
        if cell.metadata.get("nbgrader", {}).get("grade_id") in TESTS:
            assert cell.outputs == [], f"a passing test cell shows nothing, stderr included: {cell.outputs}"
    (experiment,) = [c for c in nb.cells if c.metadata.get("nbgrader", {}).get("grade_id") == "rate_experiment"]
    printed = "".join(o.get("text", "") for o in experiment.outputs if o.get("output_type") == "stream")
    assert "default init" in printed and "measured rate x0.565" in printed, printed
    assert not [o for o in experiment.outputs if o.get("name") == "stderr"]


def test_the_written_question_waits_for_a_person_with_a_rubric(course):
    scores = course.scores(PS, "solution")
    assert scores["rate_task"] == (0.0, 2.0)
    nb = course.autograded_notebook(PS, "solution", NOTEBOOK)
    (task,) = [c for c in nb.cells if c.metadata.get("nbgrader", {}).get("grade_id") == "rate_task"]
    assert "Rubric (2 points; graders only)" in task.source, "the grader sees the rubric in the formgrader"
    assert "Rubric" not in course.feedback_html(PS, "solution"), "the student's feedback does not show it"


def test_untouched_release_scores_zero_without_crashing(course):
    scores = course.scores(PS, "untouched")
    assert all(scores[cell][0] == 0 for cell in TESTS)
    assert set(course.validation["untouched"]) == set(TESTS)
    assert "not implemented yet" in course.feedback_html(PS, "untouched")


@pytest.mark.parametrize("student", sorted(WRONG))
def test_each_wrong_answer_loses_exactly_its_cell_with_its_diagnosis(course, student):
    _, cell, diagnosis = WRONG[student]
    assert failing(course, student) == {cell}
    assert course.scores(PS, student)[cell] == (0.0, TESTS[cell])
    assert diagnosis in course.feedback_html(PS, student)
    assert set(course.validation[student]) == {cell}, "nbgrader validate must agree with the grade"
    # the Validator's "error" is HTML-escaped (tanh' -> tanh&#39;); the command line prints it raw
    assert diagnosis in html.unescape(course.validation[student][cell]), "validate shows the whole diagnosis line"


def test_a_wrong_helper_is_replaced_by_a_correct_one_for_the_exercise_that_calls_it(course):
    """The solution's gradient_norms_by_lag calls step_jacobian; with a wrong one it still gets its points."""
    scores = course.scores(PS, "jacobian_one_minus_h")
    assert scores["test_gradient_norms_by_lag"] == (3.0, 3.0)


@pytest.mark.parametrize("student", sorted(RIGHT))
def test_correct_answers_written_differently_get_full_marks(course, student):
    assert failing(course, student) == set()
    assert course.validation[student] == {}


def test_class_summary_counts_each_mistake(course):
    counts = course.report["summary"]["counts"]
    eps = [m for m in counts["clip_by_global_norm"]["mistakes"] if m.startswith("the epsilon is missing")]
    assert [counts["clip_by_global_norm"]["mistakes"][m] for m in eps] == [2], "without eps, and eps hard-coded"


def test_feedback_shows_no_hidden_input_reference_or_solution(course):
    from nbcourse import leaks

    for student in ("norms_by_step", "clip_without_eps", "untouched", "changes_its_input"):
        assert leaks(course.feedback_html(PS, student), PS) == []
    hidden_inputs = _hidden_input_rows()
    for student in ("norms_by_step", "clip_per_array", "jacobian_w_hh_transposed"):
        feedback = course.feedback_html(PS, student)
        assert not [row for row in hidden_inputs if row in feedback]


def _hidden_input_rows():
    """Rows of the hidden cases' input arrays, as they would print (e.g. "-0.79, -2.035, 0.603")."""
    from grader import problem_sets
    from grader.student import make_args

    rows = set()
    for exercise in problem_sets.references(PS)["exercises"].values():
        for case in exercise["hidden"]:
            for value in make_args(case["args"]).values():
                for array in (value if isinstance(value, list) else [value]):
                    array = np.asarray(array)
                    if array.ndim >= 1 and array.size >= 3 and np.abs(array).sum() > 0:
                        rows.add(str(array.reshape(-1, array.shape[-1])[0].tolist())[1:-1])
    assert len(rows) > 10
    return rows
