"""The course on a shared server (`make exchange`, scripts/server_layout.py), tried with real Unix accounts.

A copy of the course (one problem set, its references and a gradebook) gets the layout with a temporary
exchange root and student config; three new accounts each fetch, validate (with the students' wheel in a
venv they can use, nothing of their own configured) and submit as themselves; the instructor (root here)
collects; then each student tries to read solutions/, grader/references/, gradebook.db and a classmate's
submission (in the exchange, collected, and in the classmate's home) and must fail. The accounts, their
group and every file are removed afterwards.
"""

import concurrent.futures
import json
import os
import pathlib
import secrets
import shlex
import shutil
import stat
import subprocess
import sys
import tempfile

import nbformat
import pytest
import student_package
from course import solution_sources
from nbcourse import load_config, make_api
from server_env import SYSTEM_PYTHON, server_venv

ROOT = pathlib.Path(__file__).resolve().parent.parent
PS = "ps1_recurrence"
pytestmark = pytest.mark.skipif(os.geteuid() != 0 or shutil.which("useradd") is None
                                or not os.path.exists(SYSTEM_PYTHON),
                                reason="needs root, useradd and /usr/bin/python3: it creates Unix accounts")

PROBE = """
import json, os, sys
result = {}
for path in sys.argv[1:]:
    try:
        if os.path.isdir(path):
            os.listdir(path)
        else:
            open(path, "rb").read(1)
        result[path] = "read"
    except OSError as error:
        result[path] = type(error).__name__
print(json.dumps(result))
"""


def run_as(user, home, venv, config_dir, script):
    env = {"HOME": str(home), "USER": user, "LOGNAME": user, "PATH": f"{venv / 'bin'}:/usr/bin:/bin",
           "LANG": "C.UTF-8", "MPLBACKEND": "Agg", "JUPYTER_CONFIG_PATH": str(config_dir)}
    return subprocess.run(["runuser", "-u", user, "--", "env", "-i", *(f"{k}={v}" for k, v in env.items()),
                           "sh", "-c", script], cwd=home, capture_output=True, text=True, timeout=300)


@pytest.fixture
def server():
    """A scratch server root, a staff group and three student accounts, all removed afterwards."""
    base = pathlib.Path(tempfile.mkdtemp(prefix="rnn-server-", dir="/tmp"))
    os.chmod(base, 0o755)
    tag = secrets.token_hex(3)
    staff, students = f"rnnstaff{tag}", [f"rnnst{tag}{i}" for i in range(3)]
    made = []
    try:
        (base / "home").mkdir(mode=0o755)
        for name in students:
            subprocess.run(["useradd", "--create-home", "--home-dir", str(base / "home" / name), "--shell",
                            "/bin/sh", "-K", "HOME_MODE=0700", name], check=True, capture_output=True)
            made.append(name)
        yield base, staff, students
    finally:
        problems = []
        for name in made:
            done = subprocess.run(["userdel", "--remove", name], capture_output=True, text=True)
            if done.returncode not in (0, 12):  # 12: the home was already gone
                problems.append(done.stderr)
        subprocess.run(["groupdel", staff], capture_output=True)
        shutil.rmtree(base, ignore_errors=True)
        assert not problems, problems


