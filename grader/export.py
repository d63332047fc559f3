"""grades.csv from the gradebook, in two layouts, with the late penalties of the grades as they are now.

``plain`` (``make grades``, and what ``make grade`` / ``make feedback`` rewrite): one row per student of
the gradebook, sorted by id; ``student_id, last_name, first_name, email``, then for each problem set
(sorted by name) ``<set>`` (the total after the late penalty), ``<set>:status`` ("graded", "awaiting a
grader", "not submitted"), ``<set>:raw_score``, ``<set>:late_days``, ``<set>:late_penalty``,
``<set>:max_score`` and ``<set>:<question>`` for every graded cell (``<set>:<notebook>:<question>`` when a
set has several notebooks). A written answer not yet graded is blank, never 0, and so is the set's total
while any answer awaits a grader; a set not submitted is blank with its status.

``canvas`` (``make grades FORMAT=canvas``): the layout of Canvas's gradebook import. The columns
``Student`` ("Last, First"), ``ID`` (the Canvas user id: the roster's ``canvas_id``, kept as nbgrader's
``lms_user_id``), ``SIS User ID``, ``SIS Login ID`` (the course's student id) and ``Section``, then one
column per problem set, named as in the course file's ``[canvas]`` table (``ps1_recurrence = "PS1 (1234)"``
to update an existing Canvas assignment) or by its own name (Canvas then creates it); the second row is
``Points Possible`` with each set's points. Cells awaiting a grader or not submitted are left blank, which
Canvas leaves ungraded.

Every text a student could have chosen (their id, names, email) that starts with ``= + - @``, a tab or a
carriage return is written with a leading ``'``, so that a spreadsheet shows it instead of evaluating it
as a formula (CSV injection). Numbers are written as numbers.
"""

import csv
import math
import pathlib

from nbgrader.api import MissingEntry
from nbgrader.plugins import ExportPlugin
from traitlets import Enum, Unicode

from grader import late

PEOPLE = ["student_id", "last_name", "first_name", "email"]
CANVAS = ["Student", "ID", "SIS User ID", "SIS Login ID", "Section"]
GRADED, AWAITING, MISSING = "graded", "awaiting a grader", "not submitted"


def table(gradebook, policy, assignments=None, students=None):
    """``(sets, rows)``: ``sets`` lists ``{name, max_score, questions: [(column, max)]}`` and ``rows`` one
    dict per student (sorted by id) with ``student`` and, per set, ``{status, score, raw, penalty, days,
    questions: {column: score or None}}``. Penalties are recomputed first."""
    chosen = [a for a in sorted(gradebook.assignments, key=lambda a: a.name)
              if not assignments or a.name in assignments]
    sets = []
    for assignment in chosen:
        late.apply(gradebook, policy, assignment.name)
        notebooks = sorted(assignment.notebooks, key=lambda nb: nb.name)
        several = len(notebooks) > 1
        questions = [(_column(assignment.name, nb.name, cell.name, several), cell.max_score)
                     for nb in notebooks for cell in _graded_cells(nb)]
        sets.append({"name": assignment.name, "max_score": assignment.max_score, "questions": questions,
                     "several": several})
    rows = []
    for student in sorted(gradebook.students, key=lambda s: s.id):
        if students and student.id not in students:
            continue
        row = {"student": student}
        for entry in sets:
            row[entry["name"]] = _result(gradebook, policy, entry, student)
        rows.append(row)
    return sets, rows


def _graded_cells(notebook):
    seen, cells = set(), []
    for cell in list(notebook.grade_cells) + list(notebook.task_cells):
        if cell.name not in seen:
            seen.add(cell.name)
            cells.append(cell)
    return cells


def _column(assignment, notebook, cell, several):
    return f"{assignment}:{notebook}:{cell}" if several else f"{assignment}:{cell}"


