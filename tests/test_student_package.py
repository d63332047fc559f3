"""The students' package (scripts/student_package.py, `make student-package`): what test cells need and
nothing of the instructor's, installed where the course folder cannot be seen.

The end-to-end test installs the wheel into a venv outside the course (numpy, matplotlib, nbgrader and
ipykernel at the course's pinned versions; kept between runs under the temporary folder, keyed on
requirements.txt, because creating it takes about a minute) and runs `nbgrader validate` in bubblewrap with the
course folder hidden behind an empty directory.
"""

import hashlib
import json
import os
import pathlib
import shutil
import subprocess
import sys
import tempfile
import zipfile

import nbformat
import pytest
import student_package
from course import solution_sources
from server_env import building

ROOT = pathlib.Path(__file__).resolve().parent.parent
STUDENT_PINS = ("nbgrader", "numpy", "matplotlib", "ipykernel")


@pytest.fixture(scope="module")
def wheel(tmp_path_factory):
    return student_package.build(tmp_path_factory.mktemp("dist"))


def test_the_wheel_holds_only_check_comparison_and_visible_cases(wheel):
    with zipfile.ZipFile(wheel) as archive:
        names = archive.namelist()
        metadata = archive.read(next(n for n in names if n.endswith("METADATA"))).decode()
    package = sorted(n for n in names if not n.startswith("rnn_course_student"))
    visible = sorted(f"grader/visible/{p.name}" for p in (ROOT / "grader" / "visible").glob("*.json"))
    assert package == sorted(["grader/__init__.py", "grader/compare.py", "grader/student.py", *visible])
    requires = sorted(line.split(":", 1)[1].strip() for line in metadata.splitlines()
                      if line.startswith("Requires-Dist:"))
    assert requires == ["matplotlib>=3.8", "numpy>=2"]
    assert not any("references" in n or "solutions" in n for n in names)


def test_no_solution_line_model_answer_or_hidden_value_is_in_the_wheel(wheel):
    assert student_package.leaks_in(wheel, ["ps1_recurrence", "ps2_bptt", "ps3_gradient_decay", "ps4_lstm",
                                            "ps5_gru", "ps6_generating_today"]) == []


def test_the_leak_search_finds_a_solution_line_and_a_hidden_value(tmp_path):
    prints = sorted(p for p in student_package.solution_fingerprints("ps1_recurrence") if len(p) > 20)
    reference = json.loads((ROOT / "grader" / "references" / "ps1_recurrence.json").read_text())
    expected = [case["expected"] for ex in reference["exercises"].values() for case in ex["hidden"]]
    hidden = repr(next(v for v in _floats(expected) if len(repr(v)) >= 14))
    fake = tmp_path / "fake.whl"
    with zipfile.ZipFile(fake, "w") as archive:
        archive.writestr("grader/student.py", f"# {prints[0]}\n")
        archive.writestr("grader/visible/x.json", f"[{hidden}]")
    found = student_package.leaks_in(fake, ["ps1_recurrence"])
    assert ("grader/student.py", "ps1_recurrence", prints[0]) in found
    assert ("grader/visible/x.json", "ps1_recurrence", hidden) in found


def _floats(value):
    if isinstance(value, float):
        yield value
    elif isinstance(value, dict | list):
        for item in value.values() if isinstance(value, dict) else value:
            yield from _floats(item)


def test_an_import_of_an_instructor_module_stops_the_build():
    assert student_package.foreign_imports("from grader.compare import judge\nimport numpy") == []
    assert student_package.foreign_imports("from grader.references import load") == ["references"]
    assert student_package.foreign_imports("from grader import problem_sets") == ["problem_sets"]
    assert student_package.foreign_imports("import grader.execute") == ["execute"]


