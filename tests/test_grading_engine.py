"""The grading engine's parts on their own: the sandbox, the comparison of answers, the export of
grades, the gradebook backup, and a class graded against a real PostgreSQL server."""

import json
import math
import os
import pathlib
import shutil
import signal
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
    """Run ``code`` in the sandbox; return the finished process, what the grader's side of the run holds
    afterwards (its folder) and what the kernel wrote into the export file."""
    with tempfile.TemporaryDirectory(prefix="grader-test-") as run:
        os.chmod(run, 0o711)
        runtime, export = pathlib.Path(run) / "runtime", pathlib.Path(run) / "exports.jsonl"
        runtime.mkdir()
        export.touch()
        argv = sandbox.command([sys.executable, "-c", code], runtime, export, limits)
        done = subprocess.run(argv, capture_output=True, text=True, timeout=120)
        written = sorted(str(p.relative_to(run)) for p in pathlib.Path(run).rglob("*"))
        exported = export.read_text() if export.is_file() and not export.is_symlink() else None
    return done, written, exported


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
print("wrote its working folder", open("answer.txt").read() == "ok")
print("uid", os.getuid())
"""
    done, written, _ = run_sandboxed(code)
    listener.close()
    assert done.returncode == 0, done.stderr
    seen = dict(line.rsplit(" ", 1) for line in done.stdout.splitlines())
    assert seen == {"solutions": "False", "gradebook": "False", "rnnlib": "False", "grading module": "False",
                    "references": "False", "torch": "False", "student side": "True", "network": "False",
                    "course writable": "False", "wrote its working folder": "True", "uid": seen["uid"]}
    # its working folder is a tmpfs of its own: nothing reached the grader's disk
    assert written == ["exports.jsonl", "runtime"] and not (ROOT / "oops.txt").exists()
    if os.geteuid() == 0:
        assert int(seen["uid"]) != 0, "as root the kernel drops to a user id of its own"


def test_the_sandbox_limits_memory_processes_and_cpu_time():
    limits = sandbox.Limits(memory_mb=600, processes=40, cpu_seconds=2)
    done, _, _ = run_sandboxed("import numpy as np\ntry:\n    np.ones(int(2e8))\nexcept MemoryError:\n"
                            "    print('memory limited')\n", limits)
    assert "memory limited" in done.stdout, done.stderr
    done, _, _ = run_sandboxed("import os, time\nn = 0\ntry:\n    for _ in range(200):\n"
                            "        if os.fork() == 0:\n            time.sleep(5)\n            os._exit(0)\n"
                            "        n += 1\nexcept OSError:\n    print('processes limited at', n)\n", limits)
    assert "processes limited" in done.stdout, done.stderr
    start = time.monotonic()
    done, _, _ = run_sandboxed("while True:\n    pass\n", limits)
    assert done.returncode != 0 and time.monotonic() - start < 30, "a busy loop is killed at its CPU limit"


def test_the_sandbox_cannot_signal_the_grader():
    done, _, _ = run_sandboxed(f"import os, signal\nfor pid in ({os.getpid()}, 1, -1):\n    try:\n"
                            "        os.kill(pid, signal.SIGTERM)\n    except OSError as e:\n"
                            "        print(type(e).__name__)\n")
    assert "ProcessLookupError" in done.stdout or "PermissionError" in done.stdout  # the grader is still here


def test_the_sandbox_bounds_tmp_and_its_working_folder():
    limits = sandbox.Limits(tmp_mb=8, scratch_mb=8)
    code = ("import os\nfor folder in ('/tmp', '.'):\n    try:\n"
            "        open(os.path.join(folder, 'big'), 'wb').write(b'0' * (20 * 2**20))\n"
            "        print(folder, 'wrote')\n"
            "    except OSError as error:\n        print(folder, error.errno)\n")
    done, written, _ = run_sandboxed(code, limits)
    assert done.stdout.split() == ["/tmp", "28", ".", "28"], done.stderr  # ENOSPC: full at its size
    assert written == ["exports.jsonl", "runtime"]


def test_kernels_read_the_graders_font_list_and_cannot_change_it():
    fonts = sandbox.font_list()
    assert fonts is not None and fonts.name.startswith("fontlist-v")
    assert not fonts.is_relative_to(tempfile.gettempdir()), "kept in the grader's cache, not the temporary folder"
    before = fonts.read_bytes()
    code = ("import os, matplotlib\nmatplotlib.use('Agg')\nimport matplotlib.pyplot as plt\n"
            "plt.plot([0, 1]); plt.title('fonts'); plt.savefig('figure.png')\n"
            "from matplotlib import font_manager\n"
            "print(os.path.isfile(font_manager.findfont('DejaVu Sans', fallback_to_default=False)))\n"
            f"try:\n    open('/tmp/{fonts.name}', 'w')\nexcept OSError as error:\n    print(error.errno)\n"
            "print(sorted(os.listdir('/tmp')))\n")
    done, _, _ = run_sandboxed(code)
    assert done.returncode == 0 and done.stderr == "", done.stderr
    # the font is found without a scan (a scan runs fc-list, which leaves /tmp/.cache), and the list is read-only
    found, errno, listed = done.stdout.split("\n")[:3]
    assert (found, errno) == ("True", "30") and fonts.name in listed and ".cache" not in listed, done.stdout
    assert fonts.read_bytes() == before


def test_the_kernel_cannot_replace_the_export_file():
    code = """
