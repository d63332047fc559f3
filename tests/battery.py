"""An adversarial battery of submissions, built generically from any problem set's solution.

Every submission answers all exercises with the instructor's solution except where it says otherwise;
``wrong`` replaces the first exercise by a wrong answer (``return 0.0``), which the attack then tries to
turn into points. Each entry carries the autograded score it must get (None: it must not be graded at
all), and ``prepare(folder, course root)`` may change its submitted folder further (links, pipes,
hard links). The grader takes students in sorted order, so the four that wait out a time limit have names
that sort first (answers_..., blocks_..., busy_..., delays_...): their waiting then overlaps the others'
grading instead of running alone at the end. Used by tests/test_adversarial.py (graded as one class
through the real `make grade` path) and by bench/ (stock nbgrader on the same submissions).
"""

import json
import os
import pathlib
import shutil
from dataclasses import dataclass, field

import nbformat

from grader import problem_sets
from tests.course import points, solution_sources


@dataclass
class Submission:
    student: str
    expected: float
    answers: dict = field(default_factory=dict)
    edit: object = None
    files: dict = field(default_factory=dict)
    notebook: str = None
    what: str = ""
    prepare: object = None


def build(assignment, root, port):
    """The battery for ``assignment`` in a course at ``root``; ``port`` is a loopback listener's."""
    module = problem_sets.load(assignment)
    first = module.EXERCISES[0]
    name = first.name
    pts = points(assignment, module.NOTEBOOK)
    total, lost = sum(pts.values()), pts[first.test_cell]
    solution = solution_sources(assignment, module.NOTEBOOK)
    wrong = f"def {name}(*args, **kwargs):\n    return 0.0\n"
    root = pathlib.Path(root)

    def cheat(student, prelude, what, function=wrong):
        return Submission(student, total - lost, {name: prelude + "\n" + function}, what=what)

    def crash(student, body, what):
        return Submission(student, total - lost, {name: f"def {name}(*args, **kwargs):\n{body}\n"}, what=what)

    def disabled(student, prelude, what):
        """An attack that switches the tests off: no result is no pass, so every test cell scores 0."""
        return Submission(student, 0.0, {name: prelude + "\n" + wrong}, what=what)

    def correct(student, prelude, what):
        return Submission(student, total, {name: prelude + "\n" + solution[name]}, what=what)

    def fallback(student, steal, what):
        source = f"{steal}\ndef {name}(*args, **kwargs):\n    return _stolen(*args, **kwargs) if _stolen else 0.0\n"
        return Submission(student, total - lost, {name: source}, what=what)

    def edit_cells(change):
        def edit(nb):
            change(nb, [i for i, c in enumerate(nb.cells)
                        if c.metadata.get("nbgrader", {}).get("grade_id") == first.test_cell][0])
            return nb
        return edit

    course = repr(str(root))
    battery = [
        Submission("reference_solution", total, what="the instructor's solution"),
        Submission("blank", 0.0, answers={}, what="the release, untouched"),
        # ---- in-process attacks on a wrong answer ----
        cheat("patches_numpy", "import numpy as np\nnp.allclose = lambda *a, **k: True\n"
              "np.testing.assert_allclose = lambda *a, **k: None\nnp.array_equal = lambda *a, **k: True\n"
              "np.isfinite = lambda x, *a, **k: np.ones(np.shape(x), dtype=bool)\n"
              "np.abs = lambda x, *a, **k: np.zeros(np.shape(x))", "patches numpy"),
        cheat("patches_builtins", "import builtins\nbuiltins.abs = lambda x: 0\nbuiltins.all = lambda *a: True\n"
              "builtins.isinstance = lambda *a: True", "patches builtins"),
        cheat("patches_the_grader", "import grader.student as _s, grader.compare as _c\n"
              "_c.judge = _s.judge = lambda *a, **k: None\n_c.problem = lambda *a, **k: None\n"
              "_c.close = lambda *a, **k: True", "replaces the grader's comparison in its kernel"),
        cheat("patches_importlib", "import importlib, sys\nimportlib.reload = lambda m: m\n"
              "importlib.import_module = lambda *a, **k: sys.modules['grader.student']\n"
              "sys.modules['grader.compare'].judge = lambda *a, **k: None", "patches importlib"),
        disabled("plants_a_module", "import os, sys\nos.makedirs('grader', exist_ok=True)\n"
              "open('grader/__init__.py', 'w').write('')\n"
              "open('grader/student.py', 'w').write('def check(*a, **k):\\n    pass\\n"
              "def run_hidden(*a, **k):\\n    pass\\n')\n"
              "sys.path.insert(0, os.getcwd())\nfor m in [m for m in sys.modules if m.startswith('grader')]:\n"
              "    del sys.modules[m]\nfrom grader.student import check", "plants grader/student.py for a reload"),
        disabled("event_hook_forges_a_result", "def _forge(info):\n"
              "    ip = get_ipython()\n    ip.user_ns['check'] = lambda *a, **k: None\n"
              "    ip.displayhook(3.0)\n"
              "get_ipython().events.register('pre_run_cell', _forge)", "an event hook forges an execute_result"),
        Submission("input_transformer_drops_tests", 0.0, {name: "get_ipython().input_transformers_cleanup.append("
                   "lambda lines: [l for l in lines if 'check(' not in l])\n" + solution[name]},
                   what="an input transformer removes every check call: no result is no pass"),
        Submission("ast_transformer_drops_tests", 0.0, {name: "import ast\nclass _Drop(ast.NodeTransformer):\n"
                   "    def visit_Call(self, node):\n"
                   "        if getattr(node.func, 'id', '') == 'check':\n"
                   "            return ast.Constant(None)\n"
                   "        return self.generic_visit(node)\n"
                   "get_ipython().ast_transformers.append(_Drop())\n" + solution[name]},
                   what="an AST transformer removes every check call"),
        cheat("forges_exports", "import json, os\n"
              "def _forge(info):\n    path = os.environ.get('GRADER_EXPORT_FILE')\n    if path:\n"
              "        with open(path, 'a') as f:\n"
              f"            f.write(json.dumps({{'exercise': '{name}', 'phase': 'visible', 'runs': "
              "{'own': [{'case': 'x', 'value': 'all correct'}]}}) + '\\n')\n"
              "            f.write('{not json\\n')\n"
              "get_ipython().events.register('post_run_cell', lambda result: _forge(None))",
              "writes forged and malformed records into the export file"),
        cheat("inspects_frames", "import sys", "returns the expected value found in the caller's frames",
              function=f"def {name}(*args, **kwargs):\n    frame = sys._getframe(1)\n    while frame:\n"
                       "        for value in frame.f_locals.values():\n"
                       "            if isinstance(value, dict) and 'expected' in value:\n"
                       "                return value['expected']\n        frame = frame.f_back\n    return 0.0\n"),
        cheat("inspects_gc", "import gc", "searches the garbage collector for reference outputs",
              function=f"def {name}(*args, **kwargs):\n    for obj in gc.get_objects():\n"
                       "        if isinstance(obj, dict) and 'expected' in obj and 'case' in obj:\n"
                       "            return obj['expected']\n    return 0.0\n"),
        cheat("swallows_errors", "get_ipython().set_custom_exc((BaseException,), lambda *a, **k: None)",
              "a custom exception handler swallows every error"),
        cheat("replaces_streams", "import io, sys\nsys.stdout = io.StringIO()\nsys.stderr = io.StringIO()",
              "replaces stdout and stderr"),
        Submission("ships_shadow_files", total - lost, {name: wrong},
                   files={"grader/__init__.py": "", "grader/student.py": "def check(*a, **k):\n    pass\n",
                          "numpy.py": "raise SystemExit('shadowed')\n"},
                   what="sends grader/student.py and numpy.py with the notebook"),
        cheat("writes_a_startup_file", "import os\n"
              "p = os.path.expanduser('~/.ipython/profile_default/startup')\nos.makedirs(p, exist_ok=True)\n"
              "open(os.path.join(p, '00-cheat.py'), 'w').write('check = lambda *a, **k: None\\n')",
              "writes an IPython startup file for later kernels"),
        fallback("execs_a_classmates_answers", "import glob, json\n_stolen = None\n"
                 f"for _p in glob.glob({course} + '/submitted/*/{assignment}/*.ipynb'):\n"
                 "    for _c in json.load(open(_p))['cells']:\n        _src = ''.join(_c['source'])\n"
                 f"        if _src.startswith('def {name}') and 'return 0.0' not in _src:\n"
                 f"            _ns = {{'np': __import__('numpy')}}\n            exec(_src, _ns)\n"
                 f"            _stolen = _ns['{name}']\n",
                 "execs a classmate's submitted answer"),
        fallback("loads_a_private_grader", "import importlib.util, sys\n_stolen = None\ntry:\n"
                 f"    _spec = importlib.util.spec_from_file_location('_g', {repr(str(problem_sets.HERE))} + "
                 f"'/{assignment}.py')\n    _m = importlib.util.module_from_spec(_spec)\n"
                 f"    _spec.loader.exec_module(_m)\n    _stolen = _m.EXERCISES[0].reference\n"
                 "except Exception:\n    pass\n", "loads a private copy of the grading module"),
        fallback("reads_the_solutions", "import json\n_stolen = None\ntry:\n"
                 f"    _nb = json.load(open({course} + '/solutions/{assignment}/{module.NOTEBOOK}'))\n"
                 "    for _c in _nb['cells']:\n        _src = ''.join(_c['source'])\n"
                 f"        if _src.startswith('def {name}'):\n            _ns = {{'np': __import__('numpy')}}\n"
                 f"            exec(_src, _ns)\n            _stolen = _ns['{name}']\nexcept Exception:\n    pass\n",
                 "reads solutions/"),
        Submission("calls_rnnlib", total - lost, {name: "import rnnlib\n" + solution[name]},
                   what="calls the course library (absent when graded)"),
        cheat("writes_the_gradebook", "import sqlite3\ntry:\n"
              f"    _db = sqlite3.connect({course} + '/gradebook.db')\n"
              "    _db.execute('UPDATE grade SET manual_score = 100')\n    _db.commit()\nexcept Exception:\n    pass",
              "tries to write full marks into the gradebook"),
        correct("deletes_the_gradebook", "import os\nfor _p in ('gradebook.db', 'autograded', 'submitted'):\n"
                f"    try:\n        os.remove({course} + '/' + _p)\n    except Exception:\n        pass",
                "tries to delete the gradebook (the class must still be graded)"),
        correct("writes_into_classmates", "import glob\n"
                f"for _p in glob.glob({course} + '/submitted/*/{assignment}/*.ipynb'):\n"
                "    try:\n        open(_p, 'w').write('{}')\n    except Exception:\n        pass",
                "tries to overwrite other students' submissions"),
        correct("connects_to_loopback", f"import socket\ntry:\n"
                f"    socket.create_connection(('127.0.0.1', {port}), timeout=2).sendall(b'leak')\n"
                "except Exception:\n    pass", "connects to a listener on the grader's loopback"),
        # ---- crashes, hangs, floods ----
        crash("exits_the_kernel", "    import os\n    os._exit(1)", "os._exit in the graded call"),
        crash("segfaults", "    import ctypes\n    ctypes.string_at(0)", "a segfault"),
        crash("runs_out_of_memory", "    import numpy as np\n    return np.ones(int(4e9))", "allocates 32 GB"),
        crash("busy_loops_forever", "    while True:\n        pass", "an endless loop"),
        crash("blocks_interrupts_in_a_loop", "    import time\n    while True:\n        try:\n"
              "            time.sleep(0.05)\n        except BaseException:\n            pass",
              "a loop that ignores KeyboardInterrupt"),
        crash("calls_sys_exit", "    import sys\n    sys.exit(0)", "sys.exit in the graded call"),
        crash("signals_the_grader", "    import os, signal\n    for pid in (os.getppid(), 1, -1):\n        try:\n"
              "            os.kill(pid, signal.SIGKILL)\n        except Exception:\n            pass",
              "kills its parent, PID 1 and everything it can"),
        crash("forks_processes", "    import os, time\n    for _ in range(100000):\n        if os.fork() == 0:\n"
              "            time.sleep(60)\n            os._exit(0)", "a fork bomb"),
        crash("raises_a_base_exception", "    class Escape(BaseException):\n        pass\n"
              "    raise Escape('escaping the test harness')", "raises a BaseException from the graded call"),
        Submission("answers_the_sanity_cases_then_hangs", total - lost, {
            name: solution[name].replace(f"def {name}(", f"def _{name}(") +
            f"\ndef {name}(*args, **kwargs):\n    _seen.append(1)\n    if len(_seen) > 3:\n        while True:\n"
            f"            __import__('time').sleep(1)\n    return _{name}(*args, **kwargs)\n_seen = []\n"},
            what="right on the sanity cases, hangs (waiting, not spinning: that is busy_loops_forever) on the hidden "
                 "ones"),
        Submission("prints_20_MB", total, {name: "print('x' * 20_000_000)\n" + solution[name]},
                   what="20 MB of output"),
        Submission("prints_every_cell", total, {name: "def _show(info):\n    print(info.raw_cell)\n"
                   "get_ipython().events.register('pre_run_cell', _show)\n" + solution[name]},
                   what="prints every cell it runs (hidden tests used to leak this way)"),
        # ---- broken or edited notebooks ----
        Submission("nbformat_4_4", total, edit=_as_nbformat_44, what="an nbformat 4.4 notebook without cell ids"),
        Submission("deleted_test_cell", total, edit=edit_cells(lambda nb, i: nb.cells.pop(i)),
                   what="deleted the first test cell"),
        Submission("duplicated_test_cell", total, edit=edit_cells(lambda nb, i: nb.cells.insert(i, nb.cells[i])),
                   what="duplicated the first test cell"),
        Submission("edited_test_cell", total - lost, {name: wrong},
                   edit=edit_cells(lambda nb, i: setattr(nb.cells[i], "source", "pass")),
                   what="replaced the first test by `pass`, with a wrong answer"),
        Submission("renamed_notebook", total, notebook="my answers.ipynb", what="saved under another name"),
        Submission("extra_notebook", total, files={"scratch.ipynb": nbformat.writes(nbformat.v4.new_notebook())},
                   what="sent an extra notebook"),
        Submission("malformed_notebook", 0.0, edit=lambda nb: '{"cells": [', what="a notebook cut off mid-file"),
    ]
    battery += _hostile_input(assignment, module, solution, pts, total, lost, cheat, wrong, edit_cells)
    for submission in battery:
        if submission.student not in ("blank",):
            submission.answers = {**solution, **submission.answers}
    return battery


