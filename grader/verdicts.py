"""The trusted nbgrader step: judge every test cell outside the student's process.

After ``grader.execute.SandboxedExecute`` has run a notebook, each test cell holds what the student's
kernel exported for the visible cases, and the resources hold what it exported for the hidden cases.
Here, in the grader's own process, those plain numbers are checked against the reference outputs
(``grader/references/<assignment>.json``, which no student kernel ever sees), the known mistakes are
computed on the same inputs, and each test cell's outputs are replaced by the verdict: nothing when it
passed, one error line when it failed. nbgrader's SaveAutoGrades, which runs next, scores the cell by
that alone. Whatever else the kernel printed into a test cell is discarded, and our exports are
removed from every cell, so the feedback shows neither hidden data nor anything forged.

Whatever the kernel exported is hostile input: a record of the wrong shape makes that exercise fail
with a verdict that says so, and nothing in a record can make this step raise.
"""

from nbgrader.preprocessors import NbGraderPreprocessor

from grader import problem_sets
from grader.compare import Malformed, decode_result, judge, one_line
from grader.execute import error_output
from grader.student import MIME


class TrustedVerdicts(NbGraderPreprocessor):
    def preprocess(self, nb, resources):
        info = resources.get("nbgrader", {})
        module = problem_sets.load(info.get("assignment", ""))
        if module is None or f"{info.get('notebook')}.ipynb" != module.NOTEBOOK:
            return nb, resources
        references = problem_sets.references(info["assignment"], info.get("student"))["exercises"]
        state = resources.get("grader", {})
        cells = {c.metadata.get("nbgrader", {}).get("grade_id"): (i, c) for i, c in enumerate(nb.cells)}
        passed, summary = {}, {}
        for exercise in module.EXERCISES:
            if exercise.test_cell not in cells:
                continue
            index, cell = cells[exercise.test_cell]
            try:
                verdict = self.verdict(exercise, references[exercise.name], cell, index, state, passed)
            except Exception as error:  # a record no check foresaw: that exercise fails, the others are judged
                self.log.warning("%s: %s could not be judged: %r", info.get("student"), exercise.name, error)
                verdict = (f"{exercise.name}: the test's results could not be judged (they are not plain numbers "
                           f"of the expected structure: {type(error).__name__})", None)
            passed[exercise.name] = verdict is None
            cell.outputs = [] if verdict is None else [error_output("CheckFailed", verdict[0])]
            summary[exercise.name] = {"test_cell": exercise.test_cell, "passed": verdict is None,
                                      "message": None if verdict is None else verdict[0],
                                      "mistake": None if verdict is None else verdict[1],
                                      "kind": None if verdict is None else failure_kind(*verdict)}
        for cell in nb.cells:
            if cell.cell_type == "code":
                cell.outputs = [o for o in cell.outputs if MIME not in o.get("data", {})]
        nb.metadata["grader"] = {"verdicts": summary}
        return nb, resources

    def verdict(self, exercise, reference, cell, index, state, passed):
        """None when the exercise passed, else ``(line, mistake)``."""
        name = exercise.name
        use = "standin" if any(not passed.get(helper, False) for helper in exercise.helpers) else "own"
        visible_labels = [c["case"] for c in reference["visible"]]
        hidden_labels = [c["case"] for c in reference["hidden"]]
        try:
            shown = _runs(_exports(cell.outputs, name, "visible"), use, visible_labels, name)
        except LookupError:
            return _did_not_finish(name, cell, state.get("events", {}).get(str(index))), None
        except Malformed as error:
            return f"{name}: the test exported something that is not plain numbers ({error})", None
        hidden_state = state.get("hidden", {}).get(name, {})
        try:
            if "error" in hidden_state:
                raise LookupError(hidden_state["error"])
            secret = _runs(_exports(hidden_state.get("outputs", []), name, "hidden"), use, hidden_labels, name)
        except LookupError as error:
            verdict = judge(name, _expected(reference), shown, {}, exercise.hints, outputs=exercise.outputs)
            return verdict or (f"{name}: passes the sanity test, but the hidden tests did not run: "
                               f"{one_line(error.args[0] if error.args else 'no result', 200)}", None)
        except Malformed as error:
            return f"{name}: the hidden test exported something that is not plain numbers ({error})", None
        cases = reference["visible"] + reference["hidden"]
        return judge(name, _expected(reference), shown + secret, _mistakes(exercise, cases), exercise.hints,
                     hidden=hidden_labels, outputs=exercise.outputs)


