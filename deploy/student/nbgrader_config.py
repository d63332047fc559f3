"""nbgrader settings for the students of the RNN course, installed system-wide by `sudo make exchange`
(default /etc/jupyter/nbgrader_config.py, which every account's nbgrader reads), so that a student's
account needs nothing of its own: `nbgrader fetch_assignment ps1_recurrence`, `nbgrader submit
ps1_recurrence`, `nbgrader fetch_feedback ps1_recurrence` and JupyterLab's Assignments tab find the course
and its exchange. `make exchange` writes the two values below; the rest is the same for every course.

A submission is readable by its author and the course staff only. Stock nbgrader leaves every file of a
submission readable by all accounts and relies on the folder's unguessable name; here, once nbgrader has
copied it into the exchange, its folders become 0770 and its files 0640, owned by the student, in the
group of the exchange's inbound folder (the course staff's group: `make exchange` gives it that group and
the set-group-id bit, so nbgrader's collect, run by the staff, still reads them).
"""

import os

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
        for folder, _, files in os.walk(submission):
            os.chmod(folder, 0o770)
            for name in files:
                path = os.path.join(folder, name)
                if not os.path.islink(path):
                    os.chmod(path, 0o640)


c.ExchangeFactory.submit = PrivateSubmit