XSS = "XSS_MARK()"  # what no page an instructor or student opens may ever run


def _hostile_input(assignment, module, solution, pts, total, lost, cheat, wrong, edit_cells):
    """Submissions that attack the grader through what it reads: the export channel, the files of the
    submission, notebook metadata, outputs, ids and names (issue 15)."""
    first = module.EXERCISES[0]
    name, nb_name = first.name, module.NOTEBOOK
    dependent = next((e for e in module.EXERCISES if name in e.helpers), None)
    tests = [c for c in pts if c != first.test_cell]
    export = "os.environ.get('GRADER_EXPORT_FILE', os.devnull)"
    in_hidden_phase = "any(f.function == 'run_hidden' for f in __import__('inspect').stack())"

    def hidden_only(student, raise_line, what):
        """Right on the visible cases; on the hidden ones it raises ``raise_line``."""
        own = solution[name].replace(f"def {name}(", f"def _{name}(")
        source = (f"{own}\ndef {name}(*args, **kwargs):\n    if {in_hidden_phase}:\n        x = args[0] if args else "
                  f"next(iter(kwargs.values()))\n        {raise_line}\n    return _{name}(*args, **kwargs)\n")
        return Submission(student, total - lost, {name: source}, what=what)

    def link(path, target):
        def prepare(folder, root):
            (folder / path).unlink(missing_ok=True)
            (folder / path).parent.mkdir(parents=True, exist_ok=True)
            (folder / path).symlink_to(target(root))
        return prepare

    def replace_folder(make):
        def prepare(folder, root):
            shutil.rmtree(folder)
            make(folder, root)
        return prepare

    def each(*steps):
        def prepare(folder, root):
            for step in steps:
                step(folder, root)
        return prepare

    def metadata(change):
        def edit(nb):
            cells = {c.metadata.get("nbgrader", {}).get("grade_id"): c for c in nb.cells}
            change(nb, cells)
            return nb
        return edit

    def move_test_above_answer(nb, cells):
        test, answer = cells[tests[-1]], cells[[e.name for e in module.EXERCISES if e.test_cell == tests[-1]][0]]
        nb.cells.remove(test)
        nb.cells.insert(nb.cells.index(answer), test)

    def tamper_points_types_order(nb, cells):
        cells[first.test_cell].metadata.nbgrader["points"] = 100
        cells[tests[0]].cell_type = "markdown"
        cells[tests[0]].pop("outputs", None)
        cells[tests[0]].pop("execution_count", None)
        move_test_above_answer(nb, cells)

    def rearrange(nb, cells):
        setup = next(c for c in nb.cells if c.metadata.get("nbgrader", {}).get("locked") and c.cell_type == "code"
                     and "import" in c.source)
        nb.cells.remove(setup)
        bonus = nbformat.v4.new_code_cell("pass", metadata={"nbgrader": {
            "grade": True, "grade_id": "bonus", "points": 100, "solution": False, "locked": True, "task": False,
            "schema_version": 3, "cell_type": "code", "checksum": "x"}})
        nb.cells.append(bonus)
        cells[tests[0]].metadata["nbgrader"] = "not metadata"
        cells[first.test_cell].metadata.nbgrader["grade_id"] = ["a", "list"]

    def script_everywhere(nb):
        written = nb.cells[-1]
        written.source = (f"<script>{XSS}</script><img src=x onerror=\"{XSS}\"> [click](javascript:{XSS}) "
                          f"<svg onload=\"{XSS}\"></svg><iframe src=\"javascript:{XSS}\"></iframe>"
                          f"<a href=\"#\" style=\"position:fixed\" onclick=\"{XSS}\">grades</a>")
        nb.cells.append(nbformat.v4.new_raw_cell(f"<script>{XSS}</script>"))
        nb.cells.append(nbformat.v4.new_markdown_cell(f"<img src=\"https://tracker.example/x.png\">"
                                                      f"<details ontoggle=\"{XSS}\" open>x</details>"))
        return nb

    outputs = ("from IPython.display import display, HTML, Javascript, SVG, Markdown, Latex\n"
               f"display(HTML('<script>{XSS}</script><img src=x onerror=\"{XSS}\">'))\n"
               f"display(Javascript('{XSS}'))\n"
               f"display(SVG('<svg xmlns=\"http://www.w3.org/2000/svg\" onload=\"{XSS}\">"
               f"<script>{XSS}</script></svg>'))\n"
               f"display(Markdown('<img src=x onerror=\"{XSS}\">'))\n"
               f"display(Latex('$\\\\href{{javascript:{XSS}}}{{x}}$'))\n"
               f"display({{'image/png': 'iVBORw0\" onerror=\"{XSS}', 'text/plain': 'a png'}}, raw=True)\n"
               f"display({{'image/png': 'iVBORw0KGgo=', 'text/plain': 'a png'}}, raw=True, "
               f"metadata={{'image/png': {{'width': '1 onerror={XSS}'}}}})\n"
               "display({'text/plain': 5, 'image/png': ['not', 7]}, raw=True)\n")  # not a notebook output at all
    fill = ("for _folder in ('/tmp', '.'):\n    try:\n        with open(_folder + '/fill', 'wb') as _f:\n"
            "            for _ in range(200):\n                _f.write(b'0' * 2**20)\n"
            "    except OSError:\n        pass\n")
    record = json.dumps({"exercise": name, "phase": "visible", "runs": {"own": [{"case": "x", "value": {"n": 1.0}}]}})
    forged = [{"own": [{"case": ["x"], "value": 1}]}, {"own": [{"case": "x", "value": {"n": "10**400"}}]},
              {"missing": "<b>forged</b>"}, {"own": "all right"}]
    forge = ("import json, os\ndef _forge(*args):\n"
             f"    with open({export}, 'a') as _f:\n"
             f"        for _runs in {forged!r}:\n"
             f"            _f.write(json.dumps({{'exercise': {name!r}, 'phase': 'visible', 'runs': _runs}}) + '\\n')\n"
             "        _f.write('[' * 100000 + '\\n')\n"
             "get_ipython().events.register('post_run_cell', _forge)\n").replace("'10**400'", "10**400")
    battery = [
        # ---- one student must not stop, stall or slow the class ----
        cheat("replaces_the_export_file", f"import os\n_p = {export}\n"
              "for _try in (lambda: os.unlink(_p), lambda: os.rename(_p, _p + '.x'), lambda: os.mkfifo(_p),\n"
              "             lambda: os.symlink('/dev/zero', _p), lambda: os.mkfifo('.grader-exports.jsonl')):\n"
              "    try:\n        _try()\n    except Exception:\n        pass",
              "replaces the export file by a pipe or a link, where it is and where it used to be"),
        Submission("ships_broken_grader_notes", total, files={".grader-notes.json": "{not json"},
                   what="a malformed .grader-notes.json (it used to stop the class's preparation)"),
        Submission("ships_grader_notes_and_renames", total, files={".grader-notes.json": "[]"},
                   notebook="answers.ipynb", what="a well-formed .grader-notes.json (it used to skip the preparation)"),
        Submission("floods_the_export_file", total, {name: f"import json, os\n_line = {record!r} + '\\n'\n"
                   f"with open({export}, 'a') as _f:\n    _f.write(_line * (40 * 2**20 // len(_line)))\n"
                   + solution[name]}, what="40 MB of well-formed records in the export file"),
        Submission("floods_exports_before_each_cell", 0.0, {name: "import os\ndef _flood(*args):\n"
                   f"    with open({export}, 'a') as _f:\n        _f.write('x' * (5 * 2**20) + '\\n')\n"
                   "get_ipython().events.register('pre_run_cell', _flood)\n" + solution[name]},
                   what="5 MB of junk before every cell's records: its own results are lost, no one else's"),
        Submission("delays_every_cell_past_the_time_limit", None, {name: "import time\n"
                   "get_ipython().events.register('pre_run_cell', lambda *args: time.sleep(4))\n" + solution[name]},
                   edit=lambda nb: nb.cells.extend(nbformat.v4.new_code_cell("pass") for _ in range(20)) or nb,
                   what="every cell well within the cell time limit, the whole (over 100 s) past the submission's"),
        Submission("submission_folder_is_a_file", 0.0, prepare=replace_folder(lambda f, r: f.write_text("{}")),
                   what="submitted/<student>/<assignment> is a file"),
        # ---- nothing under submitted/ is followed ----
        Submission("links_the_solution", 0.0, prepare=link(nb_name, lambda r: r / "solutions" / assignment / nb_name),
                   what="the notebook is a link to the instructor's solution"),
        Submission("hard_links_the_solution", 0.0, prepare=each(
            lambda f, r: (f / nb_name).unlink(),
            lambda f, r: os.link(r / "solutions" / assignment / nb_name, f / nb_name)),
                   what="the notebook is a hard link to the instructor's solution"),
        Submission("links_to_nowhere", 0.0, prepare=link(nb_name, lambda r: r / "written-through-a-link.ipynb"),
                   what="the notebook is a dangling link (the blank copy used to be written where it points)"),
        Submission("links_its_submission_folder", 0.0, prepare=replace_folder(
            lambda f, r: f.symlink_to(r / "solutions" / assignment)), what="the submission folder is a link"),
        Submission("ships_links_and_pipes", total, prepare=each(
            link("refs.json", lambda r: problem_sets.reference_path(assignment)),
            link("gradebook.db", lambda r: r / "gradebook.db"),
            link("notes/solutions", lambda r: r / "solutions"),
            link("timestamp.txt", lambda r: pathlib.Path("/etc/hostname")),
            lambda f, r: os.mkfifo(f / "data.fifo")),
                   what="extra files that are links (references, gradebook, solutions/, timestamp) and a pipe"),
        Submission("timestamp_cannot_be_parsed", total,
                   prepare=lambda f, r: (f / "timestamp.txt").write_text("the day before the deadline"),
                   what="an unparseable timestamp.txt (it used to lose the grade)"),
        # ---- what an instructor opens is inert ----
        Submission("injects_script_into_html", total, {name: outputs + solution[name]}, edit=script_everywhere,
                   what="HTML, JavaScript, SVG, Markdown and forged image outputs; script in Markdown and raw cells"),
        # ---- nothing hidden reaches the kernel or the feedback ----
        hidden_only("echoes_hidden_inputs_in_errors",
                    "raise ValueError('LEAKED ' + repr(x.tolist()).replace('.', 'p'))",
                    "on the hidden cases only, raises with the inputs in its message, '.' written as 'p'"),
        hidden_only("names_its_exception_after_hidden_inputs",
                    "raise type('Leak_' + str(int(abs(x).sum() * 1000)), (Exception,), {})()",
                    "on the hidden cases only, raises an exception whose class name encodes the input"),
        Submission("forges_malformed_records", total - lost, {name: forge + solution[name]},
                   what="a list as a case label, 10**400, a forged 'missing', deep JSON: the exercise fails, no crash"),
        # ---- tampered metadata is repaired from the release ----
        Submission("renames_a_test_grade_id", total,
                   edit=metadata(lambda nb, c: c[first.test_cell].metadata.nbgrader.update(grade_id="my_own_test")),
                   what="renamed a test cell's grade_id (nbgrader's OverwriteCells crashed on it)"),
        Submission("marks_a_test_cell_as_solution", total,
                   edit=metadata(lambda nb, c: c[first.test_cell].metadata.nbgrader.update(solution=True)),
                   what="marked a test cell solution: true (nbgrader's OverwriteCells crashed on it)"),
        Submission("tampers_with_points_types_and_order", total, edit=metadata(tamper_points_types_order),
                   what="100 points on a test, a test turned into Markdown, a test moved above its answer"),
        Submission("rearranges_the_notebook", total, edit=metadata(rearrange),
                   what="deleted the setup cell, added a 100-point cell of its own, metadata of the wrong types"),
        # ---- hard bounds ----
        Submission("fills_tmp_and_its_folder", total, {name: fill + solution[name]},
                   what="writes 200 MB into /tmp and into its working folder"),
        Submission("prints_in_many_cells", total, edit=lambda nb: nb.cells.extend(
            nbformat.v4.new_code_cell("print('x' * 900_000)") for _ in range(30)) or nb,
                   what="900 kB of output in each of 30 cells of its own: under the cell limit, over the notebook's"),
        # ---- ids a spreadsheet or a page would run ----
        Submission("=2+5+cmd|' -C calc'!A0", total, what="a student id a spreadsheet evaluates"),
        Submission("@SUM(1+1)*cmd|' -C calc'!A0", total, what="another formula as a student id"),
        Submission("<img src=x onerror=alert(1)>", None, what="a student id that is HTML: refused, with a reason"),
    ]
    if dependent:
        battery.append(Submission(
            "steals_the_standins", total - lost - pts[dependent.test_cell],
            {name: wrong, dependent.name: f"import inspect\ndef {dependent.name}(*args, **kwargs):\n"
             f"    helper = globals()[{name!r}]\n    try:\n        text = inspect.getsource(helper)\n"
             "    except Exception:\n        text = repr([c.cell_contents for c in helper.__closure__ or ()])\n"
             "    raise RuntimeError('STOLEN ' + text.replace('.', 'p'))\n"},
            what="reads the correct helper put in place of its wrong one, and raises with what it found"))
    return battery


def _as_nbformat_44(nb):
    data = json.loads(nbformat.writes(nb))
    data["nbformat_minor"] = 4
    for cell in data["cells"]:
        cell.pop("id", None)
    return json.dumps(data)