def _exports(outputs, name, phase):
    """The runs exported in ``phase`` for exercise ``name`` among ``outputs``; LookupError if none."""
    found = [o["data"][MIME] for o in outputs if MIME in o.get("data", {})]
    found = [e for e in found if isinstance(e, dict) and e.get("exercise") == name and e.get("phase") == phase]
    if not found:
        raise LookupError("no result")
    runs = {}
    for export in found:  # a check exports its runs one by one; a later one wins
        if not isinstance(export.get("runs"), dict):
            raise Malformed("no runs")
        runs.update(export["runs"])
    return runs


def _runs(runs, use, labels, name):
    if "missing" in runs:  # said by the kernel, so in the grader's own words
        raise LookupError(f"no function named {name} was defined when its test ran")
    results = runs.get(use)
    if results is None:
        raise LookupError(f"no result{' with the correct helpers in place' if use == 'standin' else ''}")
    if not isinstance(results, list) or len(results) != len(labels):
        raise Malformed(f"expected {len(labels)} results")
    decoded = [decode_result(r, set(labels)) for r in results]
    if [r["case"] for r in decoded] != labels:
        raise Malformed("the results are not those of the test's cases")
    return decoded


def _did_not_finish(name, cell, event):
    if event:
        return f"{name}: the test did not run: {event}"
    errors = [o for o in cell.outputs if o.get("output_type") == "error"]
    if errors:
        return f"{name}: the test did not run to the end: {one_line(errors[-1].get('ename', ''), 60)}: " \
               f"{one_line(errors[-1].get('evalue', ''), 200)}"
    return f"{name}: the test cell produced no result (was the check call removed from the output?)"


def _expected(reference):
    return {c["case"]: c["expected"] for c in reference["visible"] + reference["hidden"]}


_mistake_cache = {}


def _mistakes(exercise, cases):
    """The known mistakes' results on ``cases``, computed once per grading process."""
    key = (exercise.name, tuple(c["case"] for c in cases))
    if key not in _mistake_cache:
        _mistake_cache[key] = exercise.mistake_results(cases)
    return _mistake_cache[key]


# What kind of failure a verdict is, for the class report, when no catalogued mistake names it. Read
# from the line this module and grader.compare wrote (their own words, never the student's), in order.
FAILURE_KINDS = [
    ("not implemented yet", "blank: still raises NotImplementedError"),
    ("in place; the caller's arrays must be left", "changed its inputs in place"),
    ("contains nan or inf", "nan or inf in the output"),
    ("it raised StandInMiss", "stand-in miss: calls a helper otherwise than a correct solution does"),
    ("stopped after", "timeout"),
    ("time limit", "timeout"),
    ("the kernel died", "crash: the kernel died"),
    ("could not read", "crash: the kernel sent something unreadable"),
    ("it raised", "raised an exception"),
    ("not plain numbers", "malformed export"),
    ("did not run", "the test did not run"),
    ("produced no result", "the test did not run"),
    ("no function named", "the function is missing"),
]


def failure_kind(line, mistake=None):
    """The class report's name for a failure: ``mistake`` when a catalogued mistake explains it, else
    one of ``FAILURE_KINDS``, else None (wrong values that no single known mistake explains)."""
    if mistake:
        return mistake
    body = line.split(" -> ")[0]
    return next((kind for fragment, kind in FAILURE_KINDS if fragment in body), None)
