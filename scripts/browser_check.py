"""Open every page of the built book in headless Chromium, offline, and check what a reader sees.

    .venv/bin/python scripts/browser_check.py [--site _build/html] [--shots _build/screenshots]

Chromium is Debian's (``scripts/install_system_deps.sh`` installs it), driven by Playwright's Python
package with ``executable_path`` (never ``playwright install``). Every request that is not ``file://`` is
blocked and reported. On every page it checks:

- math: where the page has math, MathJax (served by the site) ran, rendered every formula without a TeX
  error, and no raw ``$$``, ``\\(``, ``\\[`` or ``$...\\cmd...$`` is left in the visible prose;
- images: each one loaded with a non-zero natural size; a figure's alt text is not its file name;
- outputs: no cell shows an error (traceback) or stderr output, and no script error was raised;
- links: every link inside the site points to an existing file, and a ``#fragment`` to an existing id;
- instructor material: no solution line or hidden-test value of any problem set appears in the text.

A full-page screenshot (JPEG) of every page goes to ``--shots``. Exits 1 when any page has a problem, and 2
when the site or the browser is missing: a browser that cannot start is a failure, never a skip.
"""

import argparse
import pathlib
import re
import sys
from urllib.parse import unquote, urlsplit

sys.path.insert(0, str(pathlib.Path(__file__).resolve().parent))
from nbcourse import ROOT  # noqa: E402

CHROMIUM = "/usr/bin/chromium"
BROWSER_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                "--disable-background-networking", "--disable-component-update", "--disable-sync"]
NOT_PAGES = {"_static", "_sources", "_images", "mathjax", "_sphinx_design_static"}
RAW_TEX = re.compile(r"\$\$|\\\(|\\\[|\\begin\{|\$[^$\n]*(?:\\[A-Za-z]+|[_^]\{)[^$\n]*\$")
REDIRECT = re.compile(r'<meta http-equiv="refresh" content="0; url=([^"]+)"', re.IGNORECASE)
HASH_NAME = re.compile(r"(^|/)[0-9a-f]{32,}\.(png|svg|jpg|jpeg)$")

# Runs inside the page: waits for MathJax and the images, then reports what the checks need.
INSPECT = """async () => {
  const mj = window.MathJax;
  if (mj && mj.startup && mj.startup.promise) { await mj.startup.promise; }
  const images = [...document.images];
  images.forEach(img => { img.loading = 'eager'; });
  await Promise.all(images.map(img => img.decode().catch(() => null)));
  const article = document.querySelector('article.bd-article') || document.body;
  const prose = article.cloneNode(true);
  prose.querySelectorAll('pre, code, mjx-container, script, style, .cell_input').forEach(e => e.remove());
  return {
    mathNodes: document.querySelectorAll('span.math, div.math').length,
    mathjax: Boolean(mj && mj.startup && mj.startup.document),
    rendered: document.querySelectorAll('mjx-container').length,
    texErrors: [...document.querySelectorAll('mjx-merror')].map(e => e.getAttribute('data-mjx-error') || e.textContent),
    prose: prose.textContent,
    text: document.body.innerText,
    images: images.map(img => ({src: img.currentSrc || img.src, width: img.naturalWidth, height: img.naturalHeight,
                                alt: img.getAttribute('alt') || '', figure: Boolean(img.closest('article'))})),
    outputs: [...document.querySelectorAll('.output.stderr, .output.traceback')].map(e => e.innerText.slice(0, 200)),
    links: [...document.querySelectorAll('a[href]')].map(a => a.href),
    ids: [...document.querySelectorAll('[id]')].map(e => e.id).concat(
         [...document.querySelectorAll('a[name]')].map(e => e.getAttribute('name'))),
  };
}"""


def screenshot_name(page):
    """``chapters/01_recurrence.html`` -> ``chapters__01_recurrence.jpg``."""
    return page.replace("/", "__").removesuffix(".html") + ".jpg"


def site_pages(site):
    """Every HTML page of the built site (not the theme's assets or MathJax)."""
    return sorted(p for p in site.rglob("*.html") if not NOT_PAGES & set(p.relative_to(site).parts))


def fingerprints():
    """``{problem set: solution lines and hidden-test values}`` (see ``scripts/nbcourse.py``)."""
    from make_exercises import problem_sets
    from nbcourse import solution_fingerprints

    return {assignment: solution_fingerprints(assignment) for assignment in problem_sets()}


