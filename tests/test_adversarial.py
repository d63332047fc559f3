"""Grading that cheating, crashing, broken and hostile submissions can neither fool, stop, leak through nor
reach past: an adversarial battery (tests/battery.py) graded as one class, in one run, through the real
`make grade` path."""

import csv
import hashlib
import os
import pathlib
import re
import shutil
import socket
import subprocess
import sys
import tempfile
import threading

import pytest

from grader import problem_sets
from tests import battery as battery_module
from tests.course import ROOT, Course, points, runnable, solution_sources, without_mathjax

PS = "ps1_recurrence"
NOTEBOOK = "ps1_recurrence.ipynb"
TESTS = points(PS, NOTEBOOK)
SLEEPER, HTML_ID = "delays_every_cell_past_the_time_limit", "<img src=x onerror=alert(1)>"
TIME_LIMIT = 60  # seconds per submission: the slowest honest one takes under 30 on a busy machine


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


def fingerprint(*folders):
    """What folders hold, links and special files included, never followed: to show nothing changed."""
    found = {}
    for folder in folders:
        for path in sorted(pathlib.Path(folder).rglob("*")):
            content = os.readlink(path).encode() if path.is_symlink() else path.read_bytes() if path.is_file() else b""
            found[str(path)] = (path.lstat().st_mode, hashlib.sha256(content).hexdigest())
    return found


@pytest.fixture(scope="module")
def graded(tmp_path_factory):
    course = Course(tmp_path_factory.mktemp("battery"))
    listener = Listener()
    submissions = battery_module.build(PS, course.root, listener.port)
    for s in submissions:
        course.submit(PS, s.student, s.answers, edit=s.edit, files=s.files, notebook=s.notebook)
        if s.prepare:
            s.prepare(course.root / "submitted" / s.student / PS, course.root)
    protected = [course.root / "solutions", problem_sets.HERE / "references", course.root / "submitted"]
    before = fingerprint(*protected)
    temp = pathlib.Path(tempfile.mkdtemp(prefix="battery-temp-"))
    stderr = temp.parent / f"{temp.name}.stderr"
    saved = os.dup(2), tempfile.tempdir, os.environ.get("TMPDIR")
    with open(stderr, "w") as capture:  # what `make grade` prints, workers included
        os.dup2(capture.fileno(), 2)
        tempfile.tempdir = os.environ["TMPDIR"] = str(temp)
        try:
            # three workers on two cores: the submissions that wait out a time limit leave the CPU to the others
            report = course.grade(PS, workers=3, time_limit=TIME_LIMIT, overrides={
                "SandboxedExecute.timeout": 6, "SandboxedExecute.submission_timeout": 120})
        finally:
            os.dup2(saved[0], 2)
            os.close(saved[0])
            tempfile.tempdir = saved[1]
            os.environ.pop("TMPDIR") if saved[2] is None else os.environ.update(TMPDIR=saved[2])
    listener.server.close()
    left_behind = sorted(p.name for p in temp.iterdir())
    shutil.rmtree(temp)
    state = {"report": report, "listener": listener, "before": before, "after": fingerprint(*protected),
             "left": left_behind, "stderr": stderr.read_text()}
    stderr.unlink()
    return course, {s.student: s for s in submissions}, state


def autograded_total(course, student):
    return sum(score for cell, (score, _) in course.scores(PS, student).items() if cell in TESTS)


def test_the_battery_is_large_and_covers_attacks_and_failures(graded):
    _, submissions, _ = graded
    assert len(submissions) >= 70


def test_every_submission_gets_a_grade_and_feedback_except_those_that_cannot(graded):
    course, submissions, state = graded
    failed = state["report"]["failed"]
    assert set(failed) == {SLEEPER, HTML_ID}, failed
    assert "time limit of 60 s" in failed[SLEEPER] and "formgrader" in failed[HTML_ID]
    for student in submissions:
        if student != HTML_ID:
            assert course.feedback_html(PS, student), f"no feedback for {student}"


WAITING = ("answers_the_sanity_cases_then_hangs", "blocks_interrupts_in_a_loop", "busy_loops_forever", SLEEPER)


def test_the_submissions_that_wait_out_a_time_limit_are_graded_first(graded):
    """The grader takes students in sorted order; these four are named to come among the first, so that
    their waiting overlaps the others' grading instead of running alone at the end of the class."""
    _, submissions, state = graded
    assert set(WAITING) <= set(sorted(submissions)[:12])
    seconds = state["report"]["seconds_each"]
    assert all(seconds[student] >= 6 for student in WAITING), "each waited out at least one cell's time limit"


