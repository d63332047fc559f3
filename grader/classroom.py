"""``make grade PS=<name>``: grade a whole class in one command.

    python -m grader grade ps1_recurrence [--student ID] [--workers 2] [--time-limit SECONDS] [--unsandboxed]

``--student ID`` regrades that one student (``make grade PS=... STUDENT=...``); the others' grades stay.
Before anything, grading stops when the gradebook in use has no grades but another one has
(``gradebook_in_use``): a switch to PostgreSQL must be a migration (``make migrate-db``), not a fresh start.

1. Checks that the sandbox works and can import this course's grader (or that ``--unsandboxed`` was
   asked for).
2. Copies every submission under ``submitted/*/<name>/`` into a private folder, reading it without
   following links (``grader.submissions``): that copy is what nbgrader grades, and nothing is ever
   written into ``submitted/``. What the copy changed (a renamed, unreadable or linked notebook, a
   missing or broken timestamp) is noted at the top of the graded notebook, so the student reads it
   in the feedback. A submission that cannot be copied is reported and the others are graded.
3. Pre-flight: grades the instructor's solution and the blank release first, in the same sandbox and
   workers as the class, and stops before recording anything unless they score full and zero marks
   on the autograded cells (a broken set-up would otherwise give everyone 0, silently).
4. Runs the notebooks in worker processes (each kernel in its own sandbox; nothing is written to the
   gradebook there). Each submission has a wall-clock limit (``--time-limit``, by default the
   notebooks' own time limits and a minute), enforced here: a worker past it is killed with its
   kernels and replaced, and the submission is recorded as not graded, with a note in its feedback.
5. As each submission finishes: backs up the gradebook (once, before the first write), records its
   grades from this process with nbgrader's own ``autograde`` (which takes the worker's outputs
   instead of running the notebook again), has a worker write its feedback from the gradebook, and
   rewrites ``grades.csv``, with a column per question (at most every 5 s). The late penalty is
   recomputed on each recorded total (``grader.late``). At the end, or when interrupted, writes
   ``grades.csv`` and the dashboard (``reports/<name>/class_summary.html``, ``reports/index.html``).

Nothing is left behind in the temporary folder, whether grading ends, fails or is interrupted.
"""

import argparse
import collections
import datetime
import itertools
import json
import multiprocessing
import multiprocessing.connection
import os
import pathlib
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import time

from grader import problem_sets, sandbox, similarity

ROOT = problem_sets.ROOT
PREFLIGHT = {".solution": "the instructor's solution", ".release": "the blank release"}  # no student id
# starts with a dot: `make grade` only grades submitted/* folders
MAX_TEMP_PATH = 50  # + /grade-class-XXXXXXXX/worker9/g-XXXXXXXX/k9/rt/ipc-NNNNN: under 107 bytes
UNSAFE_ID = re.compile(r'[<>"&\x00-\x1f\x7f]')  # nbgrader's formgrader writes student ids into its pages as is