def test_students_fetch_validate_and_submit_as_themselves_and_read_nothing_of_the_course(server, monkeypatch):
    base, staff, students = server
    course, exchange = base / "course", base / "srv" / "exchange"
    config_dir = base / "etc" / "jupyter"
    for folder in (f"solutions/{PS}", f"exercises/{PS}"):
        shutil.copytree(ROOT / folder, course / folder)
    (course / "grader" / "references").mkdir(parents=True)
    shutil.copy2(ROOT / "grader" / "references" / f"{PS}.json", course / "grader" / "references")
    shutil.copy2(ROOT / "nbgrader_config.py", course)

    layout = subprocess.run(["make", "-s", "-C", str(ROOT), "-o", ".venv/.installed", "exchange",
                             f"COURSE_ROOT={course}", f"EXCHANGE_ROOT={exchange}", f"COURSE_GROUP={staff}",
                             f"STUDENT_CONFIG={config_dir / 'nbgrader_config.py'}", "INSTRUCTOR=root"],
                            capture_output=True, text=True)
    assert layout.returncode == 0, layout.stdout + layout.stderr
    assert stat.S_IMODE(exchange.stat().st_mode) == 0o1777
    inbound = exchange / "rnn-course" / "inbound"
    assert stat.S_IMODE(inbound.stat().st_mode) == 0o2773 and inbound.stat().st_gid == _gid(staff)
    assert stat.S_IMODE(course.stat().st_mode) == 0o2750 and course.stat().st_gid == _gid(staff)
    installed = (config_dir / "nbgrader_config.py").read_text()
    assert f"EXCHANGE_ROOT = {str(exchange)!r}" in installed and "COURSE_ID = 'rnn-course'" in installed

    # The instructor releases, with the students' package next to the notebook (as `make release` does).
    monkeypatch.setenv("GRADER_EXCHANGE_ROOT", str(exchange))
    api = make_api(load_config(course))
    for step in (api.generate_assignment(PS, force=True, create=True), api.release_assignment(PS)):
        assert step["success"], step["log"]
    wheel = student_package.build(base / "dist")
    shutil.copy2(wheel, student_package.release_folder(PS, course) / wheel.name)
    venv = server_venv()
    subprocess.run([venv / "bin" / "python", "-m", "pip", "install", "--quiet", "--no-deps", "--force-reinstall",
                    wheel], check=True)

    nb = nbformat.read(course / "exercises" / PS / f"{PS}.ipynb", as_version=4)
    answers = solution_sources(PS, f"{PS}.ipynb")
    for cell in nb.cells:
        cell.source = answers.get(cell.metadata.get("nbgrader", {}).get("grade_id"), cell.source)
    nbformat.write(nb, base / "solved.ipynb")
    os.chmod(base / "solved.ipynb", 0o644)

    def work(name):
        return run_as(name, base / "home" / name, venv, config_dir, f"""set -e
            nbgrader fetch_assignment {PS}
            ls {PS}
            cp {base / 'solved.ipynb'} {PS}/{PS}.ipynb
            nbgrader validate {PS}/{PS}.ipynb
            nbgrader submit {PS}""")

    with concurrent.futures.ThreadPoolExecutor(len(students)) as pool:
        runs = dict(zip(students, pool.map(work, students)))
    for name, done in runs.items():
        assert done.returncode == 0, f"{name}:\n{done.stdout}\n{done.stderr}"
        assert wheel.name in done.stdout and "Success! Your notebook passes all the tests." in done.stdout

    submissions = sorted(inbound.iterdir())
    assert [s.name.split("+")[0] for s in submissions] == sorted(students)
    for submission in submissions:  # closed to all but the author and the staff (deploy/student/)
        assert stat.S_IMODE(submission.stat().st_mode) == 0o770 and submission.stat().st_gid == _gid(staff)
    result = api.collect(PS)
    assert result["success"], result["log"]
    assert sorted(p.name for p in (course / "submitted").iterdir()) == sorted(students)

    for i, name in enumerate(students):
        classmate = students[(i + 1) % len(students)]
        targets = [course / "solutions" / PS / f"{PS}.ipynb", course / "grader" / "references" / f"{PS}.json",
                   course / "gradebook.db", course / "submitted" / classmate / PS / f"{PS}.ipynb", course,
                   inbound, next(s for s in submissions if s.name.startswith(classmate + "+")) / f"{PS}.ipynb",
                   base / "home" / classmate / PS / f"{PS}.ipynb", base / "home" / classmate]
        assert all(t.exists() for t in targets)
        probe = run_as(name, base / "home" / name, venv, config_dir,
                       f"python -c '{PROBE}' " + " ".join(shlex.quote(str(t)) for t in targets))
        assert probe.returncode == 0, probe.stderr
        assert json.loads(probe.stdout) == {str(t): "PermissionError" for t in targets}
        own = next(s for s in submissions if s.name.startswith(name + "+")) / f"{PS}.ipynb"
        own = run_as(name, base / "home" / name, venv, config_dir, f"python -c '{PROBE}' {shlex.quote(str(own))}")
        assert "read" in own.stdout  # the probe itself works: a student reads their own submission


def _gid(group):
    import grp

    return grp.getgrnam(group).gr_gid


def test_the_exchange_may_not_be_inside_the_course_folder(tmp_path):
    done = subprocess.run([sys.executable, ROOT / "scripts" / "server_layout.py", "--exchange-root",
                           ROOT / "exchange", "--student-config", tmp_path / "c.py"], capture_output=True, text=True)
    assert done.returncode != 0 and "must be outside the course folder" in done.stderr
    assert not (tmp_path / "c.py").exists()
