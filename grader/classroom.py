"""``make grade PS=<name>``: grade a whole class in one command.

    python -m grader grade ps1_recurrence [--workers 2] [--unsandboxed]

1. Checks that the sandbox works (or that ``--unsandboxed`` was asked for), backs up the gradebook,
   and registers the assignment if the gradebook does not know it yet.
2. Makes every submission under ``submitted/*/<name>/`` gradable, noting what it did in the
   student's feedback: a notebook saved under another name is graded under the expected one, a
   missing or unreadable notebook is replaced by the blank release (so the student is recorded with
   0 and a reason), and a missing ``timestamp.txt`` is written from the notebook's modification time
   (with a ``submission_secret.txt``, which `nbgrader release_feedback` needs, for notebooks that did
   not come through the exchange).
3. Runs the notebooks in parallel worker processes (each in its own sandbox; nothing is written to
   the gradebook there) and, as each finishes, records its grades from this one process with
   nbgrader's own ``autograde``, which takes the worker's outputs instead of running the notebook
   again. A student whose grading fails is reported and the others are graded all the same.
4. Writes the feedback (``feedback/``, in the workers), the grades with a column per question
   (``grades.csv``), and what the class got wrong (``reports/<name>/class_summary.csv`` and ``.html``).
"""

import argparse
import concurrent.futures
import datetime
import json
import multiprocessing
import os
import pathlib
import shutil
import subprocess
import sys
import tempfile
import time

import nbformat

from grader import problem_sets, sandbox

ROOT = problem_sets.ROOT
NOTE_ID = "grader-note"


