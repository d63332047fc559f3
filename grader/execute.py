"""The nbgrader Execute step of this course: a sandboxed kernel that nothing a submission does can
stop from finishing.

- The kernel runs in ``grader.sandbox`` (bubblewrap + prlimit) and talks over Unix sockets. Without
  bubblewrap grading refuses to start, unless ``sandbox`` is switched off explicitly.
- A cell that runs longer than ``timeout`` seconds, or kills its kernel (``os._exit``, a segfault,
  running out of memory), fails with a one-line reason; the kernel is then started afresh and the
  cells that had run are run again silently, so the rest of the notebook is still graded. After
  ``max_restarts`` restarts, or when the submission's ``submission_timeout`` is used up, the remaining
  cells fail as not run, each saying why.
- A cell's output beyond ``max_output_bytes`` is dropped, with a note.
- After the last cell, the hidden phase: for each exercise of the problem set the grader sends the
  hidden inputs (never the reference outputs) and collects what the student's function returned. The
  outputs of this phase never enter the notebook: ``grader.verdicts`` reads them from the resources.
"""

import json
import os
import pathlib
import tempfile
import time

import nbformat
from jupyter_client.manager import AsyncKernelManager
from nbclient.exceptions import CellTimeoutError, DeadKernelError
from nbformat.notebooknode import NotebookNode
from nbgrader.preprocessors import Execute
from traitlets import Bool, Integer, Unicode

from grader import problem_sets, sandbox
from grader.compare import wrapped
from grader.student import MIME

NOT_RUN = "NotRun"


def error_output(name, message):
    return NotebookNode(output_type="error", ename=name, evalue=message, traceback=wrapped(f"{name}: {message}"))


class SandboxKernelManager(AsyncKernelManager):
    """A kernel manager whose kernel command runs inside ``grader.sandbox``."""

    scratch = Unicode("")
    runtime_dir = Unicode("")
    export_file = Unicode("")
    limits = None

    def format_kernel_cmd(self, extra_arguments=None):
        argv = super().format_kernel_cmd(extra_arguments)
        return sandbox.command(argv, self.scratch, self.runtime_dir, self.limits,
                               env={"GRADER_EXPORT_FILE": self.export_file})


