"""Write the hidden tests of the problem sets from rnnlib.

For every graded test cell listed in ``HIDDEN_CASES``, the block between ``### BEGIN HIDDEN TESTS`` and
``### END HIDDEN TESTS`` of the instructor notebook in ``solutions/`` is replaced by a call to
``rnnlib.grading.check`` with unseen inputs and the reference outputs that rnnlib computes for them.
Run it through ``make references`` (which then regenerates ``exercises/``); ``tests/`` fails when the
notebooks and rnnlib disagree.
"""

import pathlib
import pprint
import sys

import nbformat
import numpy as np

from rnnlib.exercises import EXERCISES

ROOT = pathlib.Path(__file__).resolve().parent.parent
BEGIN, END = "### BEGIN HIDDEN TESTS", "### END HIDDEN TESTS"


def _weights(rng, D, H, scale=0.8):
    uniform = lambda *shape: rng.uniform(-scale, scale, size=shape)  # noqa: E731
    return {"W_ih": uniform(H, D), "W_hh": uniform(H, H), "b_ih": uniform(H), "b_hh": uniform(H)}


def rnn_step_cases(rng):
    """Each case isolates one term of the step first, so a failure says which term is wrong."""
    N, D, H = 2, 3, 4
    full = dict(x=rng.standard_normal((N, D)), h_prev=rng.uniform(-1, 1, (N, H)), **_weights(rng, D, H))
    zero_bias = {"b_ih": np.zeros(H), "b_hh": np.zeros(H)}
    square = dict(x=rng.standard_normal((1, 3)), h_prev=rng.uniform(-1, 1, (1, 3)), **_weights(rng, 3, 3))
    return [
        ("input term only (h_prev = 0, no bias)", {**full, "h_prev": np.zeros((N, H)), **zero_bias}),
        ("state term only (x = 0, no bias)", {**full, "x": np.zeros((N, D)), **zero_bias}),
        ("biases only (x = 0, h_prev = 0)", {**full, "x": np.zeros((N, D)), "h_prev": np.zeros((N, H))}),
        ("all terms, N = 2, D = 3, H = 4", full),
        ("all terms, N = 1, D = H = 3", square),
    ]


def rnn_forward_cases(rng):
    def case(T, N, D, H, h0_zero=False):
        h0 = np.zeros((N, H)) if h0_zero else rng.uniform(-1, 1, (N, H))
        return dict(xs=rng.standard_normal((T, N, D)), h0=h0, **_weights(rng, D, H))

    return [
        ("one step, T = 1", case(1, 2, 3, 4)),
        ("T = 6 from h0 = 0", case(6, 2, 3, 4, h0_zero=True)),
        ("T = 6 from a nonzero h0", case(6, 2, 3, 4)),
        ("T = 4, N = 1, D = 2, H = 5", case(4, 1, 2, 5)),
    ]


def rnn_param_count_cases(rng):
    sizes = [(1, 1), (3, 5), (10, 7), (7, 3), (128, 256)]
    return [(f"D = {D}, H = {H}", {"input_size": D, "hidden_size": H}) for D, H in sizes]


# notebook -> {test cell grade_id: (exercise name, case builder, seed)}
HIDDEN_CASES = {
    "ps1_recurrence/ps1_recurrence.ipynb": {
        "test_rnn_step": ("rnn_step", rnn_step_cases, 101),
        "test_rnn_forward": ("rnn_forward", rnn_forward_cases, 102),
        "test_rnn_param_count": ("rnn_param_count", rnn_param_count_cases, 103),
    },
}


def _literal(value):
    """Arrays become nested lists of 3-decimal inputs; reference outputs keep every digit."""
    if isinstance(value, np.ndarray):
        return value.tolist()
    return value


def hidden_block(name, cases):
    """The text of one hidden-test block: unseen inputs and rnnlib's outputs for them."""
    reference = EXERCISES[name].reference
    rendered = []
    for label, args in cases:
        args = {k: np.round(v, 3) if isinstance(v, np.ndarray) else v for k, v in args.items()}
        expected = reference(**args)
        rendered.append({"case": label, "args": {k: _literal(v) for k, v in args.items()},
                         "expected": _literal(np.asarray(expected)) if not np.isscalar(expected) else expected})
    body = pprint.pformat(rendered, width=110, sort_dicts=False)
    return "\n".join([
        BEGIN,
        "# Written by `make references` (scripts/make_references.py) from rnnlib: do not edit by hand.",
        "import importlib",
        "import rnnlib.grading",
        f"_hidden_cases = {body}",
        f"importlib.reload(rnnlib.grading).check({name!r}, {name}, _hidden_cases)",
        END,
    ])


def with_hidden_tests(source, block):
    """Replace the hidden block of a test cell's source by ``block``."""
    start, stop = source.index(BEGIN), source.index(END) + len(END)
    return source[:start] + block + source[stop:]


def render(path, cells):
    """The notebook at ``path`` with every listed hidden block rewritten."""
    nb = nbformat.read(path, as_version=4)
    found = set()
    for cell in nb.cells:
        grade_id = cell.metadata.get("nbgrader", {}).get("grade_id")
        if grade_id in cells:
            name, builder, seed = cells[grade_id]
            cell.source = with_hidden_tests(cell.source, hidden_block(name, builder(np.random.default_rng(seed))))
            found.add(grade_id)
    missing = set(cells) - found
    if missing:
        raise ValueError(f"{path}: expected test cells {sorted(missing)}, found none with those grade_ids")
    return nb


def main():
    for relative, cells in HIDDEN_CASES.items():
        path = ROOT / "solutions" / relative
        nbformat.write(render(path, cells), path)
        print(f"wrote hidden tests of {len(cells)} cells in {path.relative_to(ROOT)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
