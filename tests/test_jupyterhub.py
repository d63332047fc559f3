"""The course's JupyterHub (deploy/jupyterhub/) run for real on 127.0.0.1: configurable-http-proxy from npm
(the version pinned in package.json), the local process spawner and two new Unix accounts, a student and an
instructor in the staff's group, logged in through the hub's API. One problem set goes through the whole
term: the instructor assigns and releases it in the formgrader, the student fetches it in the Assignments
API, saves a solved notebook and submits, the instructor collects, `make grade`'s path grades it, the
instructor releases the feedback and the student fetches it. The student's server has no formgrader.
Everything started is stopped, and the accounts, groups and files are removed.

About a minute: one pass through each slow step (two JupyterLab servers, one graded class).
"""

import hashlib
import json
import os
import pathlib
import secrets
import shutil
import signal
import socket
import stat
import subprocess
import tempfile
import time
import urllib.error
import urllib.parse
import urllib.request

import nbformat
import pytest
from course import solution_sources
from server_env import SYSTEM_PYTHON, server_venv

ROOT = pathlib.Path(__file__).resolve().parent.parent
PS = "ps1_recurrence"
NOTEBOOK = f"{PS}.ipynb"
pytestmark = pytest.mark.skipif(
    os.geteuid() != 0 or not shutil.which("useradd") or not shutil.which("npm") or not os.path.exists(SYSTEM_PYTHON)
    or not shutil.which("bwrap"), reason="needs root, useradd, npm, /usr/bin/python3 and bubblewrap")


def proxy_command():
    """configurable-http-proxy at the version package-lock.json pins: the course's node_modules, or the
    same lock installed once into the temporary folder."""
    local = ROOT / "node_modules" / ".bin" / "configurable-http-proxy"
    if local.exists():
        return local
    lock = (ROOT / "package-lock.json").read_bytes()
    folder = pathlib.Path(tempfile.gettempdir()) / f"rnn-course-npm-{hashlib.sha256(lock).hexdigest()[:12]}"
    if not (folder / "node_modules" / ".bin" / "configurable-http-proxy").exists():
        folder.mkdir(exist_ok=True)
        for name in ("package.json", "package-lock.json"):
            shutil.copy2(ROOT / name, folder / name)
        subprocess.run(["npm", "ci", "--no-audit", "--no-fund", "--loglevel=error"], cwd=folder, check=True)
    return folder / "node_modules" / ".bin" / "configurable-http-proxy"


def free_ports(count):
    sockets = [socket.socket() for _ in range(count)]
    for s in sockets:
        s.bind(("127.0.0.1", 0))
    ports = [s.getsockname()[1] for s in sockets]
    for s in sockets:
        s.close()
    return ports


class Hub:
    def __init__(self, port, token):
        self.base, self.token = f"http://127.0.0.1:{port}", token

    def call(self, method, path, body=None, token=None, form=None):
        data = json.dumps(body).encode() if body is not None else None
        headers = {"Authorization": f"token {token or self.token}"}
        if form is not None:
            data = "&".join(f"{k}={v}" for k, v in form.items()).encode()
            headers["Content-Type"] = "application/x-www-form-urlencoded"
        request = urllib.request.Request(self.base + path, data=data, method=method, headers=headers)
        try:
            with urllib.request.urlopen(request, timeout=120) as response:
                text = response.read().decode()
                return response.status, (json.loads(text) if text.strip()[:1] in ("[", "{") else text)
        except urllib.error.HTTPError as error:
            return error.code, error.read().decode(errors="replace")
        except (urllib.error.URLError, ConnectionError) as error:  # not listening yet
            return 0, str(error)


