"""The book works without a network: MathJax pinned from npm and served by the site, no script or
stylesheet from another host, and the executed-notebook cache keyed on rnnlib (scripts/book_ext.py)."""

import json
import os
import pathlib
import re

import book_ext
import pytest
import yaml
from sphinx.errors import ExtensionError

ROOT = pathlib.Path(__file__).resolve().parent.parent
SITE = pathlib.Path(os.environ.get("BOOK_SITE", ROOT / "_build" / "html"))  # BOOK_SITE: a trial build elsewhere
CONFIG = yaml.safe_load((ROOT / "_config.yml").read_text())
# A <script src> or a <link href> (stylesheet, preload, icon...) whose address names a host.
REMOTE_ASSET = re.compile(r'<(?:script|link)\b[^>]*\b(?:src|href)="((?:https?:)?//[^"]+)"', re.IGNORECASE)


def test_mathjax_is_pinned_to_one_exact_3x_version_in_package_and_lock():
    package = json.loads((ROOT / "package.json").read_text())
    lock = json.loads((ROOT / "package-lock.json").read_text())
    version = package["dependencies"]["mathjax"]
    assert re.fullmatch(r"3\.\d+\.\d+", version), version
    assert lock["packages"][""]["dependencies"]["mathjax"] == version
    assert lock["packages"]["node_modules/mathjax"]["version"] == version
    assert lock["packages"]["node_modules/mathjax"]["integrity"].startswith("sha512-")
    assert book_ext.pinned_mathjax(ROOT) == version


def test_config_serves_mathjax_and_the_widget_scripts_from_the_site():
    sphinx = CONFIG["sphinx"]["config"]
    assert sphinx["mathjax_path"] == "../mathjax/tex-mml-chtml.js"  # relative to _static/
    assert sphinx["html_extra_path"] == [str(book_ext.MATHJAX_EXTRA), str(book_ext.WIDGETS_EXTRA)]
    assert list(sphinx["nb_ipywidgets_js"]) == ["../widgets/require.js", "../widgets/embed-amd.js"]
    assert not any("//" in attr for attrs in sphinx["nb_ipywidgets_js"].values() for attr in attrs.values())
    assert sphinx["html_context"]["default_mode"] in {"light", "dark", "auto"}
    assert CONFIG["sphinx"]["local_extensions"] == {"book_ext": "scripts/"}
    assert "node_modules" in CONFIG["exclude_patterns"] and "_build" in CONFIG["exclude_patterns"]
    assert CONFIG["execute"]["execute_notebooks"] == "cache"


def fake_mathjax(root, version):
    """A node_modules/mathjax with the files MathJax's trimmed copy takes, and one it leaves out."""
    (root / "package.json").write_text(json.dumps({"dependencies": {"mathjax": version}}))
    package = root / "node_modules" / "mathjax"
    for part in [*book_ext.MATHJAX_PARTS, "tex-svg-full.js", "output/svg"]:
        path = package / "es5" / part
        if path.suffix == ".js":
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(f"// {part}")
        else:
            (path / "sub").mkdir(parents=True, exist_ok=True)
            (path / "sub" / "file.js").write_text(f"// {part}")
    (package / "package.json").write_text(json.dumps({"name": "mathjax", "version": version}))
    return package


def test_install_mathjax_copies_the_trimmed_parts_once_and_again_after_a_version_change(tmp_path):
    fake_mathjax(tmp_path, "3.2.2")
    target = book_ext.install_mathjax(tmp_path)
    assert target == tmp_path / "_build" / "mathjax" / "mathjax"
    assert (target / "tex-mml-chtml.js").read_text() == "// tex-mml-chtml.js"
    assert (target / "output" / "chtml" / "sub" / "file.js").exists()
    assert not (target / "tex-svg-full.js").exists() and not (target / "output" / "svg").exists()
    assert (target / ".version").read_text() == "3.2.2"

    (target / "marker").write_text("kept while the version is unchanged")
    book_ext.install_mathjax(tmp_path)
    assert (target / "marker").exists()

    fake_mathjax(tmp_path, "3.2.1")
    book_ext.install_mathjax(tmp_path)
    assert not (target / "marker").exists() and (target / ".version").read_text() == "3.2.1"


