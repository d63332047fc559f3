"""Problem set 1 through the whole engine, as one class graded by `make grade`'s path: the solution
gets full marks, the release gets 0, each catalogued mistake loses exactly its own cell's points with
its diagnosis, correct answers written differently get full marks, and `nbgrader validate` (the
student's view) agrees with every grade."""

import numpy as np
import pytest

from tests.course import Course, points, solution_sources, validate_all

PS = "ps1_recurrence"
NOTEBOOK = "ps1_recurrence.ipynb"
TESTS = points(PS, NOTEBOOK)
SOLUTION = solution_sources(PS, NOTEBOOK)


def step(body):
    return f"def rnn_step(x, h_prev, W_ih, W_hh, b_ih, b_hh):\n    return {body}\n"


def forward(body):
    return "def rnn_forward(xs, h0, W_ih, W_hh, b_ih, b_hh):\n" + body


def count(body):
    return f"def rnn_param_count(input_size, hidden_size):\n    return {body}\n"


# student -> (answers replacing the solution cells, the cell that must lose its points, diagnosis)
WRONG = {
    "w_hh_transposed": ({"rnn_step": step("np.tanh(x @ W_ih.T + b_ih + h_prev @ W_hh + b_hh)")},
                        "test_rnn_step", "W_hh is used transposed"),
    "w_ih_transposed": ({"rnn_step": step("np.tanh(x @ W_ih + b_ih + h_prev @ W_hh.T + b_hh)")},
                        "test_rnn_step", "W_ih is used transposed"),
    "no_bias": ({"rnn_step": step("np.tanh(x @ W_ih.T + h_prev @ W_hh.T)")}, "test_rnn_step",
                "both biases are missing"),
    "no_b_hh": ({"rnn_step": step("np.tanh(x @ W_ih.T + b_ih + h_prev @ W_hh.T)")}, "test_rnn_step",
                "b_hh is missing"),
    "sigmoid": ({"rnn_step": step("1 / (1 + np.exp(-(x @ W_ih.T + b_ih + h_prev @ W_hh.T + b_hh)))")},
                "test_rnn_step", "sigmoid used where the RNN uses tanh"),
    "no_state_term": ({"rnn_step": step("np.tanh(x @ W_ih.T + b_ih + b_hh)")}, "test_rnn_step",
                      "the state term h_prev @ W_hh.T is missing"),
    "state_not_carried": ({"rnn_forward": forward(
        "    return np.stack([rnn_step(x, h0, W_ih, W_hh, b_ih, b_hh) for x in xs])\n")},
        "test_rnn_forward", "the state is not carried"),
    "last_state_only": ({"rnn_forward": forward(
        "    h = h0\n    for x in xs:\n        h = rnn_step(x, h, W_ih, W_hh, b_ih, b_hh)\n    return h\n")},
        "test_rnn_forward", "only the last state is returned"),
    "inlined_step_without_b_hh": ({"rnn_forward": forward(
        "    hs, h = [], h0\n    for x in xs:\n        h = np.tanh(x @ W_ih.T + b_ih + h @ W_hh.T)\n"
        "        hs.append(h)\n    return np.stack(hs)\n")},
        "test_rnn_forward", "inside the loop, b_hh is missing"),
    "one_bias_counted": ({"rnn_param_count": count("hidden_size * (input_size + hidden_size) + hidden_size")},
                         "test_rnn_param_count", "only one bias vector counted"),
    "biases_not_counted": ({"rnn_param_count": count("hidden_size * (input_size + hidden_size)")},
                           "test_rnn_param_count", "the biases are not counted"),
    # right on every visible case, wrong on the hidden ones: only the grade can tell
    "fits_the_sanity_cases": ({"rnn_step": step(
        "np.tanh(x @ W_ih.T + b_ih + h_prev @ W_hh.T + b_hh) if x.shape[1] <= 2 else np.zeros((len(x), len(b_ih)))")},
        "test_rnn_step", "on the case 'input term only"),
    "changes_its_input": ({"rnn_step": "def rnn_step(x, h_prev, W_ih, W_hh, b_ih, b_hh):\n"
                                       "    h_prev *= 1.0\n    h_prev += 0.0 * h_prev\n    x -= 0\n    b_ih += 1e-3\n"
                                       "    return np.tanh(x @ W_ih.T + b_ih - 1e-3 + h_prev @ W_hh.T + b_hh)\n"},
                          "test_rnn_step", "changed its input b_ih in place"),
}

