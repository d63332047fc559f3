"""The instructor's commands after grading, each one keeping grades.csv and the dashboard current.

    python -m grader feedback PS [--student ID] [--force]   make feedback PS=... [STUDENT=...] [FORCE=1]
    python -m grader grades [--format plain|canvas] [--to FILE]   make grades [FORMAT=canvas]
    python -m grader roster FILE                            make roster FILE=class.csv
    python -m grader extend PS STUDENT UNTIL                make extend PS=... STUDENT=... UNTIL=...
    python -m grader migrate-db TO [--from URL]             make migrate-db TO=postgresql+psycopg://...

``feedback`` recomputes the late penalties on the current totals (manual grades included), writes every
submission's feedback page, and releases it to the exchange, except for the students with a written answer
still awaiting a grader: those are listed and held back unless ``--force``. Then, like ``grades``, it rewrites
grades.csv and every problem set's dashboard (``reports/``).
"""

import argparse
import pathlib
import sys

from grader import classroom, late

ROOT = classroom.ROOT


def _config(root, overrides=None):
    return classroom._config(pathlib.Path(root), overrides or {})


def _gradebook(config):
    from nbgrader.api import Gradebook

    return Gradebook(config.CourseDirectory.db_url, course_id=config.CourseDirectory.course_id)


def awaiting(config, assignment):
    """``{student: [grade_id, ...]}``: the answers of ``assignment`` still waiting for a person."""
    from nbgrader.api import MissingEntry

    from grader.export import awaits_grader

    found = {}
    with _gradebook(config) as gradebook:
        try:
            submissions = gradebook.assignment_submissions(assignment)
        except MissingEntry:
            return found
        for submission in submissions:
            cells = [g.name for nb in submission.notebooks for g in nb.grades if awaits_grader(g)]
            if cells:
                found[submission.student.id] = sorted(cells)
    return found


def feedback(assignment, root=ROOT, student=None, force=False, release=True, progress=True, overrides=None):
    """Write and release the feedback of ``assignment``; returns ``{"written", "released", "held", "failed"}``."""
    root = pathlib.Path(root)
    config = _config(root, overrides)
    policy = late.load(root)
    with _gradebook(config) as gradebook:
        late.sync_due_dates(gradebook, policy)
        students = sorted(s.student.id for s in gradebook.assignment_submissions(assignment))
    if student is not None:
        if student not in students:
            raise SystemExit(f"{student!r} has no graded submission of {assignment} (run make grade first)")
        students = [student]
    waiting = {s: cells for s, cells in awaiting(config, assignment).items() if s in students}
    held = {} if force else waiting
    if waiting:
        print(f"{len(waiting)} submission(s) of {assignment} have answers awaiting a grader (grade them in the "
              "formgrader):", file=sys.stderr)
        for who, cells in waiting.items():
            print(f"  {who}: {', '.join(cells)}", file=sys.stderr)
        print("  their feedback is " + ("released anyway (FORCE=1): it says 'awaiting a grader' there" if force else
              "held back; release it anyway with FORCE=1"), file=sys.stderr)
    api = classroom._api(config)
    result = {"written": [], "released": [], "held": sorted(held), "failed": {}}
    todo = [s for s in students if s not in held]
    if release and todo and not pathlib.Path(config.Exchange.root).is_dir():
        print(f"the exchange {config.Exchange.root} does not exist (`sudo make exchange` creates it): the feedback "
              "is written to feedback/ only; hand it out from there", file=sys.stderr)
        release = False
    for who in _bar(todo, progress, "writing feedback"):
        outcome = api.generate_feedback(assignment, who, force=True)
        if not outcome["success"]:
            result["failed"][who] = classroom._last_line(outcome)
            continue
        result["written"].append(who)
        if release:
            outcome = api.release_feedback(assignment, who)
            if outcome["success"]:
                result["released"].append(who)
            else:
                result["failed"][who] = "feedback written, not released: " + classroom._last_line(outcome)
    classroom.export_grades(config, root / "grades.csv")
    result["summary"] = classroom.write_reports(config, root, assignment)
    print(f"feedback of {assignment}: {len(result['written'])} written, {len(result['released'])} released, "
          f"{len(result['held'])} held back (awaiting a grader); grades.csv and {result['summary']['html']} rewritten")
    for who, reason in result["failed"].items():
        print(f"  {who}: {reason}", file=sys.stderr)
    return result


def _bar(items, shown, desc):
    """``items``, with a progress bar that ends at its total (the last item counted once it is done)."""
    if not shown:
        yield from items
        return
    from tqdm.auto import tqdm

    with tqdm(total=len(items), desc=desc) as bar:
        for item in items:
            yield item
            bar.update(1)


def grades(root=ROOT, form="plain", to=None, overrides=None):
    """Write grades.csv (or ``to``) and every problem set's dashboard from the gradebook."""
    from nbgrader.api import Gradebook

    root = pathlib.Path(root)
    config = _config(root, overrides)
    target = pathlib.Path(to) if to else root / ("grades.csv" if form == "plain" else f"grades-{form}.csv")
    count = classroom.export_grades(config, target, form)
    if form != "plain":
        classroom.export_grades(config, root / "grades.csv")
    with Gradebook(config.CourseDirectory.db_url, course_id=config.CourseDirectory.course_id) as gradebook:
        names = [a.name for a in gradebook.assignments]
    pages = [classroom.write_reports(config, root, name)["html"] for name in sorted(names)]
    print(f"{target}: {count} students ({form}); dashboards: {', '.join(pages) or 'none'}, "
          f"{root / 'reports' / 'index.html'}")
    return target


def roster(path, root=ROOT, overrides=None):
    from grader.roster import import_roster

    config = _config(root, overrides)
    with _gradebook(config) as gradebook:
        added, updated, others = import_roster(gradebook, path)
    print(f"roster {path}: {len(added)} added, {len(updated)} updated")
    if others:
        print(f"  in the gradebook but not in the file (kept): {', '.join(others)}")
    return added, updated, others


def extend(assignment, student, until, root=ROOT):
    when = late.extend(root, assignment, student, until)
    print(f"{student} may hand in {assignment} until {when:%Y-%m-%d %H:%M} UTC (written to "
          f"{pathlib.Path(root) / late.FILE}); the penalty is recomputed the next time grades are written")
    return when


def main(argv):
    command, rest = argv[0], argv[1:]
    parser = argparse.ArgumentParser(prog=f"python -m grader {command}", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--root", default=str(ROOT))
    if command == "feedback":
        parser.add_argument("assignment")
        parser.add_argument("--student", default=None)
        parser.add_argument("--force", action="store_true")
        args = parser.parse_args(rest)
        result = feedback(args.assignment, args.root, args.student, args.force)
        return 1 if result["failed"] else (3 if result["held"] else 0)
    if command == "grades":
        parser.add_argument("--format", default="plain", choices=("plain", "canvas"))
        parser.add_argument("--to", default=None)
        args = parser.parse_args(rest)
        grades(args.root, args.format, args.to)
        return 0
    if command == "roster":
        parser.add_argument("file")
        args = parser.parse_args(rest)
        roster(args.file, args.root)
        return 0
    if command == "extend":
        parser.add_argument("assignment")
        parser.add_argument("student")
        parser.add_argument("until")
        args = parser.parse_args(rest)
        extend(args.assignment, args.student, args.until, args.root)
        return 0
    if command == "migrate-db":
        from grader.migrate import main as migrate

        return migrate(rest)
    raise SystemExit(f"unknown command {command}")
