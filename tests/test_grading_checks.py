"""rnnlib.grading.check on its own (no nbgrader): right answers pass silently, every catalogued
mistake is named, and the usual ways of cheating do not pass."""

import ast
import re

import nbformat
import numpy as np
import pytest

import rnnlib.grading
from rnnlib import rnn
from rnnlib.exercises import EXERCISES
from tests.course import ROOT

SOLUTIONS = ROOT / "solutions" / "ps1_recurrence" / "ps1_recurrence.ipynb"


def hidden_cases(grade_id):
    """The case list written inline in a test cell's hidden block of the instructor notebook."""
    nb = nbformat.read(SOLUTIONS, as_version=4)
    (cell,) = [c for c in nb.cells if c.metadata.get("nbgrader", {}).get("grade_id") == grade_id]
    block = cell.source.split("### BEGIN HIDDEN TESTS")[1].split("### END HIDDEN TESTS")[0]
    (assign,) = [n for n in ast.parse(block).body if isinstance(n, ast.Assign)]
    return ast.literal_eval(assign.value)


CASES = {name: hidden_cases(f"test_{name}") for name in EXERCISES}


def run_check(name, fn):
    rnnlib.grading.check(name, fn, CASES[name])


@pytest.mark.parametrize("name", sorted(EXERCISES))
def test_reference_passes_silently(name, capfd):
    run_check(name, EXERCISES[name].reference)
    out, err = capfd.readouterr()
    assert out == "" and err == ""


@pytest.mark.parametrize("name,message,mistake", [
    (name, message, wrong) for name, ex in EXERCISES.items() for message, wrong in ex.mistakes
], ids=lambda v: v if isinstance(v, str) and len(v) < 30 else None)
def test_every_catalogued_mistake_is_named(name, message, mistake):
    with pytest.raises(AssertionError) as failure:
        run_check(name, mistake)
    assert str(failure.value).startswith(f"{name}: ")
    assert message in str(failure.value)
    assert "\n" not in str(failure.value), "the diagnosis must be one line"


def test_isolating_cases_name_the_term_that_is_wrong():
    def step_with_wrong_input_term(x, h_prev, W_ih, W_hh, b_ih, b_hh):
        return np.tanh(2 * x @ W_ih.T + b_ih + h_prev @ W_hh.T + b_hh)

    with pytest.raises(AssertionError, match="case 'input term only"):
        run_check("rnn_step", step_with_wrong_input_term)


def test_shape_mistakes_get_a_hint():
    with pytest.raises(AssertionError, match="only the last state is returned"):
        run_check("rnn_forward", lambda **a: EXERCISES["rnn_forward"].reference(**a)[-1])
    with pytest.raises(AssertionError, match="batch-first"):
        run_check("rnn_forward", lambda **a: EXERCISES["rnn_forward"].reference(**a).transpose(1, 0, 2))
    with pytest.raises(AssertionError, match="shape mismatch"):
        run_check("rnn_step", lambda x, h_prev, W_ih, W_hh, b_ih, b_hh: np.tanh(x @ W_ih + h_prev @ W_hh.T))


def test_unimplemented_and_crashing_answers_fail_with_a_message():
    def unimplemented(**_):
        raise NotImplementedError()

    with pytest.raises(AssertionError, match="not implemented yet"):
        run_check("rnn_step", unimplemented)
    with pytest.raises(AssertionError, match="raised ZeroDivisionError"):
        run_check("rnn_step", lambda **_: 1 / 0)
    with pytest.raises(AssertionError, match="returned a pair"):
        run_check("rnn_step", lambda **a: (EXERCISES["rnn_step"].reference(**a), {}))
    with pytest.raises(AssertionError, match="expected a number"):
        run_check("rnn_param_count", lambda input_size, hidden_size: "21")


