"""The book's build settings on a two-page book: lessons executed ahead by scripts/execute_lessons.py are
taken from the cache, cached lessons still fail the build on stderr output, an edit in rnnlib/ re-executes
them, and each lesson is offered for download as .ipynb next to .md.

The small book uses the project's own extension (scripts/book_ext.py) and execution settings; its
MathJax is a stand-in package, so the test needs neither npm nor the network."""

import json
import pathlib
import re
import subprocess
import sys

import nbformat
from test_book_offline import fake_mathjax, fake_widget_packages

ROOT = pathlib.Path(__file__).resolve().parent.parent
JUPYTER_BOOK = pathlib.Path(sys.executable).parent / "jupyter-book"

CONFIG = f"""
title: two pages
only_build_toc_files: true
exclude_patterns: ["_build", "node_modules", "rnnlib", ".*", "**/.*"]
execute:
  execute_notebooks: cache
  stderr_output: warn
  timeout: 60
sphinx:
  local_extensions:
    book_ext: {ROOT / "scripts"}
  config:
    nb_execution_raise_on_error: true
    mathjax_path: ../mathjax/tex-mml-chtml.js
    html_extra_path: ["_build/mathjax"]
"""
TOC = "format: jb-book\nroot: intro\nchapters:\n  - file: lesson\n"
LESSON = """---
jupytext:
  text_representation:
    extension: .md
    format_name: myst
kernelspec:
  display_name: Python 3
  language: python
  name: python3
---

# A lesson

Inline math $x_t$.

```{{code-cell}} ipython3
import sys, uuid
print("run", uuid.uuid4().hex)
{extra}
```
"""


def build(book):
    """``jupyter-book build --all -W --keep-going``, as ``make book`` runs it: (exit code, output)."""
    done = subprocess.run([str(JUPYTER_BOOK), "build", str(book), "--all", "-W", "--keep-going"],
                          capture_output=True, text=True, timeout=300)
    return done.returncode, done.stdout + done.stderr


def run_id(book):
    """The random id printed by the lesson in the built page: it changes only when the lesson ran again."""
    html = (book / "_build" / "html" / "lesson.html").read_text()
    return re.search(r"run ([0-9a-f]{32})", html).group(1)


def test_cached_lessons_still_fail_on_stderr_and_rnnlib_edits_re_execute_them(tmp_path):
    book = tmp_path / "book"
    book.mkdir()
    fake_mathjax(book, "3.2.2")
    fake_widget_packages(book, {"requirejs": "2.3.7", "@jupyter-widgets/html-manager": "1.0.15"})
    (book / "_config.yml").write_text(CONFIG)
    (book / "_toc.yml").write_text(TOC)
    (book / "intro.md").write_text("# Intro\n\nSee {doc}`lesson`.\n")
    (book / "rnnlib").mkdir()
    (book / "rnnlib" / "rnn.py").write_text("VALUE = 1\n")
    (book / "requirements.txt").write_text("numpy\n")
    lesson = book / "lesson.md"

    lesson.write_text(LESSON.format(extra='print("a warning", file=sys.stderr)'))
    done = subprocess.run([sys.executable, str(ROOT / "scripts" / "execute_lessons.py"), "--root", str(book)],
                          capture_output=True, text=True, timeout=300)  # as make book does first
    assert done.returncode == 0 and "lesson.md: executed in" in done.stdout, done.stdout + done.stderr
    again = subprocess.run([sys.executable, str(ROOT / "scripts" / "execute_lessons.py"), "--root", str(book)],
                           capture_output=True, text=True, timeout=300)
    assert again.returncode == 0 and again.stdout.startswith("every lesson is cached"), again.stdout
    code, log = build(book)  # the build takes the pre-executed lesson from the cache, and warns
    assert code != 0 and "Using cached notebook" in log and "stderr" in log, log[-3000:]
    first = run_id(book)  # -W --keep-going still writes the pages
    caches = list((book / "_build" / ".jupyter_cache").glob("rnnlib-*"))

    code, log = build(book)  # nothing changed: the lesson comes from the cache, and the warning comes back
    assert code != 0 and "Using cached notebook" in log and "stderr" in log, log[-3000:]
    assert run_id(book) == first

    (book / "rnnlib" / "rnn.py").write_text("VALUE = 2\n")  # the lesson's code is unchanged
    code, log = build(book)
    assert code != 0 and "Executed notebook" in log and run_id(book) != first, log[-3000:]
    now = list((book / "_build" / ".jupyter_cache").glob("rnnlib-*"))
    assert len(caches) == len(now) == 1 and caches != now  # a new cache, the old one removed

    site = book / "_build" / "html"
    page = (site / "lesson.html").read_text()
    assert 'href="_sources/lesson.ipynb"' in page and 'href="_sources/lesson.md"' in page
    notebook = nbformat.read(site / "_sources" / "lesson.ipynb", as_version=4)
    nbformat.validate(notebook)
    assert any("run " in out.get("text", "") for cell in notebook.cells for out in cell.get("outputs", []))
    assert (site / "mathjax" / "tex-mml-chtml.js").exists() and not (site / "mathjax" / ".version").exists()
    assert '<script defer="defer" src="_static/../mathjax/tex-mml-chtml.js' in page
    assert page.count("const THEBE_JS_URL") <= 1
    assert json.loads((book / "package.json").read_text())["dependencies"]["mathjax"] == "3.2.2"


def test_a_lesson_that_fails_ahead_of_the_build_shows_where():
    """If the build's own run then passes (a flaky lesson), this is the only trace of the failure."""
    from execute_lessons import failure_tail

    error = ("\x1b[31m----\x1b[39m\n\x1b[31mAssertionError\x1b[39m  Traceback (most recent call last)\n"
             + "".join(f"line {n}\n" for n in range(30))
             + "\x1b[32m---> \x1b[39m\x1b[32m19\x1b[39m assert 0.67 < growth < 1.5\n\n"
             + "\x1b[31mAssertionError\x1b[39m: \n")
    tail = failure_tail(error).splitlines()
    assert len(tail) == 12 and all(line.startswith("    ") for line in tail)
    assert tail[-2:] == ["    ---> 19 assert 0.67 < growth < 1.5", "    AssertionError: "]
    assert "\x1b" not in "".join(tail)
