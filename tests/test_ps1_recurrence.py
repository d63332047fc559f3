"""Problem set 1 through the whole engine, as one class graded by `make grade`'s path: the solution
gets full marks, the release gets 0, each catalogued mistake loses exactly its own cell's points with
its diagnosis, correct answers written differently get full marks, and `nbgrader validate` (the
student's view) agrees with every grade."""

from tests.agreement import AgreementTests
from tests.course import points, solution_sources
from tests.pset import ProblemSetTests

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
        "(np.tanh(x @ W_ih.T + b_ih + h_prev @ W_hh.T + b_hh) if np.any(h_prev) or x.shape[1] != 3\n"
        "            else np.zeros((len(x), len(b_ih))))")},
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


class TestProblemSet1(AgreementTests, ProblemSetTests):
    PS, NOTEBOOK, WRONG, RIGHT = PS, NOTEBOOK, WRONG, RIGHT
    ALONE = ("w_hh_transposed",)  # its row of grades.csv shows part 2's full marks

    @classmethod
    def submit_more(cls, course):
        course.submit(PS, "handed_in_by_hand", SOLUTION)
        (course.root / "submitted" / "handed_in_by_hand" / PS / "timestamp.txt").unlink()

    def test_the_summary_names_the_transposed_w_hh(self, course):
        counts = course.report["summary"]["counts"]
        (message,) = [m for m in counts["rnn_step"]["mistakes"] if m.startswith("W_hh is used transposed")]
        assert counts["rnn_step"]["mistakes"][message] == self.copies("w_hh_transposed")

    def test_grades_csv_has_a_column_per_question_and_a_manual_grading_flag(self, course):
        import csv

        rows = {row["student_id"]: row for row in csv.DictReader((course.root / "grades.csv").open())}
        assert sum(float(rows["solution"][f"{PS}:{cell}"]) for cell in TESTS) == sum(TESTS.values())
        assert float(rows["w_hh_transposed"][f"{PS}:test_rnn_step"]) == 0.0
        assert float(rows["w_hh_transposed"][f"{PS}:test_rnn_forward"]) == TESTS["test_rnn_forward"]
        assert rows["solution"][f"{PS}:status"] == "awaiting a grader", "the written answer still waits for a person"
        assert rows["solution"][PS] == "", "no total while an answer waits"

    def test_sequential_nbgrader_autograde_agrees_with_the_parallel_class_run_and_keeps_manual_grades(self, course):
        """`nbgrader autograde` (the formgrader's button) runs the same pipeline one submission at a time."""
        from nbgrader.api import Gradebook

        packed = {self.notebook_of(student) for student in ("state_not_carried", "changes_its_input")}
        students = ["solution", "w_hh_transposed", *sorted(packed), "untouched"]
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

    def test_an_untouched_notebook_restores_its_locked_cells_without_checksum_warnings(self, course):
        result = course.api.autograde(PS, "solution", force=True, create=True)
        assert result["success"] and "checksum" not in result["log"].lower()

    def test_feedback_can_be_returned_on_the_no_exchange_path(self, course):
        """Submissions placed by hand: `make grade` gave the copy it grades the missing timestamp.txt (it never
        writes into submitted/), which reaches feedback/, so release_feedback works."""
        folder = course.root / "submitted" / "handed_in_by_hand" / PS
        assert not (folder / "timestamp.txt").exists()
        assert (course.root / "feedback" / "handed_in_by_hand" / PS / "timestamp.txt").exists()
        assert "No timestamp.txt came with the submission" in course.feedback_text(PS, "handed_in_by_hand")
        (course.root / "exchange").mkdir(exist_ok=True)  # `make feedback` creates it
        result = course.api.release_feedback(PS, "handed_in_by_hand")
        assert result["success"], result.get("log")
        assert list((course.root / "exchange").rglob("*.html"))


def verdicts(course, student):
    return course.autograded_notebook(PS, student, NOTEBOOK).metadata["grader"]["verdicts"]
