"""Load this course's nbgrader configuration and API in one Python process (no CLI start-up)."""

import os
import pathlib
import sys

ROOT = pathlib.Path(__file__).resolve().parent.parent


def load_config(root=ROOT, **overrides):
    """The traitlets Config of ``nbgrader_config.py`` for a course rooted at ``root``.

    ``overrides`` maps ``"Section.name"`` to a value, e.g. ``{"CourseDirectory.db_url": ...}``.
    """
    from traitlets.config import Config

    config = Config()
    source = (ROOT / "nbgrader_config.py").read_text()
    exec(compile(source, "nbgrader_config.py", "exec"),
         {"get_config": lambda: config, "__file__": str(pathlib.Path(root) / "nbgrader_config.py")})
    for key, value in overrides.items():
        section, name = key.split(".")
        setattr(config[section], name, value)
    return config


def make_api(config):
    """An ``NbGraderAPI`` for ``config``; nbgrader runs alembic from PATH, so this venv's bin goes first."""
    os.environ["PATH"] = f"{pathlib.Path(sys.executable).parent}{os.pathsep}{os.environ.get('PATH', '')}"
    from nbgrader.apps import NbGraderAPI
    from nbgrader.coursedir import CourseDirectory

    return NbGraderAPI(CourseDirectory(config=config), config=config)
