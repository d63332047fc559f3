"""The problem sets: one module ``grader/sets/<assignment>.py`` each, and their generated data.

``grader/references/<assignment>.json`` (instructor material, never inside a student's kernel): per
exercise its test cell, the visible and hidden cases with reference outputs, and the instructor's
solutions of the helpers it may call. ``grader/visible/<assignment>.json`` (read by the student's
kernel): the known mistakes' outputs on the visible cases only, and the calls a correct solution makes
to its helpers on those cases. Both are written by ``make references`` (``grader/references.py``).
"""

import functools
import importlib
import pathlib
import re

HERE = pathlib.Path(__file__).resolve().parent
ROOT = HERE.parent
_NAME = re.compile(r"ps\d+_[a-z0-9_]+")


def names():
    """The assignment names that have a grading module, e.g. ``["ps1_recurrence", ...]``."""
    return sorted(p.stem for p in (HERE / "sets").glob("ps*.py") if _NAME.fullmatch(p.stem))


def load(assignment):
    """The grading module of ``assignment``, or None for an assignment this course does not grade."""
    if assignment not in names():
        return None
    return importlib.import_module(f"grader.sets.{assignment}")


def reference_path(assignment):
    from grader.secret import references_folder  # secret-references/ when the course has a secret

    return references_folder(HERE / "references") / f"{assignment}.json"


def visible_path(assignment):
    return HERE / "visible" / f"{assignment}.json"


def references(assignment, student=None):
    """The reference data of ``assignment`` (see the module docstring); with ``c.Grader.per_student``,
    ``student``'s own hidden cases (grader/secret.py)."""
    from grader import secret

    if student is not None and secret.per_student():
        return secret.student_references(assignment, student)
    return _references(assignment)


@functools.cache
def _references(assignment):
    from grader import secret

    return secret.load(reference_path(assignment))


def solution_notebook(assignment):
    module = load(assignment)
    return ROOT / "solutions" / assignment / module.NOTEBOOK
