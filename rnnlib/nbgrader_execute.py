"""An nbgrader Execute step that survives a submission killing its kernel.

Stock nbgrader abandons the whole submission when the kernel dies (``os._exit``, a segfault, running
out of memory): the student gets no grade and no report. Here the cell that killed the kernel gets an
error output saying so, the cells after it are marked as not run, and grading goes on, so the crash
costs the points of the cells it affects and is visible in the feedback.
"""

from nbclient.exceptions import DeadKernelError
from nbformat.notebooknode import NotebookNode
from nbgrader.preprocessors import Execute


def _error(name, message):
    return NotebookNode(output_type="error", ename=name, evalue=message, traceback=[f"{name}: {message}"])


class CrashSafeExecute(Execute):
    def preprocess(self, nb, resources=None, km=None):
        self._died_in = None
        try:
            return super().preprocess(nb, resources, km)
        except DeadKernelError:  # dead before the first cell, or while shutting down
            if self._died_in is None:
                raise
            return self.nb, self.resources

    def preprocess_cell(self, cell, resources, index):
        if cell.cell_type != "code":
            return cell, resources
        if self._died_in is not None:
            cell.outputs = [_error("KernelDied", f"not run: the kernel died in cell {self._died_in}")]
            return cell, resources
        try:
            return super().preprocess_cell(cell, resources, index)
        except DeadKernelError:
            self._died_in = index
            cell.outputs.append(_error("KernelDied", "the kernel died while running this cell "
                                                     "(os._exit, a crash, or running out of memory)"))
            return cell, resources
