"""Sphinx extension of the book (listed under ``sphinx: local_extensions`` in ``_config.yml``).

It does what Jupyter Book 1 cannot be configured to do:

1. **MathJax without a CDN.** ``mathjax_path`` points at ``../mathjax/tex-mml-chtml.js`` (relative to
   ``_static/``), and ``html_extra_path`` copies ``_build/mathjax/`` into the site root. This extension
   fills ``_build/mathjax/mathjax/`` with a trimmed copy of the ``es5/`` build of the npm package
   ``mathjax`` that ``npm ci`` installed into ``node_modules/`` (the exact version pinned in
   ``package.json`` and ``package-lock.json``; ``make book`` runs ``npm ci`` when it is missing).
2. **A cache of executed notebooks keyed on rnnlib.** jupyter-cache re-executes a lesson only when its
   code cells change. The cache folder is therefore ``<build>/.jupyter_cache/rnnlib-<hash>``, where the
   hash covers every file of ``rnnlib/`` and ``requirements.txt``: an edit there starts an empty cache,
   so every lesson runs again. Older ``rnnlib-*`` folders are removed.
3. **Each lesson as .ipynb.** sphinx-book-theme offers the executed notebook of a MyST Markdown lesson
   for download only when a launch button is configured; this copies it to ``_sources/`` and adds the
   ``.ipynb`` entry to the download menu next to ``.md``.
4. **No script error on the page.** It drops the second copy of a script that is added twice.
5. **Widgets without a CDN.** Pages whose lessons display widgets load RequireJS and the ipywidgets HTML
   manager (``nb_ipywidgets_js`` in ``_config.yml``). This fills ``_build/widgets/widgets/`` with
   ``require.js`` and the manager's ``embed-amd.js`` and icon fonts from ``node_modules/`` (versions pinned
   in ``package.json``), and ``html_extra_path`` copies them to the site's ``widgets/`` folder.
"""

import hashlib
import json
import os
import pathlib
import shutil
import tempfile

from sphinx.errors import ExtensionError
from sphinx.util import logging

LOGGER = logging.getLogger(__name__)

# What MathJax needs to typeset TeX into CommonHTML, with its menu and accessibility extensions:
# about 8 MB of the 24 MB es5/ build.
MATHJAX_PARTS = ("tex-mml-chtml.js", "input", "output/chtml", "ui", "a11y", "sre", "adaptors")
MATHJAX_EXTRA = pathlib.Path("_build") / "mathjax"  # must be in html_extra_path in _config.yml
WIDGETS_EXTRA = pathlib.Path("_build") / "widgets"  # likewise
# npm package -> the files of it the site serves (the manager's webpack build finds its fonts beside it).
WIDGET_FILES = {"requirejs": ("require.js",),
                "@jupyter-widgets/html-manager": ("dist/embed-amd.js", "dist/*.woff2", "dist/*.woff",
                                                  "dist/*.ttf", "dist/*.eot", "dist/*.svg")}


def pinned_mathjax(root):
    """The MathJax version pinned in ``package.json`` (an exact 3.x version)."""
    version = json.loads((root / "package.json").read_text())["dependencies"]["mathjax"]
    if not version.startswith("3.") or not version.replace(".", "").isdigit():
        raise ExtensionError(f"package.json: expected an exact MathJax 3.x version, got {version!r}")
    return version


def install_mathjax(root):
    """Make ``<root>/_build/mathjax/mathjax/`` a trimmed copy of the pinned MathJax; returns its folder."""
    version = pinned_mathjax(root)
    package = root / "node_modules" / "mathjax"
    installed = json.loads((package / "package.json").read_text())["version"] if package.exists() else None
    if installed != version:
        raise ExtensionError(f"node_modules/mathjax: expected version {version} (package.json), found "
                             f"{installed or 'nothing'}; run `npm ci` in the project root (`make book` does)")
    target = root / MATHJAX_EXTRA / "mathjax"
    stamp = target / ".version"  # hidden files are in exclude_patterns: it stays out of the site
    if stamp.exists() and stamp.read_text() == version and (target / "tex-mml-chtml.js").exists():
        return target
    (root / MATHJAX_EXTRA).mkdir(parents=True, exist_ok=True)
    scratch = pathlib.Path(tempfile.mkdtemp(dir=root / MATHJAX_EXTRA))
    for part in MATHJAX_PARTS:
        source, dest = package / "es5" / part, scratch / "mathjax" / part
        dest.parent.mkdir(parents=True, exist_ok=True)
        (shutil.copytree if source.is_dir() else shutil.copy2)(source, dest)
    (scratch / "mathjax" / ".version").write_text(version)
    shutil.rmtree(target, ignore_errors=True)
    os.replace(scratch / "mathjax", target)  # a concurrent build sees the old copy or the whole new one
    shutil.rmtree(scratch, ignore_errors=True)
    return target


def pinned_version(root, package):
    """The exact version of npm ``package`` pinned in ``package.json``."""
    version = json.loads((root / "package.json").read_text())["dependencies"].get(package, "")
    if not version.replace(".", "").isdigit():
        raise ExtensionError(f"package.json: expected an exact version of {package}, got {version!r}")
    return version


