"""What an instructor or a student opens is inert: no student can run code in the feedback pages or in
the formgrader, which shows a submission inside the instructor's own Jupyter origin (where a script
could call the formgrader's API with the instructor's session).

Registered in ``nbgrader_config.py`` for every HTML page made from a graded notebook (the feedback and
the formgrader's view):

- ``InertNotebook`` keeps, of each output, only plain text and images whose data really is base64 (no
  HTML, JavaScript, SVG, Markdown, LaTeX or widget outputs, no output metadata), of each cell only
  the nbgrader metadata, and of the notebook only what names its language.
- ``strip_files_prefix_and_clean`` replaces the filter that every template applies to rendered Markdown,
  so raw HTML in a student's Markdown cell is cleaned to a list of harmless tags (``<script>``,
  ``onerror=``, ``javascript:`` links, remote images and ``style`` do not survive).
- ``FeedbackExporter`` writes each feedback page with a Content-Security-Policy that lets it load
  MathJax and nothing else, should anything slip through.
"""

import re

import bleach
import jinja2
import nbformat
from nbconvert.exporters import HTMLExporter
from nbconvert.filters.strings import strip_files_prefix
from nbconvert.preprocessors import Preprocessor

SAFE_DATA = ("text/plain", "image/png", "image/jpeg", "image/gif")
_BASE64 = re.compile(r"[A-Za-z0-9+/=\s]*")
LANGUAGE = {"name": "python", "pygments_lexer": "ipython3", "codemirror_mode": {"name": "ipython", "version": 3},
            "mimetype": "text/x-python", "file_extension": ".py", "nbconvert_exporter": "python"}
MATHJAX = "https://cdnjs.cloudflare.com/ajax/libs/mathjax/"
# MathJax (the feedback template loads it, with its Safe extension) evaluates its own configuration
# block, hence 'unsafe-eval'; no inline script runs, and nothing loads from anywhere else.
CSP = (f"default-src 'none'; script-src {MATHJAX} 'unsafe-eval'; style-src 'unsafe-inline' {MATHJAX}; "
       f"font-src data: {MATHJAX}; img-src data:; base-uri 'none'; form-action 'none'")


class InertNotebook(Preprocessor):
    def preprocess(self, nb, resources):
        nb.cells = [cell for cell in nb.cells if cell.get("cell_type") in ("code", "markdown", "raw")]
        for cell in nb.cells:
            grading = cell.get("metadata", {}).get("nbgrader")
            cell.metadata = {"nbgrader": grading} if isinstance(grading, dict) else {}
            if cell.cell_type == "code":
                outputs = cell.get("outputs") if isinstance(cell.get("outputs"), list) else []
                cell.outputs = [nbformat.from_dict(inert) for inert in map(_inert_output, outputs) if inert]
                if type(cell.get("execution_count")) is not int:
                    cell.execution_count = None
        kept = {key: nb.metadata[key] for key in ("kernelspec", "grader") if key in nb.metadata}
        nb.metadata = {**kept, "language_info": dict(LANGUAGE)}
        return nb, resources


def _inert_output(output):
    kind = output.get("output_type") if isinstance(output, dict) else None
    if kind == "stream":
        return {**output, "name": "stderr" if output.get("name") == "stderr" else "stdout",
                "text": _text(output.get("text"))}
    if kind == "error":
        traceback = output.get("traceback")
        return {**output, "ename": _text(output.get("ename")), "evalue": _text(output.get("evalue")),
                "traceback": [_text(line) for line in traceback] if isinstance(traceback, list) else []}
    if kind not in ("display_data", "execute_result") or not isinstance(output.get("data"), dict):
        return None
    data = {mime: _text(value) for mime, value in output["data"].items()
            if mime in SAFE_DATA and isinstance(value, (str, list))}
    data = {mime: value for mime, value in data.items() if mime == "text/plain" or _BASE64.fullmatch(value)}
    removed = sorted(set(output["data"]) - set(data))
    if removed and "text/plain" not in data:
        data["text/plain"] = f"[an output the grader does not show: {', '.join(removed)[:100]}]"
    return {**output, "data": data, "metadata": {}}


def _text(value):
    if isinstance(value, list):
        value = "".join(item for item in value if isinstance(item, str))
    return value if isinstance(value, str) else ""


# ---- Markdown: what a rendered cell may contain ----------------------------------------------------

TAGS = {"a", "abbr", "b", "blockquote", "br", "caption", "code", "dd", "del", "details", "div", "dl", "dt", "em",
        "h1", "h2", "h3", "h4", "h5", "h6", "hr", "i", "img", "ins", "kbd", "li", "mark", "ol", "p", "pre", "s",
        "small", "span", "strong", "sub", "summary", "sup", "table", "tbody", "td", "tfoot", "th", "thead", "tr",
        "u", "ul"}


def _allowed(tag, name, value):
    if name in ("class", "title", "align", "alt") or (name == "id" and tag in {"h1", "h2", "h3", "h4", "h5", "h6"}):
        return True
    if tag == "a" and name == "href":
        return value.startswith(("#", "http://", "https://", "mailto:"))
    # Only images carried in the page itself: a remote one would tell its owner who opened the page.
    return tag == "img" and name == "src" and value.startswith("data:image/")


_cleaner = bleach.Cleaner(tags=TAGS, attributes=_allowed, protocols={"http", "https", "mailto", "data"},
                          strip=False, strip_comments=True)


def clean(html):
    """``html`` with only ``TAGS`` and harmless attributes; anything else is shown as text."""
    return _cleaner.clean(html)


def strip_files_prefix_and_clean(html):
    """The templates' last filter on rendered Markdown (nbconvert's ``strip_files_prefix``), then ``clean``."""
    return clean(strip_files_prefix(html))


class _CompiledTemplates(jinja2.BytecodeCache):
    """Compiled templates kept in memory: nbgrader makes a new exporter, so a new Jinja environment,
    for every feedback page, and compiling its templates again took most of the page's time."""

    def __init__(self):
        self.compiled = {}

    def load_bytecode(self, bucket):
        if bucket.key in self.compiled:
            bucket.bytecode_from_string(self.compiled[bucket.key])

    def dump_bytecode(self, bucket):
        self.compiled[bucket.key] = bucket.bytecode_to_string()


_COMPILED = _CompiledTemplates()


class FeedbackExporter(HTMLExporter):
    """nbgrader's feedback pages, with a Content-Security-Policy as the first thing in their head."""

    def _create_environment(self):
        environment = super()._create_environment()
        environment.bytecode_cache = _COMPILED
        return environment

    def from_notebook_node(self, nb, resources=None, **kw):
        output, resources = super().from_notebook_node(nb, resources, **kw)
        meta = f'<meta http-equiv="Content-Security-Policy" content="{CSP}">'
        return output.replace("<head>", f"<head>\n{meta}", 1), resources
