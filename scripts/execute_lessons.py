"""Execute the book's lessons in parallel into the cache that the book build reads.

    .venv/bin/python scripts/execute_lessons.py [--jobs 2] [--root .]

Jupyter Book executes the lessons one after the other while it reads them. ``make book`` runs this first:
every lesson of ``_toc.yml`` (a MyST Markdown notebook) that is not yet in the cache is executed, ``--jobs``
at a time, and stored in ``_build/.jupyter_cache/rnnlib-<key>`` (see ``scripts/book_ext.py``), so that the
build finds each one there ("Using cached notebook") and only renders it. A lesson is read exactly as
myst-nb reads it, so the cache key (its code cells and kernel) is the one the build looks up. A lesson that
fails is not cached: the build then runs it again and reports the error with its traceback. When no
lesson, ``_toc.yml``, ``_config.yml`` nor the cache key changed since a run that left every lesson cached,
it returns at once.
"""

import argparse
import concurrent.futures
import pathlib
import sys
import time

import yaml

sys.path.insert(0, str(pathlib.Path(__file__).resolve().parent))
from book_ext import cache_folder  # noqa: E402

ROOT = pathlib.Path(__file__).resolve().parent.parent


def failure_tail(error, lines=12):
    """The end of a failed lesson's traceback, without colour codes, indented: printed here because the
    build runs the lesson again, and a lesson that passes there (a flaky one) would leave no trace."""
    from nbconvert.filters import strip_ansi

    kept = [line for line in strip_ansi(error).splitlines() if line.strip()][-lines:]
    return "\n".join("    " + line for line in kept)


def lessons(root):
    """The MyST Markdown notebooks listed in ``<root>/_toc.yml``, in order."""
    from myst_nb.core.read import is_myst_markdown_notebook

    toc = yaml.safe_load((root / "_toc.yml").read_text())
    entries = [c for part in toc.get("parts", [{"chapters": toc.get("chapters", [])}]) for c in part["chapters"]]
    paths = [root / f"{entry['file']}.md" for entry in entries if "file" in entry]
    return [p for p in paths if p.exists() and is_myst_markdown_notebook(p.read_text())]


def read(path, extensions):
    """The notebook of a MyST Markdown lesson, as myst-nb reads it during the build."""
    from myst_nb.core.read import read_myst_markdown_notebook
    from myst_parser.config.main import MdParserConfig

    config = MdParserConfig(enable_extensions=set(extensions))
    return read_myst_markdown_notebook(path.read_text(), config=config, add_source_map=True, path=str(path))


def execute(path, extensions, timeout):
    """Run one lesson in a fresh kernel in its own folder; returns (notebook, seconds, error text)."""
    from jupyter_cache.executors.utils import single_nb_execution

    notebook = read(path, extensions)
    result = single_nb_execution(notebook, cwd=str(path.parent), timeout=timeout, allow_errors=False,
                                 meta_override=True)
    return notebook, result.time, result.exc_string if result.err else None


def stamp_of(root, folder):
    """A file in the cache folder that records "every lesson, as it is now, is in this cache"."""
    import hashlib

    digest = hashlib.sha256((root / "_config.yml").read_bytes() + (root / "_toc.yml").read_bytes())
    for path in sorted((root / "chapters").glob("*.md")):
        digest.update(path.name.encode() + b"\0" + path.read_bytes())
    return folder / f"lessons-{digest.hexdigest()[:16]}.ok"


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--root", type=pathlib.Path, default=ROOT)
    parser.add_argument("--build", type=pathlib.Path, default=None, help="build folder (default: <root>/_build)")
    parser.add_argument("--jobs", type=int, default=2)
    args = parser.parse_args(argv)
    root = args.root.resolve()
    config = yaml.safe_load((root / "_config.yml").read_text())
    if config.get("execute", {}).get("execute_notebooks") != "cache":
        print("execute_notebooks is not 'cache' in _config.yml: nothing to do")
        return 0
    extensions = config.get("parse", {}).get("myst_enable_extensions", [])
    timeout = config["execute"].get("timeout", 30)
    folder = cache_folder(root, (args.build or root / "_build").resolve())
    stamp = stamp_of(root, folder)
    if stamp.exists():  # nothing changed since every lesson was cached: skip reading them (a few seconds)
        print(f"every lesson is cached in {folder.relative_to(root) if folder.is_relative_to(root) else folder}")
        return 0
    from jupyter_cache import get_cache
    from jupyter_cache.base import CacheBundleIn

    cache = get_cache(str(folder))
    todo = []
    for path in lessons(root):
        try:
            cache.match_cache_notebook(read(path, extensions))
            print(f"{path.relative_to(root)}: cached")
        except KeyError:
            todo.append(path)
    start, failed = time.perf_counter(), 0
    with concurrent.futures.ProcessPoolExecutor(max_workers=max(1, args.jobs)) as pool:
        runs = {pool.submit(execute, path, extensions, timeout): path for path in todo}
        for done in concurrent.futures.as_completed(runs):
            path = runs[done]
            notebook, seconds, error = done.result()
            if error:
                failed += 1
                print(f"{path.relative_to(root)}: FAILED after {seconds:.1f} s (the book build runs it again):\n"
                      f"{failure_tail(error)}")
                continue
            cache.cache_notebook_bundle(CacheBundleIn(notebook, str(path), data={"execution_seconds": seconds}),
                                        check_validity=False, overwrite=True)
            print(f"{path.relative_to(root)}: executed in {seconds:.1f} s")
    print(f"{len(todo)} lessons executed ({failed} failed), {args.jobs} at a time, in "
          f"{time.perf_counter() - start:.1f} s")
    if not failed:
        for old in folder.glob("lessons-*.ok"):
            old.unlink()
        stamp.touch()
    return 0


if __name__ == "__main__":
    sys.exit(main())
