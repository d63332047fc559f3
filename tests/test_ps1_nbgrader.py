"""Problem set 1 through nbgrader end to end, in one process: generate, submit, autograde, validate,
feedback, export. Each plausible wrong answer must lose exactly its own cell's points, with the
diagnosis in the feedback, and `nbgrader validate` must agree with autograde."""

import csv
import re

import nbformat
import pytest

from tests.course import ROOT, Course, solution_sources

PS = "ps1_recurrence"
NOTEBOOK = "ps1_recurrence.ipynb"
TESTS = {"test_rnn_step": 3.0, "test_rnn_forward": 3.0, "test_rnn_param_count": 1.0}
SOLUTION = solution_sources(PS, NOTEBOOK)
WRITTEN = {"pulse_answer": "The trace shrinks by a factor s at every step until tanh saturates it."}


def step(body):
    return f"def rnn_step(x, h_prev, W_ih, W_hh, b_ih, b_hh):\n    return {body}\n"


def forward(body):
    return "def rnn_forward(xs, h0, W_ih, W_hh, b_ih, b_hh):\n" + body


# student -> (answers replacing the solution cells, the cell that must lose its points, diagnosis)
WRONG = {
    "w_hh_transposed": ({"rnn_step": step("np.tanh(x @ W_ih.T + b_ih + h_prev @ W_hh + b_hh)")},
                        "test_rnn_step", "W_hh is used transposed"),
    "w_ih_transposed": ({"rnn_step": step("np.tanh(x @ W_ih + b_ih + h_prev @ W_hh.T + b_hh)")},
                        "test_rnn_step", "W_ih is used transposed"),
    "no_bias": ({"rnn_step": step("np.tanh(x @ W_ih.T + h_prev @ W_hh.T)")},
                "test_rnn_step", "both biases are missing"),
    "sigmoid": ({"rnn_step": step("1 / (1 + np.exp(-(x @ W_ih.T + b_ih + h_prev @ W_hh.T + b_hh)))")},
                "test_rnn_step", "sigmoid used where the RNN uses tanh"),
    "state_not_carried": ({"rnn_forward": forward(
        "    return np.stack([rnn_step(x, h0, W_ih, W_hh, b_ih, b_hh) for x in xs])\n")},
        "test_rnn_forward", "the state is not carried"),
    "last_state_only": ({"rnn_forward": forward(
        "    h = h0\n    for x in xs:\n        h = rnn_step(x, h, W_ih, W_hh, b_ih, b_hh)\n    return h\n")},
        "test_rnn_forward", "only the last state is returned"),
    "one_bias_counted": ({"rnn_param_count": "def rnn_param_count(input_size, hidden_size):\n"
                                             "    return hidden_size * (input_size + hidden_size) + hidden_size\n"},
                         "test_rnn_param_count", "only one bias vector counted"),
}


@pytest.fixture(scope="module")
def course(tmp_path_factory):
    return Course(tmp_path_factory.mktemp("course"))


def failing_tests(scores):
    return {cell for cell, (score, most) in scores.items() if cell in TESTS and score < most}


def test_solution_gets_every_autograded_point_and_validates(course):
    (path,) = course.submit(PS, "solution", {**SOLUTION, **WRITTEN})
    scores = course.autograde(PS, "solution")
    assert {cell: scores[cell] for cell in TESTS} == {cell: (pts, pts) for cell, pts in TESTS.items()}
    assert scores["pulse_answer"] == (0.0, 2.0), "the written answer waits for manual grading"
    assert course.validate(path) == set()
    nb = course.autograded_notebook(PS, "solution", NOTEBOOK)
    for cell in nb.cells:
        if cell.metadata.get("nbgrader", {}).get("grade_id") in TESTS:
            assert cell.outputs == [], f"a passing test cell prints nothing (stderr included): {cell.outputs}"


def test_untouched_release_scores_zero_without_crashing(course):
    (path,) = course.submit(PS, "untouched")
    scores = course.autograde(PS, "untouched")
    assert all(scores[cell][0] == 0 for cell in TESTS)
    assert course.validate(path) == set(TESTS) | {"pulse_answer"}
    assert "not implemented yet" in course.feedback_html(PS, "untouched")


@pytest.mark.parametrize("student", sorted(WRONG))
def test_each_wrong_answer_loses_exactly_its_cell_with_a_diagnosis(course, student):
    answers, cell, diagnosis = WRONG[student]
    (path,) = course.submit(PS, student, {**SOLUTION, **answers, **WRITTEN})
    scores = course.autograde(PS, student)
    assert failing_tests(scores) == {cell}
    assert scores[cell] == (0.0, TESTS[cell])
    assert course.validate(path) == {cell}, "nbgrader validate must agree with autograde"
    feedback = course.feedback_html(PS, student)
    assert diagnosis in feedback
    assert hidden_test_leaks(feedback) == []


