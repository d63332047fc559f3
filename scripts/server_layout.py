"""The course on a shared server (`sudo make exchange`): an exchange outside the course folder, the students'
nbgrader settings installed system-wide, and the course folder closed to everyone outside the course staff.

    sudo .venv/bin/python scripts/server_layout.py [--exchange-root DIR] [--student-config FILE]
                                                   [--group NAME] [--instructor USER] [--members a,b]
                                                   [--course-root DIR]

1. The staff's Unix group (default ``<course id>-staff``, e.g. ``rnn-course-staff``) is created if missing;
   the instructor and ``--members`` (graders) are added to it.
2. The exchange root (default: ``c.Exchange.root`` of nbgrader_config.py, ``/srv/nbgrader/exchange``) gets
   nbgrader's permissions, 0777, plus the sticky bit so that no student can rename or remove what another
   account made there. Under it, the course's folder, owned by the instructor (who runs ``make release``)
   in the staff's group: ``outbound/`` 2755 (students fetch), ``inbound/`` 2773 (students submit into it
   but cannot list it; a submission takes the staff's group), ``feedback/`` 2751 (students fetch their
   own page by its hashed name). These are nbgrader's own modes with read for the staff's group added.
3. The students' nbgrader_config.py (``deploy/student/nbgrader_config.py`` with the course id and exchange
   root written in) at ``--student-config`` (default ``/etc/jupyter/nbgrader_config.py``).
4. The course folder goes to the staff's group, 2750 at its top (and group-readable inside), so students
   cannot reach solutions/, grader/references/, the gradebook or submitted/.

Run it again at any time: it only sets what differs. Without root it does what it may and says what not.
"""

import argparse
import grp
import os
import pathlib
import pwd
import shutil
import stat
import subprocess
import sys

sys.path.insert(0, str(pathlib.Path(__file__).resolve().parent))
from nbcourse import ROOT, load_config  # noqa: E402

TEMPLATE = ROOT / "deploy" / "student" / "nbgrader_config.py"
EXCHANGE_FOLDERS = {"outbound": 0o2755, "inbound": 0o2773, "feedback": 0o2751}


def student_config(course_id, exchange_root):
    """The students' nbgrader_config.py for this course and exchange."""
    text = TEMPLATE.read_text()
    for name, value in (("COURSE_ID", course_id), ("EXCHANGE_ROOT", str(exchange_root))):
        line = next(line for line in text.splitlines() if line.startswith(f"{name} = "))
        text = text.replace(line, f"{name} = {value!r}", 1)
    return text


def ensure_group(name, members):
    try:
        grp.getgrnam(name)
    except KeyError:
        subprocess.run(["groupadd", name], check=True)
        print(f"created the group {name}")
    for user in members:
        if user != "root" and user not in grp.getgrnam(name).gr_mem:
            subprocess.run(["gpasswd", "-a", user, name], check=True, capture_output=True)
            print(f"added {user} to {name}")
    return grp.getgrnam(name).gr_gid


def ensure_folder(path, mode, uid=-1, gid=-1):
    """``path`` as a real folder (never a link) with this owner and mode."""
    if path.is_symlink() or (path.exists() and not path.is_dir()):
        raise SystemExit(f"{path} must be a folder, found something else: remove it first")
    path.mkdir(parents=True, exist_ok=True)
    status = path.stat()
    if (uid != -1 and status.st_uid != uid) or (gid != -1 and status.st_gid != gid):
        os.chown(path, uid, gid)
    if stat.S_IMODE(path.stat().st_mode) != mode:
        os.chmod(path, mode)  # after chown, which clears the set-group-id bit


def close_course_folder(course_root, gid):
    """The course folder and everything in it to the staff's group, readable by the group, and its top
    folder shut to everyone else (links are neither followed nor changed)."""
    for folder, folders, files in os.walk(course_root):
        for name in (folder, *(os.path.join(folder, f) for f in files + folders)):
            status = os.lstat(name)
            if stat.S_ISLNK(status.st_mode):
                continue
            if status.st_gid != gid:
                os.lchown(name, -1, gid)
            mode = stat.S_IMODE(os.lstat(name).st_mode)
            wanted = mode | stat.S_IRGRP | (stat.S_IXGRP if mode & stat.S_IXUSR else 0)
            if wanted != mode:
                os.chmod(name, wanted)
    os.chmod(course_root, 0o2750)


def inside(path, folder):
    path, folder = os.path.realpath(path), os.path.realpath(folder)
    return path == folder or path.startswith(folder + os.sep)


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--course-root", type=pathlib.Path, default=ROOT)
    parser.add_argument("--exchange-root", type=pathlib.Path,
                        help="default: c.Exchange.root of nbgrader_config.py (GRADER_EXCHANGE_ROOT or "
                             "/srv/nbgrader/exchange)")
    parser.add_argument("--student-config", type=pathlib.Path, default=pathlib.Path("/etc/jupyter/nbgrader_config.py"))
    parser.add_argument("--group", help="the course staff's Unix group (default: <course id>-staff)")
    parser.add_argument("--instructor", help="who releases (owns the course's exchange folder); default: the user "
                                             "who ran sudo, else the course folder's owner")
    parser.add_argument("--members", default="", help="comma-separated graders to add to the group")
    args = parser.parse_args(argv)

    course_root = args.course_root.resolve()
    config = load_config(course_root)
    course_id = config.CourseDirectory.course_id
    exchange = (args.exchange_root or pathlib.Path(config.Exchange.root)).absolute()
    if inside(exchange, course_root) or inside(course_root, exchange):
        raise SystemExit(f"the exchange {exchange} must be outside the course folder {course_root}: students "
                         "reach the exchange, and nothing of the course folder may be reachable to them")
    if os.geteuid() != 0:
        raise SystemExit("make exchange creates a group, folders owned by others and a file in /etc: run it as "
                         "root (sudo make exchange ...)")
    instructor = args.instructor or os.environ.get("SUDO_USER") or pwd.getpwuid(course_root.stat().st_uid).pw_name
    group = args.group or f"{course_id}-staff"
    members = [instructor] + [m for m in args.members.split(",") if m]
    gid = ensure_group(group, members)
    uid = pwd.getpwnam(instructor).pw_uid

    ensure_folder(exchange, 0o1777, 0, 0)
    course_exchange = exchange / course_id
    ensure_folder(course_exchange, 0o2755, uid, gid)
    for name, mode in EXCHANGE_FOLDERS.items():
        ensure_folder(course_exchange / name, mode, uid, gid)

    args.student_config.parent.mkdir(parents=True, exist_ok=True)
    text = student_config(course_id, exchange)
    if not args.student_config.exists() or args.student_config.read_text() != text:
        if args.student_config.exists():
            shutil.copy2(args.student_config, args.student_config.with_suffix(".py.bak"))
        args.student_config.write_text(text)
    os.chmod(args.student_config, 0o644)

    close_course_folder(course_root, gid)
    print(f"exchange: {exchange} (1777), {course_exchange} owned by {instructor}:{group}\n"
          f"students' settings: {args.student_config} (course {course_id!r}, exchange {exchange})\n"
          f"course folder: {course_root} readable by the group {group} only (2750); add graders with "
          f"`gpasswd -a <user> {group}`; students must not be in it")
    for parent in course_root.parents:
        if parent.stat().st_mode & stat.S_IWOTH and not parent.stat().st_mode & stat.S_ISVTX:
            print(f"warning: {parent} is writable by everyone without the sticky bit: anyone could move the "
                  "course folder away and put another in its place", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
