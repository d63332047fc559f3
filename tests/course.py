"""A throw-away course for the grading tests: the repository's solutions/ and exercises/ in a temporary
folder, graded through the real `make grade` path (``grader.classroom.grade_class``) and checked with
nbgrader's own Validator, as an instructor and a student would use them."""

import concurrent.futures
import functools
import html
import html.parser
import multiprocessing
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
        self.config = load_config(self.root, **{"Exchange.root": str(self.root / "exchange")})  # a throw-away one
        self.api = make_api(self.config)

    def submit(self, assignment, student, answers=None, edit=None, files=None, notebook=None):
        """Put a submission in submitted/: the release notebook with the solution cells named in
        ``answers`` ({grade_id: source}) filled in; ``edit(nb)`` may change it further; ``files`` adds
        other files ({name: text}); ``notebook`` saves it under another name."""
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
                nb = edit(nb) or nb
            target = folder / (notebook or path.name)
            if isinstance(nb, str):
                target.write_text(nb)
            else:
                nbformat.write(nb, target)
            paths.append(target)
        for name, text in (files or {}).items():
            (folder / name).parent.mkdir(parents=True, exist_ok=True)
            (folder / name).write_text(text)
        (folder / "timestamp.txt").write_text("2026-11-22 12:00:00.000000 UTC")
        return paths

    def grade(self, assignment, workers=2, overrides=None, time_limit=None):
        from grader.classroom import grade_class

        return grade_class(assignment, root=self.root, workers=workers, overrides=overrides, progress=False,
                           time_limit=time_limit)

    def scores(self, assignment, student):
        """{grade_id: (score, max_score)} of a graded submission."""
        from nbgrader.api import Gradebook

        with Gradebook(self.config.CourseDirectory.db_url, course_id="rnn-course") as gradebook:
            submission = gradebook.find_submission(assignment, student)
            return {grade.name: (grade.score, grade.max_score)
                    for notebook in submission.notebooks for grade in notebook.grades}

    def autograded_notebook(self, assignment, student, name):
        return nbformat.read(self.root / "autograded" / student / assignment / name, as_version=4)

    def feedback_html(self, assignment, student):
        return "\n".join(p.read_text() for p in (self.root / "feedback" / student / assignment).glob("*.html"))

    def feedback_text(self, assignment, student):
        """The feedback without its MathJax, HTML entities decoded and all whitespace runs made one space
        (the grader wraps its lines to fit nbgrader validate)."""
        return " ".join(html.unescape(without_mathjax(self.feedback_html(assignment, student))).split())


@functools.cache
def _mathjax_bundle():
    from grader.inert import mathjax_scripts

    scripts = mathjax_scripts()
    return scripts[1] if scripts else None


def without_mathjax(page):
    """``page`` without the MathJax bundle a feedback page carries inline (the course's pinned copy, byte
    for byte, nine tenths of the page): what remains is the page's own content, searched in a tenth of the
    time."""
    bundle = _mathjax_bundle()
    return page.replace(bundle, "") if bundle else page


def points(assignment, notebook):
    """{grade_id: points} of the autograded test cells of an instructor notebook."""
    nb = nbformat.read(ROOT / "solutions" / assignment / notebook, as_version=4)
    return {c.metadata.nbgrader["grade_id"]: float(c.metadata.nbgrader["points"]) for c in nb.cells
            if c.cell_type == "code" and c.metadata.get("nbgrader", {}).get("grade")}


def solution_sources(assignment, notebook):
    """{grade_id: source} of the solution code cells of an instructor notebook, markers removed."""
    nb = nbformat.read(ROOT / "solutions" / assignment / notebook, as_version=4)
    return {
        cell.metadata.nbgrader["grade_id"]: SOLUTION_DELIMITER_LINES.sub("", cell.source)
        for cell in nb.cells
        if cell.cell_type == "code" and cell.metadata.get("nbgrader", {}).get("solution")
    }


def validate_all(paths, workers=2):
    """nbgrader validate on each notebook, in parallel processes: {path: {failing grade_id: message}}."""
    return dict(zip(paths, _validators(workers).map(validate, [str(p) for p in paths])))


@functools.cache
def _validators(workers):
    """One pool of validating processes for all the classes a test process grades: each process pays for
    importing nbgrader once (a second of CPU), not once per class. Shut down when the test process exits."""
    return concurrent.futures.ProcessPoolExecutor(max_workers=workers, mp_context=multiprocessing.get_context("spawn"))


def validate(path):
    """nbgrader validate, as a student runs it: {grade_id of a failing test cell: its error line}."""
    from nbgrader.validator import Validator

    config = load_config(pathlib.Path(path).parent)
    results = Validator(config=config).validate(str(path))
    assert not results.get("type_changed") and not results.get("changed"), results
    nb = nbformat.read(path, as_version=4)
    by_source = {c.source.strip(): c.metadata.get("nbgrader", {}).get("grade_id") for c in nb.cells}
    return {by_source[f["source"]]: html.unescape(f["error"]) for f in results.get("failed", [])}


class _Runnable(html.parser.HTMLParser):
    def __init__(self):
        super().__init__()
        self.found, self._in_script = [], False

    def handle_starttag(self, tag, attrs):
        self._in_script = tag == "script"
        for name, value in attrs:
            if name.startswith("on") or (value or "").strip().lower().startswith("javascript:"):
                self.found.append(f"<{tag} {name}={value}>")

    def handle_data(self, data):
        if self._in_script:
            self.found.append(data)

    def handle_endtag(self, tag):
        self._in_script = False


def runnable(page):
    """What a browser would run in an HTML page: script elements, event handlers, javascript: URLs."""
    parser = _Runnable()
    parser.feed(page)
    return parser.found
