"""``make references``: write each problem set's reference data from rnnlib and its instructor notebook.

    python -m grader.references            write grader/references/*.json and grader/visible/*.json
    python -m grader.references --check    exit 1 if the committed files differ from a fresh build

The visible cases are read from the test cells of the instructor notebook (each cell's ``check(...)``
call, run with a recorder); their literal expected values must agree with the reference. The hidden
cases come from each exercise's seeded generator, rounded. Reference outputs, the known mistakes'
outputs and the helper calls are computed in long double and rounded once to float64, so the files are
the same bit for bit on every machine, whatever BLAS kernel it has.
"""

import argparse
import builtins
import functools
import json
import math
import re
import sys

import nbformat
import numpy as np

from grader import problem_sets
from grader.compare import encode, problem
from grader.exercise import evaluate
from grader.student import make_args

SOLUTION_DELIMITERS = re.compile(r"^[ \t]*### (BEGIN|END) SOLUTION[ \t]*(\n|$)", re.MULTILINE)


class _Namespace(dict):
    """Locals for running a test cell alone: names the cell uses but does not define (the student's
    functions) become placeholders; builtins and numpy stay real."""

    def __missing__(self, key):
        if hasattr(builtins, key):
            raise KeyError(key)
        return _Placeholder(key)


class _Placeholder:
    def __init__(self, name):
        self.__name__ = name

    def __call__(self, *args, **kwargs):
        raise RuntimeError(f"{self.__name__} is a placeholder")


def visible_cases(nb):
    """``{test cell grade_id: (exercise name, [cases])}`` from the ``check`` calls of the test cells."""
    found = {}
    for cell in nb.cells:
        meta = cell.metadata.get("nbgrader", {})
        if cell.cell_type != "code" or not meta.get("grade"):
            continue
        calls = []
        # Only what the setup cell gives the student's kernel: numpy as np, and check.
        namespace = _Namespace(np=np, check=lambda name, function, cases, calls=calls: calls.append((name, cases)))
        exec(compile(cell.source, meta["grade_id"], "exec"), {"np": np}, namespace)  # noqa: S102
        for name, cases in calls:
            found[meta["grade_id"]] = (name, [{"case": c["case"], "args": _plain(c["args"]),
                                               "expected": c["expected"]} for c in cases])
    return found


def solution_sources(nb):
    """``{grade_id: source}`` of the notebook's solution code cells, delimiters removed."""
    return {cell.metadata["nbgrader"]["grade_id"]: SOLUTION_DELIMITERS.sub("", cell.source)
            for cell in nb.cells
            if cell.cell_type == "code" and cell.metadata.get("nbgrader", {}).get("solution")}


def build(assignment):
    """The two documents of ``assignment``: ``(references, visible)``."""
    module = problem_sets.load(assignment)
    nb = nbformat.read(problem_sets.solution_notebook(assignment), as_version=4)
    cells, sources = visible_cases(nb), solution_sources(nb)
    references, visible = {"notebook": module.NOTEBOOK, "exercises": {}}, {}
    for exercise in module.EXERCISES:
        if exercise.test_cell not in cells or cells[exercise.test_cell][0] != exercise.name:
            raise ValueError(f"{assignment}: the test cell {exercise.test_cell} does not call "
                             f"check({exercise.name!r}, ...)")
        shown = cells[exercise.test_cell][1]
        for case in shown:
            reference = evaluate(exercise.reference, case, extended=True)
            wrong = "error" in reference or problem(encode(case["expected"]), reference["value"])
            if wrong:
                raise ValueError(f"{assignment}: the visible case {case['case']!r} of {exercise.test_cell} expects "
                                 f"something else than the reference ({wrong})")
        hidden = exercise.hidden()
        references["exercises"][exercise.name] = {
            "test_cell": exercise.test_cell,
            "helpers": list(exercise.helpers),
            "standins": {helper: sources[helper] for helper in exercise.helpers},
            "visible": [_with_expected(exercise, case) for case in shown],
            "hidden": [_with_expected(exercise, case) for case in hidden],
        }
        visible[exercise.name] = {
            "helpers": list(exercise.helpers),
            "hints": exercise.hints,
            "outputs": list(exercise.outputs),
            "mistakes": exercise.mistake_results(shown, extended=True),
            **_helper_calls(exercise, shown, sources, module),
        }
    return references, visible


def _with_expected(exercise, case):
    result = evaluate(exercise.reference, case, extended=True)
    if "error" in result:
        raise ValueError(f"the reference of {exercise.name} fails on {case['case']!r}: {result['error']}")
    return {"case": case["case"], "args": case["args"], "expected": result["value"]}