@pytest.mark.parametrize("student", [s.student for s in battery_module.build(PS, "/course", 1)])
def test_each_submission_gets_exactly_the_score_it_deserves(graded, student):
    course, submissions, _ = graded
    if submissions[student].expected is None:
        if student == HTML_ID:
            from nbgrader.api import MissingEntry

            with pytest.raises(MissingEntry):
                course.scores(PS, student)
            return
        assert autograded_total(course, student) == 0, "a stopped submission gets no autograded point"
        return
    assert autograded_total(course, student) == submissions[student].expected, submissions[student].what


def test_no_connection_reached_the_loopback_listener(graded):
    assert graded[2]["listener"].accepted == []


def test_student_code_touched_neither_classmates_nor_the_gradebook(graded):
    course, _, _ = graded
    assert (course.root / "gradebook.db").exists()
    assert autograded_total(course, "reference_solution") == sum(TESTS.values())
    assert course.scores(PS, "writes_the_gradebook")["test_rnn_step"][0] == 0


def test_nothing_under_submitted_or_the_instructors_files_was_followed_or_written(graded):
    course, _, state = graded
    assert state["after"] == state["before"], "submitted/, solutions/ and grader/references/ are as they were"
    assert not (course.root / "written-through-a-link.ipynb").exists()


def test_links_and_special_files_never_reach_the_feedback_folder(graded):
    course, _, _ = graded
    for path in (course.root / "feedback").rglob("*"):
        assert path.is_dir() or (path.is_file() and not path.is_symlink()), path
    shipped = course.root / "feedback" / "ships_links_and_pipes" / PS
    assert sorted(p.name for p in shipped.iterdir()) == [NOTEBOOK.replace(".ipynb", ".html"),
                                                         "submission_secret.txt", "timestamp.txt"]
    references = problem_sets.reference_path(PS).read_text()
    for path in (course.root / "feedback").rglob("*"):
        if path.is_file():
            assert references[:200] not in path.read_text(errors="replace")


NOTES = {
    "busy_loops_forever": "stopped after 6 s",
    "blocks_interrupts_in_a_loop": "stopped after 6 s",
    "exits_the_kernel": "the kernel died",
    "segfaults": "the kernel died",
    "answers_the_sanity_cases_then_hangs": "hidden cases",
    "renamed_notebook": "graded as ps1_recurrence.ipynb",
    "ships_grader_notes_and_renames": "graded as ps1_recurrence.ipynb",
    "malformed_notebook": "could not be read as a notebook",
    "deleted_test_cell": "was missing from the submission",
    "prints_20_MB": "output beyond",
    "prints_in_many_cells": "output beyond 10000 kB for the whole notebook dropped",
    "floods_the_export_file": "kB were ignored",
    SLEEPER: "took longer than the limit of 60 s",
    "submission_folder_is_a_file": "The submission folder is not a folder",
    "links_the_solution": "is a symbolic link, which the grader does not follow",
    "links_to_nowhere": "is a symbolic link, which the grader does not follow",
    "hard_links_the_solution": "is a hard link to a file outside the submission",
    "links_its_submission_folder": "The submission folder is a symbolic link",
    "ships_links_and_pipes": "refs.json (a symbolic link)",
    "timestamp_cannot_be_parsed": "could not be read as a time",
    "renames_a_test_grade_id": "which this problem set does not have",
    "marks_a_test_cell_as_solution": "had been changed (its grading flags)",
    "tampers_with_points_types_and_order": "put back in order",
    "rearranges_the_notebook": "The cell setup was missing from the submission",
}


@pytest.mark.parametrize("student", sorted(NOTES))
def test_what_happened_is_explained_in_the_feedback(graded, student):
    assert NOTES[student] in graded[0].feedback_text(PS, student)


def test_no_feedback_shows_hidden_data_references_or_solutions(graded):
    from nbcourse import leaks

    from tests.pset import hidden_input_rows

    course, submissions, _ = graded
    rows = hidden_input_rows(PS)
    # The battery's students hand in the instructor's solution code themselves; any other fingerprint
    # (reference outputs, the rubric, hidden inputs) must not appear.
    own_code = "\n".join(solution_sources(PS, NOTEBOOK).values())
    for student in submissions:
        feedback = without_mathjax(course.feedback_html(PS, student))
        assert [p for p in leaks(feedback, PS) if p not in own_code] == [], student
        assert not [row for row in rows if row in feedback], student
        assert not re.search(r"/grader/\w+\.py|site-packages/nbgrader", feedback), f"grader code: {student}"


