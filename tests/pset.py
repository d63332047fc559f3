"""What every problem set must show end to end, written once.

A test file subclasses ``ProblemSetTests`` and sets ``PS``, ``NOTEBOOK``, ``WRONG`` and ``RIGHT``:

    WRONG = {student: (answers, {test cell: diagnosis, ...})}   # or (answers, test cell, diagnosis)
    RIGHT = {student: answers}                                   # correct answers written differently

``answers`` maps solution cells to their source; the other cells keep the instructor's solution. Wrong
answers to different functions share a notebook (``notebooks``: the grader puts a correct helper in the
place of a wrong one for the exercise that calls it, so each mistake still costs only its own cells);
students in ``HIDDEN_ONLY`` or ``ALONE`` (those a set's own tests single out) hand in one each. The
class grades one class (the solution, the blank release, every WRONG and RIGHT notebook) in one run
through `make grade`'s path, runs `nbgrader validate` on each as a student would, and checks: the
solution gets full marks and validates; the blank release gets 0; each wrong answer loses exactly its
own cells, with its diagnosis in the feedback and in validate (students in ``HIDDEN_ONLY`` pass every
visible case and are caught by the hidden ones only); every RIGHT answer gets full marks; the written
question waits for a person with a rubric only graders see; the class summary counts the failures; and
no feedback shows hidden inputs, reference outputs or solutions. Add problem-set specific tests as
methods; they get the graded ``course`` fixture (``submit_more`` adds submissions to the class, and
``validated_more`` submissions that are validated too, as ``agreement.AgreementTests`` does).
"""

import functools

import numpy as np
import pytest

from tests.course import Course, points, solution_sources, validate_all, without_mathjax


def diagnoses(spec):
    """``{test cell: diagnosis}`` of a WRONG entry, whichever form it is written in."""
    return spec[1] if isinstance(spec[1], dict) else {spec[1]: spec[2]}


def hidden_input_rows(assignment):
    """Rows of the hidden cases' input arrays, as a print would show them (e.g. "-0.79, -2.035, 0.603")."""
    from grader import problem_sets

    rows = set()
    for exercise in problem_sets.references(assignment)["exercises"].values():
        for case in exercise["hidden"]:
            for value in case["args"].values():
                try:
                    array = np.asarray(value, dtype=float)
                except (TypeError, ValueError):
                    continue
                if array.ndim >= 1 and array.shape[-1] >= 3 and np.abs(array).sum() > 0:
                    rows.add(str(array.reshape(-1, array.shape[-1])[0].tolist())[1:-1])
    return rows


