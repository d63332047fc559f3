"""Running the lessons yourself: the venv opens the MyST Markdown lessons as notebooks.

What the page "Running the lessons yourself" promises, checked from this venv: jupytext and its
JupyterLab extension are installed and enabled, `jupytext --to ipynb` turns each lesson into a valid
notebook, and a JupyterLab server started with the setting that `make lab` writes serves a lesson as a
notebook and opens Markdown files in the notebook view by default."""

import json
import os
import pathlib
import re
import socket
import subprocess
import sys
import time
import urllib.request

import jupytext
import nbformat
import pytest

ROOT = pathlib.Path(__file__).resolve().parent.parent
BIN = pathlib.Path(sys.executable).parent
PREFIX = pathlib.Path(sys.prefix)
LESSONS = sorted((ROOT / "chapters").glob("*.md"))
ROOT_FLAG = ["--allow-root"] if os.geteuid() == 0 else []  # CI machines run as root
SETTINGS = "etc/jupyter/labconfig/default_setting_overrides.json"  # under the venv; written by `make lab`


def test_jupytext_is_the_pinned_version_and_its_jupyterlab_extension_is_enabled_in_the_venv():
    pinned = re.search(r"^jupytext==(\S+)$", (ROOT / "requirements.txt").read_text(), re.MULTILINE).group(1)
    assert jupytext.__version__ == pinned
    server = json.loads((PREFIX / "etc/jupyter/jupyter_server_config.d/jupytext.json").read_text())
    assert server["ServerApp"]["jpserver_extensions"]["jupyterlab_jupytext"] is True
    assert (PREFIX / "share/jupyter/labextensions/jupyterlab-jupytext/package.json").exists()


def test_make_lab_writes_the_notebook_view_setting_into_the_venv_and_starts_jupyterlab():
    recipe = (ROOT / "Makefile").read_text().split("\nlab:")[1].split("\n\n")[0]
    assert f"--settings-file $(VENV)/{SETTINGS}" in recipe and "set-default-viewer markdown myst" in recipe
    assert "$(BIN)/jupyter lab $(LAB_ARGS)" in recipe


@pytest.mark.parametrize("lesson", LESSONS, ids=[p.stem for p in LESSONS])
def test_jupytext_turns_each_lesson_into_a_valid_notebook(lesson, tmp_path):
    out = tmp_path / f"{lesson.stem}.ipynb"
    subprocess.run([str(BIN / "jupytext"), "--to", "ipynb", "--output", str(out), str(lesson)],
                   check=True, capture_output=True, timeout=120)
    notebook = nbformat.read(out, as_version=4)
    nbformat.validate(notebook)
    assert notebook.metadata.kernelspec.name == "python3"
    code = [cell for cell in notebook.cells if cell.cell_type == "code"]
    assert len(code) == lesson.read_text().count("```{code-cell}") > 0


def free_port():
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def get_json(url, deadline):
    while True:
        try:
            with urllib.request.urlopen(url, timeout=10) as response:
                return json.loads(response.read())
        except OSError:
            if time.monotonic() > deadline:
                raise
            time.sleep(0.5)


def test_jupyterlab_serves_a_lesson_as_a_notebook_and_opens_markdown_in_the_notebook_view(tmp_path):
    settings = tmp_path / "config" / SETTINGS.removeprefix("etc/jupyter/")
    subprocess.run([str(BIN / "jupytext-config"), "--settings-file", str(settings),
                    "set-default-viewer", "markdown", "myst"], check=True, capture_output=True, timeout=60)
    port, token = free_port(), "course-test-token"
    env = dict(os.environ, JUPYTER_CONFIG_DIR=str(tmp_path / "user"), JUPYTER_RUNTIME_DIR=str(tmp_path / "run"),
               JUPYTER_CONFIG_PATH=str(tmp_path / "config"), HOME=str(tmp_path))
    server = subprocess.Popen(
        [str(BIN / "jupyter"), "lab", "--no-browser", f"--port={port}", "--ip=127.0.0.1",
         f"--IdentityProvider.token={token}", f"--ServerApp.root_dir={ROOT}", *ROOT_FLAG],
        env=env, cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        base, deadline = f"http://127.0.0.1:{port}", time.monotonic() + 90
        model = get_json(f"{base}/api/contents/chapters/01_recurrence.md?type=notebook&token={token}", deadline)
        assert model["type"] == "notebook" and model["format"] == "json"
        cells = model["content"]["cells"]
        assert any(cell["cell_type"] == "code" and "from rnnlib." in cell["source"] for cell in cells)
        plugin = get_json(f"{base}/lab/api/settings/@jupyterlab/docmanager-extension:plugin?token={token}", deadline)
        viewers = plugin["schema"]["properties"]["defaultViewers"]["default"]
        assert viewers["markdown"] == viewers["myst"] == "Jupytext Notebook"
    finally:
        server.terminate()
        server.wait(timeout=30)
