"""The reference data of every problem set: reproducible bit for bit, equal to rnnlib, strong enough
visible tests, a diagnosis for every catalogued mistake, and nothing secret where students can see it."""

import json

import nbformat
import numpy as np
import pytest

from grader import problem_sets, references
from grader.compare import _as_array, explaining_mistakes, problem
from grader.exercise import evaluate
from tests.course import ROOT

SETS = problem_sets.names()


@pytest.fixture(scope="module", params=SETS)
def built(request):
    return request.param, *references.build(request.param)


def test_every_problem_set_has_a_module_notebook_and_references():
    assert "ps1_recurrence" in SETS
    for assignment in SETS:
        assert problem_sets.solution_notebook(assignment).exists()
        assert problem_sets.reference_path(assignment).exists(), "run `make references`"


def test_committed_reference_files_are_what_make_references_writes_bit_for_bit(built):
    assignment, refs, visible = built
    assert problem_sets.reference_path(assignment).read_text() == references._dump(refs), "run `make references`"
    assert problem_sets.visible_path(assignment).read_text() == references._dump(visible), "run `make references`"


def test_reference_outputs_still_equal_rnnlib_in_float64(built):
    assignment, refs, _ = built
    for exercise in problem_sets.load(assignment).EXERCISES:
        for case in refs["exercises"][exercise.name]["visible"] + refs["exercises"][exercise.name]["hidden"]:
            now = evaluate(exercise.reference, case)["value"]
            _assert_close(now, case["expected"], where=f"{exercise.name} / {case['case']}")


def _assert_close(got, want, where):
    if "seq" in want:
        for g, w in zip(got["seq"], want["seq"], strict=True):
            _assert_close(g, w, where)
    elif "map" in want:
        assert sorted(got["map"]) == sorted(want["map"]), where
        for key in want["map"]:
            _assert_close(got["map"][key], want["map"][key], where)
    else:
        np.testing.assert_allclose(_as_array(got), _as_array(want), rtol=1e-12, atol=1e-14, err_msg=where)


def test_every_catalogued_mistake_fails_a_visible_case(built):
    """So that `nbgrader validate` already tells a student what the grade will say."""
    assignment, refs, visible = built
    for exercise in problem_sets.load(assignment).EXERCISES:
        expected = {c["case"]: c["expected"] for c in refs["exercises"][exercise.name]["visible"]}
        for message, by_case in visible[exercise.name]["mistakes"].items():
            caught = ["error" in r or problem(r["value"], expected[label]) for label, r in by_case.items()]
            assert any(caught), f"{assignment}: no visible case of {exercise.name} catches: {message}"


def test_the_cases_tell_every_catalogued_mistake_apart(built):
    """On all cases together, each mistake is the only one that explains its own answers, so the
    feedback can name it."""
    assignment, refs, _ = built
    for exercise in problem_sets.load(assignment).EXERCISES:
        data = refs["exercises"][exercise.name]
        cases = data["visible"] + data["hidden"]
        results = exercise.mistake_results(cases)
        for message, by_case in results.items():
            explaining = explaining_mistakes(list(by_case.values()), results)
            assert explaining == [message], f"{assignment}/{exercise.name}: {message!r} looks like {explaining}"


def test_hidden_cases_come_first_isolating_one_term_where_the_exercise_has_terms(built):
    assignment, refs, _ = built
    for name, data in refs["exercises"].items():
        labels = [c["case"] for c in data["hidden"]]
        assert len(labels) >= 3 and len(set(labels)) == len(labels), f"{name}: at least three distinct hidden cases"


def test_nothing_a_student_kernel_can_read_holds_a_hidden_reference(built):
    from nbcourse import solution_fingerprints

    assignment, refs, visible = built
    hidden = {p for p in solution_fingerprints(assignment) if p[:1] in "-0123456789"}
    assert hidden, "the fingerprints must include the hidden reference outputs"
    readable = json.dumps(visible) + (ROOT / "grader" / "student.py").read_text() + \
        (ROOT / "grader" / "compare.py").read_text()
    assert not [p for p in hidden if p in readable]


def test_committed_exercises_are_what_generate_assignment_makes(tmp_path):
    import make_exercises

    make_exercises.generate(tmp_path, SETS)
    for assignment in SETS:
        for path in (ROOT / "exercises" / assignment).glob("*.ipynb"):
            fresh = nbformat.read(tmp_path / assignment / path.name, as_version=4)
            committed = nbformat.read(path, as_version=4)
            assert [(c.cell_type, c.source, c.metadata) for c in fresh.cells] == \
                [(c.cell_type, c.source, c.metadata) for c in committed.cells], "exercises/ is stale: make exercises"


@pytest.mark.parametrize("assignment", SETS)
def test_release_leaks_no_solution_mark_scheme_or_reference(assignment):
    from nbcourse import SOLUTION_MARKERS, leaks, solution_fingerprints

    def text(folder):
        return "\n".join(c.source for p in (ROOT / folder / assignment).glob("*.ipynb")
                         for c in nbformat.read(p, as_version=4).cells)

    assert leaks(text("exercises"), assignment) == []
    source_prints = [p for p in solution_fingerprints(assignment) - set(SOLUTION_MARKERS) if p[:1] not in "-0123456789"]
    assert len(source_prints) > 10 and not [p for p in source_prints if p not in text("solutions")], \
        "the fingerprints must be found in the instructor notebook, or the check proves nothing"