def student_venv():
    """A venv outside the course folder with the students' tools at the course's pinned versions."""
    pins = [line for line in (ROOT / "requirements.txt").read_text().splitlines()
            if line.split("==")[0].strip().lower() in STUDENT_PINS]
    # the whole file constrains what pip picks for the rest of the tree, so it is all in the key
    key = hashlib.sha256((ROOT / "requirements.txt").read_bytes()).hexdigest()[:12]
    venv = pathlib.Path(tempfile.gettempdir()) / f"rnn-course-student-venv-{key}"
    with building(venv) as missing:
        if missing:
            subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True)
            subprocess.run([venv / "bin" / "python", "-m", "pip", "install", "--quiet", "-c",
                            ROOT / "requirements.txt", *STUDENT_PINS], check=True)
            (venv / ".ready").write_text("\n".join(pins))
    return venv


def in_student_sandbox(venv, workdir, *command):
    """Run ``command`` in bubblewrap with the course folder replaced by an empty one."""
    home = workdir / "home"
    home.mkdir(exist_ok=True)
    env = {"PATH": f"{venv / 'bin'}:/usr/bin:/bin", "HOME": str(home), "LANG": "C.UTF-8",
           "MPLBACKEND": "Agg", "JUPYTER_PLATFORM_DIRS": "1"}
    # /tmp first: a course folder under /tmp (a fresh clone there) then gets its empty stand-in inside it
    wrap = ["bwrap", "--ro-bind", "/", "/", "--dev", "/dev", "--proc", "/proc", "--tmpfs", "/tmp",
            "--tmpfs", str(ROOT), "--bind", str(workdir), str(workdir), "--ro-bind", str(venv), str(venv),
            "--chdir", str(workdir), "--unshare-pid", "--die-with-parent"]
    return subprocess.run(wrap + [str(c) for c in command], env=env, capture_output=True, text=True, timeout=300)


@pytest.mark.skipif(shutil.which("bwrap") is None, reason="bubblewrap missing: run `make system`")
def test_a_student_without_the_course_folder_installs_the_wheel_and_validates_a_solved_notebook(wheel, tmp_path):
    venv = student_venv()
    subprocess.run([venv / "bin" / "python", "-m", "pip", "install", "--quiet", "--no-deps", "--force-reinstall",
                    wheel], check=True)
    workdir = tmp_path / "student"
    workdir.mkdir()
    answers = solution_sources("ps1_recurrence", "ps1_recurrence.ipynb")
    nb = nbformat.read(ROOT / "exercises" / "ps1_recurrence" / "ps1_recurrence.ipynb", as_version=4)
    for cell in nb.cells:
        grade_id = cell.metadata.get("nbgrader", {}).get("grade_id")
        cell.source = answers.get(grade_id, cell.source)
    nbformat.write(nb, workdir / "solved.ipynb")
    wrong = nbformat.read(workdir / "solved.ipynb", as_version=4)
    for cell in wrong.cells:
        if cell.metadata.get("nbgrader", {}).get("grade_id") == "rnn_step":
            cell.source = cell.source.replace("np.tanh(", "np.sin(")
    nbformat.write(wrong, workdir / "wrong.ipynb")

    seen = in_student_sandbox(venv, workdir, venv / "bin" / "python", "-c",
                              "import os, grader.student, importlib.util as u; "
                              f"print(grader.student.__file__); print(u.find_spec('rnnlib')); "
                              f"print(sorted(os.listdir({str(ROOT)!r})))")
    assert seen.returncode == 0, seen.stderr
    module, rnnlib, listing = seen.stdout.splitlines()
    assert module.startswith(str(venv)) and rnnlib == "None" and listing == "[]"

    solved = in_student_sandbox(venv, workdir, venv / "bin" / "nbgrader", "validate", "solved.ipynb")
    assert solved.returncode == 0 and "Success! Your notebook passes all the tests." in solved.stdout, \
        solved.stdout + solved.stderr
    failed = in_student_sandbox(venv, workdir, venv / "bin" / "nbgrader", "validate", "wrong.ipynb")
    assert "VALIDATION FAILED" in failed.stdout and "rnn_step" in failed.stdout, failed.stdout + failed.stderr
    assert os.environ.get("GRADER_EXPORT_FILE") is None