class SandboxedExecute(Execute):
    sandbox = Bool(True, help="Run student code in the bubblewrap sandbox (off only on explicit request)."
                   ).tag(config=True)
    submission_timeout = Integer(240, help="Seconds one notebook may take in all, hidden phase included."
                                 ).tag(config=True)
    max_output_bytes = Integer(1_000_000, help="Output kept per cell; the rest is dropped with a note."
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
        self._deadline = time.monotonic() + self.submission_timeout
        with tempfile.TemporaryDirectory(prefix="grader-") as run_dir:
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
        return (NOT_RUN, f"the notebook's time limit of {self.submission_timeout} s was reached")

    # ---- the hidden phase --------------------------------------------------------------------------

    def _run_hidden_phase(self):
        assignment = self.resources.get("nbgrader", {}).get("assignment")
        module = problem_sets.load(assignment) if assignment else None
        notebook = self.resources.get("nbgrader", {}).get("notebook")
        if module is None or f"{notebook}.ipynb" != module.NOTEBOOK:
            return
        references = problem_sets.references(assignment)["exercises"]
        replay = [i for i, c in enumerate(self.nb.cells) if c.cell_type == "code" and c.source.strip()
                  and str(i) not in self._events]
        test_cells = {c.metadata.get("nbgrader", {}).get("grade_id"): str(i) for i, c in enumerate(self.nb.cells)}
        for exercise in module.EXERCISES:
            data = references[exercise.name]
            # When its test hung or crashed, running the student's function again would only do the same:
            # then only the run with the correct helpers in place is tried (it may still earn the points).
            own = test_cells.get(exercise.test_cell) not in self._events
            if not own and not data["standins"]:
                self._hidden[exercise.name] = {"error": "its test cell did not run to the end"}
                continue
            cases = [{"case": c["case"], "args": c["args"]} for c in data["hidden"]]
            source = (f"import grader.student\ngrader.student.run_hidden({exercise.name!r}, {cases!r}, "
                      f"{data['standins']!r}, own={own})\n")
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
            }.get(status, f"not run: the notebook's time limit of {self.submission_timeout} s was reached")}
            if status == "budget" or not self._restart(replay):
                self._stop_kernel()
                self._why_stopped = "not run: the kernel could not be restarted"

    # ---- kernel plumbing ---------------------------------------------------------------------------

    def _execute(self, cell, index):
        """Run one cell: "ok", "timeout", "died" or "budget" (the notebook's time is used up)."""
        if time.monotonic() >= self._deadline:
            return "budget"
        self._output_bytes, self._output_capped = 0, False
        start = self._export_file.stat().st_size
        try:
            self.execute_cell(cell, index, store_history=True)
            status = "ok"
        except CellTimeoutError:
            status = "timeout" if time.monotonic() < self._deadline else "budget"
        except DeadKernelError:
            status = "died"
        cell.outputs.extend(self._exports_since(start))
        return status

    def _exports_since(self, start, limit=50_000_000):
        """What the kernel exported while the last cell ran, as display outputs of that cell."""
        with self._export_file.open("rb") as handle:
            handle.seek(start)
            text = handle.read(limit).decode("utf-8", errors="replace")
        found = []
        for line in text.splitlines():
            try:
                record = json.loads(line)
            except ValueError:
                continue
            found.append(NotebookNode(output_type="display_data", metadata={}, data={MIME: record}))
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
        folder = self._run_dir / f"kernel{self._kernel_count}"
        scratch = folder / "scratch"
        scratch.mkdir(parents=True)
        runtime = folder / "runtime"
        runtime.mkdir()
        self._export_file = scratch / ".grader-exports.jsonl"
        self._export_file.touch()
        if self.sandbox:
            km = SandboxKernelManager(kernel_name="python3", config=self.config)
            km.scratch, km.runtime_dir, km.limits = str(scratch), str(runtime), self._limits()
            km.export_file = str(self._export_file)
        else:
            km = AsyncKernelManager(kernel_name="python3", config=self.config)
        km.transport, km.ip = "ipc", str(runtime / "ipc")
        km.connection_file = str(runtime / "kernel.json")
        self.km, self.kc = km, None
        env = {**os.environ, "GRADER_EXPORT_FILE": str(self._export_file),
               "MPLBACKEND": "module://matplotlib_inline.backend_inline"}
        self.start_new_kernel(cwd=str(scratch), env=env)
        self.start_new_kernel_client()

    def _stop_kernel(self):
        if getattr(self, "km", None) is not None:
            self.shutdown_kernel = "immediate"
            try:
                self._cleanup_kernel()
            except Exception as error:  # a kernel that is already gone
                self.log.debug("cleanup: %s", error)
        self.km = self.kc = None

    def _limits(self):
        return sandbox.Limits(memory_mb=self.memory_mb, cpu_seconds=self.cpu_seconds, processes=self.processes)

    def _get_timeout(self, cell):
        remaining = self._deadline - time.monotonic()
        return max(1, int(min(self.timeout, remaining) + 0.999)) if self.timeout else max(1, int(remaining))

    def output(self, outs, msg, display_id, cell_index):
        if MIME in msg.get("content", {}).get("data", {}):
            return None  # exports come from the export file only
        self._output_bytes += len(json.dumps(msg.get("content", {})))
        if self._output_bytes <= self.max_output_bytes:
            return super().output(outs, msg, display_id, cell_index)
        if not self._output_capped:
            self._output_capped = True
            note = NotebookNode(output_type="stream", name="stdout",
                                text=f"\n[grader: output beyond {self.max_output_bytes // 1000} kB dropped]\n")
            outs.append(note)
        return None

    # ---- results of an earlier run (parallel grading) ----------------------------------------------

    def _precomputed(self, nb, resources):
        """Take the outputs a grading worker already produced for this very notebook."""
        info = resources["nbgrader"]
        path = pathlib.Path(self.precomputed_dir) / info["student"] / f"{info['notebook']}.json"
        saved = json.loads(path.read_text())
        done = nbformat.from_dict(saved["notebook"])
        if [c.source for c in done.cells] != [c.source for c in nb.cells]:
            raise RuntimeError(f"{path}: the worker ran a different notebook; grade this submission again")
        for cell, ran in zip(nb.cells, done.cells):
            if cell.cell_type == "code":
                cell.outputs, cell.execution_count = ran.outputs, ran.execution_count
        resources.setdefault("grader", {}).update(saved["grader"])
        return nb, resources
