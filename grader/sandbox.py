"""The sandbox a student's kernel runs in at grading time: bubblewrap inside prlimit.

Inside, the kernel sees a root built from read-only pieces: the system (/usr, /etc), the Python
installation, the virtual environment (with torch hidden), and of this course only what test cells
import (``grader/__init__.py``, ``student.py``, ``compare.py`` and ``visible/``). It does not see
``solutions/``, ``rnnlib/``, the gradebook, the exchange or any other submission. It writes only to its
own scratch folder and a private /tmp, has no network (its own empty network namespace), its own
process and IPC namespaces (it cannot signal the grader), no capabilities, and limits on memory,
CPU time, processes, file size and open files. When grading runs as root, the kernel drops to an
unprivileged user id of its own, so that the process limit applies and root-only files stay unreadable.

Everything the kernel can write is bounded: its working folder and /tmp are tmpfs of a fixed size in
its own mount namespace (never the grader's disk), and the one file it shares with the grader, the
export file, is created by the grader outside any folder the kernel sees and bound in by itself, so
the kernel can write into it (up to the file size limit) but never replace it by a link or a pipe.

matplotlib's list of fonts is built once (``font_list``) and bound read-only into each kernel's /tmp,
where matplotlib looks for it: without it every kernel scans the fonts again, a third of a second of
each submission's grading.

The kernel talks to the grader over ZMQ's ``ipc`` transport: Unix sockets in a private folder that
is bound into the sandbox at the same path. Once the kernel has bound its sockets, ``seal`` takes
that folder back (as root), so nothing more can be written there.
"""

import functools
import hashlib
import json
import os
import pathlib
import shutil
import subprocess
import sys
import tempfile
from dataclasses import dataclass

ROOT = pathlib.Path(__file__).resolve().parent.parent
SCRATCH = "/scratch"                     # the kernel's working folder, a tmpfs of its own
EXPORT_FILE = "/run/grader/exports.jsonl"  # where the grader's export file is bound, alone
STUDENT_SIDE = ("__init__.py", "student.py", "compare.py", "visible")
HIDDEN_PACKAGES = ("torch", "functorch", "torchgen")
INSTALL_HELP = ("Install bubblewrap (as root: `apt-get install bubblewrap`, or run "
                "`scripts/install_system_deps.sh`). To grade WITHOUT a sandbox, which lets student code read "
                "solutions/ and the gradebook, pass --unsandboxed to `python -m grader grade` (make grade "
                "UNSANDBOXED=1) or --SandboxedExecute.sandbox=False to nbgrader.")


class SandboxUnavailable(RuntimeError):
    pass


@dataclass
class Limits:
    memory_mb: int = 2048       # address space of the kernel process
    cpu_seconds: int = 600      # CPU time of each process
    processes: int = 128        # processes and threads of the sandbox's user
    file_mb: int = 64           # largest file it may write
    open_files: int = 256
    tmp_mb: int = 64            # size of /tmp (a tmpfs: it counts against the machine's memory)
    scratch_mb: int = 64        # size of the working folder (a tmpfs too)


def sandbox_uid():
    """An unprivileged user id for this grading process's kernels (only used when running as root)."""
    return 61000 + os.getpid() % 1000


def command(kernel_argv, runtime_dir, export_file, limits=None, uid=None, env=None):
    """The command line that runs ``kernel_argv`` in the sandbox, in a fresh working folder, talking
    through sockets in ``runtime_dir`` and exporting into ``export_file`` (a regular file the caller
    created, seen inside at ``EXPORT_FILE``). Both are made the sandbox user's."""
    limits = limits or Limits()
    bwrap, prlimit = _tool("bwrap"), _tool("prlimit")
    as_root = os.geteuid() == 0
    uid = uid if uid is not None else sandbox_uid()
    for path in (runtime_dir, export_file):
        _give(path, uid if as_root else os.geteuid())
    processes = limits.processes if as_root else _own_process_count() + limits.processes
    argv = [prlimit, f"--as={limits.memory_mb * 2**20}", f"--cpu={limits.cpu_seconds}",
            f"--nproc={processes}", f"--fsize={limits.file_mb * 2**20}", f"--nofile={limits.open_files}",
            "--core=0", "--", bwrap, *_mounts(runtime_dir, export_file, limits), "--chdir", SCRATCH,
            "--unshare-ipc", "--unshare-pid", "--unshare-net", "--unshare-uts", "--unshare-cgroup-try",
            "--die-with-parent", "--new-session", "--clearenv",
            *_environment({"GRADER_EXPORT_FILE": EXPORT_FILE, **(env or {})}), "--"]
    if as_root:
        # bwrap runs as root (no user namespace) so it can mount what root can read; inside, the kernel
        # drops to its own user id with no capabilities, so the process limit holds and root's files stay shut.
        argv += [_tool("setpriv"), f"--reuid={uid}", f"--regid={uid}", "--clear-groups", "--no-new-privs",
                 "--inh-caps=-all", "--bounding-set=-all", "--"]
    else:
        argv[argv.index("--unshare-ipc")] = "--unshare-user"
        argv.insert(argv.index("--unshare-user") + 1, "--unshare-ipc")
        argv.insert(argv.index("--clearenv"), "--cap-drop")
        argv.insert(argv.index("--clearenv"), "ALL")
    argv += kernel_argv
    return argv


