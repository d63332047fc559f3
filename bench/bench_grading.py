"""Grading times, and stock nbgrader on the same submissions (part of `make bench`).

    .venv/bin/python bench/bench_grading.py [--students 30] [--battery]

1. One submission: nbgrader's own autograde of the solution of each problem set, sandboxed (and of
   problem set 1 without the sandbox); the best of three.
2. A class of ``--students`` simulated submissions (solutions and catalogued mistakes), graded by
   `make grade`'s path with the sandbox on and off, and by stock nbgrader (its default pipeline,
   unsandboxed, sequential, as `nbgrader autograde ps1_recurrence` runs it).
3. With ``--battery``: the adversarial battery of tests/battery.py graded by stock nbgrader as one
   class, and how many submissions it got wrong or lost (our pipeline's result is tests/test_adversarial.py).
"""

import argparse
import json
import os
import pathlib
import subprocess
import sys
import tempfile
import time

ROOT = pathlib.Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "scripts"))

PS, NOTEBOOK = "ps1_recurrence", "ps1_recurrence.ipynb"
STOCK_CONFIG = '''c = get_config()
import os
c.CourseDirectory.root = os.path.dirname(os.path.abspath(__file__))
c.CourseDirectory.course_id = "rnn-course"
c.CourseDirectory.source_directory = "solutions"
c.CourseDirectory.release_directory = "exercises"
c.Exchange.root = os.path.join(c.CourseDirectory.root, "exchange")
c.Execute.timeout = 30
'''


def simulated_class(course, n):
    from tests.course import solution_sources
    from tests.test_ps1_recurrence import WRONG

    solution = solution_sources(PS, NOTEBOOK)
    mistakes = [answers for answers, _, _ in WRONG.values()]
    for i in range(n):
        answers = solution if i % 3 == 0 else {**solution, **mistakes[i % len(mistakes)]}
        course.submit(PS, f"student{i:02d}", answers)


def one_submission(sandboxed, assignment=PS):
    from grader import problem_sets
    from tests.course import Course, solution_sources

    notebook = problem_sets.load(assignment).NOTEBOOK
    with tempfile.TemporaryDirectory() as root:
        course = Course(root)
        course.api.generate_assignment(assignment, force=True, create=True)
        course.submit(assignment, "one", solution_sources(assignment, notebook))
        if not sandboxed:
            course.config.SandboxedExecute.sandbox = False
            from nbcourse import make_api

            course.api = make_api(course.config)
        times = []
        for _ in range(3):
            start = time.perf_counter()
            assert course.api.autograde(assignment, "one", force=True, create=True)["success"]
            times.append(time.perf_counter() - start)
    return min(times)


def our_class(n, sandboxed):
    from tests.course import Course

    with tempfile.TemporaryDirectory() as root:
        course = Course(root)
        simulated_class(course, n)
        start = time.perf_counter()
        report = course.grade(PS, workers=2, overrides={} if sandboxed else {"SandboxedExecute.sandbox": False})
        assert not report["failed"], report["failed"]
        return time.perf_counter() - start


def stock_course(root):
    """A copy of the course whose nbgrader_config.py is nbgrader's defaults (no course pipeline)."""
    from tests.course import Course

    course = Course(root)
    (course.root / "nbgrader_config.py").write_text(STOCK_CONFIG)
    return course


def stock_run(course):
    """`nbgrader autograde ps1_recurrence` with the stock pipeline, as one class; returns (seconds, scores)."""
    env = {**os.environ, "PATH": f"{ROOT / '.venv' / 'bin'}:{os.environ['PATH']}"}
    subprocess.run(["nbgrader", "generate_assignment", PS, "--force"], cwd=course.root, env=env,
                   capture_output=True, check=True)
    start = time.perf_counter()
    done = subprocess.run(["nbgrader", "autograde", PS], cwd=course.root, env=env, capture_output=True,
                          text=True, timeout=3600)
    seconds = time.perf_counter() - start
    return seconds, stock_scores(course), done.returncode


def stock_scores(course):
    from nbgrader.api import Gradebook, MissingEntry

    path = course.root / "gradebook.db"
    if not path.exists():
        return {}
    scores = {}
    with Gradebook(f"sqlite:///{path}", course_id="rnn-course") as gradebook:
        for student in (p.name for p in (course.root / "submitted").iterdir()):
            try:
                submission = gradebook.find_submission(PS, student)
            except MissingEntry:
                continue
            scores[student] = sum(g.auto_score or 0 for nb in submission.notebooks for g in nb.grades)
    return scores


def stock_class(n):
    with tempfile.TemporaryDirectory() as root:
        course = stock_course(root)
        simulated_class(course, n)
        seconds, _, _ = stock_run(course)
        return seconds


def stock_battery():
    from tests import battery

    with tempfile.TemporaryDirectory() as root:
        course = stock_course(root)
        submissions = battery.build(PS, course.root, port=9)
        for s in submissions:
            course.submit(PS, s.student, s.answers, edit=s.edit, files=s.files, notebook=s.notebook)
        seconds, scores, code = stock_run(course)
        wrong = {s.student: (scores.get(s.student), s.expected) for s in submissions
                 if scores.get(s.student) != s.expected}
        return {"submissions": len(submissions), "seconds": round(seconds, 1), "exit code": code,
                "graded": len(scores), "wrong or lost": len(wrong), "details": wrong}


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--students", type=int, default=30)
    parser.add_argument("--battery", action="store_true")
    args = parser.parse_args()
    print(f"grading problem set 1 on {os.cpu_count()} cores")
    from grader import problem_sets

    rows = [(f"{name}: one submission, nbgrader autograde, sandboxed", one_submission(True, name))
            for name in problem_sets.names()]
    rows += [
        ("one submission, nbgrader autograde, no sandbox", one_submission(False)),
        (f"class of {args.students}, make grade, sandboxed, 2 workers", our_class(args.students, True)),
        (f"class of {args.students}, make grade, no sandbox, 2 workers", our_class(args.students, False)),
        (f"class of {args.students}, stock nbgrader autograde (no sandbox, sequential)", stock_class(args.students)),
    ]
    for label, seconds in rows:
        print(f"  {label:<72} {seconds:7.1f} s")
    if args.battery:
        print(json.dumps(stock_battery(), indent=1, default=str))


if __name__ == "__main__":
    main()
