"""The grading engine's parts on their own: the sandbox, the comparison of answers, the export of
grades, the gradebook backup, and a class graded against a real PostgreSQL server."""

import math
import os
import pathlib
import shutil
import socket
import subprocess
import sys
import tempfile
import time

import numpy as np
import pytest

from grader import compare, sandbox
from tests.course import ROOT, Course, solution_sources

# ---- the sandbox ---------------------------------------------------------------------------------


def run_sandboxed(code, limits=None):
    with tempfile.TemporaryDirectory(prefix="grader-test-") as run:
        os.chmod(run, 0o711)
        scratch, runtime = pathlib.Path(run) / "scratch", pathlib.Path(run) / "runtime"
        scratch.mkdir()
        runtime.mkdir()
        argv = sandbox.command([sys.executable, "-c", code], scratch, runtime, limits)
        done = subprocess.run(argv, capture_output=True, text=True, timeout=120)
        written = sorted(p.name for p in scratch.iterdir())
    return done, written


def test_the_sandbox_hides_the_course_the_gradebook_and_the_network():
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen()
    port = listener.getsockname()[1]
    gradebook = ROOT / "gradebook.db"
    code = f"""
import os, socket, importlib.util
print("solutions", os.path.exists({str(ROOT / 'solutions')!r}))
print("gradebook", os.path.exists({str(gradebook)!r}))
print("rnnlib", importlib.util.find_spec("rnnlib") is not None)
print("grading module", os.path.exists({str(ROOT / 'grader' / 'ps1_recurrence.py')!r}))
print("references", os.path.exists({str(ROOT / 'grader' / 'references')!r}))
print("torch", importlib.util.find_spec("torch.nn") is not None if importlib.util.find_spec("torch") else False)
print("student side", importlib.util.find_spec("grader.student") is not None)
try:
    socket.create_connection(("127.0.0.1", {port}), timeout=2); print("network True")
except OSError:
    print("network False")
try:
    open({str(ROOT / 'oops.txt')!r}, "w"); print("course writable True")
except OSError:
    print("course writable False")
open("answer.txt", "w").write("ok")
print("uid", os.getuid())
"""
    done, written = run_sandboxed(code)
    listener.close()
    assert done.returncode == 0, done.stderr
    seen = dict(line.rsplit(" ", 1) for line in done.stdout.splitlines())
    assert seen == {"solutions": "False", "gradebook": "False", "rnnlib": "False", "grading module": "False",
                    "references": "False", "torch": "False", "student side": "True", "network": "False",
                    "course writable": "False", "uid": seen["uid"]}
    assert written == ["answer.txt"] and not (ROOT / "oops.txt").exists()
    if os.geteuid() == 0:
        assert int(seen["uid"]) != 0, "as root the kernel drops to a user id of its own"


def test_the_sandbox_limits_memory_processes_and_cpu_time():
    limits = sandbox.Limits(memory_mb=600, processes=40, cpu_seconds=2)
    done, _ = run_sandboxed("import numpy as np\ntry:\n    np.ones(int(2e8))\nexcept MemoryError:\n"
                            "    print('memory limited')\n", limits)
    assert "memory limited" in done.stdout, done.stderr
    done, _ = run_sandboxed("import os, time\nn = 0\ntry:\n    for _ in range(200):\n"
                            "        if os.fork() == 0:\n            time.sleep(5)\n            os._exit(0)\n"
                            "        n += 1\nexcept OSError:\n    print('processes limited at', n)\n", limits)
    assert "processes limited" in done.stdout, done.stderr
    start = time.monotonic()
    done, _ = run_sandboxed("while True:\n    pass\n", limits)
    assert done.returncode != 0 and time.monotonic() - start < 30, "a busy loop is killed at its CPU limit"


def test_the_sandbox_cannot_signal_the_grader():
    done, _ = run_sandboxed(f"import os, signal\nfor pid in ({os.getpid()}, 1, -1):\n    try:\n"
                            "        os.kill(pid, signal.SIGTERM)\n    except OSError as e:\n"
                            "        print(type(e).__name__)\n")
    assert "ProcessLookupError" in done.stdout or "PermissionError" in done.stdout  # the grader is still here


def test_grading_refuses_without_bubblewrap_and_says_how_to_fix_it(monkeypatch, tmp_path):
    monkeypatch.setenv("PATH", str(tmp_path))
    with pytest.raises(sandbox.SandboxUnavailable, match="apt-get install bubblewrap"):
        sandbox.check_available()


# ---- comparing answers ---------------------------------------------------------------------------

def test_encode_then_decode_keeps_numbers_shapes_and_non_finite_values():
    value = (np.array([[1.5, np.nan], [np.inf, -np.inf]]), 3, {"rnn": 21.0}, [np.zeros(2), np.ones(3)])
    decoded = compare.decode(compare.encode(value))
    first, number, mapping, pair = decoded["seq"]
    assert first["a"].shape == (2, 2) and math.isnan(first["a"][0, 1]) and first["a"][1, 1] == -math.inf
    assert number == {"n": 3.0} and mapping == {"map": {"rnn": {"n": 21.0}}}
    assert [p["a"].shape for p in pair["seq"]] == [(2,), (3,)]


