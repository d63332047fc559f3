"""The course's late policy, read from ``course.toml`` in the course folder, and applied to the final total.

``course.toml`` holds, in one place (see the file itself):

- ``[late]``: ``policy`` ("none", "zero" or "per-day"), ``percent_per_day`` and ``cap_percent`` (percent of
  the problem set's points), ``grace_minutes``;
- ``[due]``: the due date of each problem set (a TOML date-time with its zone);
- ``[extensions.<problem set>]``: ``<student id> = <new due date>``, written by ``make extend``.

A penalty is always computed from the submission's *current* total, manual grades included, so it is
recomputed every time grades are written: after each submission is recorded (``make grade``), before
each feedback page (``CourseLatePenalty`` runs in nbgrader's feedback step, so the formgrader's button and
``nbgrader generate_feedback`` do the same) and before every export (``make grades``). It is stored where
nbgrader keeps it (each submitted notebook's ``late_submission_penalty``), so the formgrader, the feedback
page and grades.csv all show the same number. The gradebook's due date of each problem set is kept equal
to the course file's.
"""

import datetime
import math
import pathlib
import re
import sys
import tomllib

from nbgrader.preprocessors import NbGraderPreprocessor
from traitlets import Unicode

POLICIES = ("none", "zero", "per-day")
FILE = "course.toml"
DAY = 86400.0


class PolicyError(ValueError):
    pass


class Policy:
    def __init__(self, data=None, path=None):
        data = data or {}
        self.path = path
        late = data.get("late", {})
        self.method = late.get("policy", "none")
        if self.method not in POLICIES:
            raise PolicyError(f"{path}: [late] policy must be one of {', '.join(POLICIES)}, not {self.method!r}")
        self.per_day = float(late.get("percent_per_day", 0))  # percent
        self.cap = float(late.get("cap_percent", 100))         # percent
        self.grace = float(late.get("grace_minutes", 0)) * 60
        if not (0 <= self.per_day and 0 <= self.cap <= 100 and self.grace >= 0):
            raise PolicyError(f"{path}: percent_per_day must be >= 0, cap_percent within 0..100, grace_minutes >= 0")
        self.due = {name: _utc(value, f"[due] {name}") for name, value in data.get("due", {}).items()}
        self.extensions = {(ps, student): _utc(value, f"[extensions.{ps}] {student}")
                           for ps, table in data.get("extensions", {}).items() for student, value in table.items()}

    def deadline(self, assignment, student):
        """The due date that applies to ``student`` (their extension, else the set's), or None."""
        return self.extensions.get((assignment, student), self.due.get(assignment))

    def seconds_late(self, assignment, student, timestamp):
        deadline = self.deadline(assignment, student)
        if deadline is None or timestamp is None:
            return 0.0
        late = (_utc(timestamp, "timestamp") - deadline).total_seconds()
        return late if late > self.grace else 0.0

    def penalty(self, seconds_late, score, max_score):
        """Points taken off a total of ``score`` (of ``max_score``) handed in ``seconds_late`` late."""
        if seconds_late <= 0 or self.method == "none" or score <= 0:
            return 0.0
        if self.method == "zero":
            return float(score)
        days = math.ceil(seconds_late / DAY)
        return round(float(min(score, max_score * min(self.cap, days * self.per_day) / 100)), 6)

    def describe(self):
        if self.method == "none":
            return "no late penalty"
        if self.method == "zero":
            return "a late submission scores 0"
        return (f"{self.per_day:g}% of the points off per day late (or part of a day), at most {self.cap:g}%")


def load(root):
    """The policy of the course rooted at ``root`` (no penalty and no due dates when it has no course.toml)."""
    path = pathlib.Path(root) / FILE
    if not path.is_file():
        return Policy(path=path)
    try:
        data = tomllib.loads(path.read_text())
    except tomllib.TOMLDecodeError as error:
        raise PolicyError(f"{path}: {error}") from error
    return Policy(data, path)


def _utc(value, what):
    if isinstance(value, str):  # nbgrader's way: the zone, if written, is converted; none means UTC
        from nbgrader.utils import parse_utc

        try:
            return parse_utc(value).replace(tzinfo=datetime.UTC)
        except Exception as error:
            raise PolicyError(f"{what}: not a date and time: {value!r}") from error
    if isinstance(value, datetime.date) and not isinstance(value, datetime.datetime):
        raise PolicyError(f"{what}: give a time as well as a date, e.g. 2026-12-04T17:00:00Z")
    if not isinstance(value, datetime.datetime):
        raise PolicyError(f"{what}: not a date-time: {value!r}")
    if value.tzinfo is None:  # nbgrader stores naive UTC; the course file must say its zone
        if what in ("timestamp",):
            return value.replace(tzinfo=datetime.UTC)
        raise PolicyError(f"{what}: give the time zone, e.g. 2026-12-04T17:00:00Z for UTC")
    return value.astimezone(datetime.UTC)


