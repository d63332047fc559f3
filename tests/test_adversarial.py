"""Grading that cheating, crashing and broken submissions can neither fool nor stop: an adversarial
battery (tests/battery.py) graded as one class, in one run, through the real `make grade` path."""

import re
import socket
import threading

import pytest

from tests import battery as battery_module
from tests.course import Course, points

PS = "ps1_recurrence"
TESTS = points(PS, "ps1_recurrence.ipynb")


class Listener:
    """A TCP server on the grader's loopback that records every connection it accepts."""

    def __init__(self):
        self.server = socket.socket()
        self.server.bind(("127.0.0.1", 0))
        self.server.listen()
        self.port = self.server.getsockname()[1]
        self.accepted = []
        threading.Thread(target=self._serve, daemon=True).start()

    def _serve(self):
        while True:
            try:
                connection, address = self.server.accept()
            except OSError:
                return
            self.accepted.append(address)
            connection.close()


@pytest.fixture(scope="module")
def graded(tmp_path_factory):
    course = Course(tmp_path_factory.mktemp("battery"))
    listener = Listener()
    submissions = battery_module.build(PS, course.root, listener.port)
    for s in submissions:
        course.submit(PS, s.student, s.answers, edit=s.edit, files=s.files, notebook=s.notebook)
    before = (course.root / "submitted" / "reference_solution" / PS / "ps1_recurrence.ipynb").read_bytes()
    report = course.grade(PS, workers=2, overrides={"SandboxedExecute.timeout": 6,
                                                     "SandboxedExecute.submission_timeout": 120})
    listener.server.close()
    return course, {s.student: s for s in submissions}, report, listener, before


def autograded_total(course, student):
    return sum(score for cell, (score, _) in course.scores(PS, student).items() if cell in TESTS)


def test_the_battery_is_large_and_covers_attacks_and_failures(graded):
    _, submissions, _, _, _ = graded
    assert len(submissions) >= 25


def test_every_submission_gets_a_recorded_grade_and_feedback(graded):
    course, submissions, report, _, _ = graded
    assert report["failed"] == {}
    for student in submissions:
        assert course.feedback_html(PS, student), f"no feedback for {student}"


@pytest.mark.parametrize("student", [s.student for s in battery_module.build(PS, "/course", 1)])
def test_each_submission_gets_exactly_the_score_it_deserves(graded, student):
    course, submissions, _, _, _ = graded
    assert autograded_total(course, student) == submissions[student].expected, submissions[student].what


def test_no_connection_reached_the_loopback_listener(graded):
    assert graded[3].accepted == []


def test_student_code_touched_neither_classmates_nor_the_gradebook(graded):
    course, _, _, _, before = graded
    assert (course.root / "submitted" / "reference_solution" / PS / "ps1_recurrence.ipynb").read_bytes() == before
    assert (course.root / "gradebook.db").exists()
    assert autograded_total(course, "reference_solution") == sum(TESTS.values())
    assert course.scores(PS, "writes_the_gradebook")["test_rnn_step"][0] == 0


def test_failures_are_explained_in_the_feedback(graded):
    course = graded[0]
    assert "stopped after 6 s" in course.feedback_text(PS, "loops_forever")
    assert "stopped after 6 s" in course.feedback_text(PS, "ignores_interrupts")
    assert "the kernel died" in course.feedback_text(PS, "exits_the_kernel")
    assert "the kernel died" in course.feedback_text(PS, "segfaults")
    assert "hidden cases" in course.feedback_text(PS, "hangs_on_hidden_cases_only")
    assert "graded as ps1_recurrence.ipynb" in course.feedback_text(PS, "renamed_notebook")
    assert "could not be read as a notebook" in course.feedback_text(PS, "malformed_notebook")
    assert "was missing from the submission" in course.feedback_text(PS, "deleted_test_cell")
    assert "output beyond" in course.feedback_text(PS, "prints_20_MB")


def test_no_feedback_shows_hidden_data_references_or_solutions(graded):
    from nbcourse import leaks

    from tests.course import solution_sources
    from tests.pset import hidden_input_rows

    course, submissions, _, _, _ = graded
    rows = hidden_input_rows(PS)
    # The battery's students hand in the instructor's solution code themselves; any other fingerprint
    # (reference outputs, the rubric, hidden inputs) must not appear.
    own_code = "\n".join(solution_sources(PS, "ps1_recurrence.ipynb").values())
    for student in submissions:
        feedback = course.feedback_html(PS, student)
        assert [p for p in leaks(feedback, PS) if p not in own_code] == [], student
        assert not [row for row in rows if row in feedback], student
        assert not re.search(r"/grader/\w+\.py|site-packages/nbgrader", feedback), f"grader code: {student}"
