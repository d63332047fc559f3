"""``grader.student.check`` as a test cell calls it, in this process (fast): warnings, line width, named
outputs, stand-ins that still name a catalogued mistake, and the failure kinds of the class report."""

import warnings

import nbformat
import numpy as np
import pytest

import grader.student as student
from grader.compare import WIDTH, wrapped
from grader.verdicts import failure_kind
from tests.course import ROOT, solution_sources


def run_tests(ps, answers):
    """Each test cell of ``ps`` run after the solution cells, with ``answers`` in place of some:
    ``{test cell: None or its one-line failure}``."""
    student._registry.clear()
    student._visible_verdicts.clear()
    sources = {**solution_sources(ps, f"{ps}.ipynb"), **answers}
    nb = nbformat.read(ROOT / "solutions" / ps / f"{ps}.ipynb", as_version=4)
    namespace, verdicts = {"np": np, "check": student.check}, {}
    for cell in nb.cells:
        meta = cell.metadata.get("nbgrader", {})
        if cell.cell_type != "code":
            continue
        if meta.get("solution") and meta.get("grade_id") in sources:
            exec(sources[meta["grade_id"]], namespace)  # noqa: S102
        elif meta.get("grade"):
            try:
                exec(cell.source, namespace)  # noqa: S102
                verdicts[meta["grade_id"]] = None
            except student.CheckFailed as error:
                verdicts[meta["grade_id"]] = str(error)
    return verdicts


def edited(ps, cell, old, new):
    source = solution_sources(ps, f"{ps}.ipynb")[cell]
    assert old in source
    return {cell: source.replace(old, new)}


def test_a_right_answer_that_warns_passes_and_prints_nothing(capsys):
    answers = edited("ps4_lstm", "cell_path_gradient", "return np.prod(fs, axis=0)",
                     "return np.exp(np.sum(np.log(fs), axis=0))")  # log(0) on the shut gate: a warning
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # a warning that escaped check would raise here
        assert run_tests("ps4_lstm", answers)["test_cell_path_gradient"] is None
    assert capsys.readouterr().err == ""


def test_a_nan_answer_quotes_the_warning_that_came_with_it():
    answers = edited("ps4_lstm", "cell_path_gradient", "return np.prod(fs, axis=0)",
                     "return np.prod(fs, axis=0) * np.log(0 * fs[0])")
    line = run_tests("ps4_lstm", answers)["test_cell_path_gradient"]
    assert "contains nan or inf (numpy warned: RuntimeWarning:" in line


@pytest.mark.parametrize("text", ["x" * 300, "word " * 80, "a_very_long_identifier_" * 8 + " and more words " * 10])
def test_wrapped_lines_fit_validate_without_cutting_a_word(text):
    lines = wrapped(text)
    assert all(len(line) <= WIDTH for line in lines)
    assert WIDTH + 4 <= 87, "validate indents by four and cuts at 87"
    for word in text.split():
        if len(word) <= WIDTH:
            assert any(word in line.split() for line in lines), f"{word!r} was cut"


@pytest.mark.parametrize("ps, cell, old, new, name", [
    ("ps4_lstm", "lstm_step_forward", "return h, c", "return h, c * 2", "c"),
    ("ps4_lstm", "lstm_step_backward", "dc_total * f, da.T", "dc_total, da.T", "dc_prev"),
    ("ps2_bptt", "softmax_cross_entropy", "(np.exp(log_p) - onehot) / positions", "np.exp(log_p) - onehot", "dlogits"),
    ("ps2_bptt", "rnn_step_backward", "db.copy()", "2 * db", "db_hh"),
    ("ps2_bptt", "rnn_backward", "return dxs, dh_next", "return dxs, 0 * dh_next", "dh0"),
    ("ps3_gradient_decay", "clip_by_global_norm", "return [g * factor for g in grads], total_norm",
     "return [g * factor for g in grads], 2 * total_norm", "total_norm"),
    ("ps3_gradient_decay", "clip_by_value", "np.clip(g, -clip_value, clip_value)", "np.clip(g, 0.0, clip_value)",
     "clipped[0]"),
    ("ps5_gru", "gru_step_backward", "da.sum(axis=0), du.sum(axis=0)", "da.sum(axis=0), da.sum(axis=0)", "db_hh"),
])
def test_a_function_that_returns_several_values_names_the_wrong_one(ps, cell, old, new, name):
    line = run_tests(ps, edited(ps, cell, old, new))[f"test_{cell}"]
    assert f" {name}: " in line and "output 0" not in line and "output 1" not in line, line


def test_a_catalogued_mistake_is_named_when_the_helper_is_wrong_too():
    """ps2: with rnn_step_backward wrong, rnn_backward runs on the stand-in, which also answers the
    calls a catalogued mistake makes: 'not carried' is named instead of a StandInMiss."""
    answers = {**edited("ps2_bptt", "rnn_step_backward", "(1 - h ** 2)", "(1 - h)"),
               **edited("ps2_bptt", "rnn_backward", "rnn_step_backward(dhs[t] + dh_next,", "rnn_step_backward(dhs[t],")}
    verdicts = run_tests("ps2_bptt", answers)
    assert "tanh' is 1 - h^2" in verdicts["test_rnn_step_backward"]
    assert "StandInMiss" not in verdicts["test_rnn_backward"]
    assert "the gradient from step t+1 is not carried" in verdicts["test_rnn_backward"]


def test_the_class_report_tells_failures_apart():
    assert failure_kind("f: not implemented yet (the function still raises NotImplementedError)") \
        == "blank: still raises NotImplementedError"
    assert failure_kind("f: on the case 'a' it changed its input h0 in place; the caller's arrays must be "
                        "left as they were (...)") == "changed its inputs in place"
    assert failure_kind("f: on the case 'a' h: the output contains nan or inf") == "nan or inf in the output"
    assert failure_kind("f: on the case 'a' it raised StandInMiss: a correct g was put") .startswith("stand-in miss")
    assert failure_kind("f: the test did not run: stopped after 30 s (an endless loop?)") == "timeout"
    assert failure_kind("f: the test did not run: the kernel died while running this cell") \
        == "crash: the kernel died"
    assert failure_kind("f: on the case 'a' it raised ValueError: shapes") == "raised an exception"
    assert failure_kind("f: on the case 'a' the values are wrong (largest difference 1)") is None
    assert failure_kind("f: on the case 'a' the values are wrong -> b_hh is missing", "b_hh is missing") \
        == "b_hh is missing"