def seal(runtime_dir):
    """Once the kernel has bound its sockets: take ``runtime_dir`` back, so that the kernel can still
    connect to what is there but create nothing more (it is the one host folder it could write to).
    Only as root: without root the kernel's user is the folder's owner and could open it again."""
    if os.geteuid() == 0:
        os.chown(runtime_dir, 0, 0)
        os.chmod(runtime_dir, 0o711)


def check_available(limits=None):
    """Raise SandboxUnavailable, saying why and how to fix it, unless a sandboxed kernel here can import
    what test cells import, from this course: ``grader.student`` at ``ROOT/grader`` and numpy."""
    if not shutil.which("bwrap"):
        raise SandboxUnavailable(f"bubblewrap (bwrap) is not installed. {INSTALL_HELP}")
    expected = str(ROOT / "grader" / "student.py")
    probe = "import numpy, grader.compare, grader.student as s; print(s.__file__)"
    with tempfile.TemporaryDirectory(prefix="grader-probe-") as folder:
        os.chmod(folder, 0o711)
        runtime, export = pathlib.Path(folder) / "runtime", pathlib.Path(folder) / "exports.jsonl"
        runtime.mkdir()
        export.touch()
        argv = command([sys.executable, "-c", probe], runtime, export, limits)
        done = subprocess.run(argv, capture_output=True, text=True, timeout=60)
    if done.returncode != 0 and done.stderr.startswith(("bwrap:", "prlimit:", "setpriv:")):
        raise SandboxUnavailable(f"bubblewrap cannot start a sandbox here ({' '.join(done.stderr.split())[:300]}). "
                                 f"{INSTALL_HELP}")
    if done.returncode != 0 or done.stdout.strip() != expected:
        found = done.stdout.strip() or " ".join(done.stderr.split())[-300:]
        raise SandboxUnavailable(
            f"a sandboxed kernel cannot import this course's grader: it needs {expected} and got {found}. Every "
            f"test cell would fail and every student would get 0. The sandbox shows the kernel {sys.prefix} "
            f"(this Python's environment) and {ROOT / 'grader'}; install this course into that environment "
            "(`make venv`, which runs `pip install -e .`) and run `make grade` from the course folder.")


def _mounts(runtime_dir, export_file, limits):
    mounts = []
    for top in ("/bin", "/sbin", "/lib", "/lib32", "/lib64", "/libx32"):
        if os.path.islink(top):
            mounts += ["--symlink", os.readlink(top), top]
        elif os.path.isdir(top):
            mounts += ["--ro-bind", top, top]
    mounts += ["--ro-bind", "/usr", "/usr", "--ro-bind", "/etc", "/etc"]
    for prefix in _prefixes():
        if not prefix.startswith("/usr"):
            mounts += ["--ro-bind", prefix, prefix]
    for site in _site_packages():
        mounts += [arg for name in HIDDEN_PACKAGES if (site / name).is_dir()
                   for arg in ("--tmpfs", str(site / name))]
    for name in STUDENT_SIDE:
        path = ROOT / "grader" / name
        if path.exists():
            mounts += ["--ro-bind", str(path), str(path)]
    mounts += ["--bind", str(runtime_dir), str(runtime_dir), "--bind", str(export_file), EXPORT_FILE]
    fonts = font_list()
    if fonts is not None:  # read-only, inside the kernel's writable /tmp (its MPLCONFIGDIR)
        mounts += ["--ro-bind", str(fonts), f"/tmp/{fonts.name}"]
    sized = [arg for folder, mb in (("/tmp", limits.tmp_mb), (SCRATCH, limits.scratch_mb))
             for arg in ("--perms", "1777", "--size", str(mb * 2**20), "--tmpfs", folder)]
    return ["--proc", "/proc", "--dev", "/dev", *sized, *_parents_first(mounts), *mounts]