def page_problems(info, prints):
    """Problems of one page from what ``INSPECT`` returned (links are checked later, across pages)."""
    found = []
    if info["mathNodes"] and not info["mathjax"]:
        found.append(f"{info['mathNodes']} formulas but MathJax did not load")
    elif info["rendered"] < info["mathNodes"]:
        found.append(f"{info['mathNodes']} formulas but only {info['rendered']} rendered by MathJax")
    found += [f"TeX error: {e[:120]}" for e in info["texErrors"]]
    found += [f"raw TeX in the text: {m.group(0)[:60]!r}" for m in RAW_TEX.finditer(info["prose"])]
    for img in info["images"]:
        if not (img["width"] and img["height"]):
            found.append(f"image not loaded: {img['src']}")
        if img["figure"] and (not img["alt"].strip() or HASH_NAME.search(img["alt"])):
            found.append(f"image without alt text (alt={img['alt']!r}): {img['src']}")
    found += [f"cell output shows an error or stderr: {text!r}" for text in info["outputs"]]
    for assignment, strings in prints.items():
        found += [f"instructor material of {assignment}: {s[:60]!r}" for s in sorted(strings) if s in info["text"]]
    return found


def link_problems(links, ids_of, site):
    """Problems of internal links: a missing file, or a fragment that names no id of the target page."""
    found = []
    for link in sorted(set(links)):
        parts = urlsplit(link)
        if parts.scheme != "file":
            continue
        target = pathlib.Path(unquote(parts.path))
        if target.is_dir():
            target = target / "index.html"
        if not target.exists():
            found.append(f"broken link: {link}")
        elif parts.fragment and target.suffix == ".html":
            ids = ids_of.get(target) or set(re.findall(r'\b(?:id|name)="([^"]+)"', target.read_text(errors="replace")))
            if unquote(parts.fragment) not in ids:
                found.append(f"link to a missing anchor: {link}")
    return found


def check_site(site, shots=None, log=print):
    """Open every page of ``site``; returns ``{page (relative path): [problems]}``. Raises when the browser
    cannot start."""
    from playwright.sync_api import sync_playwright

    site = pathlib.Path(site).resolve()
    pages = site_pages(site)
    if not pages:
        raise FileNotFoundError(f"no HTML pages under {site}: build the book first (make book)")
    if not pathlib.Path(CHROMIUM).exists():
        raise FileNotFoundError(f"{CHROMIUM} is missing: run scripts/install_system_deps.sh")
    prints = fingerprints()
    problems, links, ids_of = {}, {}, {}
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=BROWSER_ARGS, timeout=60_000)
        try:
            context = browser.new_context(viewport={"width": 1280, "height": 900})
            for page_path in pages:
                name = str(page_path.relative_to(site))
                problems[name], links[name] = visit(context, page_path, shots, name, prints)
                ids_of[page_path] = set(links[name].pop())
                log(f"{name}: {len(problems[name])} problems")
        finally:
            browser.close()
    for page_path in pages:
        name = str(page_path.relative_to(site))
        problems[name] += link_problems(links[name], ids_of, site)
    return problems


def visit(context, page_path, shots, name, prints):
    """Load one page; returns its problems and ``[*links, ids]``."""
    blocked, script_errors = [], []
    page = context.new_page()
    page.route("**/*", lambda route: route.continue_() if route.request.url.startswith("file:")
               else (blocked.append(route.request.url), route.abort()))
    page.on("pageerror", lambda error: script_errors.append(str(error)))
    redirect = REDIRECT.search(page_path.read_text(errors="replace"))
    if redirect:  # index.html only sends the reader on: its target must exist
        page.close()
        return [], [page_path.parent.joinpath(redirect.group(1)).resolve().as_uri(), []]
    page.goto(page_path.as_uri(), wait_until="load", timeout=60_000)
    info = page.evaluate(INSPECT)
    found = page_problems(info, prints)
    found += [f"request to another host (blocked): {url}" for url in blocked]
    found += [f"script error: {e[:200]}" for e in script_errors]
    if shots:
        shot = pathlib.Path(shots) / screenshot_name(name)
        shot.parent.mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(shot), full_page=True, type="jpeg", quality=80)  # a third faster than PNG
    page.close()
    return found, [*info["links"], info["ids"]]


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--site", type=pathlib.Path, default=ROOT / "_build" / "html")
    parser.add_argument("--shots", type=pathlib.Path, default=ROOT / "_build" / "screenshots")
    args = parser.parse_args(argv)
    try:
        problems = check_site(args.site, args.shots)
    except Exception as error:  # a missing site or a browser that cannot start fails the run
        print(f"browser check could not run: {type(error).__name__}: {error}", file=sys.stderr)
        return 2
    bad = {page: found for page, found in problems.items() if found}
    for page, found in bad.items():
        print(f"{page}:\n  " + "\n  ".join(found), file=sys.stderr)
    print(f"checked {len(problems)} pages in Chromium: {sum(map(len, bad.values()))} problems; "
          f"screenshots in {args.shots}")
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())