def _result(gradebook, policy, entry, student):
    try:
        submission = gradebook.find_submission(entry["name"], student.id)
    except MissingEntry:
        return {"status": MISSING, "score": None, "raw": None, "penalty": None, "days": None, "questions": {}}
    questions, awaiting = {}, False
    for notebook in submission.notebooks:
        for grade in notebook.grades:
            column = _column(entry["name"], notebook.name, grade.name, entry["several"])
            if awaits_grader(grade):
                questions[column], awaiting = None, True
            else:
                questions[column] = grade.score
    penalty = sum(nb.late_submission_penalty or 0.0 for nb in submission.notebooks)
    seconds = policy.seconds_late(entry["name"], student.id, submission.timestamp)
    return {"status": AWAITING if awaiting else GRADED, "raw": None if awaiting else submission.score,
            "score": None if awaiting else max(0.0, submission.score - penalty), "penalty": penalty,
            "days": math.ceil(seconds / late.DAY) if seconds > 0 else 0, "questions": questions,
            "timestamp": submission.timestamp}


def awaits_grader(grade):
    """Whether a person still has to grade this answer. (nbgrader also flags a cell already graded by hand
    when its submission is autograded again, for review; its manual score counts meanwhile.)"""
    return bool(grade.needs_manual_grade) and grade.manual_score is None


def write_plain(path, sets, rows):
    header = list(PEOPLE)
    for entry in sets:
        name = entry["name"]
        header += [name, f"{name}:status", f"{name}:raw_score", f"{name}:late_days", f"{name}:late_penalty",
                   f"{name}:max_score"] + [column for column, _ in entry["questions"]]
    with open(path, "w", newline="") as handle:
        writer = csv.DictWriter(handle, header)
        writer.writeheader()
        for row in rows:
            student = row["student"]
            line = {"student_id": student.id, "last_name": student.last_name or "",
                    "first_name": student.first_name or "", "email": student.email or ""}
            for entry in sets:
                name, result = entry["name"], row[entry["name"]]
                line.update({name: _number(result["score"]), f"{name}:status": result["status"],
                             f"{name}:raw_score": _number(result["raw"]), f"{name}:late_days": _number(result["days"]),
                             f"{name}:late_penalty": _number(result["penalty"]),
                             f"{name}:max_score": _number(entry["max_score"])})
                line.update({column: _number(score) for column, score in result["questions"].items()})
            writer.writerow({key: inert(value) for key, value in line.items()})


def write_canvas(path, sets, rows, names=None):
    names = names or {}
    header = CANVAS + [names.get(entry["name"], entry["name"]) for entry in sets]
    with open(path, "w", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(header)
        writer.writerow(["Points Possible", "", "", "", ""] + [_number(entry["max_score"]) for entry in sets])
        for row in rows:
            student = row["student"]
            name = ", ".join(part for part in (student.last_name, student.first_name) if part) or student.id
            writer.writerow([inert(name), inert(student.lms_user_id or ""), "", inert(student.id), ""]
                            + [_number(row[entry["name"]]["score"]) for entry in sets])


def _number(value):
    if value is None:
        return ""
    return int(value) if isinstance(value, (int, float)) and float(value).is_integer() else round(float(value), 4)


def canvas_names(root):
    """The ``[canvas]`` table of course.toml: problem set -> Canvas column name."""
    import tomllib

    path = pathlib.Path(root) / late.FILE
    if not path.is_file():
        return {}
    return {str(k): str(v) for k, v in tomllib.loads(path.read_text()).get("canvas", {}).items()}


def export(gradebook, root, path, form="plain", assignments=None, students=None):
    """Write ``path`` in ``form`` ("plain" or "canvas"); returns the number of students written."""
    policy = late.load(root)
    sets, rows = table(gradebook, policy, assignments, students)
    if form == "canvas":
        write_canvas(path, sets, rows, canvas_names(root))
    else:
        write_plain(path, sets, rows)
    return len(rows)


class QuestionCsvExport(ExportPlugin):
    """``nbgrader export`` writes the same file as ``make grades`` (``--QuestionCsvExport.form=canvas``
    for Canvas's layout)."""

    form = Enum(("plain", "canvas"), default_value="plain").tag(config=True)
    root = Unicode("", help="the course folder (its course.toml holds the late policy)").tag(config=True)

    def export(self, gradebook):
        export(gradebook, self.root or ".", self.to or "grades.csv", self.form,
               {str(a) for a in self.assignment} or None, {str(s) for s in self.student} or None)


def inert(value):
    """``value``, with a leading ``'`` if it is text a spreadsheet would evaluate as a formula."""
    return f"'{value}" if isinstance(value, str) and value.startswith(("=", "+", "-", "@", "\t", "\r")) else value