def font_list():
    """The file in which matplotlib lists the fonts it found, or None (each kernel then scans the fonts
    itself). Built once per Python environment and matplotlib version by importing matplotlib with
    nothing but the system's and this environment's fonts in reach, as in the sandbox, and kept in the
    grading account's cache folder (``~/.cache/rnn-course``), never in the temporary folder. None when it
    cannot be built or names a font the sandbox does not show, which matplotlib would stop to look for."""
    from importlib.metadata import version

    cache = pathlib.Path(os.environ.get("XDG_CACHE_HOME") or pathlib.Path.home() / ".cache") / "rnn-course"
    key = f"{sys.prefix}\n{version('matplotlib')}".encode()
    folder = cache / f"fonts-{hashlib.sha256(key).hexdigest()[:12]}"
    if folder.is_dir():  # built whole (renamed into place), so a list that fails its check stays unused
        try:
            return _checked_font_list(folder)
        except (OSError, ValueError, KeyError, TypeError):
            return None
    try:
        cache.mkdir(parents=True, exist_ok=True)
        scratch = pathlib.Path(tempfile.mkdtemp(prefix="building-", dir=cache))
        env = {"PATH": "/usr/bin:/bin", "HOME": str(scratch), "MPLCONFIGDIR": str(scratch), "LANG": "C.UTF-8"}
        subprocess.run([sys.executable, "-c", "import matplotlib.font_manager"], env=env, capture_output=True,
                       timeout=120, check=True)
        for other in scratch.iterdir():  # fontconfig's cache and such: only the list is kept
            if not other.name.startswith("fontlist-v"):
                shutil.rmtree(other) if other.is_dir() else other.unlink()
        scratch.chmod(0o755)
        for listed in scratch.iterdir():
            listed.chmod(0o644)
        try:
            scratch.rename(folder)  # whole or not at all; another grading process may have got there first
        except OSError:
            shutil.rmtree(scratch, ignore_errors=True)
        return _checked_font_list(folder)
    except (OSError, subprocess.SubprocessError, ValueError, KeyError, TypeError):
        return None


@functools.lru_cache(maxsize=4)
def _font_list_checked(path, mtime_ns):
    listed = json.loads(pathlib.Path(path).read_text())
    paths = [font["fname"] for key in ("ttflist", "afmlist") for font in listed[key]]
    shown = ("/usr/", *(f"{prefix}/" for prefix in _prefixes()))
    return not any(os.path.isabs(p) and not p.startswith(shown) for p in paths)


def _checked_font_list(folder):
    (found,) = folder.glob("fontlist-v*.json")
    if not _font_list_checked(str(found), found.stat().st_mtime_ns):
        raise ValueError(f"{found} names fonts the sandbox does not show")
    return found


def _prefixes():
    """The Python installation and the virtual environment, which the sandbox shows read-only."""
    return sorted({sys.base_prefix, sys.prefix, str(pathlib.Path(sys.executable).resolve().parent.parent)})


def _parents_first(mounts):
    """bwrap makes the missing parents of a mount point private (0700), which the kernel's own user
    could not enter: create them beforehand as 0755."""
    targets = [mounts[i + 2] for i, arg in enumerate(mounts) if arg in ("--ro-bind", "--bind")]
    targets += [mounts[i + 1] for i, arg in enumerate(mounts) if arg == "--tmpfs"] + ["/tmp", SCRATCH]
    parents = {str(p) for target in targets for p in pathlib.Path(target).parents if str(p) != "/"}
    parents -= set(targets)
    return [arg for parent in sorted(parents, key=lambda p: p.count("/"))
            for arg in ("--perms", "0755", "--dir", parent)]


def _environment(extra):
    settings = {
        "PATH": f"{pathlib.Path(sys.executable).parent}:/usr/bin:/bin",
        "HOME": "/tmp", "MPLCONFIGDIR": "/tmp", "IPYTHONDIR": "/tmp/.ipython", "XDG_CACHE_HOME": "/tmp/.cache",
        "MPLBACKEND": "module://matplotlib_inline.backend_inline",  # figures stay in the graded notebook
        "LANG": "C.UTF-8", "PYTHONHASHSEED": "0", "PYTHONDONTWRITEBYTECODE": "1",
        "OMP_NUM_THREADS": "1", "OPENBLAS_NUM_THREADS": "1", "MKL_NUM_THREADS": "1",
        # In its own PID namespace the kernel's parent is PID 1; without this it thinks its parent died.
        "JPY_PARENT_PID": "1",
        **extra,
    }
    return [arg for key, value in settings.items() for arg in ("--setenv", key, value)]


def _site_packages():
    lib = pathlib.Path(sys.prefix) / "lib"
    return sorted(lib.glob("python3*/site-packages"))


def _tool(name):
    path = shutil.which(name) or shutil.which(name, path="/usr/sbin:/sbin:/usr/bin:/bin")
    if not path:
        raise SandboxUnavailable(f"{name} is not installed. {INSTALL_HELP}")
    return path


def _give(path, uid):
    path = pathlib.Path(path)
    for item in [path, *(path.rglob("*") if path.is_dir() else ())]:
        os.chown(item, uid, uid, follow_symlinks=False)
    path.chmod(0o700 if path.is_dir() else 0o600)


def _own_process_count():
    uid = os.getuid()
    count = 0
    for status in pathlib.Path("/proc").glob("[0-9]*/status"):
        try:
            text = status.read_text()
        except OSError:
            continue
        for line in text.splitlines():
            if line.startswith("Uid:") and int(line.split()[1]) == uid:
                count += int(next((x.split()[1] for x in text.splitlines() if x.startswith("Threads:")), "1"))
                break
    return count
