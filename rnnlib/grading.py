"""Checks run by the problem sets' test cells.

A test cell calls ``check(name, student_function, cases)``. Each case gives the arguments and the
reference output (written inline in the notebook by ``scripts/make_references.py``). The student's
output is converted to a plain float64 array and compared here with Python arithmetic, so patching
``np.allclose`` or an assert helper in the notebook changes nothing; hidden test cells reload this
module first so that patching it does not help either. A failure raises AssertionError with one line
that says which case failed and, where the output matches a known mistake, what the mistake is.
"""

import contextlib
import importlib
import math
import numbers
import types

import numpy as np

RTOL, ATOL = 1e-6, 1e-8


def check(name, student_fn, cases):
    """Grade ``student_fn`` (the notebook's function ``name``) on ``cases``; raise AssertionError on
    the first failing case. Each case is a dict with ``"case"`` (a label naming what it isolates),
    ``"args"`` (keyword arguments as nested lists) and ``"expected"`` (nested list or number)."""
    from rnnlib import exercises

    exercises = importlib.reload(exercises)
    exercise = exercises.EXERCISES[name]
    _show_failures_as_one_line()
    _require_untampered()
    if not callable(student_fn):
        _fail(name, f"expected a function named {name}, got {type(student_fn).__name__}")

    def run(case):
        """The student's output on ``case``, or the exception it raised."""
        args = exercises.case_args(case)
        with _reference_blocked(exercises.FORBIDDEN), _isolated(student_fn, exercise.isolate):
            try:
                return student_fn(**args)
            except NotImplementedError:
                _fail(name, "not implemented yet (the function still raises NotImplementedError)")
            except _Blocked as blocked:
                _fail(name, str(blocked))
            except Exception as error:
                return error

    for case in cases:
        got = run(case)
        if isinstance(got, Exception):
            hint = exercise.diagnose(run, cases) or exercise.hint_for_error(got)
            _fail(name, f"on the case '{case['case']}' it raised {type(got).__name__}: {_one_line(got)}"
                        + (f" -> {hint}" if hint else ""))
        problem, shape_hint = (_scalar_problem if exercise.scalar else _array_problem)(name, got, case, exercise)
        if problem:
            hint = exercise.diagnose(run, cases) or shape_hint
            _fail(name, f"on the case '{case['case']}' {problem}" + (f" -> {hint}" if hint else ""))


class _Blocked(Exception):
    pass


class CheckFailed(AssertionError):
    """A failed check. In a notebook it shows as its one line, without a traceback: the traceback's
    context lines would show the hidden test's inputs and expected outputs."""


def _fail(name, message):
    raise CheckFailed(f"{name}: {message}") from None


def _show_failures_as_one_line():
    """In IPython, display a CheckFailed as ``CheckFailed: <message>`` and nothing else. The cell
    still ends in an error, so nbgrader still scores it 0."""
    try:
        from IPython import get_ipython
    except ImportError:
        return
    shell = get_ipython()
    if shell is None:
        return

    def handler(shell, etype, value, tb, tb_offset=None):
        if type(value).__name__ == "CheckFailed":  # by name: each reload makes a new class
            shell._showtraceback(etype, value, [f"{etype.__name__}: {value}"])
        else:
            shell.showtraceback((etype, value, tb), tb_offset=tb_offset)

    shell.set_custom_exc((AssertionError,), handler)


def _one_line(error):
    text = " ".join(str(error).split())
    return text[:200] + ("..." if len(text) > 200 else "")




def _require_untampered():
    for attr in ("array", "asarray", "tanh"):
        if not isinstance(getattr(np, attr), (types.BuiltinFunctionType, np.ufunc)):
            raise AssertionError(f"numpy.{attr} has been replaced in this notebook; the grader cannot trust numpy")


def _as_float_array(name, got):
    if isinstance(got, tuple) and len(got) == 2 and not isinstance(got[0], numbers.Number):
        _fail(name, "returned a pair; return only the array the docstring asks for (no cache)")
    try:
        array = np.array(got, dtype=np.float64)
    except (TypeError, ValueError) as error:
        _fail(name, f"returned {type(got).__name__}, which is not an array of numbers ({_one_line(error)})")
    if type(array) is not np.ndarray:
        _fail(name, "the returned value does not convert to a plain numpy array")
    return array


def _max_difference(got, expected):
    """Largest |got - expected| over entries scaled by the tolerance, in Python floats."""
    worst, where = 0.0, None
    for index, (g, e) in enumerate(zip(_flat(got), _flat(expected))):
        if not (math.isfinite(g) and abs(g - e) <= ATOL + RTOL * abs(e)):
            gap = math.inf if not math.isfinite(g) else abs(g - e)
            if gap > worst or where is None:
                worst, where = gap, index
    return worst, where


def _flat(value):
    if isinstance(value, list):
        for item in value:
            yield from _flat(item)
    else:
        yield float(value)


def _shape_of(nested):
    shape = []
    while isinstance(nested, list):
        shape.append(len(nested))
        nested = nested[0] if nested else None
    return tuple(shape)


def _array_problem(name, got, case, exercise):
    """``(problem, hint)``: what is wrong with an array answer (None if right) and a shape hint."""
    array = _as_float_array(name, got)
    expected_shape = _shape_of(case["expected"])
    if array.shape != expected_shape:
        hint = exercise.hint_for_shape(array.shape, expected_shape)
        return f"the output has shape {array.shape}, expected {expected_shape}", hint
    worst, where = _max_difference(array.tolist(), case["expected"])
    if where is None:
        return None, None
    index = tuple(int(i) for i in np.unravel_index(where, expected_shape))
    return f"the values are wrong (largest difference {worst:.3g}, at index {index})", None


def _scalar_problem(name, got, case, exercise):
    if isinstance(got, np.ndarray) and got.shape == ():
        got = got.item()
    if isinstance(got, bool) or not isinstance(got, numbers.Real):
        _fail(name, f"expected a number, got {type(got).__name__}")
    if float(got) != float(case["expected"]):
        return f"the value is wrong (got {got})", None
    return None, None


@contextlib.contextmanager
def _reference_blocked(forbidden):
    """While the student's code runs, rnnlib's own implementations raise instead of answering."""
    saved = []
    for module, attr in forbidden:
        original = getattr(module, attr)

        def blocked(*args, _where=f"{module.__name__}.{attr}", **kwargs):
            raise _Blocked(f"calls {_where}; the exercise is to implement it yourself")

        saved.append((module, attr, original))
        setattr(module, attr, blocked)
    try:
        yield
    finally:
        for module, attr, original in saved:
            setattr(module, attr, original)


@contextlib.contextmanager
def _isolated(student_fn, replacements):
    """Swap helpers the student's function may call (e.g. their ``rnn_step``) for correct ones, so
    that one mistake costs the points of one exercise only."""
    namespace = getattr(student_fn, "__globals__", {})
    missing = object()
    saved = {k: namespace.get(k, missing) for k in replacements}
    namespace.update(replacements)
    try:
        yield
    finally:
        for k, v in saved.items():
            if v is missing:
                namespace.pop(k, None)
            else:
                namespace[k] = v