def test_calling_the_course_library_is_blocked_and_restored():
    with pytest.raises(AssertionError, match="calls rnnlib.rnn.cell_forward"):
        run_check("rnn_step", lambda x, h_prev, W_ih, W_hh, b_ih, b_hh: rnn.cell_forward(x, h_prev, W_ih, W_hh, b_ih,
                                                                                          b_hh)[0])
    h, _ = rnn.cell_forward(np.ones((1, 2)), np.ones((1, 3)), np.ones((3, 2)), np.ones((3, 3)), np.ones(3), np.ones(3))
    assert h.shape == (1, 3)


class AlwaysEqual(np.ndarray):
    def __eq__(self, other):
        return True

    def __sub__(self, other):
        return np.zeros(self.shape)


def test_patched_numpy_helpers_and_fake_arrays_do_not_pass(monkeypatch):
    monkeypatch.setattr(np, "allclose", lambda *a, **k: True)
    monkeypatch.setattr(np.testing, "assert_allclose", lambda *a, **k: None)
    with pytest.raises(AssertionError, match="the values are wrong"):
        run_check("rnn_step", lambda x, h_prev, **_: np.zeros((x.shape[0], h_prev.shape[1])).view(AlwaysEqual))


def test_replacing_numpy_functions_is_detected(monkeypatch):
    monkeypatch.setattr(np, "asarray", lambda *a, **k: None)
    with pytest.raises(AssertionError, match="numpy.asarray has been replaced"):
        run_check("rnn_step", EXERCISES["rnn_step"].reference)


def test_the_forward_pass_is_graded_with_a_correct_step_in_place():
    namespace = {"np": np}
    exec("def rnn_step(x, h_prev, W_ih, W_hh, b_ih, b_hh):\n    return x * 0\n"
         "def rnn_forward(xs, h0, W_ih, W_hh, b_ih, b_hh):\n"
         "    h, hs = h0, []\n"
         "    for x in xs:\n        h = rnn_step(x, h, W_ih, W_hh, b_ih, b_hh)\n        hs.append(h)\n"
         "    return np.stack(hs)\n", namespace)
    run_check("rnn_forward", namespace["rnn_forward"])
    assert namespace["rnn_step"](np.ones(2), None, None, None, None, None).tolist() == [0.0, 0.0], "restored"
    with pytest.raises(AssertionError):
        run_check("rnn_step", namespace["rnn_step"])


def test_hidden_references_equal_rnnlib():
    """The reference outputs written in the notebook still equal what rnnlib computes today."""
    for name, cases in CASES.items():
        assert len(cases) >= 4
        for case in cases:
            args = {k: v if isinstance(v, int) else np.array(v) for k, v in case["args"].items()}
            expected = np.asarray(case["expected"], dtype=np.float64)
            got = np.asarray(EXERCISES[name].reference(**args), dtype=np.float64)
            assert got.shape == expected.shape and np.max(np.abs(got - expected), initial=0) <= 1e-12, \
                (name, case["case"])


def test_hidden_cases_are_what_make_references_writes():
    """Same labels and inputs as the seeded generator; outputs equal up to rounding."""
    import make_references

    (cells,) = make_references.HIDDEN_CASES.values()
    for grade_id, (name, builder, seed) in cells.items():
        written = CASES[name]
        rendered = ast.literal_eval(make_references.hidden_block(name, builder(np.random.default_rng(seed)))
                                    .split("_hidden_cases = ", 1)[1].split("\nimportlib.reload", 1)[0])
        assert [(c["case"], c["args"]) for c in written] == [(c["case"], c["args"]) for c in rendered], \
            f"{grade_id}: run `make references`"
        for old, new in zip(written, rendered):
            assert np.max(np.abs(np.subtract(old["expected"], new["expected"])), initial=0) <= 1e-12


def test_hidden_inputs_are_unseen():
    """No hidden case repeats the visible sanity case's inputs."""
    nb = nbformat.read(SOLUTIONS, as_version=4)
    visible = "\n".join(c.source.split("### BEGIN HIDDEN TESTS")[0] for c in nb.cells if c.cell_type == "code")
    for cases in CASES.values():
        for case in cases:
            for value in case["args"].values():
                if isinstance(value, list) and np.size(value) > 3:
                    assert re.escape(str(value)) not in visible
