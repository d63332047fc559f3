"""``nbgrader collect`` (``make collect``, the formgrader's Collect button) without following links.

Stock collect copies each submission with ``shutil.copytree``, which follows symbolic links: as the
instructor, it would copy into ``submitted/`` whatever a student's link points at, and it blocks for
ever on a named pipe. Here links are copied as links (``make grade`` refuses them and tells the
student why), files are opened with ``O_NOFOLLOW|O_NONBLOCK`` and copied only when they are regular,
pipes, sockets and devices are left out with a warning, and a submission folder that is itself a link,
or whose student name would land outside ``submitted/``, is not collected at all.
"""

import os
import shutil
import stat

from nbgrader.exchange.default.collect import ExchangeCollect
from nbgrader.utils import ignore_patterns


class SafeCollect(ExchangeCollect):
    def do_copy(self, src, dest, log=None):
        submitted = os.path.realpath(self.coursedir.format_path(self.coursedir.submitted_directory, ".", "."))
        if os.path.islink(src):
            self.log.error("Not collected: %s is a symbolic link", src)
            return
        if not os.path.realpath(dest).startswith(submitted + os.sep):
            self.log.error("Not collected: %s would be copied outside %s", src, submitted)
            return
        nbgrader_ignores = ignore_patterns(exclude=self.coursedir.ignore, include=self.coursedir.include,
                                           max_file_size=self.coursedir.max_file_size, log=self.log)

        def ignored(folder, names):
            special = [name for name in names if not _copyable(os.path.join(folder, name))]
            for name in special:
                self.log.warning("Not collected: %s is not a regular file, folder or link", os.path.join(folder, name))
            return set(special) | set(nbgrader_ignores(folder, [n for n in names if n not in special]))

        shutil.copytree(src, dest, symlinks=True, ignore=ignored, copy_function=self._copy_regular)

    def _copy_regular(self, src, dest):
        try:
            source = os.open(src, os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK)
        except OSError as error:
            self.log.warning("Not collected: %s (%s)", src, error.strerror)
            return dest
        try:
            status = os.fstat(source)
            if not stat.S_ISREG(status.st_mode):  # swapped for something else since it was listed
                self.log.warning("Not collected: %s is not a regular file", src)
                return dest
            with open(source, "rb", closefd=False) as reader, open(dest, "xb") as writer:
                shutil.copyfileobj(reader, writer)
            os.utime(dest, ns=(status.st_atime_ns, status.st_mtime_ns))  # the time it was handed in
        finally:
            os.close(source)
        return dest


def _copyable(path):
    mode = os.lstat(path).st_mode
    return stat.S_ISREG(mode) or stat.S_ISDIR(mode) or stat.S_ISLNK(mode)