def test_a_hidden_failure_shows_one_line_and_no_hidden_data(course):
    answer = step("np.tanh(x @ W_ih.T + b_ih + h_prev @ W_hh.T + b_hh) if len(x) == 1 "
                  "else np.zeros((len(x), len(b_ih)))")  # right on the one-example sanity case only
    course.submit(PS, "fits_the_sanity_case", {**SOLUTION, "rnn_step": answer, **WRITTEN})
    scores = course.autograde(PS, "fits_the_sanity_case")
    assert failing_tests(scores) == {"test_rnn_step"}
    nb = course.autograded_notebook(PS, "fits_the_sanity_case", NOTEBOOK)
    (cell,) = [c for c in nb.cells if c.metadata.get("nbgrader", {}).get("grade_id") == "test_rnn_step"]
    (error,) = [o for o in cell.outputs if o.output_type == "error"]
    assert len(error.traceback) == 1 and "\n" not in error.traceback[0]
    assert error.traceback[0].startswith("CheckFailed: rnn_step: on the case 'input term only")
    assert hidden_test_leaks(course.feedback_html(PS, "fits_the_sanity_case")) == []


def hidden_test_leaks(text):
    from nbcourse import SOLUTION_MARKERS, solution_fingerprints

    hidden = {p for p in solution_fingerprints(PS) if re.fullmatch(r"-?\d\.\d+", p)} | set(SOLUTION_MARKERS)
    assert len(hidden) > 20
    return sorted(p for p in hidden if p in text)


CHEATS = {
    "patches_numpy_and_grader": "import rnnlib.grading\n"
                                "np.allclose = lambda *a, **k: True\n"
                                "np.testing.assert_allclose = lambda *a, **k: None\n"
                                "rnnlib.grading.check = lambda *a, **k: None\n"
                                "check = rnnlib.grading.check\n" + step("x[:, :1] * 0 + h_prev * 0"),
    "calls_the_course_library": "from rnnlib import rnn\n"
                                + step("rnn.cell_forward(x, h_prev, W_ih, W_hh, b_ih, b_hh)[0]"),
    "exits_the_kernel": "import os\n" + step("os._exit(0)"),
}


@pytest.mark.parametrize("student", sorted(CHEATS))
def test_cheating_or_crashing_answers_get_no_points_and_others_are_still_graded(course, student):
    course.submit(PS, student, {**SOLUTION, "rnn_step": CHEATS[student], **WRITTEN})
    scores = course.autograde(PS, student)
    assert scores["test_rnn_step"][0] == 0
    if student != "exits_the_kernel":
        assert failing_tests(scores) == {"test_rnn_step"}


def test_gradebook_exports_one_row_per_student(course, tmp_path):
    course.submit(PS, "export_check", {**SOLUTION, **WRITTEN})
    course.autograde(PS, "export_check")
    from nbgrader.api import Gradebook
    from nbgrader.plugins import CsvExportPlugin

    out = tmp_path / "grades.csv"
    plugin = CsvExportPlugin(to=str(out))
    with Gradebook(course.api.coursedir.db_url, course_id=course.api.coursedir.course_id) as gradebook:
        plugin.export(gradebook)
    rows = {row["student_id"]: row for row in csv.DictReader(out.open())}
    assert float(rows["export_check"]["score"]) == sum(TESTS.values())
    assert float(rows["export_check"]["max_score"]) == sum(TESTS.values()) + 2


def test_committed_exercises_are_what_generate_assignment_makes(tmp_path):
    import make_exercises

    make_exercises.generate(tmp_path, [PS])
    fresh = nbformat.read(tmp_path / PS / NOTEBOOK, as_version=4)
    committed = nbformat.read(ROOT / "exercises" / PS / NOTEBOOK, as_version=4)
    assert [(c.cell_type, c.source, c.metadata) for c in fresh.cells] == \
        [(c.cell_type, c.source, c.metadata) for c in committed.cells], "exercises/ is stale: run `make exercises`"


def test_release_leaks_no_solution_and_no_hidden_test():
    from nbcourse import leaks, solution_fingerprints

    def text(folder):
        return "\n".join(c.source for c in nbformat.read(ROOT / folder / PS / NOTEBOOK, as_version=4).cells)

    assert leaks(text("exercises"), PS) == []
    source = text("solutions")
    assert len(solution_fingerprints(PS)) > 40 and len(leaks(source, PS)) == len(solution_fingerprints(PS)), \
        "the fingerprints must be found in the instructor notebook, or the check proves nothing"