def test_install_mathjax_names_the_fix_when_npm_ci_has_not_run_or_installed_another_version(tmp_path):
    (tmp_path / "package.json").write_text(json.dumps({"dependencies": {"mathjax": "3.2.2"}}))
    with pytest.raises(ExtensionError, match=r"expected version 3\.2\.2 .* found nothing; run `npm ci`"):
        book_ext.install_mathjax(tmp_path)
    fake_mathjax(tmp_path, "3.2.2")
    (tmp_path / "package.json").write_text(json.dumps({"dependencies": {"mathjax": "3.2.1"}}))
    with pytest.raises(ExtensionError, match=r"expected version 3\.2\.1 .* found 3\.2\.2"):
        book_ext.install_mathjax(tmp_path)
    (tmp_path / "package.json").write_text(json.dumps({"dependencies": {"mathjax": "^4.0.0"}}))
    with pytest.raises(ExtensionError, match=r"exact MathJax 3\.x version, got '\^4\.0\.0'"):
        book_ext.pinned_mathjax(tmp_path)


def fake_widget_packages(root, versions):
    """node_modules with requirejs and the HTML manager at ``versions`` (and a file the site leaves out)."""
    manifest = root / "package.json"
    pinned = json.loads(manifest.read_text())["dependencies"] if manifest.exists() else {}
    manifest.write_text(json.dumps({"dependencies": {**pinned, **versions}}))
    for name, version in versions.items():
        package = root / "node_modules" / name
        (package / "dist").mkdir(parents=True, exist_ok=True)
        (package / "package.json").write_text(json.dumps({"name": name, "version": version}))
        for file in ("require.js", "dist/embed-amd.js", "dist/abc123.woff2", "dist/embed.js.map"):
            (package / file).write_text(f"// {name} {version}")


def test_install_widget_js_copies_the_pinned_scripts_and_fonts_and_names_the_fix_when_missing(tmp_path):
    versions = {"requirejs": "2.3.7", "@jupyter-widgets/html-manager": "1.0.15"}
    (tmp_path / "package.json").write_text(json.dumps({"dependencies": {"mathjax": "3.2.2"}}))
    with pytest.raises(ExtensionError, match=r"expected an exact version of requirejs, got ''"):
        book_ext.install_widget_js(tmp_path)
    fake_widget_packages(tmp_path, versions)
    target = book_ext.install_widget_js(tmp_path)
    assert target == tmp_path / "_build" / "widgets" / "widgets"
    assert sorted(p.name for p in target.iterdir()) == [".version", "abc123.woff2", "embed-amd.js", "require.js"]
    assert (target / "embed-amd.js").read_text() == "// @jupyter-widgets/html-manager 1.0.15"
    (tmp_path / "package.json").write_text(json.dumps({"dependencies": dict(versions, requirejs="2.3.8")}))
    with pytest.raises(ExtensionError, match=r"node_modules/requirejs: expected version 2\.3\.8 .* found 2\.3\.7"):
        book_ext.install_widget_js(tmp_path)
    assert (target / "require.js").read_text() == "// requirejs 2.3.7"  # the old copy stays whole


def fake_course(root):
    (root / "rnnlib" / "data").mkdir(parents=True)
    (root / "rnnlib" / "rnn.py").write_text("def f():\n    return 1\n")
    (root / "rnnlib" / "data" / "text.txt").write_text("some data")
    (root / "requirements.txt").write_text("numpy==2.0.0\n")


