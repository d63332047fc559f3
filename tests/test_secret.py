"""Hidden cases from a course secret (grader/secret.py): the committed defaults warn, a secret draws other
hidden inputs (written outside git), per-student cases differ between students and are graded right."""

import json
import os

import pytest

from grader import problem_sets, references, secret
from tests.course import Course, points, solution_sources

PS = "ps1_recurrence"
NOTEBOOK = "ps1_recurrence.ipynb"
KEY = "a-course-secret-for-the-tests-0123456789"


def _clear():
    for cached in (secret.settings, secret.course_secret, secret.student_references, problem_sets._references,
                   references.hidden_standins):
        cached.cache_clear()


@pytest.fixture
def clean(monkeypatch):
    for name in ("GRADER_SECRET", "GRADER_SECRET_FILE", "GRADER_PER_STUDENT", "GRADER_SECRET_REFERENCES",
                 secret.WARNED):
        monkeypatch.delenv(name, raising=False)
    _clear()
    yield monkeypatch
    _clear()


def hidden_args(document):
    return {name: [case["args"] for case in exercise["hidden"]] for name, exercise in document["exercises"].items()}


def test_without_a_secret_the_committed_cases_are_graded_with_a_warning(clean, capsys):
    assert secret.hidden_seed(101) == 101
    assert secret.references_folder(problem_sets.HERE / "references") == problem_sets.HERE / "references"
    committed = json.loads((problem_sets.HERE / "references" / f"{PS}.json").read_text())
    assert problem_sets.references(PS) == committed
    problem_sets.references("ps2_bptt")
    printed = capsys.readouterr().err
    assert printed.count("grading with the committed hidden cases") == 1 and "course secret" in printed
    with pytest.raises(secret.SecretError, match="need a course secret"):
        secret.hidden_seed(101, "alice")


def test_a_secret_draws_other_hidden_inputs_and_keeps_them_out_of_the_repository(clean, tmp_path):
    clean.setenv("GRADER_SECRET", KEY)
    clean.setenv("GRADER_SECRET_REFERENCES", str(tmp_path / "refs"))
    assert problem_sets.reference_path(PS) == tmp_path / "refs" / f"{PS}.json"
    made, visible = references.build(PS)
    committed = json.loads((problem_sets.HERE / "references" / f"{PS}.json").read_text())
    assert visible == json.loads(problem_sets.visible_path(PS).read_text())  # what students see is unchanged
    assert hidden_args(made)["rnn_step"] != hidden_args(committed)["rnn_step"]
    assert [c["case"] for c in made["exercises"]["rnn_step"]["hidden"]] == \
        [c["case"] for c in committed["exercises"]["rnn_step"]["hidden"]]
    assert references.build(PS)[0] == made  # reproducible from the secret
    with pytest.raises(secret.SecretError, match="run `make references`"):
        problem_sets.references(PS)
    _clear()
    clean.setenv("GRADER_SECRET", KEY + "-another")
    assert hidden_args(references.build(PS)[0])["rnn_step"] != hidden_args(made)["rnn_step"]


def test_the_secret_file_must_be_private_and_outside_the_repository(clean, tmp_path):
    path = tmp_path / "course.secret"
    path.write_text(KEY)
    os.chmod(path, 0o644)
    clean.setenv("GRADER_SECRET_FILE", str(path))
    with pytest.raises(secret.SecretError, match="readable by every account"):
        secret.course_secret()
    _clear()
    os.chmod(path, 0o600)
    assert secret.course_secret() == KEY.encode()
    _clear()
    clean.setenv("GRADER_SECRET_FILE", str(problem_sets.ROOT / "README.md"))
    with pytest.raises(secret.SecretError, match="inside the repository"):
        secret.course_secret()
    _clear()
    clean.setenv("GRADER_SECRET_FILE", "/etc/hostname")
    with pytest.raises(secret.SecretError, match="which the grading sandbox shows"):
        secret.course_secret()


def test_per_student_cases_differ_between_students_and_are_graded_in_the_graders_process(clean, tmp_path):
    clean.setenv("GRADER_SECRET", KEY)
    clean.setenv("GRADER_PER_STUDENT", "1")
    clean.setenv("GRADER_SECRET_REFERENCES", str(tmp_path / "refs"))
    problem_sets.reference_path(PS).write_text(references._dump(references.build(PS)[0]))
    alice, bob = problem_sets.references(PS, "alice"), problem_sets.references(PS, "bob")
    assert hidden_args(alice)["rnn_step"] != hidden_args(bob)["rnn_step"]
    assert hidden_args(alice) == hidden_args(secret.student_references.__wrapped__(PS, "alice"))
    assert alice["exercises"]["rnn_step"]["visible"] == bob["exercises"]["rnn_step"]["visible"]

    course = Course(tmp_path / "course")
    answers = solution_sources(PS, NOTEBOOK)
    course.submit(PS, "alice", answers)
    course.submit(PS, "bob", {**answers, "rnn_step": answers["rnn_step"].replace("np.tanh(", "np.sin(")})
    assert course.api.generate_assignment(PS, force=True, create=True)["success"]
    secret.student_references.cache_clear()
    for student in ("alice", "bob"):  # nbgrader autograde, the pipeline `make grade` runs in its workers
        result = course.api.autograde(PS, student, force=True, create=True)
        assert result["success"], result["log"]
    assert secret.student_references.cache_info().currsize == 2  # each one's own cases, made while grading
    tests = points(PS, NOTEBOOK)
    assert {cell: course.scores(PS, "alice")[cell] for cell in tests} == {c: (p, p) for c, p in tests.items()}
    assert {cell: course.scores(PS, "bob")[cell] for cell in tests} == {
        c: (0.0 if c == "test_rnn_step" else p, p) for c, p in tests.items()}
