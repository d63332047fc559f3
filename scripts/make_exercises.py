"""Generate the student versions in exercises/ from the instructor notebooks in solutions/.

Runs nbgrader's generate_assignment for every problem set, through its Python API in one process and
with a throw-away gradebook, so no grading state is left in the course folder.
"""

import os
import pathlib
import sys
import tempfile

ROOT = pathlib.Path(__file__).resolve().parent.parent


def problem_sets():
    return sorted(p.name for p in (ROOT / "solutions").iterdir() if p.is_dir() and any(p.glob("*.ipynb")))


def generate(release_root, assignments=None):
    """Write the student versions of ``assignments`` (default: all) under ``release_root``."""
    # nbgrader runs its console scripts (alembic, for the gradebook) from PATH: use this environment's.
    os.environ["PATH"] = f"{pathlib.Path(sys.executable).parent}{os.pathsep}{os.environ.get('PATH', '')}"
    from nbgrader.apps import NbGraderAPI
    from nbgrader.coursedir import CourseDirectory
    from traitlets.config import Config

    with tempfile.TemporaryDirectory() as scratch:
        config = Config()
        config.CourseDirectory.root = str(ROOT)
        config.CourseDirectory.source_directory = "solutions"
        config.CourseDirectory.release_directory = str(release_root)
        config.CourseDirectory.db_url = f"sqlite:///{scratch}/gradebook.db"
        config.CourseDirectory.ignore = [".ipynb_checkpoints", "*.pyc", "__pycache__"]
        config.ClearSolutions.code_stub = {"python": "# YOUR CODE HERE\nraise NotImplementedError()"}
        config.ClearSolutions.text_stub = "YOUR ANSWER HERE"
        config.Exchange.root = scratch
        api = NbGraderAPI(CourseDirectory(config=config), config=config)
        for assignment in assignments or problem_sets():
            result = api.generate_assignment(assignment, force=True, create=True)
            if not result["success"]:
                raise RuntimeError(f"generate_assignment {assignment} failed:\n{result['log']}\n{result.get('error', '')}")


def main():
    generate(ROOT / "exercises")
    print("generated", ", ".join(f"exercises/{a}" for a in problem_sets()))
    return 0


if __name__ == "__main__":
    sys.exit(main())
