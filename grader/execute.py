"""The nbgrader Execute step of this course: a sandboxed kernel that nothing a submission does can
stop from finishing.

- The kernel runs in ``grader.sandbox`` (bubblewrap + prlimit) and talks over Unix sockets. Without
  bubblewrap grading refuses to start, unless ``sandbox`` is switched off explicitly.
- A cell that runs longer than ``timeout`` seconds, or kills its kernel (``os._exit``, a segfault,
  running out of memory), fails with a one-line reason; the kernel is then started afresh and the
  cells that had run are run again silently, so the rest of the notebook is still graded. After
  ``max_restarts`` restarts, or when the submission's ``submission_timeout`` is used up, the remaining
  cells fail as not run, each saying why.
- A cell's output beyond ``max_output_bytes`` is dropped, with a note, and so is all output beyond
  ``max_notebook_output_bytes`` (a notebook of many cells).
- What ``grader.student.check`` exports reaches the grader through a file that the grader creates
  outside the kernel's folders and binds into the sandbox by itself (``grader.sandbox``): the kernel
  can write into it, never replace it. The grader holds it open from the start and reads, after each
  cell, what was appended: at most ``max_export_bytes_per_cell`` bytes, ``max_export_bytes`` in all,
  and only records of the agreed shape (``ExportChannel``).
- After the last cell, the hidden phase: for each exercise of the problem set the grader sends the
  hidden inputs (never the reference outputs) and, for an exercise that calls helpers, the answers a
  correct helper gives on those inputs (computed here, never solution code), and collects what the
  student's function returned. The outputs of this phase never enter the notebook:
  ``grader.verdicts`` reads them from the resources.
"""

import json
import os
import pathlib
import stat
import tempfile
import time

import nbformat
from jupyter_client.manager import AsyncKernelManager
from nbclient.exceptions import CellControlSignal, CellTimeoutError, DeadKernelError
from nbformat import ValidationError
from nbformat.notebooknode import NotebookNode
from nbformat.v4.nbbase import validate
from nbgrader.preprocessors import Execute
from traitlets import Bool, Integer, Unicode

from grader import problem_sets, sandbox
from grader.compare import wrapped
from grader.student import MIME

NOT_RUN = "NotRun"
RUNS = {"own", "standin", "missing"}
MAX_RECORDS_PER_CELL = 64
MAX_RECORD_DEPTH = 24  # a record, its runs, results, nested answers and 6-dimensional arrays


def error_output(name, message):
    return NotebookNode(output_type="error", ename=name, evalue=message, traceback=wrapped(f"{name}: {message}"))


class SandboxKernelManager(AsyncKernelManager):
    """A kernel manager whose kernel command runs inside ``grader.sandbox``."""

    runtime_dir = Unicode("")
    export_file = Unicode("")
    limits = None

    def format_kernel_cmd(self, extra_arguments=None):
        argv = super().format_kernel_cmd(extra_arguments)
        return sandbox.command(argv, self.runtime_dir, self.export_file, self.limits)


class ExportChannel:
    """The grader's end of one kernel's export file. The file is created here, and held open from then
    on (``O_NOFOLLOW|O_NONBLOCK``, checked to be a regular file), so no path is ever looked up again;
    each ``read`` takes what was appended since the last one, up to a byte budget, and keeps only
    complete records of the agreed shape: ``{"exercise": <one of exercises>, "phase": "visible" or
    "hidden", "runs": {...}}``. Whatever else is in the file is ignored."""

    def __init__(self, path, exercises=None):
        self.fd = os.open(path, os.O_RDONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW | os.O_NONBLOCK, 0o600)
        if not stat.S_ISREG(os.fstat(self.fd).st_mode):
            os.close(self.fd)
            raise RuntimeError(f"{path} is not a regular file")
        self.offset, self.exercises = 0, exercises

    def read(self, budget):
        """``(records, bytes read, bytes skipped)`` for what the kernel appended since the last read,
        reading at most ``budget`` bytes; the rest of what was appended is skipped, never read."""
        size = os.fstat(self.fd).st_size
        start, self.offset = self.offset, size
        if size <= start:  # nothing new, or the kernel truncated the file: nothing to read either way
            return [], 0, 0
        data = os.pread(self.fd, min(size - start, budget), start)
        lines = data.split(b"\n")[:-1]  # the last piece is cut off (by the budget or a dying kernel)
        records = [r for r in map(_json, lines[:MAX_RECORDS_PER_CELL * 4]) if self._agreed(r)]
        return records[:MAX_RECORDS_PER_CELL], len(data), size - start - len(data)

    def _agreed(self, record):
        return (isinstance(record, dict) and set(record) == {"exercise", "phase", "runs"}
                and isinstance(record["exercise"], str) and len(record["exercise"]) <= 64
                and (self.exercises is None or record["exercise"] in self.exercises)
                and record["phase"] in ("visible", "hidden")
                and isinstance(record["runs"], dict) and set(record["runs"]) <= RUNS
                and _shallow(record, MAX_RECORD_DEPTH))

    def close(self):
        os.close(self.fd)


