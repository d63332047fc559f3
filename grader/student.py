"""What a problem set's test cells call, inside the student's own kernel.

    check("rnn_step", rnn_step, cases)

runs the student's function on the visible sanity cases written in the test cell and raises
``CheckFailed`` with one line when a case fails, naming the mistake when exactly one known mistake
explains every case. The known mistakes' outputs on these visible inputs come precomputed from
``grader/visible/<problem set>.json``; no reference implementation and no hidden case is ever here.

When the notebook is graded, ``check`` also exports what the function returned (to a file the grader
reads), and after the last cell the grader calls ``run_hidden`` with the hidden inputs (and, for
helpers, the answers a correct one gives, never its code); both exports are judged outside this process
(``grader/verdicts.py``), so nothing done in this kernel can turn a wrong answer into points.
"""

import contextlib
import inspect
import json
import math
import os
import pathlib
import sys
import warnings

import numpy as np

from grader.compare import encode, judge, wrapped

MIME = "application/vnd.rnn-course.grader+json"
_HERE = pathlib.Path(__file__).resolve().parent
_PRISTINE_NUMPY = dict(vars(np))  # numpy as the setup cell imported it, before any student code ran
_registry = {}          # exercise name -> the function object its test cell checked
_visible_verdicts = {}  # exercise name -> whether its visible check passed in this kernel


class CheckFailed(AssertionError):
    """A failed sanity check. In a notebook it shows as its one line, without a traceback."""


class StandInMiss(LookupError):
    """A call that the visible stand-in of a helper was not prepared for."""


def check(name, function, cases):
    """Check ``function`` (the notebook's ``name``) on ``cases``: dicts with ``"case"`` (a label),
    ``"args"`` (keyword arguments; nested lists become float64 arrays) and ``"expected"``."""
    _show_failures_as_one_line()
    _registry[name] = function
    info = _visible_info(name)
    if not callable(function):
        raise CheckFailed(f"{name}: expected a function named {name}, got {type(function).__name__}")
    helpers = info.get("helpers", [])
    runs = {}
    if helpers:  # first, and exported at once: a helper that kills the kernel must not take this down too
        runs["standin"] = [_run(function, case, _lookup_standins(info, case["case"])) for case in cases]
        _export(name, "visible", runs)
    runs["own"] = [_run(function, case, watch=not _exporting()) for case in cases]
    _export(name, "visible", {"own": runs["own"]})
    own_helpers_pass = all(_visible_verdicts.get(helper) for helper in helpers)
    results = runs["own" if own_helpers_pass else "standin"]
    with _pristine_numpy():
        expected = {case["case"]: encode(case["expected"]) for case in cases}
        verdict = judge(name, expected, results, info.get("mistakes", {}), info.get("hints", {}),
                        outputs=info.get("outputs"))
    _visible_verdicts[name] = verdict is None
    if verdict:
        raise CheckFailed(verdict[0])


def run_hidden(name, cases, standins=None, own=True):
    """Called by the grader after the notebook ran: the student's ``name`` on the hidden ``cases``, with
    correct helpers in place (first, when ``standins`` is given) and as written (unless ``own`` is
    False), each run exported for judging as soon as it is done. ``standins`` has the form of a visible
    check's (``helpers``, ``standin_params``, ``standins``): the answers a correct helper gives to the
    calls a correct solution makes on each case, computed by the grader; no solution code comes here."""
    function = _registry.get(name) or vars(sys.modules["__main__"]).get(name)
    if not callable(function):
        _export(name, "hidden", {"missing": True})
        return
    if standins:
        _export(name, "hidden", {"standin": [_run(function, case, _lookup_standins(standins, case["case"]))
                                             for case in cases]})
    if own:
        _export(name, "hidden", {"own": [_run(function, case) for case in cases]})


# ---- running one case ----------------------------------------------------------------------------