def test_a_hidden_case_verdict_names_the_case_and_the_exception_type_only(graded):
    course = graded[0]
    # (the feedback shows the student's own code, where these words are written too)
    echoed = course.feedback_text(PS, "echoes_hidden_inputs_in_errors")
    assert re.search(r"\(hidden case \d\) it raised ValueError", echoed) and not re.search(r"LEAKED \[", echoed)
    named = course.feedback_text(PS, "names_its_exception_after_hidden_inputs")
    assert "an exception of a class of its own" in named and not re.search(r"Leak_\d", named)


def test_the_helpers_put_in_place_of_a_wrong_one_carry_no_solution_code(graded):
    course = graded[0]
    feedback = course.feedback_text(PS, "steals_the_standins")
    step = solution_sources(PS, NOTEBOOK)["rnn_step"]
    assert not [line for line in step.splitlines() if len(line.strip()) >= 20 and line.strip() in feedback]
    assert "np.tanh" not in feedback.replace("np.tanh(np.linspace", "")


def executable(page):
    return [item for item in runnable(page) if "XSS" in item]


def formgrader_page(course, student):
    """The formgrader's view of a submission, rendered as the formgrader renders it."""
    from nbconvert.exporters import HTMLExporter
    from nbcourse import load_config
    from nbgrader.server_extensions.formgrader import handlers

    config = load_config(course.root)
    config.HTMLExporter.template_name = "formgrade"
    config.HTMLExporter.extra_template_basedirs = [handlers.template_path]
    resources = {"assignment_id": PS, "notebook_id": "ps1_recurrence", "submission_id": "x", "index": 0,
                 "total": 1, "base_url": "", "student": student, "last_name": None, "first_name": None,
                 "notebook_path": "x"}
    page, _ = HTMLExporter(config=config).from_filename(
        str(course.root / "autograded" / student / PS / NOTEBOOK), resources=resources)
    return page


def test_what_an_instructor_or_a_student_opens_runs_no_student_code(graded):
    course = graded[0]
    feedback = course.feedback_html(PS, "injects_script_into_html")
    assert battery_module.XSS in feedback, "the attempt shows, as text"
    assert executable(feedback) == []
    assert executable(formgrader_page(course, "injects_script_into_html")) == []
    assert "tracker.example" not in re.sub(r"&lt;.*?&gt;", "", feedback), "no remote image is loaded"


def test_feedback_pages_carry_a_content_security_policy(graded):
    course, submissions, _ = graded
    for student in submissions:
        page = course.feedback_html(PS, student)
        if page:
            head = page.split("<head>", 1)[1].lstrip()
            assert head.startswith('<meta http-equiv="Content-Security-Policy" content="default-src \'none\';')


def test_student_ids_in_the_grades_csv_are_never_formulas(graded):
    course = graded[0]
    for path in (course.root / "grades.csv", nbgrader_export(course)):
        with path.open() as handle:
            ids = [row["student_id"] for row in csv.DictReader(handle)]
        assert "'=2+5+cmd|' -C calc'!A0" in ids and "'@SUM(1+1)*cmd|' -C calc'!A0" in ids, path
        assert not [i for i in ids if i[:1] in ("=", "+", "-", "@", "\t", "\r")], path


def nbgrader_export(course):
    """`nbgrader export`, run in the course folder as an instructor would (it uses the course's plugin)."""
    shutil.copy(ROOT / "nbgrader_config.py", course.root / "nbgrader_config.py")
    target = course.root / "export.csv"
    env = {**os.environ, "PYTHONPATH": str(ROOT), "PATH": f"{pathlib.Path(sys.executable).parent}:{os.environ['PATH']}"}
    subprocess.run([str(pathlib.Path(sys.executable).parent / "nbgrader"), "export", "--to", str(target)],
                   cwd=course.root, env=env, check=True, capture_output=True, timeout=120)
    return target


def test_grading_prints_no_warning_or_traceback(graded):
    printed = graded[2]["stderr"]
    assert "SAWarning" not in printed and "Traceback" not in printed, printed[-3000:]


def test_grading_leaves_nothing_in_the_temporary_folder(graded):
    assert graded[2]["left"] == []


def test_the_grader_reads_a_bounded_part_of_a_flooded_export_file(graded):
    course = graded[0]
    for student in ("floods_the_export_file", "floods_exports_before_each_cell", "forges_malformed_records"):
        size = (course.root / "autograded" / student / PS / NOTEBOOK).stat().st_size
        assert size < 2_000_000, f"{student}: {size} bytes kept"