# Correct answers written differently: all must get full marks.
RIGHT = {
    "loops": {"rnn_step": "def rnn_step(x, h_prev, W_ih, W_hh, b_ih, b_hh):\n"
                          "    N, H = x.shape[0], W_hh.shape[0]\n    h = np.zeros((N, H))\n"
                          "    for n in range(N):\n        for i in range(H):\n"
                          "            a = b_ih[i] + b_hh[i] + sum(W_ih[i, d] * x[n, d] for d in range(x.shape[1]))\n"
                          "            a += sum(W_hh[i, j] * h_prev[n, j] for j in range(H))\n"
                          "            h[n, i] = np.tanh(a)\n    return h\n",
              "rnn_forward": forward("    out = np.empty((len(xs), h0.shape[0], W_hh.shape[0]))\n    h = h0\n"
                                     "    for t in range(len(xs)):\n"
                                     "        h = rnn_step(xs[t], h, W_ih, W_hh, b_ih, b_hh)\n"
                                     "        out[t] = h\n    return out\n")},
    "einsum_and_combined_biases": {
        "rnn_step": step("np.tanh(np.einsum('nd,hd->nh', x, W_ih) + np.einsum('nk,hk->nh', h_prev, W_hh) "
                         "+ b_ih + b_hh)"),
        "rnn_forward": forward("    hs, h = [], h0\n    for x in xs:\n"
                               "        h = rnn_step(x, h, W_ih, W_hh, b_ih + b_hh, np.zeros_like(b_hh))\n"
                               "        hs.append(h)\n    return np.array(hs)\n")},
    "column_vectors": {"rnn_step": step("np.tanh(W_ih @ x.T + W_hh @ h_prev.T + (b_ih + b_hh)[:, None]).T")},
    "float32": {"rnn_step": step("np.tanh((x.astype(np.float32) @ W_ih.T.astype(np.float32) + b_ih.astype(np.float32) "
                                 "+ h_prev.astype(np.float32) @ W_hh.T.astype(np.float32) + b_hh.astype(np.float32)))"),
                "rnn_param_count": count("np.int64(hidden_size * (input_size + hidden_size + 2))")},
}


@pytest.fixture(scope="module")
def course(tmp_path_factory):
    course = Course(tmp_path_factory.mktemp("ps1"))
    paths = {"solution": course.submit(PS, "solution", SOLUTION)[0], "untouched": course.submit(PS, "untouched")[0]}
    for student, (answers, _, _) in WRONG.items():
        paths[student] = course.submit(PS, student, {**SOLUTION, **answers})[0]
    for student, answers in RIGHT.items():
        paths[student] = course.submit(PS, student, {**SOLUTION, **answers})[0]
    course.submit(PS, "handed_in_by_hand", SOLUTION)
    (course.root / "submitted" / "handed_in_by_hand" / PS / "timestamp.txt").unlink()
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


def test_the_written_question_waits_for_a_person_with_a_rubric(course):
    scores = course.scores(PS, "solution")
    assert scores["pulse_task"] == (0.0, 2.0)
    nb = course.autograded_notebook(PS, "solution", NOTEBOOK)
    (task,) = [c for c in nb.cells if c.metadata.get("nbgrader", {}).get("grade_id") == "pulse_task"]
    assert "Rubric (2 points; graders only)" in task.source, "the grader sees the rubric in the formgrader"
    assert "Rubric" not in course.feedback_html(PS, "solution"), "the student's feedback does not show it"


def test_untouched_release_scores_zero_without_crashing(course):
    scores = course.scores(PS, "untouched")
    assert all(scores[cell][0] == 0 for cell in TESTS)
    assert set(course.validation["untouched"]) == set(TESTS)
    assert "not implemented yet" in course.feedback_text(PS, "untouched")


@pytest.mark.parametrize("student", sorted(WRONG))
def test_each_wrong_answer_loses_exactly_its_cell_with_its_diagnosis(course, student):
    _, cell, diagnosis = WRONG[student]
    assert failing(course, student) == {cell}
    assert course.scores(PS, student)[cell] == (0.0, TESTS[cell])
    assert diagnosis in course.feedback_text(PS, student)
    if student != "fits_the_sanity_cases":  # the one answer built to pass every visible case
        assert set(course.validation[student]) == {cell}, "nbgrader validate must agree with the grade"
        assert diagnosis in " ".join(course.validation[student][cell].split()), "validate shows the whole line"


def test_a_wrong_answer_on_hidden_cases_only_passes_validate_and_loses_the_points(course):
    assert course.validation["fits_the_sanity_cases"] == {}
    assert failing(course, "fits_the_sanity_cases") == {"test_rnn_step"}


@pytest.mark.parametrize("student", sorted(RIGHT))
def test_correct_answers_written_differently_get_full_marks(course, student):
    assert failing(course, student) == set()
    assert course.validation[student] == {}