def make_args(spec):
    """A case's keyword arguments: nested lists become fresh float64 arrays, numbers and strings stay,
    ``{"ints": nested list}`` an integer array, ``{"arrays": [nested lists, ...]}`` a list of float arrays
    (of any shapes), and
    ``{"expr": "lambda x: ..."}`` becomes that function (numpy as ``np``)."""
    return {key: _as_value(value) for key, value in spec.items()}


def _as_value(value):
    if isinstance(value, dict) and set(value) == {"ints"}:
        return np.array(value["ints"], dtype=np.int64)
    if isinstance(value, dict) and set(value) == {"arrays"}:
        return [np.array(item, dtype=np.float64) for item in value["arrays"]]
    if isinstance(value, dict) and set(value) == {"expr"}:
        return eval(value["expr"], {"np": np, "math": math, "__builtins__": {}})  # noqa: S307 (course-written)
    if isinstance(value, list):
        return np.array(value, dtype=np.float64)
    return value


def _run(function, case, standins=None, watch=False):
    args = make_args(case["args"])
    pristine = _snapshot(args)
    record = {"case": case["case"], "mutated": []}
    # A warning (numpy's "divide by zero encountered in log", say) is caught here, never printed: nbgrader
    # validate fails a test cell for any line on stderr, the grade judges the answer. It is kept with the
    # result, and a verdict mentions it only where it explains a wrong answer (nan or inf).
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        try:
            with _helpers_replaced(function, standins or {}), _forbidden_calls_refused(watch):
                value = function(**args)
        except BaseException as error:  # noqa: B036 (SystemExit and KeyboardInterrupt are answers too)
            record["error"] = [type(error).__name__, " ".join(str(error).split())[:400]]
            value = None
    if caught:
        record["warning"] = " ".join(f"{caught[0].category.__name__}: {caught[0].message}".split())[:160]
    if "error" in record:
        return record
    with _pristine_numpy():
        record["mutated"] = [name for name, (array, before) in pristine.items() if not _unchanged(array, before)]
        record["value"] = encode(value)
    return record


def _snapshot(args):
    """``{name: (array, copy)}`` for every array argument, and every array in a list argument."""
    found = {}
    for key, value in args.items():
        if isinstance(value, np.ndarray):
            found[key] = (value, value.copy())
        elif isinstance(value, list):
            found.update({f"{key}[{i}]": (item, item.copy()) for i, item in enumerate(value)
                          if isinstance(item, np.ndarray)})
    return found


@contextlib.contextmanager
def _pristine_numpy():
    """numpy's own functions back in place while this module works (a student may have patched them
    for their own code), then the student's versions again."""
    current = dict(vars(np))
    vars(np).update(_PRISTINE_NUMPY)
    try:
        yield
    finally:
        for key in set(vars(np)) - set(current):
            delattr(np, key)
        vars(np).update(current)


def _unchanged(now, before):
    return isinstance(now, np.ndarray) and now.shape == before.shape and np.array_equal(now, before, equal_nan=True)


@contextlib.contextmanager
def _helpers_replaced(function, replacements):
    namespace = getattr(function, "__globals__", None)
    if namespace is None or not replacements:
        yield
        return
    missing = object()
    saved = {name: namespace.get(name, missing) for name in replacements}
    namespace.update(replacements)
    try:
        yield
    finally:
        for name, value in saved.items():
            if value is missing:
                namespace.pop(name, None)
            else:
                namespace[name] = value


class UsesCourseLibrary(Exception):
    pass


@contextlib.contextmanager
def _forbidden_calls_refused(active):
    """While a visible check runs outside the grader, refuse calls into rnnlib or torch: the graded
    kernel has neither, so an answer that uses them would pass here and score 0 when graded."""
    roots = [root for root in map(_package_dir, ("rnnlib", "torch")) if root] if active else []
    if not roots:
        yield
        return
    previous = sys.getprofile()

    def profile(frame, event, arg):
        if event == "call" and frame.f_code.co_filename.startswith(tuple(roots)):
            sys.setprofile(previous)
            module = frame.f_globals.get("__name__", "?")
            raise UsesCourseLibrary(f"calls {module}.{frame.f_code.co_name}: solve it with numpy alone "
                                    "(rnnlib and torch are not available when your notebook is graded)")
        if event == "c_call" and (getattr(arg, "__module__", None) or "").startswith("torch"):
            sys.setprofile(previous)
            raise UsesCourseLibrary("calls torch: solve it with numpy alone "
                                    "(torch is not available when your notebook is graded)")

    sys.setprofile(profile)
    try:
        yield
    finally:
        sys.setprofile(previous)