def main(argv=None):
    parser = argparse.ArgumentParser(prog="python -m grader grade", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("assignment")
    parser.add_argument("--workers", type=int, default=min(4, os.cpu_count() or 1))
    parser.add_argument("--unsandboxed", action="store_true",
                        help="run student code WITHOUT the sandbox (it can then read solutions/ and the gradebook)")
    parser.add_argument("--root", default=str(ROOT), help="the course folder (default: this repository)")
    args = parser.parse_args(argv)
    report = grade_class(args.assignment, root=pathlib.Path(args.root), workers=args.workers,
                         sandboxed=not args.unsandboxed)
    return 0 if not report["failed"] else 1


def grade_class(assignment, root=ROOT, workers=2, sandboxed=True, overrides=None, progress=True):
    """Grade every submission of ``assignment`` under ``root``; return a small report dict."""
    from tqdm.auto import tqdm

    started = time.monotonic()
    overrides = dict(overrides or {})
    if not sandboxed:
        overrides["SandboxedExecute.sandbox"] = False
        print("WARNING: grading WITHOUT a sandbox: student code runs with your rights.", file=sys.stderr)
    config = _config(root, overrides)
    if config.SandboxedExecute.sandbox:
        sandbox.check_available()
    api = _api(config)
    students = sorted(p.parent.name for p in (root / "submitted").glob(f"*/{assignment}") if p.is_dir())
    if not students:
        raise SystemExit(f"no submissions under {root / 'submitted'}/*/{assignment}/")
    backup = backup_gradebook(config, root)
    _register(api, assignment)
    notes = {student: prepare_submission(root, assignment, student) for student in students}

    failed = {}
    with tempfile.TemporaryDirectory(prefix="grade-class-") as scratch:
        scratch = pathlib.Path(scratch)
        template = _scratch_gradebook(root, assignment, scratch, overrides)
        executed = scratch / "executed"
        recorder = _api(_config(root, {**overrides, "SandboxedExecute.precomputed_dir": str(executed)}))
        context = multiprocessing.get_context("spawn")
        with concurrent.futures.ProcessPoolExecutor(max_workers=max(1, workers), mp_context=context) as pool:
            jobs = {pool.submit(_run_notebooks, str(root), assignment, student, str(template), str(executed),
                                overrides): student for student in students}
            # Grades are recorded here, one submission at a time, as soon as a worker has run it.
            for job in tqdm(concurrent.futures.as_completed(jobs), total=len(jobs), desc=f"grading {assignment}",
                            disable=not progress):
                student = jobs[job]
                result = recorder.autograde(assignment, student, force=True, create=True)
                if not result["success"]:  # e.g. the worker could not run it: once more, here
                    result = api.autograde(assignment, student, force=True, create=True)
                if not result["success"]:
                    failed[student] = f"autograde: {job.exception() or _last_line(result)}"
            graded = [s for s in students if s not in failed]
            feedback = pool.map(_write_feedback, [str(root)] * len(graded), [assignment] * len(graded), graded,
                                [overrides] * len(graded))
            for student, problem in zip(graded, tqdm(feedback, total=len(graded), desc="writing feedback",
                                                     disable=not progress)):
                if problem:
                    failed[student] = f"feedback: {problem}"
    export_grades(config, root / "grades.csv")
    from grader.summary import write_summary

    summary = write_summary(root, assignment, students)
    report = {"assignment": assignment, "students": len(students), "failed": failed, "notes": notes,
              "backup": str(backup) if backup else None, "summary": summary,
              "seconds": round(time.monotonic() - started, 1)}
    print(f"graded {len(students) - len(failed)} of {len(students)} submissions of {assignment} in "
          f"{report['seconds']} s; grades.csv, feedback/, {summary['html']}")
    for student, reason in failed.items():
        print(f"  NOT GRADED {student}: {reason}", file=sys.stderr)
    return report


# ---- one worker's job ----------------------------------------------------------------------------

_worker = {}


def _run_notebooks(root, assignment, student, template, executed, overrides):
    """In a worker process: sanitize and run one submission exactly as autograde would, into a private
    gradebook copy; save each executed notebook for the recording step."""
    if "api" not in _worker:
        own = pathlib.Path(tempfile.mkdtemp(prefix="grade-worker-"))
        shutil.copy(template, own / "gradebook.db")
        config = _config(pathlib.Path(root), {
            **overrides,
            "CourseDirectory.db_url": f"sqlite:///{own / 'gradebook.db'}",
            "CourseDirectory.autograded_directory": str(own / "autograded"),
            "Autograde.autograde_preprocessors": _worker_steps(),
            "SaveExecuted.folder": executed,
        })
        _worker["api"] = _api(config)
    result = _worker["api"].autograde(assignment, student, force=True, create=True)
    if not result["success"]:
        raise RuntimeError(_last_line(result))


def _write_feedback(root, assignment, student, overrides):
    """In a worker process: the feedback HTML of one graded submission (reads the gradebook only)."""
    if "feedback" not in _worker:
        _worker["feedback"] = _api(_config(pathlib.Path(root), overrides))
    result = _worker["feedback"].generate_feedback(assignment, student, force=True)
    return None if result["success"] else _last_line(result)


def _worker_steps():
    from grader.execute import SandboxedExecute
    from grader.notebooks import SaveExecuted

    return [SandboxedExecute, SaveExecuted]


# ---- preparing submissions -----------------------------------------------------------------------

def prepare_submission(root, assignment, student):
    """Make ``submitted/<student>/<assignment>/`` gradable; return the notes shown in its feedback.
    Done once per submission (the notes are kept in ``.grader-notes.json`` beside it)."""
    folder = root / "submitted" / student / assignment
    record = folder / ".grader-notes.json"
    if record.exists():
        return json.loads(record.read_text())
    release = root / "exercises" / assignment
    module = problem_sets.load(assignment)
    expected = [module.NOTEBOOK] if module else sorted(p.name for p in release.glob("*.ipynb"))
    notes = []
    stamp = folder / "timestamp.txt"
    if not stamp.exists():
        newest = max((p.stat().st_mtime for p in folder.glob("*.ipynb")), default=time.time())
        stamp.write_text(datetime.datetime.fromtimestamp(newest, datetime.UTC).strftime("%Y-%m-%d %H:%M:%S.%f %Z"))
        notes.append(f"No timestamp.txt came with the submission; its time was taken as {stamp.read_text()}.")
    secret = folder / "submission_secret.txt"
    if not secret.exists():  # nbgrader submit writes one; release_feedback needs it
        import uuid

        secret.write_text(uuid.uuid4().hex)
    others = sorted(p for p in folder.glob("*.ipynb") if p.name not in expected)
    for name in expected:
        target = folder / name
        if not target.exists() and len(others) == 1 and len(expected) == 1:
            shutil.copy(others[0], target)
            notes.append(f"Your notebook was submitted as {others.pop().name}; it was graded as {name}.")
        elif not target.exists():
            shutil.copy(release / name, target)
            notes.append(f"No notebook {name} was submitted, so the blank one was graded.")
        try:
            nb = nbformat.read(target, as_version=4)
        except Exception as error:  # not JSON, not a notebook, truncated...
            target.rename(target.with_suffix(".ipynb.unreadable"))
            shutil.copy(release / name, target)
            nb = nbformat.read(target, as_version=4)
            reason = " ".join(str(error).split())[:160]
            notes.append(f"The submitted {name} could not be read as a notebook ({reason}); it is kept as "
                         f"{name}.unreadable and the blank notebook was graded.")
        notes += [f"{other.name} is not part of the assignment and was not graded." for other in others]
        if notes:
            _add_note(target, nb, notes)
    record.write_text(json.dumps(notes))
    return notes


def _add_note(path, nb, notes):
    text = "**Note from the grader:** " + " ".join(notes)
    cells = [c for c in nb.cells if c.get("id") != NOTE_ID]
    nb.cells = [nbformat.v4.new_markdown_cell(text, id=NOTE_ID)] + cells
    nbformat.write(nb, path)


# ---- gradebook, configuration, export ------------------------------------------------------------

def _config(root, overrides):
    sys.path.insert(0, str(ROOT / "scripts"))
    from nbcourse import load_config

    return load_config(root, **overrides)


def _api(config):
    sys.path.insert(0, str(ROOT / "scripts"))
    from nbcourse import make_api

    return make_api(config)


def _register(api, assignment):
    from nbgrader.api import Gradebook, MissingEntry

    with Gradebook(api.coursedir.db_url, course_id=api.coursedir.course_id) as gradebook:
        try:
            known = bool(gradebook.find_assignment(assignment).notebooks)
        except MissingEntry:
            known = False
    if not known:
        result = api.generate_assignment(assignment, force=True, create=True)
        if not result["success"]:
            raise SystemExit(f"could not register {assignment}: {_last_line(result)}")


def _scratch_gradebook(root, assignment, scratch, overrides):
    """A private SQLite gradebook that knows the assignment, for the workers to copy."""
    path = scratch / "template.db"
    api = _api(_config(root, {**overrides, "CourseDirectory.db_url": f"sqlite:///{path}",
                              "CourseDirectory.release_directory": str(scratch / "release"),
                              "Exchange.root": str(scratch / "exchange")}))
    result = api.generate_assignment(assignment, force=True, create=True)
    if not result["success"]:
        raise SystemExit(f"could not prepare {assignment}: {_last_line(result)}")
    return path


def backup_gradebook(config, root):
    """Copy the gradebook to ``gradebook-backups/`` before it is written (SQLite: a file copy made
    with SQLite's backup API; PostgreSQL: pg_dump). Returns the backup's path, or None."""
    url = config.CourseDirectory.db_url
    folder = root / "gradebook-backups"
    stamp = datetime.datetime.now().strftime("%Y%m%d-%H%M%S")
    if url.startswith("sqlite:///"):
        source = pathlib.Path(url[len("sqlite:///"):])
        if not source.exists():
            return None
        folder.mkdir(exist_ok=True)
        target = folder / f"gradebook-{stamp}.db"
        import sqlite3

        with sqlite3.connect(source) as live, sqlite3.connect(target) as copy:
            live.backup(copy)
        return target
    if url.startswith("postgresql") and shutil.which("pg_dump"):
        folder.mkdir(exist_ok=True)
        target = folder / f"gradebook-{stamp}.sql"
        plain = "postgresql://" + url.split("://", 1)[1]
        subprocess.run(["pg_dump", "--dbname", plain, "--file", str(target)], check=True, capture_output=True)
        return target
    print(f"WARNING: no backup made of the gradebook at {url}", file=sys.stderr)
    return None


def export_grades(config, path):
    from nbgrader.api import Gradebook

    from grader.export import QuestionCsvExport

    with Gradebook(config.CourseDirectory.db_url, course_id=config.CourseDirectory.course_id) as gradebook:
        QuestionCsvExport(to=str(path)).export(gradebook)


def _last_line(result):
    text = (result.get("error") or result.get("log") or "").strip().splitlines()
    return text[-1][:300] if text else "unknown error"

