"""grader.gradebook's fixes to nbgrader's gradebook: a new gradebook is stamped with the schema revision the
alembic command reports, without running it, and adding a submission neither warns nor loses rows."""

import pathlib
import subprocess
import sys
import warnings

from nbgrader import api, dbutil

from grader import gradebook

BIN = pathlib.Path(sys.executable).parent


def test_the_schema_revision_is_the_one_the_alembic_command_reports(tmp_path):
    with dbutil._temp_alembic_ini(f"sqlite:///{tmp_path / 'unused.db'}") as ini:
        heads = subprocess.run([BIN / "alembic", "-c", ini, "heads"], capture_output=True, text=True, check=True)
    assert gradebook.alembic_head() == heads.stdout.split()[0]


def test_a_new_gradebook_is_stamped_in_process_and_takes_a_submission_without_warnings(tmp_path, monkeypatch):
    gradebook.fix_gradebook()
    monkeypatch.setenv("PATH", "/nonexistent")  # nbgrader's own way would fail: no alembic command
    url = f"sqlite:///{tmp_path / 'gradebook.db'}"
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        with api.Gradebook(url, course_id="rnn-course") as book:
            book.add_assignment("ps1")
            notebook = book.add_notebook("ps1", assignment="ps1")
            book.add_grade_cell("test_a", "ps1", "ps1", max_score=2, cell_type="code")
            book.add_solution_cell("a", "ps1", "ps1")
            book.add_student("ada")
            book.add_submission("ps1", "ada")
            (submitted,) = book.find_submission("ps1", "ada").notebooks
            assert submitted.notebook.id == notebook.id
            assert [g.name for g in submitted.grades] == ["test_a"]
            assert [c.name for c in submitted.comments] == ["a"]
            revision = book.db.execute(api.text("SELECT version_num FROM alembic_version")).scalar_one()
    assert revision == gradebook.alembic_head()