def _package_dir(name):
    module = sys.modules.get(name)
    path = getattr(module, "__file__", None)
    return str(pathlib.Path(path).resolve().parent) if path else None


# ---- stand-ins for helpers -----------------------------------------------------------------------

def _lookup_standins(info, label):
    """For each helper, a function that answers the calls a correct solution makes on the visible case
    ``label`` (precomputed), so a wrong helper does not cost this exercise's visible check too."""
    return {helper: _lookup(helper, info["standin_params"][helper], info["standins"][helper].get(label, []))
            for helper in info.get("helpers", [])}


def _lookup(helper, params, calls):
    signature = inspect.Signature([inspect.Parameter(p, inspect.Parameter.POSITIONAL_OR_KEYWORD) for p in params])
    known = [({k: _as_value(v) for k, v in call["args"].items()}, call["value"]) for call in calls]

    def standin(*args, **kwargs):
        try:
            given = signature.bind(*args, **kwargs).arguments
        except TypeError as error:
            raise StandInMiss(f"{helper} was called with other arguments than its own: {error}") from None
        with _pristine_numpy():
            for arguments, value in known:
                if all(_same_argument(given[k], arguments[k]) for k in params):
                    return _decoded(value)
        raise StandInMiss(f"a correct {helper} was put in place of yours, but this call differs from the "
                          "ones a straightforward solution makes; fix your own first")
    return standin


def _same_argument(given, known):
    try:
        given = np.asarray(given, dtype=np.float64)
    except (TypeError, ValueError):
        return False
    known = np.asarray(known, dtype=np.float64)
    return given.shape == known.shape and bool(np.allclose(given, known, rtol=1e-9, atol=1e-12))


def _decoded(answer):
    if "seq" in answer:
        return tuple(_decoded(part) for part in answer["seq"])
    if "map" in answer:
        return {k: _decoded(v) for k, v in answer["map"].items()}
    if "n" in answer:
        return float(answer["n"])
    return np.array(answer["a"], dtype=np.float64).reshape(answer["s"])


# ---- plumbing ------------------------------------------------------------------------------------

def _exporting():
    return bool(os.environ.get("GRADER_EXPORT_FILE"))


def _export(name, phase, runs):
    """Append one record to the grader's export file. A file, not a display output: what is written
    is on disk at once, even when the very next line kills the kernel."""
    if not _exporting():
        return
    with open(os.environ["GRADER_EXPORT_FILE"], "a") as handle:
        handle.write(json.dumps({"exercise": name, "phase": phase, "runs": runs}) + "\n")


_visible_cache = {}


def _visible_info(name):
    if not _visible_cache:
        for path in sorted((_HERE / "visible").glob("*.json")):
            _visible_cache.update(json.loads(path.read_text()))
    return _visible_cache.get(name, {})


def _show_failures_as_one_line():
    """In IPython, show a CheckFailed as ``CheckFailed: <message>`` without a traceback (whose context
    lines add nothing a student can use). The cell still ends in an error."""
    try:
        from IPython import get_ipython
    except ImportError:
        return
    shell = get_ipython()
    if shell is None:
        return

    def handler(shell, etype, value, tb, tb_offset=None):
        if etype.__name__ == "CheckFailed":
            shell._showtraceback(etype, value, wrapped(f"{etype.__name__}: {value}"))
        else:
            shell.showtraceback((etype, value, tb), tb_offset=tb_offset)

    shell.set_custom_exc((AssertionError,), handler)
