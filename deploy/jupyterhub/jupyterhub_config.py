"""JupyterHub for the RNN course on one server: real Unix accounts, JupyterLab with nbgrader's extensions.

Run as root from the course folder (see README.md here):

    sudo RNN_COURSE_ROOT=$PWD .venv/bin/jupyterhub -f deploy/jupyterhub/jupyterhub_config.py

- Log-in with the machine's accounts (PAM); only members of the students' and the staff's Unix groups.
- Each user's JupyterLab is started as that user by the local process spawner, from a shared environment
  with nbgrader, JupyterLab, JupyterHub and the course's checking package (RNN_COURSE_STUDENT_ENV).
- Students get the Assignments tab (fetch, validate, submit, fetch feedback) and never the formgrader: its
  server extensions are switched off in their servers, and the course folder is shut to them anyway
  (`make exchange`). The course staff (the Unix group `make exchange` made) start in the course folder,
  with the formgrader, from the course's own environment (RNN_COURSE_STAFF_ENV, default its .venv).
- The hub group ``formgrade-<course id>`` holds the staff and ``nbgrader-<course id>`` the students, the
  names nbgrader's documentation uses.

Every setting that differs between servers comes from an environment variable, so this file is used as is.
"""

import grp
import os
import pathlib

c = get_config()  # noqa: F821 (provided by JupyterHub when it loads this file)

COURSE_ID = os.environ.get("RNN_COURSE_ID", "rnn-course")
COURSE_ROOT = os.environ.get("RNN_COURSE_ROOT", str(pathlib.Path(__file__).resolve().parents[2]))
STAFF_GROUP = os.environ.get("RNN_COURSE_STAFF_GROUP", f"{COURSE_ID}-staff")
STUDENT_GROUP = os.environ.get("RNN_COURSE_STUDENT_GROUP", f"{COURSE_ID}-students")
STUDENT_ENV = os.environ.get("RNN_COURSE_STUDENT_ENV", "/opt/rnn-course")
STAFF_ENV = os.environ.get("RNN_COURSE_STAFF_ENV", os.path.join(COURSE_ROOT, ".venv"))
STATE = pathlib.Path(os.environ.get("RNN_HUB_STATE", "/srv/jupyterhub"))
FORMGRADER = ("nbgrader.server_extensions.formgrader", "nbgrader.server_extensions.course_list")

# ---- network: the public port and the hub's and proxy's own, all on this machine by default -------------
c.JupyterHub.ip = os.environ.get("RNN_HUB_IP", "127.0.0.1")
c.JupyterHub.port = int(os.environ.get("RNN_HUB_PORT", "8000"))
c.JupyterHub.hub_ip = "127.0.0.1"
c.JupyterHub.hub_port = int(os.environ.get("RNN_HUB_API_PORT", "8081"))
c.ConfigurableHTTPProxy.api_url = f"http://127.0.0.1:{os.environ.get('RNN_PROXY_API_PORT', '8001')}"
# configurable-http-proxy pinned in package.json (npm ci), like the book's MathJax
c.ConfigurableHTTPProxy.command = [os.environ.get(
    "RNN_CHP", os.path.join(COURSE_ROOT, "node_modules", ".bin", "configurable-http-proxy"))]

STATE.mkdir(mode=0o700, parents=True, exist_ok=True)
c.JupyterHub.db_url = f"sqlite:///{STATE / 'jupyterhub.sqlite'}"
c.JupyterHub.cookie_secret_file = str(STATE / "jupyterhub_cookie_secret")
c.JupyterHub.pid_file = str(STATE / "jupyterhub.pid")
c.JupyterHub.cleanup_servers = True


# ---- who may log in ----------------------------------------------------------------------------------
def members(group):
    try:
        return set(grp.getgrnam(group).gr_mem)
    except KeyError:
        return set()


c.JupyterHub.authenticator_class = "pam"
c.Authenticator.allowed_users = members(STUDENT_GROUP) | members(STAFF_GROUP)
c.PAMAuthenticator.allowed_groups = {STUDENT_GROUP, STAFF_GROUP}
c.JupyterHub.load_groups = {f"formgrade-{COURSE_ID}": {"users": sorted(members(STAFF_GROUP))},
                            f"nbgrader-{COURSE_ID}": {"users": sorted(members(STUDENT_GROUP))}}

# An optional service token for the course's own scripts (and the test): manage users, servers and tokens.
if os.environ.get("RNN_HUB_SERVICE_TOKEN"):
    c.JupyterHub.services = [{"name": "course-ops", "api_token": os.environ["RNN_HUB_SERVICE_TOKEN"]}]
    c.JupyterHub.load_roles = [{"name": "course-ops", "services": ["course-ops"],
                                "scopes": ["admin:users", "admin:servers", "tokens", "list:users", "read:users",
                                           "list:groups", "read:groups"]}]

# ---- each user's JupyterLab, started as that user ----------------------------------------------------
c.JupyterHub.spawner_class = "jupyterhub.spawner.LocalProcessSpawner"
c.Spawner.default_url = "/lab"
c.Spawner.notebook_dir = "~"
c.Spawner.start_timeout = 120
c.Spawner.http_timeout = 120
# The students' nbgrader settings live in /etc/jupyter (`make exchange`); another folder for a trial run.
STUDENT_CONFIG_DIR = os.environ.get("RNN_STUDENT_CONFIG_DIR")


def pre_spawn_hook(spawner):
    name = spawner.user.name
    staff = name in members(STAFF_GROUP)
    env = STAFF_ENV if staff else STUDENT_ENV
    environment = {"MPLBACKEND": "Agg", "PATH": f"{env}/bin:/usr/local/bin:/usr/bin:/bin"}  # nbgrader runs alembic
    if STUDENT_CONFIG_DIR:
        environment["JUPYTER_CONFIG_PATH"] = STUDENT_CONFIG_DIR
    spawner.cmd = [os.path.join(env, "bin", "jupyterhub-singleuser")]
    if staff:
        spawner.notebook_dir = COURSE_ROOT  # the formgrader works on the course folder it is started in
        # nbgrader reads nbgrader_config.py from the working folder (the home) and Jupyter's config path:
        # put the course's first, so the formgrader and nbgrader in a terminal find the course.
        environment["JUPYTER_CONFIG_PATH"] = os.pathsep.join(filter(None, [COURSE_ROOT, STUDENT_CONFIG_DIR]))
        for key in ("GRADER_EXCHANGE_ROOT", "GRADER_SECRET_FILE", "GRADER_DB_URL"):
            if os.environ.get(key):
                environment[key] = os.environ[key]
        if os.environ.get("RNN_COURSE_STAFF_PYTHONPATH"):  # a staff environment without the course installed
            environment["PYTHONPATH"] = os.environ["RNN_COURSE_STAFF_PYTHONPATH"]
    else:
        spawner.args = [*spawner.args, *(f"--ServerApp.jpserver_extensions={ext}=False" for ext in FORMGRADER)]
    spawner.environment = {**spawner.environment, **environment}


c.Spawner.pre_spawn_hook = pre_spawn_hook
