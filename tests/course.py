"""A throw-away nbgrader course for the grading tests: the repository's solutions/ and exercises/ in a
temporary folder, driven through nbgrader's Python API in this process (no 9-second CLI start-ups)."""

import pathlib
import re
import shutil
import sys

import nbformat

ROOT = pathlib.Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "scripts"))
from nbcourse import load_config, make_api  # noqa: E402

SOLUTION_DELIMITER_LINES = re.compile(r"^[ \t]*### (BEGIN|END) SOLUTION[ \t]*(\n|$)", re.MULTILINE)


class Course:
    def __init__(self, root):
        self.root = pathlib.Path(root)
        for folder in ("solutions", "exercises"):
            shutil.copytree(ROOT / folder, self.root / folder)
        self.config = load_config(self.root)
        self.api = make_api(self.config)
        self.generated = {}

    def release(self, assignment):
        """Generate the student version into the course's own release folder (the gradebook needs it)."""
        if assignment not in self.generated:
            result = self.api.generate_assignment(assignment, force=True, create=True)
            assert result["success"], result.get("error") or result["log"]
            self.generated[assignment] = True

    def submit(self, assignment, student, answers=None, edit=None):
        """Put a submission in submitted/: the release notebook with the solution cells named in
        ``answers`` ({grade_id: source}) filled in; ``edit(nb)`` may change it further."""
        self.release(assignment)
        folder = self.root / "submitted" / student / assignment
        shutil.rmtree(folder, ignore_errors=True)
        folder.mkdir(parents=True)
        paths = []
        for path in sorted((self.root / "exercises" / assignment).glob("*.ipynb")):
            nb = nbformat.read(path, as_version=4)
            for cell in nb.cells:
                grade_id = cell.metadata.get("nbgrader", {}).get("grade_id")
                if answers and grade_id in answers:
                    cell.source = answers[grade_id]
            if edit:
                edit(nb)
            nbformat.write(nb, folder / path.name)
            paths.append(folder / path.name)
        (folder / "timestamp.txt").write_text("2026-11-22 12:00:00.000000 UTC")
        return paths

    def autograde(self, assignment, student):
        """Autograde one submission; return {grade_id: (score, max_score)} for autograded test cells."""
        result = self.api.autograde(assignment, student, force=True, create=True)
        assert result["success"], result.get("error") or result["log"]
        from nbgrader.api import Gradebook

        scores = {}
        with Gradebook(self.api.coursedir.db_url, course_id=self.api.coursedir.course_id) as gradebook:
            submission = gradebook.find_submission(assignment, student)
            for notebook in submission.notebooks:
                for grade in notebook.grades:
                    scores[grade.name] = (grade.score, grade.max_score)
        return scores

    def autograded_notebook(self, assignment, student, name):
        return nbformat.read(self.root / "autograded" / student / assignment / name, as_version=4)

    def feedback_html(self, assignment, student):
        result = self.api.generate_feedback(assignment, student, force=True)
        assert result["success"], result.get("error") or result["log"]
        return "\n".join(p.read_text() for p in (self.root / "feedback" / student / assignment).glob("*.html"))

    def validate(self, path):
        """nbgrader validate on one notebook; returns the set of grade_ids of the test cells that fail."""
        from nbgrader.validator import Validator

        results = Validator(config=self.config).validate(str(path))
        assert not results.get("type_changed") and not results.get("changed"), results
        nb = nbformat.read(path, as_version=4)
        by_source = {c.source.strip(): c.metadata.get("nbgrader", {}).get("grade_id") for c in nb.cells}
        return {by_source[f["source"]] for f in results.get("failed", [])}


def solution_sources(assignment, notebook):
    """{grade_id: source} of the solution code cells of an instructor notebook, markers removed."""
    nb = nbformat.read(ROOT / "solutions" / assignment / notebook, as_version=4)
    return {
        cell.metadata.nbgrader["grade_id"]: SOLUTION_DELIMITER_LINES.sub("", cell.source)
        for cell in nb.cells
        if cell.cell_type == "code" and cell.metadata.get("nbgrader", {}).get("solution")
    }
