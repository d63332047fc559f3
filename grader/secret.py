"""Hidden cases from a course secret, so that a public repository reveals nothing that is graded.

The committed ``grader/references/*.json`` hold hidden cases drawn from each exercise's public seed: right
for trying the course, useless against a student who reads the repository. A real class sets a secret on
the grading host, in one of two ways:

- ``GRADER_SECRET`` in the environment (any text), or
- a file named by ``c.Grader.secret_file`` in nbgrader_config.py (``GRADER_SECRET_FILE`` sets it): outside
  the repository, not readable by other accounts (``chmod 600``, or 640 for the staff's group), e.g. made
  with ``python -c "import secrets; print(secrets.token_hex(32))" > /srv/nbgrader/rnn-course.secret``.

With a secret, ``make references`` draws every hidden input from a seed derived from the secret and the
exercise's own seed (``hidden_seed``) and writes the references to ``secret-references/`` in the course
folder (git-ignored, readable by the staff only), which grading then reads. With ``c.Grader.per_student =
True`` as well, each student's hidden inputs derive from the secret and their id, and are computed with
their reference outputs in the grader's process when that student is graded (``student_references``).
Without a secret, grading uses the committed references and prints a warning once.

The secret never enters a student's kernel: the sandbox clears the environment and shows no file of the
course folder or the grading host's private folders; only the hidden *inputs* are sent, as before.
"""

import copy
import functools
import hashlib
import json
import os
import pathlib
import stat
import sys

from traitlets import Bool, Unicode
from traitlets.config import Config, Configurable

ROOT = pathlib.Path(__file__).resolve().parent.parent
SECRET_REFERENCES = ROOT / "secret-references"
WARNED = "GRADER_DEFAULT_CASES_WARNED"  # set once the warning is printed, so worker processes stay quiet
WARNING = ("warning: grading with the committed hidden cases, which anyone can read in the course's public "
           "repository. A real class sets a course secret (GRADER_SECRET, or c.Grader.secret_file in "
           "nbgrader_config.py) and runs `make references` on the grading host; see grader/secret.py.")


class Grader(Configurable):
    """The course's own settings in nbgrader_config.py (``c.Grader....``)."""

    secret_file = Unicode("", help="A file holding the course secret, outside the repository and readable by "
                                   "the course staff only; GRADER_SECRET takes precedence.").tag(config=True)
    per_student = Bool(False, help="Derive each student's hidden inputs from the secret and their id, at "
                                   "grading time (needs a secret).").tag(config=True)


class SecretError(RuntimeError):
    pass


@functools.cache
def settings():
    """The ``Grader`` settings of the course's nbgrader_config.py."""
    config = Config()
    source = (ROOT / "nbgrader_config.py").read_text()
    exec(compile(source, "nbgrader_config.py", "exec"),  # noqa: S102 (the course's own configuration)
         {"get_config": lambda: config, "__file__": str(ROOT / "nbgrader_config.py")})
    return Grader(config=config)


@functools.cache
def course_secret():
    """The secret as bytes, or None when the course has none (the committed defaults are used)."""
    if os.environ.get("GRADER_SECRET"):
        return os.environ["GRADER_SECRET"].encode()
    name = settings().secret_file
    if not name:
        return None
    path = pathlib.Path(name).expanduser().resolve()
    if path == ROOT or ROOT in path.parents:
        raise SecretError(f"the course secret {path} is inside the repository: keep it outside, where a "
                          "commit cannot publish it")
    shown = [top for top in ("/etc", "/usr", "/bin", "/sbin", "/lib", "/opt", sys.prefix)
             if str(path).startswith(top.rstrip("/") + "/")]
    if shown:
        raise SecretError(f"the course secret {path} is under {shown[0]}, which the grading sandbox shows to "
                          "student code: keep it in the instructor's home or under /srv")
    try:
        mode = path.stat().st_mode
        text = path.read_bytes().strip()
    except OSError as error:
        raise SecretError(f"cannot read the course secret {path}: {error.strerror}") from None
    if mode & (stat.S_IROTH | stat.S_IWOTH):
        raise SecretError(f"the course secret {path} is readable by every account: chmod 600 (or 640 for the "
                          "staff's group)")
    if len(text) < 16:
        raise SecretError(f"the course secret in {path} is too short to keep anything hidden (16 characters at "
                          "least; e.g. python -c \"import secrets; print(secrets.token_hex(32))\")")
    return text


def per_student():
    if not settings().per_student:
        return False
    if course_secret() is None:
        raise SecretError("c.Grader.per_student = True needs a course secret (GRADER_SECRET or "
                          "c.Grader.secret_file): without one, anyone could compute every student's cases")
    return True


def hidden_seed(seed, student=None):
    """The seed hidden inputs are drawn from: the exercise's public ``seed`` without a secret; with one,
    a 128-bit number derived from the secret, ``seed`` and (per student) the student's id."""
    secret = course_secret()
    if secret is None:
        if student is not None:
            raise SecretError("per-student hidden cases need a course secret")
        return seed
    key = hashlib.sha256(secret).digest()
    message = f"rnn-course hidden cases\0{seed}\0{'' if student is None else student}".encode()
    return int.from_bytes(hashlib.blake2b(message, key=key, digest_size=16).digest(), "big")


def references_folder(committed):
    """Where the reference data is written and read: ``committed`` without a secret, else
    ``secret-references/`` in the course folder (``GRADER_SECRET_REFERENCES`` moves it)."""
    if course_secret() is None:
        return committed
    folder = pathlib.Path(os.environ.get("GRADER_SECRET_REFERENCES", SECRET_REFERENCES))
    folder.mkdir(mode=0o750, parents=True, exist_ok=True)
    return folder


def load(path):
    """A reference document for grading; warns once when it is the committed defaults."""
    if course_secret() is None:
        if not os.environ.get(WARNED):
            os.environ[WARNED] = "1"
            print(WARNING, file=sys.stderr)
    elif not path.exists():
        raise SecretError(f"no {path}: with a course secret, run `make references` on the grading host first")
    return json.loads(path.read_text())


@functools.cache
def student_references(assignment, student):
    """The reference data of ``assignment`` with ``student``'s own hidden cases: inputs from the secret
    and their id, expected outputs from rnnlib, computed here in the grader's process."""
    from grader import problem_sets
    from grader.references import _with_expected

    document = copy.deepcopy(problem_sets.references(assignment))
    module = problem_sets.load(assignment)
    for exercise in module.EXERCISES:
        document["exercises"][exercise.name]["hidden"] = [_with_expected(exercise, case)
                                                          for case in exercise.hidden(student)]
    return json.loads(json.dumps(document))  # plain, as if read from a file
