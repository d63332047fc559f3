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
- ``FeedbackExporter`` writes each feedback page with a Content-Security-Policy that runs the page's own
  MathJax scripts (allowed by their hashes) and nothing else, should anything slip through; it also shows
  a written answer that no one has graded yet as "awaiting a grader" instead of a score of 0.
- ``offline_mathjax`` makes the feedback pages and the formgrader's views typeset math offline, with the
  MathJax pinned in ``package.json`` for the book (its ``tex-svg.js`` inside the page: a feedback page is
  one file, handed to a student on its own), instead of nbconvert's MathJax 2 from a CDN; a few lines give
  the formgrader's own script the MathJax 2 calls it makes.
"""

import base64
import functools
import hashlib
import json
import pathlib
import re

import bleach
import jinja2
import nbformat
from nbconvert.exporters import HTMLExporter, TemplateExporter
from nbconvert.filters.highlight import Highlight2HTML
from nbconvert.filters.strings import strip_files_prefix
from nbconvert.filters.widgetsdatatypefilter import WidgetsDataTypeFilter
from nbconvert.preprocessors import Preprocessor

SAFE_DATA = ("text/plain", "image/png", "image/jpeg", "image/gif")
_BASE64 = re.compile(r"[A-Za-z0-9+/=\s]*")
LANGUAGE = {"name": "python", "pygments_lexer": "ipython3", "codemirror_mode": {"name": "ipython", "version": 3},
            "mimetype": "text/x-python", "file_extension": ".py", "nbconvert_exporter": "python"}
ROOT = pathlib.Path(__file__).resolve().parent.parent
MATHJAX_FILE = ROOT / "node_modules" / "mathjax" / "es5" / "tex-svg.js"
# No `autoload` and no `require`: a student's TeX cannot load an extension (from a CDN, in the formgrader)
# nor reach \href, \class or \style (the html extension), which would put links or styles in the page.
MATHJAX_CONFIG = ("window.MathJax = {tex: {inlineMath: [['$', '$'], ['\\\\(', '\\\\)']], processEscapes: true, "
                  "processEnvironments: true, packages: {'[-]': ['autoload', 'require']}}, "
                  "svg: {fontCache: 'global'}, options: {enableMenu: false}};")
# The calls the formgrader's formgrade.js makes to MathJax 2 (Hub.Startup.signal, Hub.Queue), on MathJax 3.
MATHJAX_SHIM = ("(function () { var M = window.MathJax; if (!M || !M.startup) { return; }"
                " var ready = M.startup.promise;"
                " M.Hub = {Config: function () {}, Typeset: function () { return M.typesetPromise(); },"
                " Queue: function () { var jobs = arguments; ready.then(function () { for (var i = 0; i < jobs.length;"
                " i++) { var job = jobs[i]; if (typeof job === 'function') { job(); } else if (job && job[0] ==="
                " 'Typeset') { M.typesetPromise(job[2] ? [job[2]] : undefined); } } }); },"
                " Startup: {signal: {Interest: function (f) { ready.then(function () { f('End'); }); }}}}; })();")


@functools.lru_cache(maxsize=1)
def mathjax_scripts():
    """The inline scripts that typeset a page's math offline: configuration, the pinned MathJax, the
    shim. Empty when ``npm ci`` has not installed the pinned MathJax (math then shows as TeX)."""
    pinned = json.loads((ROOT / "package.json").read_text())["dependencies"]["mathjax"]
    try:
        installed = json.loads((MATHJAX_FILE.parent.parent / "package.json").read_text())["version"]
        body = MATHJAX_FILE.read_text()
    except (OSError, ValueError, KeyError):
        return ()
    if installed != pinned:
        return ()
    return (MATHJAX_CONFIG, body.replace("</script", "<\\/script"), MATHJAX_SHIM)


def mathjax_html():
    return "".join(f"<script>{script}</script>\n" for script in mathjax_scripts())


def _hash(script):
    return "'sha256-" + base64.b64encode(hashlib.sha256(script.encode()).digest()).decode() + "'"


def csp():
    """The feedback pages' policy: only their own MathJax scripts run (by hash), nothing loads."""
    scripts = " ".join(_hash(s) for s in mathjax_scripts()) or "'none'"
    return (f"default-src 'none'; script-src {scripts}; style-src 'unsafe-inline'; font-src data:; "
            "img-src data:; base-uri 'none'; form-action 'none'")


MATHJAX_MACRO = "{%- macro mathjax(url='') -%}{{ course_mathjax() }}{%- endmacro %}"


