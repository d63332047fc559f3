"""Generate the student versions in exercises/ from the instructor notebooks in solutions/.

Runs nbgrader's generate_assignment for every problem set through its Python API, with a throw-away
gradebook, so no grading state is left in the course folder.
"""

import pathlib
import sys
import tempfile

sys.path.insert(0, str(pathlib.Path(__file__).resolve().parent))
from nbcourse import ROOT, load_config, make_api  # noqa: E402


def problem_sets():
    return sorted(p.name for p in (ROOT / "solutions").iterdir() if p.is_dir() and any(p.glob("*.ipynb")))


def generate(release_root, assignments=None):
    """Write the student versions of ``assignments`` (default: all) under ``release_root``."""
    with tempfile.TemporaryDirectory() as scratch:
        api = make_api(load_config(**{
            "CourseDirectory.release_directory": str(release_root),
            "CourseDirectory.db_url": f"sqlite:///{scratch}/gradebook.db",
            "Exchange.root": scratch,
        }))
        for assignment in assignments or problem_sets():
            result = api.generate_assignment(assignment, force=True, create=True)
            if not result["success"]:
                raise RuntimeError(f"generate_assignment {assignment} failed:\n{result['log']}")


def main():
    generate(ROOT / "exercises")
    print("generated", ", ".join(f"exercises/{a}" for a in problem_sets()))
    return 0


if __name__ == "__main__":
    sys.exit(main())