def test_class_summary_counts_each_mistake(course):
    counts = course.report["summary"]["counts"]
    assert counts["rnn_step"]["mistakes"][WRONG["w_hh_transposed"][2] + ": the state term is h_prev @ W_hh.T "
                                          "(W_hh is (H, H), rows = outputs)"] == 1
    assert counts["rnn_forward"]["passed"] == len(WRONG) + len(RIGHT) + 3 - 4  # 3 forward mistakes, untouched
    html = (course.root / "reports" / PS / "class_summary.html").read_text()
    assert "W_hh is used transposed" in html and "rnn_param_count" in html


def test_grades_csv_has_a_column_per_question_and_a_manual_grading_flag(course):
    import csv

    rows = {row["student_id"]: row for row in csv.DictReader((course.root / "grades.csv").open())}
    assert float(rows["solution"]["score"]) == sum(TESTS.values())
    assert float(rows["w_hh_transposed"][f"{PS}:test_rnn_step"]) == 0.0
    assert float(rows["w_hh_transposed"][f"{PS}:test_rnn_forward"]) == TESTS["test_rnn_forward"]
    assert rows["solution"]["needs_manual_grade"] == "yes", "the written answer still waits for a person"


def test_feedback_shows_no_hidden_input_reference_or_solution(course):
    from nbcourse import leaks

    for student in ("fits_the_sanity_cases", "w_hh_transposed", "untouched", "changes_its_input"):
        assert leaks(course.feedback_html(PS, student), PS) == []
    hidden_inputs = _hidden_input_rows()
    feedback = course.feedback_html(PS, "fits_the_sanity_cases")
    assert not [row for row in hidden_inputs if row in feedback]


def _hidden_input_rows():
    """Rows of the hidden cases' input arrays, as they would print (e.g. "[-0.79, -2.035, 0.603]")."""
    from grader import problem_sets

    rows = set()
    for exercise in problem_sets.references(PS)["exercises"].values():
        for case in exercise["hidden"]:
            for value in case["args"].values():
                array = np.asarray(value)
                if array.ndim >= 1 and array.size >= 3 and np.abs(array).sum() > 0:
                    rows.add(str(array.reshape(-1, array.shape[-1])[0].tolist())[1:-1])
    assert len(rows) > 10
    return rows


def test_sequential_nbgrader_autograde_agrees_with_the_parallel_class_run_and_keeps_manual_grades(course):
    """`nbgrader autograde` (the formgrader's button) runs the same pipeline one submission at a time."""
    from nbgrader.api import Gradebook

    students = ["solution", "w_hh_transposed", "state_not_carried", "changes_its_input", "untouched"]
    before = {s: (course.scores(PS, s), verdicts(course, s)) for s in students}
    with Gradebook(course.config.CourseDirectory.db_url, course_id="rnn-course") as gradebook:
        grade = gradebook.find_grade("pulse_task", "ps1_recurrence", PS, "solution")
        grade.manual_score = 1.5
        comment = gradebook.find_comment("pulse_task", "ps1_recurrence", PS, "solution")
        comment.manual_comment = "Right trend, but say why tanh caps the state."
        gradebook.db.commit()
    for student in students:
        assert course.api.autograde(PS, student, force=True, create=True)["success"]
    for student in students:
        scores, messages = before[student]
        now = course.scores(PS, student)
        assert {c: now[c] for c in TESTS} == {c: scores[c] for c in TESTS}
        assert verdicts(course, student) == messages
    assert course.scores(PS, "solution")["pulse_task"] == (1.5, 2.0)
    with Gradebook(course.config.CourseDirectory.db_url, course_id="rnn-course") as gradebook:
        assert gradebook.find_comment("pulse_task", "ps1_recurrence", PS, "solution").manual_comment.startswith(
            "Right trend")


def verdicts(course, student):
    return course.autograded_notebook(PS, student, NOTEBOOK).metadata["grader"]["verdicts"]


def test_an_untouched_notebook_restores_its_locked_cells_without_checksum_warnings(course):
    result = course.api.autograde(PS, "solution", force=True, create=True)
    assert result["success"] and "checksum" not in result["log"].lower()


def test_feedback_can_be_returned_on_the_no_exchange_path(course):
    """Submissions placed by hand: `make grade` wrote the missing timestamp.txt, so release_feedback works."""
    folder = course.root / "submitted" / "handed_in_by_hand" / PS
    assert (folder / "timestamp.txt").exists()
    assert "No timestamp.txt came with the submission" in course.feedback_text(PS, "handed_in_by_hand")
    (course.root / "exchange").mkdir(exist_ok=True)  # `make feedback` creates it
    result = course.api.release_feedback(PS, "handed_in_by_hand")
    assert result["success"], result.get("log")
    assert list((course.root / "exchange").rglob("*.html"))
