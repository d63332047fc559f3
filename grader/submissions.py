"""What ``make grade`` reads of a submission: a copy the grader makes, never the submission itself.

Everything under ``submitted/<student>/<assignment>/`` is hostile input. ``stage`` reads it without
following anything: folders and files are opened relative to their parent's descriptor with
``O_NOFOLLOW`` (files also ``O_NONBLOCK``), only regular files are read, each up to a size limit, and a
file with more hard links than the submission itself holds is a file from elsewhere. Symbolic links,
named pipes, sockets, devices and such hard links are refused; a notebook that is one of them is
replaced by the blank release, and the note at the top of the graded notebook says why. The copy goes
to a folder of the grader's, which nbgrader then grades as the submission: nothing is ever written
into ``submitted/``, so no student path is written through, and a link never reaches ``autograded/``
or the feedback folder.

The copy also makes a submission gradable: a notebook saved under another name is graded under the
expected one, an unreadable one is replaced by the blank release (and kept as ``<name>.unreadable``),
a missing or unparseable ``timestamp.txt`` is replaced (see ``_timestamp``), and a missing
``submission_secret.txt`` (which ``nbgrader release_feedback`` needs) is made up.
"""

import datetime
import os
import re
import stat
import uuid

import nbformat

from grader.notebooks import add_note

MAX_FILE_BYTES = 50 * 2**20   # a notebook with its figures is a few MB
MAX_TOTAL_BYTES = 200 * 2**20
MAX_FILES = 200
MAX_DEPTH = 8
KINDS = {stat.S_IFLNK: "a symbolic link", stat.S_IFIFO: "a named pipe", stat.S_IFSOCK: "a socket",
         stat.S_IFCHR: "a device", stat.S_IFBLK: "a device"}


class Refused(Exception):
    """A submission folder that cannot be read without following a link."""


def stage(submitted, student, assignment, target, release, expected):
    """Copy ``submitted/<student>/<assignment>/`` to ``target`` as the grader will grade it; return the
    notes (also written at the top of each graded notebook). ``release`` is the folder of the blank
    notebooks, ``expected`` their names."""
    notes = []
    try:
        files, refused, mtimes = read_submission(submitted, student, assignment)
    except Refused as why:
        files, refused, mtimes = {}, {}, {}
        notes.append(f"The submission folder is {why}, which the grader does not follow; nothing in it was read.")
    target.mkdir(parents=True)
    used, graded = set(expected), {}
    top_notebooks = sorted(p for p in [*files, *refused] if p.endswith(".ipynb") and "/" not in p)
    for name in expected:
        source = name
        others = [p for p in top_notebooks if p not in used]
        if name not in files and name not in refused and len(expected) == 1 and len(others) == 1:
            source = others[0]
            used.add(source)
            notes.append(f"Your notebook was submitted as {source}; it was graded as {name}.")
        nb = None
        if source in refused:
            notes.append(f"Your {source} is {refused.pop(source)}, which the grader does not follow, so the blank "
                         "notebook was graded.")
        elif source not in files:
            notes.append(f"No notebook {name} was submitted, so the blank one was graded.")
        else:
            data = files.pop(source)
            nb, error = _notebook(data)
            if nb is None:
                (target / f"{name}.unreadable").write_bytes(data)
                notes.append(f"The submitted {source} could not be read as a notebook ({error}); it is kept as "
                             f"{name}.unreadable and the blank notebook was graded.")
        graded[name] = nb or nbformat.read(release / name, as_version=4)
    for path in sorted(p for p in files if p.endswith(".ipynb") and "/" not in p and p not in used):
        notes.append(f"{path} is not part of the assignment and was not graded.")
    notes += _timestamp(files.pop("timestamp.txt", None), "timestamp.txt" in refused, mtimes, target)
    _secret(files.pop("submission_secret.txt", None), target)
    for path, data in files.items():
        (target / path).parent.mkdir(parents=True, exist_ok=True)
        (target / path).write_bytes(data)
    if refused:
        listed = ", ".join(f"{path} ({why})" for path, why in sorted(refused.items())[:10])
        notes.append(f"Not read, because the grader never follows links or special files: {listed}.")
    for name, nb in graded.items():
        if notes:
            add_note(nb, notes)
        nbformat.write(nb, target / name)
    return notes


def read_submission(submitted, student, assignment):
    """``(files, refused, mtimes)`` of ``submitted/<student>/<assignment>/``: ``{relative path: bytes}``
    of its regular files, ``{relative path: why}`` of what was not read, and ``{relative path: mtime}``.
    Raises Refused when the student's folder or the submission folder is not a plain folder."""
    top = os.open(submitted, os.O_RDONLY | os.O_DIRECTORY)  # the course's own folder
    folders = [top]
    try:
        folders.append(_open_folder(student, top))
        folders.append(_open_folder(assignment, folders[-1]))
        files, refused, mtimes, inodes = {}, {}, {}, {}
        _walk(folders[-1], "", 0, files, refused, mtimes, inodes)
    finally:
        for folder in folders:
            os.close(folder)
    for (links, paths) in inodes.values():
        if links > len(paths):  # some of its names are outside the submission
            for path in paths:
                files.pop(path, None)
                refused[path] = "a hard link to a file outside the submission"
    return files, refused, mtimes