def install_widget_js(root):
    """Make ``<root>/_build/widgets/widgets/`` hold RequireJS and the ipywidgets HTML manager; returns it."""
    target = root / WIDGETS_EXTRA / "widgets"
    stamp = "\n".join(f"{name} {pinned_version(root, name)}" for name in WIDGET_FILES)
    if (target / ".version").exists() and (target / ".version").read_text() == stamp:
        return target
    (root / WIDGETS_EXTRA).mkdir(parents=True, exist_ok=True)
    scratch = pathlib.Path(tempfile.mkdtemp(dir=root / WIDGETS_EXTRA))
    for name, patterns in WIDGET_FILES.items():
        package = root / "node_modules" / name
        installed = json.loads((package / "package.json").read_text())["version"] if package.exists() else None
        if installed != pinned_version(root, name):
            raise ExtensionError(f"node_modules/{name}: expected version {pinned_version(root, name)} "
                                 f"(package.json), found {installed or 'nothing'}; run `npm ci` (`make book` does)")
        for pattern in patterns:
            for source in sorted(package.glob(pattern)):
                shutil.copy2(source, scratch / source.name)
    (scratch / ".version").write_text(stamp)
    shutil.rmtree(target, ignore_errors=True)
    os.replace(scratch, target)
    return target


def rnnlib_key(root):
    """A short hash of every file under ``rnnlib/`` (names and contents) and of ``requirements.txt``."""
    digest = hashlib.sha256()
    files = [p for p in sorted((root / "rnnlib").rglob("*")) if p.is_file() and "__pycache__" not in p.parts]
    for path in [*files, root / "requirements.txt"]:
        digest.update(str(path.relative_to(root)).encode() + b"\0" + path.read_bytes() + b"\0")
    return digest.hexdigest()[:16]


def cache_folder(root, build):
    """``<build>/.jupyter_cache/rnnlib-<key>``: the executed-notebook cache for the current rnnlib."""
    return pathlib.Path(build) / ".jupyter_cache" / f"rnnlib-{rnnlib_key(pathlib.Path(root))}"


def choose_cache(app, config):
    """Point jupyter-cache at ``cache_folder`` (the build folder holds ``html/``) and drop other keys."""
    if config.nb_execution_mode != "cache":
        return
    folder = cache_folder(app.confdir, pathlib.Path(app.outdir).parent)
    base = folder.parent
    if base.is_dir():
        for stale in base.glob("rnnlib-*"):
            if stale != folder:
                shutil.rmtree(stale, ignore_errors=True)
    config.nb_execution_cache_path = str(folder)
    LOGGER.info(f"[book_ext] executed notebooks cached in {folder}")


def prepare_assets(app, config):
    install_mathjax(pathlib.Path(app.confdir))
    install_widget_js(pathlib.Path(app.confdir))


def offer_ipynb(app, pagename, templatename, context, doctree):
    """Add the executed notebook of a MyST Markdown lesson to the page's download menu."""
    if not str(context.get("sourcename", "")).endswith(".md"):
        return
    executed = pathlib.Path(app.outdir).parent / "jupyter_execute" / f"{pagename}.ipynb"
    if not executed.exists():
        return
    copy = pathlib.Path(app.outdir) / "_sources" / f"{pagename}.ipynb"
    copy.parent.mkdir(parents=True, exist_ok=True)
    shutil.copy2(executed, copy)
    context["ipynb_source"] = f"{pagename}.ipynb"


def drop_duplicate_scripts(app, pagename, templatename, context, doctree):
    """Keep one copy of each script. Under Jupyter Book 1, sphinx-thebe 0.3.1 adds its inline settings
    twice, and the second copy raises "Identifier 'THEBE_JS_URL' has already been declared" on every page."""
    seen, unique = set(), []
    for script in context.get("script_files", []):
        key = (str(getattr(script, "filename", script) or ""), getattr(script, "attributes", {}).get("body"))
        if key not in seen:
            seen.add(key)
            unique.append(script)
    context["script_files"] = unique


# Runs first on every page. (1) The HTML manager looks for its icon fonts beside the address RequireJS gives
# its module (by default under the page's folder): a global `require` read by require.js as its settings
# maps that module, and the manager's assets path, to the site's widgets/ folder. (2) It typesets widget labels with
# MathJax 2's MathJax.Hub.Queue, which MathJax 3 lacks (a script error on every widget page): give each
# object assigned to window.MathJax a hidden Hub whose Queue hands the element to MathJax 3.
WIDGET_SHIM = """(function () {
  var root = document.documentElement.dataset.content_root || "";
  var assets = new URL(root + "widgets/", location.href).href;
  window.__jupyter_widgets_assets_path__ = assets;
  window.require = {paths: {"@jupyter-widgets/html-manager/dist": assets.slice(0, -1)}};
  var hub = {Queue: function (job) {
    var mj = current, element = job && job[2];
    if (mj && mj.typesetPromise && element) { mj.typesetPromise([element]).catch(function () {}); }
  }};
  var current = window.MathJax;
  function withHub(value) {
    if (value && typeof value === "object" && !("Hub" in value)) {
      Object.defineProperty(value, "Hub", {value: hub, enumerable: false, configurable: true});
    }
    return value;
  }
  withHub(current);
  Object.defineProperty(window, "MathJax", {configurable: true,
    get: function () { return current; }, set: function (value) { current = withHub(value); }});
})();"""


def setup(app):
    app.add_js_file(None, body=WIDGET_SHIM, priority=100)  # before MathJax's settings and the widget scripts
    app.connect("config-inited", prepare_assets, priority=400)  # before Sphinx checks html_extra_path
    app.connect("config-inited", choose_cache, priority=400)  # before myst-nb reads the cache path
    app.connect("html-page-context", offer_ipynb, priority=500)  # before the theme builds its buttons
    app.connect("html-page-context", drop_duplicate_scripts, priority=999)  # after every script is added
    return {"version": "1.0", "parallel_read_safe": True, "parallel_write_safe": True}

