"""One graded exercise of a problem set, as the trusted grader sees it."""

from dataclasses import dataclass, field

import numpy as np

from grader.compare import encode
from grader.student import make_args


@dataclass
class Exercise:
    """``name`` is the function the student writes and ``test_cell`` the grade_id of its test cell.

    ``reference`` computes the right answer from the same keyword arguments (from rnnlib).
    ``mistakes`` lists ``(message, function)``: plausible wrong answers and the one line that names
    each. ``hidden_cases(rng)`` returns ``[(label, kwargs)]``: unseen inputs, the ones that isolate one
    term each first. ``helpers`` names the other exercises of the set that the student's function may
    call; when one of those failed, the student's function is judged with the instructor's solution
    of the helper in its place. ``hints`` maps a shape-hint kind of ``grader.compare.SHAPE_HINTS``, or
    ``"error:<text>"`` for an exception whose text contains <text>, to a message.
    """

    name: str
    test_cell: str
    reference: callable
    hidden_cases: callable
    seed: int
    mistakes: list = field(default_factory=list)
    helpers: tuple = ()
    hints: dict = field(default_factory=dict)
    outputs: tuple = ()  # names of the values a function returns several of, e.g. ("dx", "dh_prev", ...)
    decimals: int = 3  # hidden inputs are rounded, so they read like the visible ones

    def hidden(self, student=None):
        """The hidden cases as ``[{"case", "args"}]`` with inputs rounded and arrays as nested lists, drawn
        from ``seed``, or from the course secret (and ``student``'s id) when there is one (grader/secret.py)."""
        from grader.secret import hidden_seed

        cases = []
        for label, args in self.hidden_cases(np.random.default_rng(hidden_seed(self.seed, student))):
            cases.append({"case": label, "args": {k: _plain(v, self.decimals) for k, v in args.items()}})
        return cases

    def mistake_results(self, cases, extended=False):
        """``{message: {label: result}}`` of every known mistake on ``cases``."""
        return {message: {case["case"]: evaluate(wrong, case, extended) for case in cases}
                for message, wrong in self.mistakes}


def evaluate(function, case, extended=False):
    """The result record of ``function`` on ``case`` (as ``grader.student`` would export it). With
    ``extended`` the arrays are converted to long double first, so the float64 answer is correctly
    rounded and the same on every machine, whatever BLAS kernel would have summed it."""
    args = make_args(case["args"])
    if extended:
        args = {k: v.astype(np.longdouble) if isinstance(v, np.ndarray) and v.dtype.kind == "f" else v
                for k, v in args.items()}
    try:
        value = function(**args)
    except Exception as error:
        message = " ".join(str(error).split())[:400]
        return {"case": case["case"], "mutated": [], "error": [type(error).__name__, message]}
    return {"case": case["case"], "mutated": [], "value": encode(value)}


def _plain(value, decimals):
    if isinstance(value, np.ndarray):
        return np.round(value.astype(np.float64), decimals).tolist()
    return value