# ---- applying it to the gradebook -----------------------------------------------------------------

def apply(gradebook, policy, assignment, student=None):
    """Recompute the late penalty of every submission of ``assignment`` (or only ``student``'s) from its
    current total; return ``{student: (seconds late, penalty)}`` of those that are late."""
    from nbgrader.api import MissingEntry

    late = {}
    try:
        submissions = ([gradebook.find_submission(assignment, student)] if student
                       else gradebook.assignment_submissions(assignment))
    except MissingEntry:
        return late
    for submission in submissions:
        seconds = policy.seconds_late(assignment, submission.student.id, submission.timestamp)
        notebooks = list(submission.notebooks)
        total = sum(nb.score for nb in notebooks)
        penalty = policy.penalty(seconds, total, sum(nb.max_score for nb in notebooks))
        for nb in notebooks:  # nbgrader keeps it per notebook: shared in proportion to each one's score
            share = penalty * nb.score / total if total > 0 else 0.0
            nb.late_submission_penalty = share if share > 0 else None
        if seconds > 0:
            late[submission.student.id] = (seconds, penalty)
    gradebook.db.commit()
    return late


def sync_due_dates(gradebook, policy):
    """Make the gradebook's due dates those of the course file (nbgrader shows them in the formgrader)."""
    from nbgrader.api import Assignment

    for assignment in gradebook.db.query(Assignment):
        due = policy.due.get(assignment.name)
        wanted = due.replace(tzinfo=None) if due else None
        if assignment.duedate != wanted:
            if wanted is None:
                print(f"note: {policy.path} gives {assignment.name} no due date, so the gradebook's "
                      f"({assignment.duedate} UTC) was removed: add it under [due] to keep it", file=sys.stderr)
            assignment.duedate = wanted
    gradebook.db.commit()


class CourseLatePenalty(NbGraderPreprocessor):
    """nbgrader's step for late penalties, with the course file's policy, on the submission's current
    total. In ``Autograde`` (instead of ``AssignLatePenalties``) and in ``GenerateFeedback`` before
    ``GetGrades``, so every page and every export shows the penalty of the grades as they are now."""

    course_file = Unicode("", help="the course.toml to read (default: course.toml in the course folder)").tag(
        config=True)

    def preprocess(self, nb, resources):
        from nbgrader.api import Gradebook

        info = resources["nbgrader"]
        path = pathlib.Path(self.course_file) if self.course_file else None
        policy = load(path.parent) if path else Policy()
        with Gradebook(info["db_url"]) as gradebook:
            apply(gradebook, policy, info["assignment"], info["student"])
        return nb, resources


# ---- make extend -------------------------------------------------------------------------------------

_HEADER = re.compile(r"^\[([^\]]+)\]\s*(#.*)?$")


def extend(root, assignment, student, until):
    """Write (or replace) ``student``'s extension of ``assignment`` in course.toml; returns the new deadline."""
    path = pathlib.Path(root) / FILE
    when = _utc(_parse_until(until), "UNTIL")
    text = path.read_text() if path.is_file() else ""
    lines = text.splitlines()
    key = _key(student)
    section = f"extensions.{_key(assignment)}"
    entry = f"{key} = {when.strftime('%Y-%m-%dT%H:%M:%SZ')}"
    start = next((i for i, line in enumerate(lines) if _section(line) == section), None)
    if start is None:
        lines += ["", f"[{section}]", entry]
    else:
        end = next((i for i in range(start + 1, len(lines)) if _section(lines[i])), len(lines))
        mine = [i for i in range(start + 1, end) if lines[i].split("=")[0].strip() in (key, student)]
        if mine:
            lines[mine[0]] = entry
        else:
            lines.insert(end if lines[end - 1].strip() else end - 1, entry)
    new = "\n".join(lines) + "\n"
    data = tomllib.loads(new)  # refuse to write a file the course could not read
    Policy(data, path)
    path.write_text(new)
    return when


def _section(line):
    match = _HEADER.match(line.strip())
    return match.group(1).replace('"', "").replace(" ", "") if match else None


def _key(name):
    return name if re.fullmatch(r"[A-Za-z0-9_-]+", name) else '"' + name.replace("\\", "\\\\").replace('"', '\\"') + '"'


def _parse_until(text):
    text = text.strip()
    try:
        return datetime.datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        from nbgrader.utils import parse_utc

        try:
            return parse_utc(text).replace(tzinfo=datetime.UTC) if parse_utc(text).tzinfo is None else parse_utc(text)
        except Exception as error:
            raise PolicyError(f"UNTIL={text!r} is not a date and time, e.g. 2026-12-07T17:00:00Z") from error
