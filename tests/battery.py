"""An adversarial battery of submissions, built generically from any problem set's solution.

Every submission answers all exercises with the instructor's solution except where it says otherwise;
``wrong`` replaces the first exercise by a wrong answer (``return 0.0``), which the attack then tries to
turn into points. Each entry carries the autograded score it must get. Used by tests/test_adversarial.py
(graded as one class through the real `make grade` path) and by bench/ (stock nbgrader on the same
submissions).
"""

import json
import pathlib
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
        crash("loops_forever", "    while True:\n        pass", "an endless loop"),
        crash("ignores_interrupts", "    import time\n    while True:\n        try:\n            time.sleep(0.05)\n"
              "        except BaseException:\n            pass", "a loop that ignores KeyboardInterrupt"),
        crash("calls_sys_exit", "    import sys\n    sys.exit(0)", "sys.exit in the graded call"),
        crash("signals_the_grader", "    import os, signal\n    for pid in (os.getppid(), 1, -1):\n        try:\n"
              "            os.kill(pid, signal.SIGKILL)\n        except Exception:\n            pass",
              "kills its parent, PID 1 and everything it can"),
        crash("forks_processes", "    import os, time\n    for _ in range(100000):\n        if os.fork() == 0:\n"
              "            time.sleep(60)\n            os._exit(0)", "a fork bomb"),
        crash("raises_a_base_exception", "    class Escape(BaseException):\n        pass\n"
              "    raise Escape('escaping the test harness')", "raises a BaseException from the graded call"),
        Submission("hangs_on_hidden_cases_only", total - lost, {
            name: solution[name].replace(f"def {name}(", f"def _{name}(") +
            f"\ndef {name}(*args, **kwargs):\n    _seen.append(1)\n    if len(_seen) > 3:\n        while True:\n"
            f"            pass\n    return _{name}(*args, **kwargs)\n_seen = []\n"},
            what="right on the sanity cases, hangs on the hidden ones"),
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
    for submission in battery:
        if submission.student not in ("blank",):
            submission.answers = {**solution, **submission.answers}
    return battery


def _as_nbformat_44(nb):
    data = json.loads(nbformat.writes(nb))
    data["nbformat_minor"] = 4
    for cell in data["cells"]:
        cell.pop("id", None)
    return json.dumps(data)