@pytest.mark.parametrize("forged", [
    {"a": [[1, 2], [3]], "s": [2, 2]},            # ragged
    {"a": [1, 2, 3], "s": [2]},                    # does not fill the shape
    {"a": ["1", 2], "s": [2]},                      # a string for a number
    {"a": [1e9] * 3, "s": [10**6, 10**6]},          # claims a huge shape
    {"n": True},                                    # a bool for a number
    {"seq": [{"seq": [{"seq": [{"seq": [{"seq": [{"n": 1}]}]}]}]}]},  # too deep
    {"n": 1, "extra": 2},
    "all correct",
])
def test_the_trusted_side_rejects_anything_but_plain_numbers(forged):
    with pytest.raises(compare.Malformed):
        compare.decode(forged)


def result(label, value):
    return {"case": label, "mutated": [], "value": compare.encode(np.asarray(value, dtype=float))}


def test_judge_names_a_mistake_only_when_exactly_one_explains_every_case():
    expected = {"a": compare.encode(np.array([1.0, 2.0])), "b": compare.encode(np.array([3.0]))}
    student = [result("a", [1.0, 2.5]), result("b", [3.5])]
    one = {"off by half": {"a": result("a", [1.0, 2.5]), "b": result("b", [3.5])},
           "other": {"a": result("a", [0.0, 0.0]), "b": result("b", [3.5])}}
    line, mistake = compare.judge("f", expected, student, one, {})
    assert mistake == "off by half" and "off by half" in line
    assert line.startswith("f: on the case 'a' the values are wrong")
    two = {**one, "same thing again": one["off by half"]}
    line, mistake = compare.judge("f", expected, student, two, {})
    assert mistake is None and "index (1,)" in line


def test_judge_masks_decimals_of_errors_on_hidden_cases_and_reports_modified_inputs():
    expected = {"h": compare.encode(np.ones(2))}
    error = [{"case": "h", "mutated": [], "error": ["ValueError", "bad value 0.123 in x (size 3)"]}]
    line, _ = compare.judge("f", expected, error, {}, {}, hidden={"h"})
    assert "0.123" not in line and "size 3" in line
    changed = [{"case": "h", "mutated": ["x"], "value": compare.encode(np.ones(2))}]
    line, _ = compare.judge("f", expected, changed, {}, {})
    assert "changed its input x in place" in line


def test_a_float32_answer_passes_and_a_small_real_error_does_not():
    exact = np.tanh(np.linspace(-3, 3, 50))
    assert compare.problem(compare.encode(exact.astype(np.float32)), compare.encode(exact)) is None
    assert compare.problem(compare.encode(exact * (1 + 1e-4)), compare.encode(exact)) is not None


# ---- instructor side -----------------------------------------------------------------------------

def test_gradebook_backup_is_a_readable_copy(tmp_path):
    import sqlite3

    from grader.classroom import _config, backup_gradebook

    live = tmp_path / "gradebook.db"
    with sqlite3.connect(live) as db:
        db.execute("create table grade (score real)")
        db.execute("insert into grade values (3.0)")
    config = _config(tmp_path, {"CourseDirectory.db_url": f"sqlite:///{live}"})
    copy = backup_gradebook(config, tmp_path)
    with sqlite3.connect(copy) as db:
        assert db.execute("select score from grade").fetchall() == [(3.0,)]


class Postgres:
    """A throw-away PostgreSQL server on loopback, run as the postgres user (it refuses root)."""

    def __init__(self):
        self.bin = sorted(pathlib.Path("/usr/lib/postgresql").glob("*/bin"))[-1]
        self.dir = pathlib.Path(tempfile.mkdtemp(prefix="pg-"))
        with socket.socket() as probe:
            probe.bind(("127.0.0.1", 0))
            self.port = probe.getsockname()[1]
        shutil.chown(self.dir, "postgres")
        self.run("initdb", "-U", "postgres", "-A", "trust", "-D", str(self.dir / "data"))
        self.run("pg_ctl", "-D", str(self.dir / "data"), "-l", str(self.dir / "log"), "-w", "start", "-o",
                 f"-p {self.port} -c listen_addresses=127.0.0.1 -k {self.dir} -c fsync=off")
        self.run("createdb", "-h", "127.0.0.1", "-p", str(self.port), "-U", "postgres", "gradebook")
        self.url = f"postgresql+psycopg://postgres@127.0.0.1:{self.port}/gradebook"

    def run(self, tool, *args):
        prefix = ["runuser", "-u", "postgres", "--"] if os.geteuid() == 0 else []
        subprocess.run([*prefix, str(self.bin / tool), *args], check=True, capture_output=True, cwd=self.dir)

    def stop(self):
        self.run("pg_ctl", "-D", str(self.dir / "data"), "-m", "fast", "-w", "stop")
        shutil.rmtree(self.dir, ignore_errors=True)


def test_a_class_is_graded_into_a_real_postgresql_gradebook(tmp_path):
    from nbgrader.api import Gradebook

    server = Postgres()
    try:
        course = Course(tmp_path)
        solution = solution_sources("ps1_recurrence", "ps1_recurrence.ipynb")
        course.submit("ps1_recurrence", "ada", solution)
        course.submit("ps1_recurrence", "bob", {**solution, "rnn_param_count":
                                                "def rnn_param_count(input_size, hidden_size):\n    return 0\n"})
        report = course.grade("ps1_recurrence", overrides={"CourseDirectory.db_url": server.url})
        assert report["failed"] == {} and pathlib.Path(report["backup"]).suffix == ".sql"
        with Gradebook(server.url, course_id="rnn-course") as gradebook:
            ada = gradebook.find_submission("ps1_recurrence", "ada")
            bob = gradebook.find_submission("ps1_recurrence", "bob")
            assert (ada.score, bob.score) == (7.0, 6.0)
        assert not (tmp_path / "gradebook.db").exists(), "the SQLite default was not used"
    finally:
        server.stop()