@pytest.fixture
def machine():
    """Scratch folders, two accounts and their groups; all removed afterwards."""
    base = pathlib.Path(tempfile.mkdtemp(prefix="rnn-hub-", dir="/tmp"))
    os.chmod(base, 0o755)
    tag = secrets.token_hex(3)
    names = {"staff": f"rnnhstaff{tag}", "students": f"rnnhstu{tag}", "student": f"rnnhs{tag}",
             "instructor": f"rnnhi{tag}"}
    made = []
    try:
        (base / "home").mkdir(mode=0o755)
        for group in ("staff", "students"):
            subprocess.run(["groupadd", names[group]], check=True)
            made.append(("group", names[group]))
        for user, group in (("student", "students"), ("instructor", "staff")):
            subprocess.run(["useradd", "--create-home", "--home-dir", str(base / "home" / names[user]), "--shell",
                            "/bin/sh", "-K", "HOME_MODE=0700", "-G", names[group], names[user]], check=True)
            made.append(("user", names[user]))
        yield base, names
    finally:
        for kind, name in reversed(made):
            if kind == "user":
                for pid in subprocess.run(["pgrep", "-u", name], capture_output=True, text=True).stdout.split():
                    os.kill(int(pid), signal.SIGKILL)  # a server the hub failed to stop
                subprocess.run(["userdel", "--remove", name], capture_output=True)
            else:
                subprocess.run(["groupdel", name], capture_output=True)
        shutil.rmtree(base, ignore_errors=True)


def wait_for(check, what, seconds=120):
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        result = check()
        if result:
            return result
        time.sleep(0.5)
    raise AssertionError(f"timed out waiting for {what}")


