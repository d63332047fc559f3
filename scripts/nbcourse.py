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


SOLUTION_MARKERS = ("BEGIN SOLUTION", "END SOLUTION", "HIDDEN TESTS", "MARK SCHEME")


def solution_fingerprints(assignment):
    """Strings that occur in the instructor material but must never reach students: the solution
    code lines, the model answers, the hidden cases' labels and the reference outputs."""
    import json

    import nbformat

    prints = set(SOLUTION_MARKERS)
    for path in (ROOT / "solutions" / assignment).glob("*.ipynb"):
        for cell in nbformat.read(path, as_version=4).cells:
            if cell.metadata.get("nbgrader", {}).get("solution"):
                body = cell.source.split("### BEGIN SOLUTION")[-1].split("### END SOLUTION")[0]
                # Lines shorter than 20 characters (e.g. "return np.stack(hs)") are too generic to
                # prove a leak: another problem set or a lesson may write them for its own reasons.
                prints.update(line.strip() for line in body.splitlines()
                              if len(line.strip()) >= 20 and not line.strip().startswith("#"))
            if "### BEGIN MARK SCHEME" in cell.source:
                body = cell.source.split("### BEGIN MARK SCHEME")[1].split("### END MARK SCHEME")[0]
                prints.update(line.strip() for line in body.splitlines() if len(line.strip()) >= 20)
    references = ROOT / "grader" / "references" / f"{assignment}.json"
    if references.exists():
        for exercise in json.loads(references.read_text())["exercises"].values():
            for case in exercise["hidden"]:
                prints.update(repr(v) for v in _floats(case["expected"]) if len(repr(v)) >= 14)
    return prints


def _floats(value):
    if isinstance(value, float):
        yield value
    elif isinstance(value, dict):
        for item in value.values():
            yield from _floats(item)
    elif isinstance(value, list):
        for item in value:
            yield from _floats(item)


def leaks(text, assignment):
    """The solution fingerprints of ``assignment`` found in ``text`` (empty when nothing leaks)."""
    return sorted(p for p in solution_fingerprints(assignment) if p in text)
