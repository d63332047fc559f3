"""nbgrader settings for the students of the RNN course, installed system-wide by `sudo make exchange`
(default /etc/jupyter/nbgrader_config.py, which every account's nbgrader reads), so that a student's
account needs nothing of its own: `nbgrader fetch_assignment ps1_recurrence`, `nbgrader submit
ps1_recurrence`, `nbgrader fetch_feedback ps1_recurrence` and JupyterLab's Assignments tab find the course
and its exchange. `make exchange` writes the two values below; the rest is the same for every course.

A submission is readable by its author and the course staff only. Stock nbgrader leaves a submission's
folder open to all accounts (0777) and relies on its unguessable name; here, once nbgrader has copied it
into the exchange, its folders become 0770. They belong to the group of the exchange's inbound folder, the
course staff's (`make exchange` gives inbound that group and the set-group-id bit, which new folders in it
inherit), so nbgrader's collect, run by the staff, still reads the files, and no other account can enter.
(The files keep nbgrader's 0644: a student cannot give a file the staff's group, and nbgrader writes
timestamp.txt and submission_secret.txt after copying has reset the folder's set-group-id bit.)
"""

import atexit
import os
import shutil
import tempfile

from nbgrader.exchange.default.submit import ExchangeSubmit

COURSE_ID = "rnn-course"
EXCHANGE_ROOT = "/srv/nbgrader/exchange"

c = get_config()  # noqa: F821 (provided by nbgrader when it loads this file)
c.CourseDirectory.course_id = COURSE_ID
c.Exchange.root = EXCHANGE_ROOT


class PrivateSubmit(ExchangeSubmit):
    """nbgrader's submit, then the submission closed to everyone but its author and the staff's group."""

    def copy_files(self):
        super().copy_files()
        submission = os.path.join(self.inbound_path, self.assignment_filename)
        for folder, _, _ in os.walk(submission):
            os.chmod(folder, 0o770)


c.ExchangeFactory.submit = PrivateSubmit

# `nbgrader validate` starts a kernel: over a Unix socket in a private folder (removed when validate
# ends) instead of TCP, which ipykernel warns about at the top of every validate.
_ipc = tempfile.mkdtemp(prefix="nbgrader-ipc-")
atexit.register(shutil.rmtree, _ipc, ignore_errors=True)
c.KernelManager.transport = "ipc"
c.KernelManager.ip = os.path.join(_ipc, "kernel")
