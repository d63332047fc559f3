"""What the tests that log in real Unix accounts share: a Python environment those accounts can run.

The course's .venv may be built on an interpreter other accounts cannot reach (here it lives under /root), so
these tests use a venv made from the system's /usr/bin/python3 with the course's versions of nbgrader,
JupyterLab, JupyterHub, numpy, matplotlib and ipykernel, as a server's shared student environment would be. Creating it
takes a minute or two; it is kept under the temporary folder, keyed on those pins, and readable by all.
"""

import contextlib
import fcntl
import hashlib
import pathlib
import shutil
import subprocess
import tempfile

ROOT = pathlib.Path(__file__).resolve().parent.parent
SYSTEM_PYTHON = "/usr/bin/python3"
SERVER_PINS = ("nbgrader", "numpy", "matplotlib", "ipykernel", "jupyterlab", "jupyterhub",
               "jsonschema")  # deploy/jupyterhub/README.md pins it too (a 2 s import in later versions)


def server_venv():
    pins = [line for line in (ROOT / "requirements.txt").read_text().splitlines()
            if line.split("==")[0].strip().lower() in SERVER_PINS]
    key = hashlib.sha256("\n".join(sorted(pins)).encode()).hexdigest()[:12]
    venv = pathlib.Path(tempfile.gettempdir()) / f"rnn-course-server-venv-{key}"
    with building(venv) as missing:
        if missing:
            subprocess.run([SYSTEM_PYTHON, "-m", "venv", str(venv)], check=True)
            # Only these are held to the course's pins: its full tree needs Python >= 3.11.5 (soupsieve), and
            # Debian 12's is 3.11.2, so pip picks the rest for the system's Python.
            subprocess.run([venv / "bin" / "python", "-m", "pip", "install", "--quiet",
                            "--disable-pip-version-check", *pins], check=True)
            subprocess.run(["chmod", "-R", "a+rX", str(venv)], check=True)
            (venv / ".ready").write_text("\n".join(pins))
    return venv


@contextlib.contextmanager
def building(folder):
    """Hold an exclusive lock on ``folder``'s lock file; yield whether ``folder`` still has to be built (it
    has no ``.ready`` file; a half-built one is removed first). Test processes running side by side
    (pytest -n) thus build a shared cache once, and never read one another's half-built copy."""
    with open(f"{folder}.lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        missing = not (folder / ".ready").exists()
        if missing:
            shutil.rmtree(folder, ignore_errors=True)
        yield missing