def test_cache_key_follows_every_file_of_rnnlib_and_the_pinned_requirements(tmp_path):
    fake_course(tmp_path)
    key = book_ext.rnnlib_key(tmp_path)
    assert key == book_ext.rnnlib_key(tmp_path)
    (tmp_path / "rnnlib" / "__pycache__").mkdir()
    (tmp_path / "rnnlib" / "__pycache__" / "rnn.cpython-311.pyc").write_bytes(b"\0compiled")
    assert book_ext.rnnlib_key(tmp_path) == key  # byte code is not source
    keys = {key}
    for path, text in [("rnnlib/rnn.py", "def f():\n    return 2\n"), ("rnnlib/data/text.txt", "other data"),
                       ("rnnlib/new.py", ""), ("requirements.txt", "numpy==2.1.0\n")]:
        (tmp_path / path).write_text(text)
        keys.add(book_ext.rnnlib_key(tmp_path))
    assert len(keys) == 5


class FakeApp:
    def __init__(self, root):
        self.confdir, self.outdir = str(root), str(root / "_build" / "html")


def test_choose_cache_puts_the_cache_under_the_key_and_removes_caches_of_other_keys(tmp_path):
    fake_course(tmp_path)
    base = tmp_path / "_build" / ".jupyter_cache"
    (base / "rnnlib-0000000000000000").mkdir(parents=True)
    (base / "unrelated").mkdir()
    config = type("Config", (), {"nb_execution_mode": "cache", "nb_execution_cache_path": ""})()
    book_ext.choose_cache(FakeApp(tmp_path), config)
    assert config.nb_execution_cache_path == str(base / f"rnnlib-{book_ext.rnnlib_key(tmp_path)}")
    assert sorted(p.name for p in base.iterdir()) == ["unrelated"]

    config = type("Config", (), {"nb_execution_mode": "force", "nb_execution_cache_path": ""})()
    book_ext.choose_cache(FakeApp(tmp_path), config)
    assert config.nb_execution_cache_path == ""


built = pytest.mark.skipif(not (SITE / "index.html").exists(), reason="no built book in _build/html (make book)")


@built
def test_no_page_of_the_built_site_loads_a_script_or_stylesheet_from_another_host():
    pages = sorted(SITE.rglob("*.html"))
    remote = {f"{p.relative_to(SITE)}: {m}" for p in pages for m in REMOTE_ASSET.findall(p.read_text(errors="replace"))}
    assert pages and not remote, "\n".join(sorted(remote))


@built
def test_the_built_site_carries_its_mathjax_and_pages_with_math_load_it():
    assert (SITE / "mathjax" / "tex-mml-chtml.js").stat().st_size > 100_000
    assert (SITE / "mathjax" / "output" / "chtml" / "fonts" / "woff-v2").is_dir()
    chapter = (SITE / "chapters" / "01_recurrence.html").read_text()
    assert 'src="../_static/../mathjax/tex-mml-chtml.js' in chapter


def test_remote_asset_pattern_finds_what_a_cdn_build_has_and_ignores_local_assets():
    cdn = '<script defer="defer" src="https://cdn.jsdelivr.net/npm/mathjax@3/es5/tex-mml-chtml.js"></script>'
    assert REMOTE_ASSET.findall(cdn) == ["https://cdn.jsdelivr.net/npm/mathjax@3/es5/tex-mml-chtml.js"]
    assert REMOTE_ASSET.findall('<link rel="stylesheet" href="//fonts.example.org/a.css" />')
    assert not REMOTE_ASSET.findall('<script src="../_static/../mathjax/tex-mml-chtml.js?v=1"></script>')
    assert not REMOTE_ASSET.findall('<a href="https://arxiv.org/abs/1211.5063">paper</a>')


@built
def test_every_lesson_page_offers_its_notebook_and_its_source_for_download():
    lessons = sorted((SITE / "chapters").glob("*.html"))
    assert lessons
    for page in lessons:
        html = page.read_text()
        for suffix in (".ipynb", ".md"):
            assert f'href="../_sources/chapters/{page.stem}{suffix}"' in html, (page.name, suffix)
            assert (SITE / "_sources" / "chapters" / f"{page.stem}{suffix}").stat().st_size > 1000
