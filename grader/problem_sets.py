"""The problem sets: one module ``grader/<assignment>.py`` each, and their generated data.

``grader/references/<assignment>.json`` (instructor material, never inside a student's kernel): per
exercise its test cell, the visible and hidden cases with reference outputs, and the instructor's
solutions of the helpers it may call. ``grader/visible/<assignment>.json`` (read by the student's
kernel): the known mistakes' outputs on the visible cases only, and the calls a correct solution makes
to its helpers on those cases. Both are written by ``make references`` (``grader/references.py``).
"""

import functools
import importlib
import json
import pathlib
import re

HERE = pathlib.Path(__file__).resolve().parent
ROOT = HERE.parent
_NAME = re.compile(r"ps\d+_[a-z0-9_]+")


def names():
    """The assignment names that have a grading module, e.g. ``["ps1_recurrence", ...]``."""
    return sorted(p.stem for p in HERE.glob("ps*.py") if _NAME.fullmatch(p.stem))


def load(assignment):
    """The grading module of ``assignment``, or None for an assignment this course does not grade."""
    if assignment not in names():
        return None
    return importlib.import_module(f"grader.{assignment}")


def reference_path(assignment):
    return HERE / "references" / f"{assignment}.json"


def visible_path(assignment):
    return HERE / "visible" / f"{assignment}.json"


@functools.cache
def references(assignment):
    """The reference data of ``assignment`` (see the module docstring)."""
    return json.loads(reference_path(assignment).read_text())


def solution_notebook(assignment):
    module = load(assignment)
    return ROOT / "solutions" / assignment / module.NOTEBOOK