class ProblemSetTests:
    PS = NOTEBOOK = None
    WRONG, RIGHT = {}, {}
    HIDDEN_ONLY = ("fits_the_sanity_cases",)
    ALONE = ()  # WRONG students a set's own tests look at on their own: each hands in a notebook alone

    @classmethod
    @functools.cache
    def notebooks(cls):
        """``{student id: [WRONG students whose answers the notebook holds]}``, in as few notebooks as keep
        each function's answer from one student. A notebook of one student keeps that student's name."""
        from tests.agreement import pack

        alone = [s for s in cls.WRONG if s in cls.HIDDEN_ONLY + cls.ALONE]
        # each student as {cell it answers or fails: student}: packed where no cell is taken yet
        shared = pack({cell: s for cell in {*cls.WRONG[s][0], *diagnoses(cls.WRONG[s])}}
                      for s in cls.WRONG if s not in alone)
        packs = [[s] for s in alone] + [list(dict.fromkeys(notebook.values())) for notebook in shared]
        names = iter(f"wrong{i:02d}" for i in range(len(packs)))
        return {members[0] if len(members) == 1 else next(names): members for members in packs}

    @classmethod
    def notebook_of(cls, student):
        """The student id of the notebook that holds ``WRONG[student]``'s answers."""
        (notebook,) = [name for name, members in cls.notebooks().items() if student in members]
        return notebook

    @classmethod
    def answers_of(cls, notebook):
        """The answers a WRONG notebook hands in instead of the solution's (none for another): ``{cell: source}``."""
        return {cell: source for student in cls.notebooks().get(notebook, [])
                for cell, source in cls.WRONG[student][0].items()}

    @classmethod
    def graded_cells(cls):
        return points(cls.PS, cls.NOTEBOOK)

    @classmethod
    def solution(cls):
        return solution_sources(cls.PS, cls.NOTEBOOK)

    @pytest.fixture(scope="class")
    @classmethod
    def course(cls, tmp_path_factory):
        solution = cls.solution()
        course = Course(tmp_path_factory.mktemp(cls.PS))
        paths = {"solution": course.submit(cls.PS, "solution", solution)[0],
                 "untouched": course.submit(cls.PS, "untouched")[0]}
        for notebook in cls.notebooks():
            paths[notebook] = course.submit(cls.PS, notebook, {**solution, **cls.answers_of(notebook)})[0]
        for student, answers in {**cls.RIGHT, **cls.validated_more()}.items():
            paths[student] = course.submit(cls.PS, student, {**solution, **answers})[0]
        cls.submit_more(course)
        course.report = course.grade(cls.PS)
        course.validation = dict(zip(paths, validate_all(list(paths.values())).values()))
        return course

    @classmethod
    def validated_more(cls):
        """Hook: further submissions, ``{student: answers}``, graded and validated with the class (their
        outcomes are not scripted: tests/agreement.py checks that validate and the grade agree on them)."""
        return {}

    @classmethod
    def submit_more(cls, course):
        """Hook: further submissions of the same class (graded, not validated)."""

    def copies(self, student):
        """How many submissions of the class hand in all of ``WRONG[student]``'s answers: that student's,
        and the notebooks of ``validated_more`` that hold them."""
        answers = self.WRONG[student][0]
        return 1 + sum(all(more.get(cell) == source for cell, source in answers.items())
                       for more in self.validated_more().values())

    def failing(self, course, student):
        """The test cells that lost points in ``student``'s notebook (for a WRONG student: the notebook that
        holds that student's answers)."""
        tests = self.graded_cells()
        notebook = self.notebook_of(student) if student in self.WRONG else student
        return {cell for cell, (score, most) in course.scores(self.PS, notebook).items()
                if cell in tests and score < most}

    def test_every_submission_is_graded(self, course):
        assert course.report["failed"] == {}

    def test_solution_gets_every_point_and_validates(self, course):
        tests = self.graded_cells()
        scores = course.scores(self.PS, "solution")
        assert {cell: scores[cell] for cell in tests} == {cell: (pts, pts) for cell, pts in tests.items()}
        assert course.validation["solution"] == {}
        nb = course.autograded_notebook(self.PS, "solution", self.NOTEBOOK)
        for cell in nb.cells:
            if cell.metadata.get("nbgrader", {}).get("grade_id") in tests:
                assert cell.outputs == [], f"a passing test cell shows nothing, stderr included: {cell.outputs}"
            elif cell.cell_type == "code":
                assert not [o for o in cell.outputs if o.output_type == "error" or o.get("name") == "stderr"]

    def test_the_written_question_waits_for_a_person_with_a_rubric(self, course):
        nb = course.autograded_notebook(self.PS, "solution", self.NOTEBOOK)
        (task,) = [c for c in nb.cells if c.metadata.get("nbgrader", {}).get("task")]
        assert course.scores(self.PS, "solution")[task.metadata.nbgrader.grade_id][0] == 0.0
        assert "graders only" in task.source, "the grader sees the rubric in the formgrader"
        assert "graders only" not in course.feedback_text(self.PS, "solution"), "the student does not"

    def test_untouched_release_scores_zero_without_crashing(self, course):
        scores = course.scores(self.PS, "untouched")
        assert all(scores[cell][0] == 0 for cell in self.graded_cells())
        assert set(course.validation["untouched"]) == set(self.graded_cells())
        assert "not implemented yet" in course.feedback_text(self.PS, "untouched")

    def test_each_wrong_answer_loses_exactly_its_cells_with_their_diagnoses(self, course, wrong_student):
        notebook, expected = self.notebook_of(wrong_student), diagnoses(self.WRONG[wrong_student])
        together = {cell for student in self.notebooks()[notebook] for cell in diagnoses(self.WRONG[student])}
        assert self.failing(course, wrong_student) == together, f"{notebook} holds {self.notebooks()[notebook]}"
        feedback = course.feedback_text(self.PS, notebook)
        cells = {c.metadata.get("nbgrader", {}).get("grade_id"): c
                 for c in course.autograded_notebook(self.PS, notebook, self.NOTEBOOK).cells}
        for cell, diagnosis in expected.items():
            assert course.scores(self.PS, notebook)[cell] == (0.0, self.graded_cells()[cell])
            assert diagnosis in feedback
            shown = " ".join(line for o in cells[cell].outputs for line in o.get("traceback", []) + [o.get("text", "")])
            assert diagnosis in " ".join(shown.split()), f"{cell} of {notebook} names its own mistake"
        if wrong_student in self.HIDDEN_ONLY:  # built to pass every visible case: only the grade can tell
            assert course.validation[notebook] == {}
            return
        assert set(course.validation[notebook]) == together, "nbgrader validate must agree with the grade"
        for cell, diagnosis in expected.items():
            assert diagnosis in " ".join(course.validation[notebook][cell].split()), "validate shows it all"

    def test_correct_answers_written_differently_get_full_marks(self, course, right_student):
        assert self.failing(course, right_student) == set()
        assert course.validation[right_student] == {}

    def test_class_summary_counts_every_failure(self, course):
        counts = course.report["summary"]["counts"]
        cells = {e.test_cell: e.name for e in __import__(f"grader.sets.{self.PS}", fromlist=["EXERCISES"]).EXERCISES}
        unscripted = [self.failing(course, student) for student in self.validated_more()]
        for cell, name in cells.items():
            failing = 1 + sum(cell in diagnoses(spec) for spec in self.WRONG.values())  # and the blank release
            failing += sum(cell in lost for lost in unscripted)
            assert counts[name]["failed"] == failing, name
            assert sum(counts[name]["mistakes"].values()) == failing
        html = (course.root / "reports" / self.PS / "class_summary.html").read_text()
        assert all(name in html for name in cells.values())

    def test_feedback_shows_no_hidden_input_reference_or_solution(self, course):
        from nbcourse import leaks

        rows = hidden_input_rows(self.PS)
        for student in ["untouched", *sorted(self.notebooks())]:
            feedback = without_mathjax(course.feedback_html(self.PS, student))
            # the class hands in the instructor's code for the cells it does not get wrong: that is theirs
            own = "\n".join({**self.solution(), **self.answers_of(student)}.values())
            assert [p for p in leaks(feedback, self.PS) if p not in own] == [], student
            assert not [row for row in rows if row in feedback], student
