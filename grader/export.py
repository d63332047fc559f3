"""``nbgrader export`` with a column per graded cell and a flag for answers still waiting for a person.

Columns: assignment, duedate, timestamp, student_id, last_name, first_name, email, raw_score,
late_submission_penalty, score, max_score, needs_manual_grade (yes/no), then ``<notebook>:<grade_id>``
for every graded cell of every exported assignment (empty when the student did not submit).

Every text a student could have chosen (their id, names, email) that starts with ``= + - @``, a tab or a
carriage return is written with a leading ``'``, so that a spreadsheet shows it instead of evaluating it
as a formula (CSV injection). Numbers are written as numbers.
"""

import csv

from nbgrader.api import MissingEntry
from nbgrader.plugins import ExportPlugin

FIXED = ["assignment", "duedate", "timestamp", "student_id", "last_name", "first_name", "email", "raw_score",
         "late_submission_penalty", "score", "max_score", "needs_manual_grade"]


class QuestionCsvExport(ExportPlugin):
    def export(self, gradebook):
        wanted_assignments = {str(a) for a in self.assignment}
        wanted_students = {str(s) for s in self.student}
        assignments = [a for a in gradebook.assignments if not wanted_assignments or a.name in wanted_assignments]
        questions = [f"{nb.name}:{cell.name}" for a in assignments for nb in a.notebooks
                     for cell in list(nb.grade_cells) + list(nb.task_cells)]
        with open(self.to or "grades.csv", "w", newline="") as handle:
            writer = csv.DictWriter(handle, FIXED + list(dict.fromkeys(questions)))
            writer.writeheader()
            for assignment in assignments:
                for student in gradebook.students:
                    if wanted_students and student.id not in wanted_students:
                        continue
                    row = self._row(gradebook, assignment, student)
                    writer.writerow({key: inert(value) for key, value in row.items()})

    @staticmethod
    def _row(gradebook, assignment, student):
        row = {"assignment": assignment.name, "duedate": assignment.duedate or "", "student_id": student.id,
               "last_name": student.last_name or "", "first_name": student.first_name or "",
               "email": student.email or "", "max_score": assignment.max_score}
        try:
            submission = gradebook.find_submission(assignment.name, student.id)
        except MissingEntry:
            return {**row, "timestamp": "", "raw_score": 0.0, "late_submission_penalty": 0.0, "score": 0.0,
                    "needs_manual_grade": "no"}
        penalty = submission.late_submission_penalty or 0.0
        row.update(timestamp=submission.timestamp or "", raw_score=submission.score,
                   late_submission_penalty=penalty, score=max(0.0, submission.score - penalty),
                   needs_manual_grade="yes" if submission.needs_manual_grade else "no")
        for notebook in submission.notebooks:
            for grade in notebook.grades:
                row[f"{notebook.name}:{grade.name}"] = grade.score
        return row


def inert(value):
    """``value``, with a leading ``'`` if it is text a spreadsheet would evaluate as a formula."""
    return f"'{value}" if isinstance(value, str) and value.startswith(("=", "+", "-", "@", "\t", "\r")) else value