import os
path = os.environ["GRADER_EXPORT_FILE"]
open(path, "a").write("kept\\n")
for attempt in (lambda: os.unlink(path), lambda: os.rename(path, path + ".old"), lambda: os.mkfifo(path),
                lambda: os.symlink("/etc/passwd", path), lambda: os.mkfifo(os.path.dirname(path) + "/fifo")):
    try:
        attempt()
        print("replaced")
    except OSError:
        print("held")
"""
    done, _, exported = run_sandboxed(code)
    assert done.stdout.split() == ["held"] * 5, done.stderr
    assert exported == "kept\n"


def test_sealing_the_runtime_folder_keeps_the_kernel_from_writing_there(tmp_path):
    if os.geteuid() != 0:
        pytest.skip("sealing needs root (without it the kernel's user owns the folder)")
    runtime, export = tmp_path / "runtime", tmp_path / "exports.jsonl"
    runtime.mkdir()
    export.touch()
    os.chmod(tmp_path, 0o711)
    argv = sandbox.command([sys.executable, "-c", f"open({str(runtime / 'x')!r}, 'w')"], runtime, export)
    sandbox.seal(runtime)
    done = subprocess.run(argv, capture_output=True, text=True, timeout=60)
    assert "PermissionError" in done.stderr and not (runtime / "x").exists()


def test_grading_refuses_a_sandbox_that_cannot_import_this_courses_grader(monkeypatch, tmp_path):
    # a course folder whose grader is not the one the sandbox would show the kernel
    monkeypatch.setattr(sandbox, "ROOT", tmp_path)
    with pytest.raises(sandbox.SandboxUnavailable, match="cannot import this course's grader"):
        sandbox.check_available()


# ---- the export channel and decoding ---------------------------------------------------------------

def test_the_export_channel_reads_capped_records_of_the_agreed_shape(tmp_path):
    from grader.execute import ExportChannel

    path = tmp_path / "exports.jsonl"
    channel = ExportChannel(path, {"rnn_step"})
    good = {"exercise": "rnn_step", "phase": "visible", "runs": {"own": []}}
    deep = {"exercise": "rnn_step", "phase": "visible", "runs": {"own": json.loads("[" * 30 + "1" + "]" * 30)}}
    lines = [good, {**good, "exercise": "other"}, {**good, "phase": "later"}, {**good, "extra": 1},
             {**good, "runs": {"forged": 1}}, deep, [good], "text", 5]
    with path.open("a") as handle:
        handle.write("\n".join(map(json.dumps, lines)) + "\n{not json\n" + "[" * 100_000 + "\n")
        handle.write(json.dumps(good))  # no newline yet: still being written
    records, read, skipped = channel.read(10**6)
    assert records == [good] and skipped == 0
    with path.open("a") as handle:
        handle.write("\n" + "x" * 5_000_000 + "\n")
    records, read, skipped = channel.read(10**6)
    assert records == [] and read == 10**6 and skipped > 4_000_000, "beyond the budget nothing is read"
    path.write_text("")  # truncated by the kernel: nothing to read, no error
    assert channel.read(10**6) == ([], 0, 0)
    channel.close()


def test_the_export_channel_refuses_what_it_did_not_create(tmp_path):
    from grader.execute import ExportChannel

    os.mkfifo(tmp_path / "fifo")
    (tmp_path / "link").symlink_to(tmp_path / "fifo")
    for name in ("fifo", "link"):
        with pytest.raises(OSError):
            ExportChannel(tmp_path / name)


@pytest.mark.parametrize("record", [
    {"case": ["a"], "mutated": [], "value": {"n": 1}},    # a list as the case label
    {"case": {"a": 1}, "mutated": [], "value": {"n": 1}},
    {"case": "a", "mutated": [], "value": {"n": 10**400}},  # an int no float holds
    {"case": "a", "mutated": ["x</code><script>"], "value": {"n": 1}},
    {"case": "a", "mutated": "x", "value": {"n": 1}},
    {"case": "a", "mutated": [], "error": ["ValueError"]},
    {"case": "a", "mutated": [], "error": [1, 2]},
    {"case": "a", "mutated": [], "value": {"a": [[1] * 3] * 10**5, "s": [2, 3]}},
    ["a"], None, 7, "a",
])
def test_decoding_a_malformed_result_raises_malformed_and_nothing_else(record):
    with pytest.raises(compare.Malformed):
        compare.decode_result(record, {"a"})


def test_the_trusted_step_judges_any_forged_export_as_that_exercises_failure():
    import nbformat

    from grader.student import MIME
    from grader.verdicts import TrustedVerdicts

    forged = [{"own": [{"case": ["x"]}]}, {"own": "all right"}, {"missing": {"a": 1}}, {"own": [None] * 3},
              {"own": [{"case": "x", "value": {"n": 10**400}}]}, {"standin": 5}, []]
    nb = nbformat.read(ROOT / "solutions" / "ps1_recurrence" / "ps1_recurrence.ipynb", as_version=4)
    tests = [c for c in nb.cells if c.metadata.get("nbgrader", {}).get("grade") and c.cell_type == "code"]
    for cell, runs in zip(tests, forged):
        record = {"exercise": "whatever", "phase": "visible", "runs": runs}
        cell.outputs = [nbformat.v4.new_output("display_data", data={MIME: record})]
        record["exercise"] = {"test_rnn_step": "rnn_step", "test_rnn_forward": "rnn_forward",
                              "test_rnn_param_count": "rnn_param_count"}[cell.metadata.nbgrader.grade_id]
    hidden = {name: {"outputs": [{"data": {MIME: {"exercise": name, "phase": "hidden", "runs": {"missing": 1}}}}]}
              for name in ("rnn_step", "rnn_forward", "rnn_param_count")}
    resources = {"nbgrader": {"assignment": "ps1_recurrence", "notebook": "ps1_recurrence", "student": "x"},
                 "grader": {"events": {}, "hidden": hidden}}
    nb, _ = TrustedVerdicts().preprocess(nb, resources)
    verdicts = nb.metadata["grader"]["verdicts"]
    assert len(verdicts) == 3 and not any(v["passed"] for v in verdicts.values()), verdicts


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


def test_a_verdict_on_a_hidden_case_names_the_case_and_the_exception_type_only():
    expected = {"v": compare.encode(np.ones(2)), "h": compare.encode(np.ones(2))}
    hidden = ["h"]
    for text in ("bad value 0.123 in x", "bad value 0p123 in x", "h = 42", "np.tanh(x @ W_ih.T + b_ih)"):
        error = [{"case": "h", "mutated": [], "error": ["ValueError", text]}]
        line, _ = compare.judge("f", expected, error, {}, {}, hidden=hidden)
        assert line == "f: on the case 'h' (hidden case 1) it raised ValueError"
    own_class = [{"case": "h", "mutated": [], "error": ["Leak_0_123", "x"]}]
    assert "Leak" not in compare.judge("f", expected, own_class, {}, {}, hidden=hidden)[0]
    wrong = [{"case": "h", "mutated": [], "value": compare.encode(np.array([1.0, 2.5]))}]
    assert compare.judge("f", expected, wrong, {}, {}, hidden=hidden)[0] == (
        "f: on the case 'h' (hidden case 1) the values are wrong")
    shown = [{"case": "v", "mutated": [], "error": ["ValueError", "bad value 0.123 in x"]}]
    assert "bad value 0.123 in x" in compare.judge("f", expected, shown, {}, {}, hidden=hidden)[0]
    changed = [{"case": "h", "mutated": ["x"], "value": compare.encode(np.ones(2))}]
    line, _ = compare.judge("f", expected, changed, {}, {}, hidden=hidden)
    assert "changed its input x in place" in line


def test_a_float32_answer_passes_and_a_small_real_error_does_not():
    exact = np.tanh(np.linspace(-3, 3, 50))
    assert compare.problem(compare.encode(exact.astype(np.float32)), compare.encode(exact)) is None
    assert compare.problem(compare.encode(exact * (1 + 1e-4)), compare.encode(exact)) is not None


# ---- instructor side -----------------------------------------------------------------------------

# ---- what the grader reads of a submission --------------------------------------------------------

PS, NOTEBOOK = "ps1_recurrence", "ps1_recurrence.ipynb"


def make_submission(tmp_path, student="ada"):
    import nbformat

    folder = tmp_path / "submitted" / student / PS
    folder.mkdir(parents=True)
    nb = nbformat.read(ROOT / "solutions" / PS / NOTEBOOK, as_version=4)
    nbformat.write(nb, folder / NOTEBOOK)
    (folder / "timestamp.txt").write_text("2026-11-22 12:00:00.000000 UTC")
    return folder


def stage(tmp_path, student="ada"):
    import nbformat

    from grader.submissions import stage as copy

    target = tmp_path / "staged" / student / PS
    notes = copy(tmp_path / "submitted", student, PS, target, ROOT / "exercises" / PS, [NOTEBOOK])
    return target, notes, nbformat.read(target / NOTEBOOK, as_version=4)


def is_blank(nb):
    return "NotImplementedError" in "".join(c.source for c in nb.cells if c.cell_type == "code")


def test_staging_refuses_links_pipes_and_hard_links_and_writes_nothing_into_the_submission(tmp_path):
    folder = make_submission(tmp_path)
    secret = tmp_path / "secret.txt"
    secret.write_text("instructor only")
    (folder / "refs.json").symlink_to(secret)
    (folder / "to-nowhere").symlink_to(tmp_path / "created-through-a-link")
    (folder / "shared").symlink_to(tmp_path)
    os.mkfifo(folder / "data.fifo")
    os.link(secret, folder / "hard.txt")
    (folder / "sub" / "deeper").mkdir(parents=True)
    (folder / "sub" / "deeper" / "notes.txt").write_text("mine")
    before = sorted((p.name, p.lstat().st_mode) for p in folder.rglob("*"))
    target, notes, nb = stage(tmp_path)
    assert sorted(str(p.relative_to(target)) for p in target.rglob("*") if not p.is_dir()) == [
        NOTEBOOK, "sub/deeper/notes.txt", "submission_secret.txt", "timestamp.txt"]
    assert not is_blank(nb), "the notebook itself is a regular file: graded"
    assert "refs.json (a symbolic link)" in notes[-1] and "data.fifo (a named pipe)" in notes[-1]
    assert "hard.txt (a hard link to a file outside the submission)" in notes[-1]
    assert sorted((p.name, p.lstat().st_mode) for p in folder.rglob("*")) == before
    assert not (tmp_path / "created-through-a-link").exists()


@pytest.mark.parametrize("attack, note", [
    (lambda folder, tmp: (folder / NOTEBOOK).unlink() or (folder / NOTEBOOK).symlink_to(
        ROOT / "solutions" / PS / NOTEBOOK), "is a symbolic link"),
    (lambda folder, tmp: (folder / NOTEBOOK).unlink() or (folder / NOTEBOOK).symlink_to(tmp / "nowhere.ipynb"),
     "is a symbolic link"),
    (lambda folder, tmp: os.link(folder / NOTEBOOK, tmp / "elsewhere.ipynb"), "is a hard link to a file outside"),
    (lambda folder, tmp: (folder / NOTEBOOK).unlink() or os.mkfifo(folder / NOTEBOOK), "is a named pipe"),
    (lambda folder, tmp: shutil.rmtree(folder) or folder.symlink_to(ROOT / "solutions" / PS),
     "The submission folder is a symbolic link"),
    (lambda folder, tmp: shutil.rmtree(folder.parent) or folder.parent.symlink_to(ROOT / "solutions"),
     "The submission folder is a symbolic link"),
    (lambda folder, tmp: (folder / NOTEBOOK).write_text('{"cells": ['), "could not be read as a notebook"),
    (lambda folder, tmp: (folder / NOTEBOOK).write_text('{"cells": [5], "metadata": {}, "nbformat": 4, '
                                                        '"nbformat_minor": 5}'), "could not be read as a notebook"),
])
def test_a_notebook_that_cannot_be_read_safely_is_graded_as_the_blank_release_with_a_note(tmp_path, attack, note):
    attack(make_submission(tmp_path), tmp_path)
    _, notes, nb = stage(tmp_path)
    assert is_blank(nb) and note in " ".join(notes)
    assert nb.cells[0].id == "grader-note" and note in nb.cells[0].source
    assert not (tmp_path / "nowhere.ipynb").exists()


@pytest.mark.parametrize("text, note", [
    ("2026-11-22 12:00:00.000000 UTC", None),
    ("the day before the deadline", "could not be read as a time"),
    ("9" * 400, "could not be read as a time"),
    (None, "No timestamp.txt came with the submission"),
])
def test_a_timestamp_is_kept_or_taken_from_when_it_was_written_never_lost(tmp_path, text, note):
    from nbgrader.utils import parse_utc

    folder = make_submission(tmp_path)
    (folder / "timestamp.txt").unlink()
    if text is not None:
        (folder / "timestamp.txt").write_text(text)
        os.utime(folder / "timestamp.txt", (1_800_000_000, 1_800_000_000))
    target, notes, _ = stage(tmp_path)
    written = (target / "timestamp.txt").read_text()
    assert parse_utc(written) is not None
    if note is None:
        assert written == text and notes == []
    else:
        assert note in " ".join(notes)
    if text and note:
        assert written.startswith("2027-01-15 08:00:00"), "the file's own modification time"


def test_nbgrader_autograde_run_directly_grades_a_linked_notebook_as_the_blank_release(tmp_path):
    course = Course(tmp_path)
    assert course.api.generate_assignment(PS, force=True, create=True)["success"]
    folder = course.root / "submitted" / "eve" / PS
    folder.mkdir(parents=True)
    solution = course.root / "solutions" / PS / NOTEBOOK
    before = solution.read_bytes()
    (folder / NOTEBOOK).symlink_to(solution)
    assert course.api.autograde(PS, "eve", force=True, create=True)["success"]
    assert [score for score, _ in course.scores(PS, "eve").values()] == [0, 0, 0, 0]
    assert "is a symbolic link" in course.autograded_notebook(PS, "eve", NOTEBOOK).cells[0].source
    assert solution.read_bytes() == before


def test_collect_copies_links_as_links_and_leaves_out_pipes(tmp_path):
    from nbgrader.coursedir import CourseDirectory

    from grader.classroom import _config
    from grader.exchange import SafeCollect

    config = _config(tmp_path, {})
    collect = SafeCollect(coursedir=CourseDirectory(config=config), config=config)
    inbound = tmp_path / "inbound" / "ada+ps1_recurrence+2026-11-22 12:00:00.000000 UTC"
    inbound.mkdir(parents=True)
    (inbound / NOTEBOOK).write_text("{}")
    secret = tmp_path / "secret.txt"
    secret.write_text("instructor only")
    (inbound / "refs.json").symlink_to(secret)
    os.mkfifo(inbound / "data.fifo")
    dest = tmp_path / "submitted" / "ada" / PS
    collect.do_copy(str(inbound), str(dest))
    assert (dest / NOTEBOOK).read_text() == "{}"
    assert (dest / "refs.json").is_symlink() and os.readlink(dest / "refs.json") == str(secret)
    assert not (dest / "data.fifo").exists()
    linked = tmp_path / "inbound" / "bob+ps1_recurrence+2026"
    linked.symlink_to(tmp_path / "solutions-elsewhere")
    collect.do_copy(str(linked), str(tmp_path / "submitted" / "bob" / PS))
    escaping = tmp_path / "submitted" / ".." / PS
    collect.do_copy(str(inbound), str(escaping))
    assert not (tmp_path / "submitted" / "bob").exists() and not (tmp_path / PS).exists()


def test_csv_cells_that_a_spreadsheet_would_evaluate_are_quoted():
    from grader.export import inert

    for formula in ("=2+5+cmd|' -C calc'!A0", "+1", "-1+2", "@SUM(A1)", "\tx", "\rx"):
        assert inert(formula) == "'" + formula
    assert inert("ada") == "ada" and inert(-1.5) == -1.5


# ---- what an instructor opens ----------------------------------------------------------------------

def test_pages_made_from_a_graded_notebook_are_inert():
    import nbformat
    from nbconvert.exporters import HTMLExporter

    from grader.inert import FeedbackExporter, csp
    from tests.course import load_config, runnable

    nb = nbformat.v4.new_notebook(cells=[
        nbformat.v4.new_markdown_cell("**bold** $x_t$ [a](javascript:XSS())\n\n<script>XSS()</script>"
                                      "<img src=x onerror=XSS()> <img src='https://tracker.example/p.png'>"),
        nbformat.v4.new_raw_cell("<script>XSS()</script>"),
        nbformat.v4.new_code_cell("1", outputs=[
            nbformat.v4.new_output("display_data", data={"text/html": "<script>XSS()</script>",
                                                         "application/javascript": "XSS()", "text/plain": "x"}),
            nbformat.v4.new_output("display_data", data={"image/svg+xml": "<svg onload='XSS()'/>"}),
            nbformat.v4.new_output("display_data", data={"image/png": "AAAA\" onerror=\"XSS()"}),
            nbformat.v4.new_output("display_data", data={"image/png": "AAAA"},
                                   metadata={"image/png": {"width": "1 onerror=XSS()"}}),
        ]),
    ])
    config = load_config(ROOT)
    for exporter in (HTMLExporter(config=config), FeedbackExporter(config=config)):
        page, _ = exporter.from_notebook_node(nb)
        assert [item for item in runnable(page) if "XSS" in item] == []
        assert "<strong>bold</strong>" in page and "$x_t$" in page and "tracker.example/p.png\"" not in page
        assert ("Content-Security-Policy" in page) == isinstance(exporter, FeedbackExporter)
    policy = csp()  # only the page's own MathJax scripts, by hash: nothing loads from anywhere
    assert "default-src 'none'" in policy and "http" not in policy and "'unsafe-inline'" not in policy.split(";")[1]


def test_feedback_pages_give_every_image_alt_text_as_nbconvert_does():
    """FeedbackExporter skips nbconvert's BeautifulSoup pass (over half of each page's time) and adds the
    one thing it did for this template: alt text on images that have none."""
    import html.parser

    import nbformat

    from grader.inert import NO_ALT, FeedbackExporter
    from tests.course import load_config

    class Images(html.parser.HTMLParser):
        alts = []

        def handle_starttag(self, tag, attrs):
            if tag == "img":
                self.alts.append([value for name, value in attrs if name == "alt"])

    nb = nbformat.v4.new_notebook(cells=[
        nbformat.v4.new_markdown_cell("![a decay curve](data:image/png;base64,AAAA) "
                                      "<img src='data:image/png;base64,AAAA'>"),
        nbformat.v4.new_code_cell("1", outputs=[nbformat.v4.new_output("display_data", data={"image/png": "AAAA"})]),
    ])
    page, _ = FeedbackExporter(config=load_config(ROOT)).from_notebook_node(nb)
    parser = Images()
    parser.feed(page)
    assert parser.alts == [["a decay curve"], [NO_ALT], [NO_ALT]]


def test_no_nbformat_process_pays_for_rfc3987_syntax():
    """jsonschema >= 4.24 brings in rfc3987-syntax, whose import alone costs 2 s of CPU in every process
    that imports nbformat (each grading worker, each `nbgrader validate`): requirements.in keeps it out."""
    code = "import sys, nbformat, nbgrader.validator; print('rfc3987_syntax' in sys.modules)"
    assert subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout == "False\n"


# ---- a class: pre-flight, clean-up ------------------------------------------------------------------

@pytest.fixture
def short_temp():
    """A temporary folder of a short path (a kernel's socket paths inside it hold 107 bytes at most)."""
    temp = pathlib.Path(tempfile.mkdtemp(prefix="t-", dir="/tmp"))
    yield temp
    shutil.rmtree(temp, ignore_errors=True)


def test_make_grade_stops_before_recording_anything_when_the_solution_does_not_get_full_marks(tmp_path, monkeypatch,
                                                                                               short_temp):
    import nbformat

    course = Course(tmp_path / "course")
    path = course.root / "solutions" / PS / NOTEBOOK
    nb = nbformat.read(path, as_version=4)
    answer = next(c for c in nb.cells if c.metadata.get("nbgrader", {}).get("grade_id") == "rnn_param_count")
    answer.source = answer.source.replace("### BEGIN SOLUTION", "### BEGIN SOLUTION\n    return 0")
    nbformat.write(nb, path)
    course.submit(PS, "ada", solution_sources(PS, NOTEBOOK))
    monkeypatch.setattr(tempfile, "tempdir", str(short_temp))
    with pytest.raises(SystemExit, match=r"Pre-flight: .*the instructor's solution scored 6 of 7 autograded points "
                                         r"\(test_rnn_param_count: rnn_param_count: "):
        course.grade(PS)
    assert not (course.root / "autograded").exists() and not (course.root / "grades.csv").exists()
    assert list(short_temp.iterdir()) == [], "nothing left behind when grading fails"


def test_an_interrupted_make_grade_leaves_nothing_behind(tmp_path, short_temp):
    course = Course(tmp_path / "course")
    for student in ("ada", "bob", "cy"):
        course.submit(PS, student, solution_sources(PS, NOTEBOOK))
    temp = short_temp
    command = [sys.executable, "-m", "grader", "grade", PS, "--root", str(course.root), "--workers", "2"]
    grading = subprocess.Popen(command, cwd=ROOT, env={**os.environ, "TMPDIR": str(temp)}, stdout=subprocess.PIPE,
                               stderr=subprocess.PIPE, text=True)
    deadline = time.monotonic() + 120
    while not list(temp.glob("grade-class-*/worker*/g-*/k1")) and time.monotonic() < deadline:
        time.sleep(0.2)  # until a sandboxed kernel runs
    grading.send_signal(signal.SIGINT)  # Ctrl-C
    _, printed = grading.communicate(timeout=120)
    assert grading.returncode == 130 and "interrupted" in printed, printed[-2000:]
    assert list(temp.iterdir()) == []
    running = [p for p in pathlib.Path("/proc").glob("[0-9]*/cmdline") if str(temp) in _read(p)]
    assert running == [], "no worker or kernel outlives make grade"


def _read(path):
    try:
        return path.read_bytes().decode(errors="replace")
    except OSError:
        return ""


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