def offline_mathjax():
    """Make every feedback and formgrader page (nbconvert's templates ``feedback`` and ``formgrade``)
    load the course's own MathJax instead of nbconvert's CDN one. Called from ``nbgrader_config.py``."""
    if getattr(HTMLExporter, "_course_mathjax", False):
        return
    original = HTMLExporter._create_environment

    def _create_environment(self):
        environment = original(self)
        if self.template_name in ("feedback", "formgrade"):
            environment.loader = jinja2.ChoiceLoader([jinja2.DictLoader({"mathjax.html.j2": MATHJAX_MACRO}),
                                                      environment.loader])
            environment.globals["course_mathjax"] = mathjax_html
        return environment

    HTMLExporter._create_environment = _create_environment
    HTMLExporter._course_mathjax = True


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
    """nbgrader's feedback pages, with a Content-Security-Policy as the first thing in their head, and
    "awaiting a grader" for the written answers no one has graded yet."""

    def _create_environment(self):
        environment = super()._create_environment()
        environment.bytecode_cache = _COMPILED
        return environment

    def from_notebook_node(self, nb, resources=None, **kw):
        output, resources = self._render(nb, resources, **kw)
        meta = f'<meta http-equiv="Content-Security-Policy" content="{csp()}">'
        awaiting = (resources or {}).get("nbgrader", {}).get("awaiting") or {}
        output = GLYPHICONS.sub("", output)  # bootstrap's icon font: not shipped, never used, blocked by the CSP
        return mark_awaiting(output.replace("<head>", f"<head>\n{meta}", 1), awaiting), resources

    def _render(self, nb, resources=None, **kw):
        """``HTMLExporter.from_notebook_node`` without its last step, a BeautifulSoup pass over the whole page
        that took more than half of each page's time: of what that pass adds, this classic template needs
        only the alt text of images that have none (plots), put in here by ``ALT_MISSING``."""
        language = nb.metadata.get("language_info", {})
        lexer = language.get("pygments_lexer", language.get("name"))
        self.register_filter("highlight_code", self.filters.get("highlight_code",
                                                                Highlight2HTML(pygments_lexer=lexer, parent=self)))
        resources = self._init_resources(resources)
        self.register_filter("filter_data_type", WidgetsDataTypeFilter(notebook_metadata=self._nb_metadata,
                                                                       parent=self, resources=resources))
        output, resources = TemplateExporter.from_notebook_node(self, nb, resources, **kw)
        return ALT_MISSING.sub(f'<img alt="{NO_ALT}"', output), resources


NO_ALT = "No description has been provided for this image"  # nbconvert's own words
ALT_MISSING = re.compile(r"<img\b(?![^>]*\salt=)")
GLYPHICONS = re.compile(r"@font-face\s*\{[^}]*Glyphicons Halflings[^}]*\}")


AWAITING = "awaiting a grader"


def mark_awaiting(page, awaiting):
    """``page`` with each of ``awaiting`` (``{grade_id: points}``: written answers not graded yet) shown
    as awaiting a grader instead of "Score: 0.0 / points", in the contents and above the answer."""
    for grade_id, points in awaiting.items():
        anchor = re.escape(grade_id)
        zero = rf"Score: 0\.0 / {re.escape(str(round(float(points), 2)))}"
        page = re.sub(rf'(<a href="#{anchor}">[^<]*</a> )\({zero}\)',
                      rf"\1(<em>{AWAITING}</em>, {float(points):g} points)", page, count=1)
        page = re.sub(rf'(<a name="{anchor}"></a>.*?){zero}', rf"\1<em>Score: {AWAITING}</em> (of {float(points):g})",
                      page, count=1, flags=re.DOTALL)
    if awaiting:
        page = re.sub(r"(<h4>[^<]*\(Score: [^)]*)\)", rf"\1; a written answer is {AWAITING})", page, count=1)
    return page


# ---- nbgrader's GetGrades, telling a written answer not graded yet from a 0 --------------------------

from nbgrader.preprocessors import GetGrades  # noqa: E402


class GetGradesAwaiting(GetGrades):
    """nbgrader's ``GetGrades``, which also lists in ``resources["nbgrader"]["awaiting"]`` the graded cells
    still waiting for a person (``{grade_id: points}``), for ``FeedbackExporter`` to say so."""

    def preprocess(self, nb, resources):
        resources["nbgrader"]["awaiting"] = {}
        return super().preprocess(nb, resources)

    def _get_score(self, cell, resources):
        super()._get_score(cell, resources)
        grade = self.gradebook.find_grade(cell.metadata["nbgrader"]["grade_id"], self.notebook_id,
                                          self.assignment_id, self.student_id)
        if grade.needs_manual_grade and grade.manual_score is None:  # grader.export.awaits_grader
            resources["nbgrader"]["awaiting"][grade.name] = grade.max_score