def main(argv=None):
    parser = argparse.ArgumentParser(prog="python -m grader grade", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("assignment")
    parser.add_argument("--workers", type=int, default=min(4, os.cpu_count() or 1))
    parser.add_argument("--time-limit", type=int, default=None,
                        help="seconds one submission may take in all (default: its notebooks' limits + 60)")
    parser.add_argument("--unsandboxed", action="store_true",
                        help="run student code WITHOUT the sandbox (it can then read solutions/ and the gradebook)")
    parser.add_argument("--root", default=str(ROOT), help="the course folder (default: this repository)")
    parser.add_argument("--student", default=None, help="regrade this student only")
    parser.add_argument("--new-gradebook", action="store_true",
                        help="grade into the gradebook in use even though it is empty and another one has grades")
    args = parser.parse_args(argv)
    signal.signal(signal.SIGINT, _interrupt)
    try:
        report = grade_class(args.assignment, root=pathlib.Path(args.root), workers=args.workers,
                             sandboxed=not args.unsandboxed, time_limit=args.time_limit, student=args.student,
                             new_gradebook=args.new_gradebook)
    except KeyboardInterrupt:
        _INTERRUPTED.append(True)
    if _INTERRUPTED:
        print("interrupted: the submissions graded so far are recorded (gradebook, feedback/, grades.csv)",
              file=sys.stderr)
        return 130
    return 0 if not report["failed"] else 1


# Ctrl-C is remembered as well as raised: nbgrader's API (capture_log) catches every exception, a
# KeyboardInterrupt too, so one that lands while a grade is being recorded would otherwise be lost. The
# workers' loop raises it again before the next job.
_INTERRUPTED = []


def _interrupt(signum, frame):
    _INTERRUPTED.append(True)
    raise KeyboardInterrupt


def grade_class(assignment, root=ROOT, workers=2, sandboxed=True, overrides=None, progress=True, time_limit=None,
                student=None, new_gradebook=False):
    """Grade every submission of ``assignment`` under ``root`` (or only ``student``'s); return a small
    report dict."""
    started = time.monotonic()
    overrides = dict(overrides or {})
    if not sandboxed:
        overrides["SandboxedExecute.sandbox"] = False
        print("WARNING: grading WITHOUT a sandbox: student code runs with your rights.", file=sys.stderr)
    config = _config(root, overrides)
    if config.SandboxedExecute.sandbox:
        sandbox.check_available()
    if len(tempfile.gettempdir()) > MAX_TEMP_PATH:
        raise SystemExit(f"the temporary folder {tempfile.gettempdir()} has too long a path: the kernels' sockets go "
                         f"in folders inside it, and a socket's path holds at most 107 bytes. Set TMPDIR to a folder "
                         f"of at most {MAX_TEMP_PATH} characters (e.g. TMPDIR=/tmp).")
    if not new_gradebook:
        gradebook_in_use(config, root)
    from grader import late

    policy = late.load(root)  # a course file that cannot be read stops grading before anything is written
    students = sorted(p.parent.name for p in (root / "submitted").glob(f"*/{assignment}"))
    if not students:
        raise SystemExit(f"no submissions under {root / 'submitted'}/*/{assignment}/")
    if student is not None:
        if student not in students:
            raise SystemExit(f"no submission of {student!r} under {root / 'submitted'}/{student}/{assignment}/")
        students = [student]
    release, solution = (root / folder / assignment for folder in (config.CourseDirectory.release_directory,
                                                                   config.CourseDirectory.source_directory))
    notebooks = _notebooks(release, assignment)
    limit = time_limit or config.SandboxedExecute.submission_timeout * len(notebooks) + 60
    report = {"assignment": assignment, "students": len(students), "failed": {}, "notes": {}, "backup": None,
              "summary": None, "time_limit": limit}
    with tempfile.TemporaryDirectory(prefix="grade-class-") as scratch:
        scratch = pathlib.Path(scratch)
        staged, executed = scratch / "submitted", scratch / "executed"
        report["notes"] = _stage_class(root, assignment, students, staged, release, notebooks, report["failed"])
        _stage_preflight({".solution": solution, ".release": release}, assignment, staged, notebooks)
        settings = {"root": str(root), "assignment": assignment, "course_overrides": overrides,
                    "template": str(_scratch_gradebook(root, assignment, scratch, overrides)), "overrides": {
                        **overrides, "CourseDirectory.submitted_directory": str(staged),
                        "SaveExecuted.folder": str(executed)}}
        recording = {**overrides, "CourseDirectory.submitted_directory": str(staged),
                     "SandboxedExecute.precomputed_dir": str(executed)}
        graded, exported = [], 0.0
        try:
            with _Workers(max(1, workers), scratch, settings, limit) as pool:
                jobs = [*PREFLIGHT, *(s for s in students if s not in report["failed"])]
                for student in jobs:
                    pool.add("grade", student)
                finished = pool.run()
                held = _preflight(root, assignment, scratch, recording, finished, executed, notebooks, limit)
                report["backup"] = backup_gradebook(config, root)
                _register(_api(config), assignment, policy)
                recorder = _api(_config(root, recording))
                for kind, student, problem in _progress(itertools.chain(held, finished), len(jobs) - 2, progress):
                    if kind == "feedback":
                        if problem:
                            report["failed"].setdefault(student, problem)
                        continue
                    if problem:
                        _not_run(executed / student, notebooks, problem, limit)
                        report["failed"][student] = problem
                    result = recorder.autograde(assignment, student, force=True, create=True)
                    if not result["success"]:
                        report["failed"][student] = f"not graded: recording its grades failed ({_last_line(result)})"
                        continue
                    graded.append(student)
                    pool.add("feedback", student, first=True)  # in a worker: the feedback of one is written
                    if time.monotonic() - exported > 5:      # while the next is recorded
                        export_grades(config, root / "grades.csv")
                        exported = time.monotonic()
                report["seconds_each"] = pool.seconds
        finally:
            if graded:
                export_grades(config, root / "grades.csv")
                report["similarity"] = similarity.write_report(root, assignment)  # reports/<PS>/similarity.html
                report["summary"] = write_reports(config, root, assignment, report["failed"], only=student)  # links it
                _remember_gradebook(config, root)
    report["seconds"] = round(time.monotonic() - started, 1)
    written = f"; grades.csv, feedback/, {report['summary']['html']}" if report["summary"] else ""
    print(f"graded {len(students) - len(report['failed'])} of {len(students)} submissions of {assignment} in "
          f"{report['seconds']} s{written}")
    for student, reason in report["failed"].items():
        print(f"  {student}: {reason}", file=sys.stderr)
    return report


def _notebooks(release, assignment):
    module = problem_sets.load(assignment)
    return [module.NOTEBOOK] if module else sorted(p.name for p in release.glob("*.ipynb"))


def _stage_class(root, assignment, students, staged, release, notebooks, failed):
    """Copy each submission to ``staged`` (``grader.submissions``); return each one's notes. A submission
    that cannot be copied, or whose folder name is unsafe as a student id, goes to ``failed`` instead."""
    from grader.submissions import stage

    notes = {}
    for student in students:
        if UNSAFE_ID.search(student):
            failed[student] = ("not graded: its folder name is not a student id the formgrader can show (it has "
                               "< > \" & or control characters, which would be HTML there); rename the folder to the "
                               "student's id")
            continue
        try:
            notes[student] = stage(root / "submitted", student, assignment, staged / student / assignment,
                                   release, notebooks)
        except Exception as error:  # this submission only: the others are graded
            failed[student] = f"not graded: its submission could not be copied ({error!r:.200})"
    return notes


def _stage_preflight(folders, assignment, staged, notebooks):
    """The instructor's solution and the blank release, as two more submissions of the class."""
    for student, folder in folders.items():
        target = staged / student / assignment
        target.mkdir(parents=True)
        for name in notebooks:
            shutil.copy(folder / name, target / name)
        (target / "timestamp.txt").write_text(datetime.datetime.now(datetime.UTC).strftime("%Y-%m-%d %H:%M:%S UTC"))


def _preflight(root, assignment, scratch, recording, finished, executed, notebooks, limit):
    """Record the pre-flight pair in a gradebook of its own as soon as both are run; raise SystemExit,
    saying why, unless the solution gets every autograded point and the release none. Returns the
    students' outcomes that came in meanwhile, for recording."""
    from nbgrader.api import Gradebook

    database = scratch / "preflight.db"
    shutil.copy(scratch / "template.db", database)
    api = _api(_config(root, {**recording, "CourseDirectory.db_url": f"sqlite:///{database}",
                              "CourseDirectory.autograded_directory": str(scratch / "preflight")}))
    held, problems, waiting = [], [], set(PREFLIGHT)
    while waiting:
        kind, student, problem = next(finished)
        if student not in waiting:
            held.append((kind, student, problem))
            continue
        waiting.discard(student)
        if problem:
            _not_run(executed / student, notebooks, problem, limit)
        result = api.autograde(assignment, student, force=True, create=True)
        failure = problem or (None if result["success"] else _last_line(result))
        if failure:
            problems.append(f"{PREFLIGHT[student]} could not be graded ({failure})")
            continue
        with Gradebook(f"sqlite:///{database}", course_id=api.coursedir.course_id) as gradebook:
            scores = _autograded_scores(gradebook.find_submission(assignment, student))
        got, most = sum(s for s, _ in scores.values()), sum(m for _, m in scores.values())
        wrong = [cell for cell, (score, top) in scores.items() if score != (top if student == ".solution" else 0)]
        if wrong:
            why = "; ".join(_verdict(scratch / "preflight" / student / assignment, notebooks, cell) for cell in wrong)
            problems.append(f"{PREFLIGHT[student]} scored {got:g} of {most:g} autograded points ({why})")
    if problems:
        raise SystemExit(
            "make grade stopped before recording any grade. Pre-flight: graded in the sandbox exactly as a student's "
            f"would be, {'; and '.join(problems)}. The solution must get every autograded point and the blank "
            "release none, or the class's grades would be as wrong. Check that the sandbox can import this course's "
            "grader (`make venv`), that grader/references/ is up to date (`make references`), and that "
            f"solutions/{assignment}/ passes `nbgrader validate`.")
    return held


def _autograded_scores(submission):
    """``{test cell: (score, max)}`` of the cells graded by the machine (not written answers, not tasks)."""
    scores = {}
    for notebook in submission.notebooks:
        tests = {c.name for c in notebook.notebook.grade_cells} - {c.name for c in notebook.notebook.solution_cells}
        scores.update({grade.name: (grade.score, grade.max_score) for grade in notebook.grades if grade.name in tests})
    return scores


def _verdict(folder, notebooks, cell):
    import nbformat

    for name in notebooks:
        path = folder / name
        if path.is_file():
            for verdict in nbformat.read(path, as_version=4).metadata.get("grader", {}).get("verdicts", {}).values():
                if verdict["test_cell"] == cell:
                    return f"{cell}: {verdict['message'] or 'passed'}"
    return cell


def _not_run(folder, notebooks, problem, limit):
    """What the recording step takes instead of a worker's outputs when none came: every cell not run,
    and a note for the student."""
    note = (f"Your submission was not graded: its grading took longer than the limit of {limit} s and was stopped, "
            "so none of its cells counts as run; your instructor has been told." if "time limit" in problem else
            "Your submission could not be graded automatically, so none of its cells counts as run; your "
            "instructor has been told.")
    folder.mkdir(parents=True, exist_ok=True)
    for name in notebooks:
        (folder / f"{pathlib.Path(name).stem}.json").write_text(json.dumps({"not_run": note}))


def _progress(outcomes, students, shown):
    """``outcomes``, with a progress bar of the submissions recorded when ``shown``."""
    if not shown:
        yield from outcomes
        return
    from tqdm.auto import tqdm

    with tqdm(total=students, desc="grading") as bar:
        for outcome in outcomes:
            yield outcome
            bar.update(outcome[0] == "grade")
        bar.refresh()


# ---- workers ---------------------------------------------------------------------------------------

class _Workers:
    """Worker processes the parent can stop: each runs one job at a time (``("grade", student)``: run a
    submission; ``("feedback", student)``: write its feedback from the gradebook), in a folder of its own
    inside the class's temporary folder. One past its time limit is killed with everything it started
    (its kernels too) and replaced. Leaving the ``with`` block stops them all."""

    def __init__(self, count, scratch, settings, limit):
        self.count, self.scratch, self.settings, self.limit = count, scratch, settings, limit
        self.context = multiprocessing.get_context("spawn")
        self.idle, self.busy, self.made, self.pending = [], {}, 0, collections.deque()
        self.seconds = {}  # student -> wall-clock seconds its grading took

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        for worker in [*self.idle, *self.busy]:
            _kill(worker.process)
        self.idle, self.busy = [], {}

    def add(self, kind, student, first=False):
        (self.pending.appendleft if first else self.pending.append)((kind, student))

    def run(self):
        """Yield ``(kind, student, None)`` as each job is done, or ``(kind, student, what went wrong)``;
        jobs added meanwhile are run too."""
        while self.pending or self.busy:
            if _INTERRUPTED:
                raise KeyboardInterrupt
            while self.pending and len(self.busy) < self.count:
                worker = self.idle.pop() if self.idle else self._start()
                job = self.pending.popleft()
                worker.connection.send(job)
                self.busy[worker] = (job, time.monotonic() + self.limit)
                self.seconds.setdefault(job[1], time.monotonic())
            soonest = min(deadline for _, deadline in self.busy.values())
            multiprocessing.connection.wait([w.connection for w in self.busy] + [w.process.sentinel for w in self.busy],
                                            timeout=max(0.0, soonest - time.monotonic()))
            for worker, (job, deadline) in list(self.busy.items()):
                problem = self._outcome(worker, deadline, job[0])
                if problem is not False:
                    del self.busy[worker]
                    if job[0] == "grade":
                        self.seconds[job[1]] = round(time.monotonic() - self.seconds[job[1]], 1)
                    yield (*job, problem)

    def _outcome(self, worker, deadline, kind):
        """None (done), what went wrong, or False (still running)."""
        failed = "not graded" if kind == "grade" else "graded, but its feedback was not written"
        if worker.connection.poll():
            try:
                problem = worker.connection.recv()
            except (EOFError, OSError):
                problem = f"{failed}: its worker process stopped unexpectedly"
            else:
                self.idle.append(worker)
                return problem and f"{failed}: {problem}"
        elif worker.process.is_alive() and time.monotonic() < deadline:
            return False
        elif worker.process.is_alive():
            problem = f"{failed}: its time limit of {self.limit} s was reached and its grading was stopped"
        else:
            problem = f"{failed}: its worker process stopped unexpectedly (exit code {worker.process.exitcode})"
        _kill(worker.process)
        return problem

    def _start(self):
        self.made += 1
        folder = self.scratch / f"worker{self.made}"
        folder.mkdir()
        ours, theirs = self.context.Pipe()
        process = self.context.Process(target=_worker, args=(theirs, str(folder), self.settings), daemon=True)
        process.start()
        theirs.close()
        return _Worker(process, ours)


class _Worker:
    def __init__(self, process, connection):
        self.process, self.connection = process, connection


def _worker(connection, folder, settings):
    """A worker process. ``grade``: run a submission as autograde would, into a private gradebook copy
    (the executed notebooks go to the recording step, ``SaveExecuted``). ``feedback``: write a recorded
    submission's feedback from the course's gradebook."""
    os.setsid()  # Ctrl-C reaches the parent only, which stops this process and its kernels itself
    folder = pathlib.Path(folder)
    os.environ["TMPDIR"] = tempfile.tempdir = str(folder)  # gone with the class's folder, even if killed
    shutil.copy(settings["template"], folder / "gradebook.db")
    root, assignment = pathlib.Path(settings["root"]), settings["assignment"]
    grading = _api(_config(root, {
        **settings["overrides"],
        "CourseDirectory.db_url": f"sqlite:///{folder / 'gradebook.db'}",
        "CourseDirectory.autograded_directory": str(folder / "autograded"),
        "Autograde.autograde_preprocessors": _worker_steps(),
    }))
    feedback = None
    while True:
        try:
            kind, student = connection.recv()
        except (EOFError, OSError):
            return
        try:
            if kind == "grade":
                result = grading.autograde(assignment, student, force=True, create=True)
            else:
                feedback = feedback or _api(_config(root, settings["course_overrides"]))
                result = feedback.generate_feedback(assignment, student, force=True)
            problem = None if result["success"] else f"it failed ({_last_line(result)})"
        except Exception as error:
            problem = f"it failed ({error!r:.200})"
        connection.send(problem)


def _worker_steps():
    from grader.execute import SandboxedExecute
    from grader.notebooks import SaveExecuted

    return [SandboxedExecute, SaveExecuted]


def _kill(process):
    """SIGKILL ``process`` and every process it started (found before any dies: orphans are re-parented)."""
    for pid in [*_descendants(process.pid), process.pid]:
        try:
            os.kill(pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
    process.join(timeout=10)


def _descendants(pid):
    children = collections.defaultdict(list)
    for stat_file in pathlib.Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat_file.read_text().rsplit(")", 1)[1].split()
        except (OSError, IndexError):
            continue
        children[int(fields[1])].append(int(stat_file.parent.name))
    found, queue = [], [pid]
    while queue:
        for child in children[queue.pop()]:
            found.append(child)
            queue.append(child)
    return found


# ---- gradebook, configuration, export ------------------------------------------------------------

def _config(root, overrides):
    sys.path.insert(0, str(ROOT / "scripts"))
    from nbcourse import load_config

    return load_config(root, **overrides)


def _api(config):
    sys.path.insert(0, str(ROOT / "scripts"))
    from nbcourse import make_api

    return make_api(config)


def _register(api, assignment, policy=None):
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
    if policy is not None:
        from grader import late

        with Gradebook(api.coursedir.db_url, course_id=api.coursedir.course_id) as gradebook:
            late.sync_due_dates(gradebook, policy)


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


def export_grades(config, path, form="plain"):
    """Write ``path`` from the gradebook (late penalties recomputed first); returns how many students."""
    from nbgrader.api import Gradebook

    from grader import export

    with Gradebook(config.CourseDirectory.db_url, course_id=config.CourseDirectory.course_id) as gradebook:
        return export.export(gradebook, pathlib.Path(config.CourseDirectory.root), path, form)


def write_reports(config, root, assignment, failed=None, only=None):
    """The dashboard of ``assignment`` and the course index, from the gradebook. ``failed``: what the
    grading run could not grade (``only``: a run that regraded that one student, so the others' entries
    are kept)."""
    from grader.summary import NOT_GRADED, _read_json, write_summary

    if failed is not None and only is not None:
        kept = {k: v for k, v in _read_json(root / "reports" / assignment / NOT_GRADED).items() if k != only}
        failed = {**kept, **failed}
    return write_summary(root, assignment, db_url=config.CourseDirectory.db_url, failed=failed,
                         course_id=config.CourseDirectory.course_id)


# ---- one gradebook at a time ---------------------------------------------------------------------

IN_USE = "gradebook-backups/last-gradebook.txt"  # the gradebook (password hidden) last written to


def shown_url(url):
    """``url`` with any password replaced by ``***``."""
    from sqlalchemy.engine import make_url

    try:
        return make_url(url).render_as_string(hide_password=True)
    except Exception:
        return url.split("@")[-1]


def submissions_in(url):
    """How many submissions the gradebook at ``url`` holds (0 when it does not exist or cannot be read),
    without creating it."""
    import sqlalchemy

    if url.startswith("sqlite:///") and not pathlib.Path(url[len("sqlite:///"):]).is_file():
        return 0
    try:
        engine = sqlalchemy.create_engine(url)
        try:
            with engine.connect() as connection:
                if not sqlalchemy.inspect(connection).has_table("submitted_assignment"):
                    return 0
                return connection.execute(sqlalchemy.text("select count(*) from submitted_assignment")).scalar()
        finally:
            engine.dispose()
    except Exception:
        return 0


def gradebook_in_use(config, root):
    """SystemExit, saying what to do, when the gradebook in use holds no submission but another one does
    (the course folder's SQLite file, or the gradebook grades were last written to)."""
    url = config.CourseDirectory.db_url
    if submissions_in(url):
        return
    others = []
    default = f"sqlite:///{pathlib.Path(root) / 'gradebook.db'}"
    if pathlib.Path(url.replace("sqlite:///", "")) != pathlib.Path(default.replace("sqlite:///", "")):
        others.append(default)
    marker = pathlib.Path(root) / IN_USE
    if marker.is_file():
        last = marker.read_text().strip()
        if last and last not in (shown_url(url), *others):
            others.append(last)
    for other in others:
        count = submissions_in(other) if "***" not in other else None
        if count == 0:
            continue
        held = f"holds {count} submission(s)" if count else "is where grades were last written"
        raise SystemExit(
            f"make grade stopped: the gradebook in use ({shown_url(url)}) has no grades, "
            f"but {shown_url(other)} {held}. "
            f"Grading now would start a new gradebook without them (due dates, manual grades, comments). "
            f"To move them: make migrate-db TO='{shown_url(url)}' (from {shown_url(other)}). To keep using the "
            f"other one, set GRADER_DB_URL to it (or unset it for the course folder's gradebook.db). To start an "
            f"empty gradebook anyway: make grade ... NEW_GRADEBOOK=1.")


def _remember_gradebook(config, root):
    try:
        (pathlib.Path(root) / IN_USE).parent.mkdir(exist_ok=True)
        (pathlib.Path(root) / IN_USE).write_text(shown_url(config.CourseDirectory.db_url) + "\n")
    except OSError:
        pass


def _last_line(result):
    text = (result.get("error") or result.get("log") or "").strip().splitlines()
    return text[-1][:300] if text else "unknown error"

