"""Two fixes to nbgrader 0.9's gradebook, applied by ``fix_gradebook()`` from ``nbgrader_config.py`` so
that every nbgrader command of this course uses them.

**A new gradebook's schema version.** nbgrader stamps each new gradebook with the newest revision of its
schema by running the ``alembic`` command in a subprocess (``get_alembic_version``): 3 s per new
gradebook (``make grade`` makes two, a scratch template and the pre-flight's), and a crash when the
virtual environment's ``bin`` is not on ``PATH``. ``alembic_head`` reads the same revision from nbgrader's
migration scripts in this process, in milliseconds.

**``Gradebook.add_submission``, made right for SQLAlchemy 2.**

nbgrader builds a new submission (its notebooks, grades and comments) through relationship backrefs
and adds it to the session only at the end. SQLAlchemy 2 no longer cascades objects into the session
along backrefs, so each lazy load in between (``submission.assignment.notebooks``,
``notebook.grade_cells``) autoflushes a session in which the persistent assignment, student and
notebooks point at objects it does not hold, and warns three times per new submission ("Object of type
<SubmittedAssignment> not in session, add operation along 'Assignment.submissions' will not proceed").
The rows come out right only because the final ``add`` cascades. Here the submission is built with
autoflush off, as SQLAlchemy advises, and then added and committed as one: the same rows, no half-built
flush, no warning.
"""

import functools

from nbgrader import api, dbutil, utils
from sqlalchemy.exc import IntegrityError, StatementError
from sqlalchemy.orm.exc import FlushError


def add_submission(self, assignment, student, **kwargs):
    if "timestamp" in kwargs:
        kwargs["timestamp"] = utils.parse_utc(kwargs["timestamp"])
    try:
        with self.db.no_autoflush:
            submission = api.SubmittedAssignment(assignment=self.find_assignment(assignment),
                                                 student=self.find_student(student), **kwargs)
            for notebook in submission.assignment.notebooks:
                submitted = api.SubmittedNotebook(notebook=notebook, assignment=submission)
                for grade_cell in notebook.grade_cells:
                    api.Grade(cell_id=grade_cell.id, notebook=submitted)
                for solution_cell in notebook.solution_cells:
                    api.Comment(cell_id=solution_cell.id, notebook=submitted)
                for task_cell in notebook.task_cells:
                    api.Comment(cell_id=task_cell.id, notebook=submitted)
                    api.Grade(cell_id=task_cell.id, notebook=submitted)
        self.db.add(submission)
        self.db.commit()
    except (IntegrityError, FlushError, StatementError) as error:
        self.db.rollback()
        raise api.InvalidEntry(*error.args) from error
    return submission


@functools.cache
def alembic_head():
    """The newest revision of nbgrader's gradebook schema, what ``alembic heads`` prints first."""
    from alembic.script import ScriptDirectory

    return ScriptDirectory(dbutil.ALEMBIC_DIR).get_current_head()


def fix_gradebook():
    api.Gradebook.add_submission = add_submission
    api.get_alembic_version = alembic_head