@functools.cache
def hidden_standins(assignment, student=None):
    """``{exercise: stand-ins}`` for each exercise that calls helpers: the calls the instructor's solution
    makes to them on the hidden cases, with the answers, in the form of a visible check's stand-ins.
    Computed in the grader's process at grading time, so that the kernel is sent answers, never code."""
    module = problem_sets.load(assignment)
    sources = solution_sources(nbformat.read(problem_sets.solution_notebook(assignment), as_version=4))
    cases = problem_sets.references(assignment, student)["exercises"]
    return {exercise.name: {"helpers": list(exercise.helpers),
                            **_helper_calls(exercise, cases[exercise.name]["hidden"], sources, module)}
            for exercise in module.EXERCISES if exercise.helpers}


def _helper_calls(exercise, cases, sources, module=None):
    """The calls the instructor's solution makes to each helper on each of ``cases``, with answers; then
    those that the catalogued mistakes make (through the module's reference of the helper) and the
    solution does not, so that a catalogued mistake is still named when the student's helper is wrong
    too and the stand-in answers in its place."""
    if not exercise.helpers:
        return {}
    calls = {helper: {} for helper in exercise.helpers}
    params = {}
    for case in cases:
        namespace = {"np": np, "math": math}
        for name in (*exercise.helpers, exercise.name):
            exec(compile(sources[name], f"<solution of {name}>", "exec"), namespace)  # noqa: S102
        for helper in exercise.helpers:
            params[helper] = list(_parameters(namespace[helper]))
            namespace[helper] = _recorder(namespace[helper], params[helper], calls[helper].setdefault(case["case"], []))
        args = {k: v.astype(np.longdouble) if isinstance(v, np.ndarray) else v
                for k, v in make_args(case["args"]).items()}
        namespace[exercise.name](**args)
    if module is not None:
        _add_mistakes_calls(module, exercise, cases, calls, params)
    return {"standins": calls, "standin_params": params}


def _add_mistakes_calls(module, exercise, cases, calls, params):
    references = {e.name: e.reference for e in module.EXERCISES}
    watched = {references[h].__code__: h for h in exercise.helpers if hasattr(references.get(h), "__code__")}
    if not watched:
        return
    for case in cases:
        args = {k: v.astype(np.longdouble) if isinstance(v, np.ndarray) else v
                for k, v in make_args(case["args"]).items()}
        for _, wrong in exercise.mistakes:
            for helper, bound, value in _calls_to(watched, wrong, args):
                if list(bound) != params[helper]:
                    continue
                known = calls[helper].setdefault(case["case"], [])
                entry = {"args": {k: encode(np.asarray(v, dtype=np.float64))["a"] for k, v in bound.items()},
                         "value": encode(value)}
                if not any(_same_call(entry["args"], seen["args"]) for seen in known):
                    known.append(entry)


def _calls_to(watched, function, args):
    """``[(helper, arguments, value)]`` of each call ``function(**args)`` makes to a watched code object."""
    found, open_frames = [], {}

    def profile(frame, event, arg):
        if frame.f_code in watched:
            if event == "call":
                names = frame.f_code.co_varnames[:frame.f_code.co_argcount]
                open_frames[id(frame)] = {n: np.array(frame.f_locals[n], copy=True) for n in names}
            elif event == "return" and id(frame) in open_frames and arg is not None:
                found.append((watched[frame.f_code], open_frames.pop(id(frame)), arg))

    previous = sys.getprofile()
    sys.setprofile(profile)
    try:
        function(**args)
    except Exception:  # noqa: S110 (a mistake that fails has made the calls it made)
        pass
    finally:
        sys.setprofile(previous)
    return found


def _same_call(a, b):
    return all(np.asarray(a[k]).shape == np.asarray(b[k]).shape and np.array_equal(a[k], b[k]) for k in a)


def _parameters(function):
    import inspect

    return inspect.signature(function).parameters


def _recorder(function, params, log):
    def recording(*args, **kwargs):
        value = function(*args, **kwargs)
        bound = dict(zip(params, args), **kwargs)
        log.append({"args": {k: encode(np.asarray(v, dtype=np.float64))["a"] for k, v in bound.items()},
                    "value": encode(value)})
        return value
    return recording


def _plain(args):
    return {k: np.asarray(v, dtype=np.float64).tolist() if isinstance(v, (list, np.ndarray)) else v
            for k, v in args.items()}


def _dump(document):
    return json.dumps(document, indent=1, allow_nan=False) + "\n"


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--check", action="store_true", help="compare with the committed files, write nothing")
    parser.add_argument("assignments", nargs="*", help="default: every problem set")
    args = parser.parse_args(argv)
    stale = []
    for assignment in args.assignments or problem_sets.names():
        references, visible = build(assignment)
        for path, document in ((problem_sets.reference_path(assignment), references),
                               (problem_sets.visible_path(assignment), visible)):
            text = _dump(document)
            if args.check:
                if not path.exists() or path.read_text() != text:
                    stale.append(str(path.relative_to(problem_sets.ROOT)))
            else:
                path.parent.mkdir(exist_ok=True)
                path.write_text(text)
                print(f"wrote {path.relative_to(problem_sets.ROOT)}")
    if stale:
        print("stale, run `make references`: " + ", ".join(stale), file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
