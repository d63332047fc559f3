"""Build the students' package: what the problem sets' test cells import, and nothing else.

    .venv/bin/python scripts/student_package.py [--dist dist] [--release PS]

The wheel ``dist/rnn_course_student-<version>-py3-none-any.whl`` holds a package ``grader`` with only
``student.py`` (``check``), ``compare.py`` (the comparison both sides share) and ``visible/*.json`` (the
sanity cases written in the notebooks, with the known mistakes' outputs on them). Its dependencies are
numpy and matplotlib. A student installs it with ``pip install rnn_course_student-...whl``; the released
notebooks' ``from grader.student import check`` then works without the course folder.

Two checks stop the build: a ``grader.*`` import in those modules that leaves them (it would need a
module that is not shipped), and any solution line, model answer or hidden reference value of any
problem set found in the built wheel. With ``--release PS`` the wheel is also copied into the exchange,
next to the notebooks of a released problem set, where ``nbgrader fetch_assignment`` hands it to students.
"""

import argparse
import ast
import pathlib
import shutil
import subprocess
import sys
import tempfile
import tomllib
import zipfile

sys.path.insert(0, str(pathlib.Path(__file__).resolve().parent))
from nbcourse import ROOT, load_config, solution_fingerprints  # noqa: E402

NAME = "rnn-course-student"
MODULES = ("student", "compare")  # grader/<module>.py, shipped as they are
INIT = '"""The student side of the RNN course\'s grader: ``from grader.student import check``."""\n'
PYPROJECT = """[build-system]
requires = ["setuptools>=64"]
build-backend = "setuptools.build_meta"

[project]
name = "{name}"
version = "{version}"
description = "What the RNN course's problem sets import to check answers: check(), comparison, visible cases"
requires-python = ">=3.11"
dependencies = ["numpy>=2", "matplotlib>=3.8"]

[tool.setuptools]
packages = ["grader"]

[tool.setuptools.package-data]
grader = ["visible/*.json"]
"""


def foreign_imports(source, shipped=MODULES):
    """The ``grader.*`` modules that ``source`` imports and that are not in ``shipped``."""
    found = set()
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.ImportFrom) and node.module and node.module.split(".")[0] == "grader":
            parts = node.module.split(".")[1:] or [alias.name for alias in node.names]
            found.update(part for part in parts[:1] if part not in shipped)
        elif isinstance(node, ast.Import):
            found.update(a.name.split(".")[1] for a in node.names
                         if a.name.startswith("grader.") and a.name.split(".")[1] not in shipped)
    return sorted(found)


def stage(folder, root=ROOT):
    """Write the package's source tree into ``folder``; returns its version."""
    version = tomllib.loads((root / "pyproject.toml").read_text())["project"]["version"]
    package = folder / "grader"
    (package / "visible").mkdir(parents=True)
    (package / "__init__.py").write_text(INIT)
    for module in MODULES:
        source = (root / "grader" / f"{module}.py").read_text()
        outside = foreign_imports(source)
        if outside:
            raise SystemExit(f"grader/{module}.py imports grader.{', grader.'.join(outside)}, which the "
                             f"students' package does not ship: keep the student side to {', '.join(MODULES)}")
        (package / f"{module}.py").write_text(source)
    for cases in sorted((root / "grader" / "visible").glob("*.json")):
        shutil.copyfile(cases, package / "visible" / cases.name)
    (folder / "pyproject.toml").write_text(PYPROJECT.format(name=NAME, version=version))
    return version


def leaks_in(wheel, assignments):
    """``[(file in the wheel, problem set, fingerprint)]`` for every instructor string found inside."""
    prints = {assignment: solution_fingerprints(assignment) for assignment in assignments}
    found = []
    with zipfile.ZipFile(wheel) as archive:
        for name in archive.namelist():
            text = archive.read(name).decode("utf-8", errors="replace")
            found += [(name, a, p) for a, strings in prints.items() for p in sorted(strings) if p in text]
    return found


def build(dist, root=ROOT):
    """Build the wheel into ``dist``, check it, and return its path."""
    from make_exercises import problem_sets

    dist.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory() as scratch:
        version = stage(pathlib.Path(scratch), root)
        subprocess.run([sys.executable, "-m", "pip", "wheel", "--quiet", "--no-deps", "--no-build-isolation",
                        "--wheel-dir", str(dist), scratch], check=True)
    wheel = dist / f"{NAME.replace('-', '_')}-{version}-py3-none-any.whl"
    leaked = leaks_in(wheel, problem_sets())
    if leaked:
        wheel.unlink()
        listed = "\n  ".join(f"{name}: {a}: {p[:70]!r}" for name, a, p in leaked[:20])
        raise SystemExit(f"the students' package would carry instructor material; not built:\n  {listed}")
    return wheel


def release_folder(assignment, root=ROOT):
    """The exchange folder from which students fetch ``assignment``."""
    config = load_config(root)
    return (pathlib.Path(config.Exchange.root) / config.CourseDirectory.course_id / "outbound" / assignment)


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--dist", type=pathlib.Path, default=ROOT / "dist")
    parser.add_argument("--release", metavar="PS", help="also copy the wheel next to this released problem set")
    args = parser.parse_args(argv)
    wheel = build(args.dist)
    print(f"students' package: {wheel} ({wheel.stat().st_size / 1e3:.0f} kB; numpy and matplotlib only)")
    if args.release:
        folder = release_folder(args.release)
        if not folder.is_dir():
            raise SystemExit(f"--release: expected {args.release} released to {folder} (make release "
                             f"PS={args.release}), found no such folder")
        shutil.copy2(wheel, folder / wheel.name)
        print(f"copied next to the released notebooks: {folder / wheel.name}")


if __name__ == "__main__":
    main()