def _valid(output):
    """``output`` if nbformat accepts it, else a note: one invalid output (a hostile kernel can send any)
    would make nbconvert refuse the whole notebook, when recording its grades and writing its feedback."""
    try:
        validate(output, "output")
        return output
    except ValidationError:
        return _dropped()


def _dropped():
    return NotebookNode(output_type="stream", name="stdout",
                        text="\n[grader: an output the kernel sent is not a notebook output and was dropped]\n")


def _json(line):
    try:
        return json.loads(line)
    except (ValueError, RecursionError):  # not JSON, or nested too deep for the parser
        return None


def _shallow(value, limit):
    """Whether ``value`` nests lists and dicts at most ``limit`` deep (checked without recursion)."""
    stack = [(value, 1)]
    while stack:
        item, depth = stack.pop()
        if depth > limit:
            return False
        if isinstance(item, dict):
            stack.extend((v, depth + 1) for v in item.values())
        elif isinstance(item, list):
            stack.extend((v, depth + 1) for v in item)
    return True


class SandboxedExecute(Execute):
    sandbox = Bool(True, help="Run student code in the bubblewrap sandbox (off only on explicit request)."
                   ).tag(config=True)
    submission_timeout = Integer(240, help="Seconds one notebook may take in all, hidden phase included."
                                 ).tag(config=True)
    max_output_bytes = Integer(1_000_000, help="Output kept per cell; the rest is dropped with a note."
                               ).tag(config=True)
    max_notebook_output_bytes = Integer(10_000_000, help="Output kept per notebook, all cells together."
                                        ).tag(config=True)
    max_export_bytes_per_cell = Integer(4_000_000, help="Bytes of the export file read after one cell "
                                        "(a correct test exports well under 1 MB)").tag(config=True)
    max_export_bytes = Integer(16_000_000, help="Bytes of the export file read in all, per notebook."
                               ).tag(config=True)
    max_restarts = Integer(6, help="Kernel restarts (after a hang or a crash) per notebook.").tag(config=True)
    memory_mb = Integer(2048, help="Address space of the sandboxed kernel, in MiB.").tag(config=True)
    cpu_seconds = Integer(600, help="CPU time of the sandboxed kernel, in seconds.").tag(config=True)
    processes = Integer(128, help="Processes and threads of the sandboxed kernel's user.").tag(config=True)
    precomputed_dir = Unicode("", help="Folder of notebooks already executed by `grader.classroom` workers: "
                                       "take their outputs instead of running the notebook again.").tag(config=True)
    interrupt_on_timeout = Bool(False)  # a hung cell is killed with its kernel, not interrupted

    _sandbox_checked = False

    def preprocess(self, nb, resources, km=None):
        if self.precomputed_dir:
            return self._precomputed(nb, resources)
        if self.sandbox and not SandboxedExecute._sandbox_checked:
            sandbox.check_available(self._limits())
            SandboxedExecute._sandbox_checked = True
        elif not self.sandbox:
            self.log.warning("GRADING WITHOUT A SANDBOX: student code runs with your rights and can read "
                             "solutions/, the gradebook and other submissions.")
        self.nb, self.resources = nb, resources
        self._events, self._hidden, self._restarts, self._why_stopped = {}, {}, 0, ""
        self._export_budget, self._exports, self._notebook_output_bytes = self.max_export_bytes, None, 0
        module = problem_sets.load(resources.get("nbgrader", {}).get("assignment", ""))
        self._exercises = {e.name for e in module.EXERCISES} if module else None
        self._deadline = time.monotonic() + self.submission_timeout
        with tempfile.TemporaryDirectory(prefix="g-") as run_dir:  # short: socket paths hold 107 bytes
            os.chmod(run_dir, 0o711)
            self._run_dir = pathlib.Path(run_dir)
            try:
                self._start_kernel()
                self._run_cells()
                self._run_hidden_phase()
            finally:
                self._stop_kernel()
        resources.setdefault("grader", {}).update(events=self._events, hidden=self._hidden)
        return nb, resources

    # ---- the notebook's own cells ----------------------------------------------------------------

    def _run_cells(self):
        completed = []
        for index, cell in enumerate(self.nb.cells):
            if cell.cell_type != "code" or not cell.source.strip():
                continue
            if self.km is None:
                self._not_run(cell, index, self._why_stopped)
                continue
            status = self._execute(cell, index)
            if status == "ok":
                completed.append(index)
                continue
            reason = self._reason(status)
            cell.outputs.append(error_output(*reason))
            self._events[str(index)] = reason[1]
            if status == "budget" or not self._restart(completed):
                self._stop_kernel()
                self._why_stopped = (f"not run: {reason[1]}" if status == "budget"
                                     else "not run: the kernel could not be restarted after an earlier cell failed")

    def _not_run(self, cell, index, message):
        cell.outputs = [error_output(NOT_RUN, message)]
        self._events[str(index)] = message

    def _reason(self, status):
        if status == "timeout":
            return ("CellTimeout", f"stopped after {self.timeout} s (an endless loop?); the kernel was restarted "
                                   "and the cells before this one were run again")
        if status == "died":
            return ("KernelDied", "the kernel died while running this cell (os._exit, sys.exit from a thread, a "
                                  "crash, or running out of memory); it was restarted and the cells before this "
                                  "one were run again")
        if status == "broken":
            return ("KernelBroken", "the kernel sent the grader a message it could not read while running this "
                                    "cell; it was restarted and the cells before this one were run again")
        return (NOT_RUN, f"the notebook's time limit of {self.submission_timeout} s was reached")

    # ---- the hidden phase --------------------------------------------------------------------------

    def _run_hidden_phase(self):
        from grader.references import hidden_standins

        assignment = self.resources.get("nbgrader", {}).get("assignment")
        module = problem_sets.load(assignment) if assignment else None
        notebook = self.resources.get("nbgrader", {}).get("notebook")
        if module is None or f"{notebook}.ipynb" != module.NOTEBOOK:
            return
        student = self.resources.get("nbgrader", {}).get("student")  # per-student cases (grader/secret.py)
        references = problem_sets.references(assignment, student)["exercises"]
        standins = hidden_standins(assignment, student)
        replay = [i for i, c in enumerate(self.nb.cells) if c.cell_type == "code" and c.source.strip()
                  and str(i) not in self._events]
        test_cells = {c.metadata.get("nbgrader", {}).get("grade_id"): str(i) for i, c in enumerate(self.nb.cells)}
        for exercise in module.EXERCISES:
            # When its test hung or crashed, running the student's function again would only do the same:
            # then only the run with the correct helpers in place is tried (it may still earn the points).
            own = test_cells.get(exercise.test_cell) not in self._events
            if not own and not exercise.helpers:
                self._hidden[exercise.name] = {"error": "its test cell did not run to the end"}
                continue
            cases = [{"case": c["case"], "args": c["args"]} for c in references[exercise.name]["hidden"]]
            source = (f"import grader.student\ngrader.student.run_hidden({exercise.name!r}, {cases!r}, "
                      f"{standins.get(exercise.name)!r}, own={own})\n")
            if self.km is None:
                self._hidden[exercise.name] = {"error": self._why_stopped}
                continue
            status, outputs = self._execute_extra(source)
            if status == "ok":
                self._hidden[exercise.name] = {"outputs": [o for o in outputs if MIME in o.get("data", {})]}
                continue
            self._hidden[exercise.name] = {"error": {
                "timeout": f"stopped after {self.timeout} s while running your function on the hidden cases",
                "died": "the kernel died while running your function on the hidden cases",
                "broken": "the kernel sent the grader something it could not read while running your function "
                          "on the hidden cases",
            }.get(status, f"not run: the notebook's time limit of {self.submission_timeout} s was reached")}
            if status == "budget" or not self._restart(replay):
                self._stop_kernel()
                self._why_stopped = "not run: the kernel could not be restarted"

    # ---- kernel plumbing ---------------------------------------------------------------------------

    def _execute(self, cell, index):
        """Run one cell: "ok", "timeout", "died", "broken" (the kernel sent something nbclient cannot
        read) or "budget" (the notebook's time is used up)."""
        if time.monotonic() >= self._deadline:
            return "budget"
        self._output_bytes, self._output_capped = 0, False
        try:
            self.execute_cell(cell, index, store_history=True)
            status = "ok"
        except CellTimeoutError:
            status = "timeout" if time.monotonic() < self._deadline else "budget"
        except DeadKernelError:
            status = "died"
        except Exception as error:  # a hostile kernel's malformed message: this cell fails, grading goes on
            self.log.debug("cell %s: %r", index, error)
            status = "broken"
        if type(cell.get("execution_count")) is not int:  # whatever the kernel replied, a number or nothing
            cell.execution_count = None
        cell.outputs = [*map(_valid, cell.outputs), *self._read_exports()]
        return status

    def _read_exports(self):
        """What the kernel exported while the last cell ran, as display outputs of that cell (and a note
        when the cell exported more than may be read)."""
        budget = min(self.max_export_bytes_per_cell, self._export_budget)
        records, read, dropped = self._exports.read(budget)
        self._export_budget -= read
        found = [NotebookNode(output_type="display_data", metadata={}, data={MIME: r}) for r in records]
        if dropped:
            limit = (f"{self.max_export_bytes_per_cell // 1000} kB per cell" if budget == self.max_export_bytes_per_cell
                     else f"{self.max_export_bytes // 1000} kB per notebook")
            found.append(NotebookNode(output_type="stream", name="stdout", text=(
                f"\n[grader: this cell exported more than the grader reads ({limit}); {dropped // 1000} kB were "
                "ignored]\n")))
        return found

    def _execute_extra(self, source):
        """Run code that is not part of the notebook; its outputs go nowhere but the return value."""
        cell = nbformat.v4.new_code_cell(source)
        self.nb.cells.append(cell)
        try:
            status = self._execute(cell, len(self.nb.cells) - 1)
        finally:
            self.nb.cells.pop()
        return status, cell.outputs

    def _restart(self, completed):
        """A fresh kernel with the completed cells run again silently; False if that is not possible."""
        self._stop_kernel()
        self._restarts += 1
        if self._restarts > self.max_restarts:
            return False
        self._start_kernel()
        for index in completed:
            status, _ = self._execute_extra(self.nb.cells[index].source)
            if status != "ok":
                return False
        return True

    def _start_kernel(self):
        self._kernel_count = getattr(self, "_kernel_count", 0) + 1
        folder = self._run_dir / f"k{self._kernel_count}"
        scratch, runtime = folder / "scratch", folder / "rt"  # scratch: the cwd when not sandboxed
        scratch.mkdir(parents=True)
        runtime.mkdir()
        export_file = folder / "exports.jsonl"
        self._exports = ExportChannel(export_file, self._exercises)
        if self.sandbox:
            km = SandboxKernelManager(kernel_name="python3", config=self.config)
            km.runtime_dir, km.export_file, km.limits = str(runtime), str(export_file), self._limits()
        else:
            km = AsyncKernelManager(kernel_name="python3", config=self.config)
        km.transport, km.ip = "ipc", str(runtime / "ipc")
        km.connection_file = str(runtime / "kernel.json")
        self.km, self.kc = km, None
        env = {**os.environ, "GRADER_EXPORT_FILE": str(export_file),
               "MPLBACKEND": "module://matplotlib_inline.backend_inline"}
        self.start_new_kernel(cwd=str(scratch), env=env)
        self.start_new_kernel_client()
        if self.sandbox:
            sandbox.seal(runtime)

    def _stop_kernel(self):
        if getattr(self, "km", None) is not None:
            self.shutdown_kernel = "immediate"
            try:
                self._cleanup_kernel()
            except Exception as error:  # a kernel that is already gone
                self.log.debug("cleanup: %s", error)
        if getattr(self, "_exports", None) is not None:
            self._exports.close()
        self.km = self.kc = self._exports = None

    def _limits(self):
        return sandbox.Limits(memory_mb=self.memory_mb, cpu_seconds=self.cpu_seconds, processes=self.processes)

    def _get_timeout(self, cell):
        remaining = self._deadline - time.monotonic()
        return max(1, int(min(self.timeout, remaining) + 0.999)) if self.timeout else max(1, int(remaining))

    def process_message(self, msg, cell, cell_index):
        try:
            return super().process_message(msg, cell, cell_index)
        except CellControlSignal:  # the cell is done: nbclient's own signal
            raise
        except Exception as error:  # a message nbformat refuses (a hostile kernel can send any): dropped, noted
            self.log.debug("cell %s: %r", cell_index, error)
            cell.outputs.append(_dropped())
            return None

    def output(self, outs, msg, display_id, cell_index):
        content = msg.get("content")
        if not isinstance(content, dict) or not isinstance(content.get("data", {}), dict):
            return None  # not an output message nbformat knows: a hostile kernel's
        if MIME in content.get("data", {}):
            return None  # exports come from the export file only
        size = len(json.dumps(content))
        self._output_bytes += size
        self._notebook_output_bytes += size
        within = self._notebook_output_bytes <= self.max_notebook_output_bytes
        if self._output_bytes <= self.max_output_bytes and within:
            return super().output(outs, msg, display_id, cell_index)
        if not self._output_capped:
            self._output_capped = True
            limit = (f"{self.max_output_bytes // 1000} kB" if self._output_bytes > self.max_output_bytes else
                     f"{self.max_notebook_output_bytes // 1000} kB for the whole notebook")
            outs.append(NotebookNode(output_type="stream", name="stdout",
                                     text=f"\n[grader: output beyond {limit} dropped]\n"))
        return None

    # ---- results of an earlier run (parallel grading) ----------------------------------------------

    def _precomputed(self, nb, resources):
        """Take the outputs a grading worker already produced for this very notebook; or, when the
        worker was stopped (``{"not_run": reason}``, written by ``grader.classroom``), mark every code
        cell as not run, for that reason, with a note at the top."""
        info = resources["nbgrader"]
        path = pathlib.Path(self.precomputed_dir) / info["student"] / f"{info['notebook']}.json"
        saved = json.loads(path.read_text())
        if "not_run" in saved:
            reason = saved["not_run"]
            nb.cells.insert(0, nbformat.v4.new_markdown_cell(f"**Note from the grader:** {reason}", id="grader-stop"))
            events = {}
            for index, cell in enumerate(nb.cells):
                if cell.cell_type == "code" and cell.source.strip():
                    cell.outputs, events[str(index)] = [error_output(NOT_RUN, reason)], reason
            resources.setdefault("grader", {}).update(events=events, hidden={})
            return nb, resources
        done = nbformat.from_dict(saved["notebook"])
        if [c.source for c in done.cells] != [c.source for c in nb.cells]:
            raise RuntimeError(f"{path}: the worker ran a different notebook; grade this submission again")
        for cell, ran in zip(nb.cells, done.cells):
            if cell.cell_type == "code":
                cell.outputs, cell.execution_count = ran.outputs, ran.execution_count
        resources.setdefault("grader", {}).update(saved["grader"])
        return nb, resources
