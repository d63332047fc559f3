"""Load this course's nbgrader configuration and API in one Python process (no CLI start-up)."""

import os
import pathlib
import sys

ROOT = pathlib.Path(__file__).resolve().parent.parent


def load_config(root=ROOT, **overrides):
    """The traitlets Config of ``nbgrader_config.py`` for a course rooted at ``root``.

    ``overrides`` maps ``"Section.name"`` to a value, e.g. ``{"CourseDirectory.db_url": ...}``.
    """
    from traitlets.config import Config

    config = Config()
    source = (ROOT / "nbgrader_config.py").read_text()
    exec(compile(source, "nbgrader_config.py", "exec"),
         {"get_config": lambda: config, "__file__": str(pathlib.Path(root) / "nbgrader_config.py")})
    for key, value in overrides.items():
        section, name = key.split(".")
        setattr(config[section], name, value)
    return config


def make_api(config):
    """An ``NbGraderAPI`` for ``config``; nbgrader runs alembic from PATH, so this venv's bin goes first."""
    os.environ["PATH"] = f"{pathlib.Path(sys.executable).parent}{os.pathsep}{os.environ.get('PATH', '')}"
    from nbgrader.apps import NbGraderAPI
    from nbgrader.coursedir import CourseDirectory

    return NbGraderAPI(CourseDirectory(config=config), config=config)


SOLUTION_MARKERS = ("BEGIN SOLUTION", "END SOLUTION", "HIDDEN TESTS", "_hidden_cases")


def solution_fingerprints(assignment):
    """Strings that occur in an instructor notebook but must never reach students: the solution
    code lines, the model answers and the hidden tests' reference values."""
    import re

    import nbformat

    prints = set(SOLUTION_MARKERS)
    for path in (ROOT / "solutions" / assignment).glob("*.ipynb"):
        for cell in nbformat.read(path, as_version=4).cells:
            meta = cell.metadata.get("nbgrader", {})
            if meta.get("solution"):
                body = cell.source.split("### BEGIN SOLUTION")[-1].split("### END SOLUTION")[0]
                prints.update(line.strip() for line in body.splitlines()
                              if len(line.strip()) > 12 and not line.strip().startswith("#"))
            if "### BEGIN HIDDEN TESTS" in cell.source:
                prints.update(re.findall(r"-?\d\.\d{12,}", cell.source.split("### BEGIN HIDDEN TESTS")[1]))
    return prints


def leaks(text, assignment):
    """The solution fingerprints of ``assignment`` found in ``text`` (empty when nothing leaks)."""
    return sorted(p for p in solution_fingerprints(assignment) if p in text)