def test_one_problem_set_through_the_hub_from_release_to_feedback(machine, monkeypatch):
    base, names = machine
    shut = [str(p) for p in [ROOT, *ROOT.parents] if not os.stat(p).st_mode & stat.S_IXOTH]
    assert not shut, (f"the instructor's server imports the grader from this checkout ({ROOT}), which other "
                      f"accounts cannot enter: {shut} (clone the course into a folder others may read)")
    student, instructor = names["student"], names["instructor"]
    course, exchange, config_dir = base / "course", base / "srv" / "exchange", base / "etc" / "jupyter"
    for folder in (f"solutions/{PS}", f"exercises/{PS}"):
        shutil.copytree(ROOT / folder, course / folder)
    (course / "grader" / "references").mkdir(parents=True)
    shutil.copy2(ROOT / "grader" / "references" / f"{PS}.json", course / "grader" / "references")
    shutil.copy2(ROOT / "nbgrader_config.py", course)
    subprocess.run(["chown", "-R", f"{instructor}:{instructor}", str(course)], check=True)
    layout = subprocess.run(["make", "-s", "-C", str(ROOT), "-o", ".venv/.installed", "exchange",
                             f"COURSE_ROOT={course}", f"EXCHANGE_ROOT={exchange}", f"COURSE_GROUP={names['staff']}",
                             f"STUDENT_CONFIG={config_dir / 'nbgrader_config.py'}", f"INSTRUCTOR={instructor}"],
                            capture_output=True, text=True)
    assert layout.returncode == 0, layout.stdout + layout.stderr
    venv = server_venv()
    from student_package import build

    wheel = build(base / "dist")
    subprocess.run([venv / "bin" / "python", "-m", "pip", "install", "--quiet", "--no-deps", "--force-reinstall",
                    wheel], check=True)

    port, api_port, proxy_port = free_ports(3)
    token = secrets.token_hex(32)
    state = base / "hub"
    environment = {**os.environ, "RNN_COURSE_ROOT": str(course), "RNN_COURSE_STAFF_GROUP": names["staff"],
                   "RNN_COURSE_STUDENT_GROUP": names["students"], "RNN_COURSE_STUDENT_ENV": str(venv),
                   "RNN_COURSE_STAFF_ENV": str(venv), "RNN_COURSE_STAFF_PYTHONPATH": str(ROOT),
                   "RNN_HUB_STATE": str(state), "RNN_HUB_PORT": str(port), "RNN_HUB_API_PORT": str(api_port),
                   "RNN_PROXY_API_PORT": str(proxy_port), "RNN_CHP": str(proxy_command()),
                   "RNN_HUB_SERVICE_TOKEN": token, "RNN_STUDENT_CONFIG_DIR": str(config_dir),
                   "GRADER_EXCHANGE_ROOT": str(exchange)}
    log = open(base / "hub.log", "w")  # noqa: SIM115 (closed below)
    hub_process = subprocess.Popen([ROOT / ".venv" / "bin" / "jupyterhub", "-f",
                                    ROOT / "deploy" / "jupyterhub" / "jupyterhub_config.py"],
                                   cwd=base, env=environment, stdout=log, stderr=subprocess.STDOUT,
                                   start_new_session=True)
    hub = Hub(port, token)
    try:
        wait_for(lambda: hub_process.poll() is not None or hub.call("GET", "/hub/api/")[0] == 200, "the hub")
        assert hub_process.poll() is None, (base / "hub.log").read_text()[-3000:]
        status, groups = hub.call("GET", "/hub/api/groups")
        assert status == 200 and {g["name"]: g["users"] for g in groups} == {
            "formgrade-rnn-course": [instructor], "nbgrader-rnn-course": [student]}, groups
        tokens = {}
        for user in (student, instructor):  # log in through the API: a token of the user's own, and a server
            status, made = hub.call("POST", f"/hub/api/users/{user}/tokens", {"note": "test", "expires_in": 600})
            assert status == 201, made
            tokens[user] = made["token"]
            assert hub.call("POST", f"/hub/api/users/{user}/server")[0] in (201, 202)
        for user in (student, instructor):
            wait_for(lambda user=user: hub.call("GET", f"/hub/api/users/{user}")[1]["servers"].get("", {}).get(
                "ready"), f"{user}'s server", 180)

        def as_user(user, method, path, **kwargs):
            return hub.call(method, f"/user/{user}{path}", token=tokens[user], **kwargs)

        formgrader = f"/formgrader/api/assignment/{PS}"
        for step in ("assign", "release"):
            status, result = as_user(instructor, "POST", f"{formgrader}/{step}")
            assert status == 200 and isinstance(result, dict) and result["success"], (
                status, str(result)[:500], (base / "hub.log").read_text()[-4000:])
        assert as_user(student, "GET", "/formgrader/api/status")[0] == 404  # no formgrader for students
        assert hub.call("GET", f"/user/{instructor}/formgrader/api/status", token=tokens[student])[0] == 403

        action = {"course_id": "rnn-course", "assignment_id": PS}
        status, result = as_user(student, "POST", "/assignments/fetch", form=action)
        assert status == 200 and isinstance(result, dict) and result["success"], (status, result)
        nb = nbformat.read(course / "exercises" / PS / NOTEBOOK, as_version=4)
        answers = solution_sources(PS, NOTEBOOK)
        for cell in nb.cells:
            cell.source = answers.get(cell.metadata.get("nbgrader", {}).get("grade_id"), cell.source)
        status, _ = as_user(student, "PUT", f"/api/contents/{PS}/{NOTEBOOK}",
                            body={"type": "notebook", "format": "json", "content": nb})
        assert status == 200
        status, result = as_user(student, "POST", "/assignments/submit", form=action)
        assert status == 200 and isinstance(result, dict) and result["success"], (status, result)

        status, result = as_user(instructor, "POST", f"{formgrader}/collect")
        assert status == 200 and isinstance(result, dict) and result["success"], (status, result)
        assert (course / "submitted" / student / PS / NOTEBOOK).exists()

        # `make grade PS=...`, as the instructor runs it on the grading host
        from grader.classroom import grade_class

        monkeypatch.setenv("GRADER_EXCHANGE_ROOT", str(exchange))
        report = grade_class(PS, root=course, workers=1, progress=False)
        assert report["failed"] == {}, report
        subprocess.run(["chown", "-R", f"{instructor}:{names['staff']}", str(course)], check=True)

        status, result = as_user(instructor, "POST", f"{formgrader}/release_feedback")
        assert status == 200 and isinstance(result, dict) and result["success"], (status, result)
        status, result = as_user(student, "POST", "/assignments/fetch_feedback", form=action)
        assert status == 200 and isinstance(result, dict) and result["success"], (status, result)
        status, listing = as_user(student, "GET", f"/api/contents/{PS}/feedback")
        assert status == 200 and listing["content"], listing
        stamp = listing["content"][0]["name"]
        status, page = as_user(student, "GET", f"/api/contents/{PS}/feedback/{urllib.parse.quote(stamp)}/{PS}.html")
        assert status == 200 and "rnn_step" in page["content"]
        assert "Traceback" not in (base / "hub.log").read_text()
    finally:
        if hub_process.poll() is None:
            os.killpg(hub_process.pid, signal.SIGTERM)  # the hub stops the servers it spawned (cleanup_servers)
            try:
                hub_process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                os.killpg(hub_process.pid, signal.SIGKILL)
                hub_process.wait()
        log.close()