def _open_folder(name, parent):
    try:
        return os.open(name, os.O_RDONLY | os.O_DIRECTORY | os.O_NOFOLLOW | os.O_NONBLOCK, dir_fd=parent)
    except OSError:
        kind = os.stat(name, dir_fd=parent, follow_symlinks=False).st_mode
        raise Refused(KINDS.get(stat.S_IFMT(kind), "not a folder")) from None


def _walk(folder, prefix, depth, files, refused, mtimes, inodes):
    for name in sorted(os.listdir(folder)):
        path = prefix + name
        info = os.stat(name, dir_fd=folder, follow_symlinks=False)
        kind = stat.S_IFMT(info.st_mode)
        if kind == stat.S_IFDIR and depth < MAX_DEPTH:
            inner = _open_folder(name, folder)
            try:
                _walk(inner, path + "/", depth + 1, files, refused, mtimes, inodes)
            finally:
                os.close(inner)
        elif kind == stat.S_IFDIR:
            refused[path] = "a folder nested too deep"
        elif kind != stat.S_IFREG:
            refused[path] = KINDS.get(kind, "not a regular file")
        elif len(files) >= MAX_FILES or info.st_size > MAX_FILE_BYTES or \
                sum(map(len, files.values())) + info.st_size > MAX_TOTAL_BYTES:
            refused[path] = "beyond the size or number of files the grader reads"
        else:
            data = _read_regular(name, folder, info)
            if data is None:
                refused[path] = "not a regular file"
                continue
            files[path], mtimes[path] = data, info.st_mtime
            inodes.setdefault((info.st_dev, info.st_ino), (info.st_nlink, []))[1].append(path)


def _read_regular(name, folder, listed):
    """The bytes of a regular file, opened without following a link or blocking on a pipe, and only
    if it is still the file that was listed."""
    try:
        handle = os.open(name, os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK, dir_fd=folder)
    except OSError:
        return None
    try:
        info = os.fstat(handle)
        if not stat.S_ISREG(info.st_mode) or (info.st_dev, info.st_ino) != (listed.st_dev, listed.st_ino):
            return None
        chunks, left = [], MAX_FILE_BYTES
        while left > 0 and (chunk := os.read(handle, min(left, 2**20))):
            chunks.append(chunk)
            left -= len(chunk)
        return b"".join(chunks)
    finally:
        os.close(handle)


def _notebook(data):
    """``(notebook, None)``, or ``(None, why)`` when ``data`` is not a notebook nbgrader can grade."""
    try:
        nb = nbformat.reads(data.decode("utf-8"), as_version=4)
    except Exception as error:  # not UTF-8, not JSON, not a notebook, truncated...
        return None, " ".join(str(error).split())[:160] or type(error).__name__
    cells = nb.get("cells")
    if not isinstance(cells, list) or not all(isinstance(c, dict) and c.get("cell_type") in ("code", "markdown", "raw")
                                              and isinstance(c.get("source"), str) for c in cells):
        return None, "its cells are not notebook cells"
    return nb, None


def _timestamp(data, was_refused, mtimes, target):
    """Write ``target/timestamp.txt``; return the notes. A readable time is kept as it was written.
    A missing one is taken from the notebooks' modification time. An unreadable one is taken from
    when ``timestamp.txt`` itself was last written: `nbgrader submit` writes that file when the student
    submits and `nbgrader collect` keeps its modification time, so it is the best evidence left, and
    taking such a submission as on time would reward breaking the file."""
    text = data.decode("utf-8", "replace").strip() if data is not None else ""
    if data is not None and len(data) <= 200 and _parses(text):
        (target / "timestamp.txt").write_bytes(data)
        return []
    newest = max((t for p, t in mtimes.items() if p.endswith(".ipynb")), default=None)
    if data is None and not was_refused:
        when = _utc(newest)
        note = f"No timestamp.txt came with the submission; its time was taken as {when}."
    else:
        when = _utc(mtimes.get("timestamp.txt", newest))
        shown = re.sub(r"[^\w :.+-]", "?", text[:40]) if data is not None else "a link"
        note = (f"Its timestamp.txt could not be read as a time ('{shown}'); the submission time was taken from "
                f"when that file was last written, {when}.")
    (target / "timestamp.txt").write_text(when)
    return [note]


def _parses(text):
    from nbgrader.utils import parse_utc

    try:
        return bool(text) and parse_utc(text) is not None
    except Exception:  # dateutil raises ValueError, OverflowError and others
        return False


def _utc(seconds):
    moment = datetime.datetime.fromtimestamp(seconds, datetime.UTC) if seconds else datetime.datetime.now(datetime.UTC)
    return moment.strftime("%Y-%m-%d %H:%M:%S.%f UTC")


def _secret(data, target):
    """``submission_secret.txt``: the student's if it looks like one (nbgrader writes a uuid), else a new one."""
    text = data.decode("ascii", "replace").strip() if data is not None else ""
    (target / "submission_secret.txt").write_text(text if re.fullmatch(r"[A-Za-z0-9_-]{1,128}", text)
                                                  else uuid.uuid4().hex)
