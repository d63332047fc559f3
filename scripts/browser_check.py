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
- instructor material: no solution line or hidden-test value of any problem set appears in the text;
- console: no error logged, no file of the site missing;
- widgets: every build-time explorer (``rnnlib.display.widgets.frames``) rendered, and moving its slider and
  pressing its buttons shows the frame drawn for the values the controls then show;
- size: the page with its images stays under ``PAGE_BUDGET`` (the shared scripts are not counted).

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
PAGE_BUDGET = 5_000_000  # bytes of HTML and images per page
MIN_SHOT = 10_000  # bytes: a JPEG of a page with anything on it is larger
FRAMES = ".rnn-frames"  # rnnlib.display.widgets.FRAMES_CLASS

# The frame an explorer shows, and the values its controls show: the slider's readout, the pressed button.
SHOWN = """(box) => ({
  frames: [...box.querySelectorAll('img')].filter(i => i.checkVisibility() && i.naturalWidth > 0)
            .map(i => [...i.closest('.widget-html').classList].find(c => c.startsWith('frame--'))),
  readout: (box.querySelector('.widget-readout') || {}).textContent,
  button: ((box.querySelector('.widget-toggle-button.mod-active') || {}).textContent || '').trim(),
  buttons: [...box.querySelectorAll('.widget-toggle-button')].map(b => b.textContent.trim()),
})"""

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
                problems[name], links[name], size = visit(context, page_path, shots, name, prints)
                ids_of[page_path] = set(links[name].pop())
                log(f"{name}: {size / 1e6:.2f} MB, {len(problems[name])} problems")
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
    page.on("console", lambda message: script_errors.append(f"console: {message.text}")
            if message.type == "error" else None)
    page.on("requestfailed", lambda request: script_errors.append(f"missing file: {request.url}")
            if request.url.startswith("file:") else None)
    redirect = REDIRECT.search(page_path.read_text(errors="replace"))
    if redirect:  # index.html only sends the reader on: its target must exist
        page.close()
        return [], [page_path.parent.joinpath(redirect.group(1)).resolve().as_uri(), []], 0
    page.goto(page_path.as_uri(), wait_until="load", timeout=60_000)
    info = page.evaluate(INSPECT)
    found = page_problems(info, prints)
    found += [f"request to another host (blocked): {url}" for url in blocked]
    found += [f"script error: {e[:200]}" for e in script_errors]
    found += explorer_problems(page)
    size = page_size(page_path, info["images"])
    if size > PAGE_BUDGET:
        found.append(f"page and images take {size / 1e6:.1f} MB (at most {PAGE_BUDGET / 1e6:.0f} MB)")
    if shots:
        shot = pathlib.Path(shots) / screenshot_name(name)
        shot.parent.mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(shot), full_page=True, type="jpeg", quality=80)  # a third faster than PNG
        if shot.stat().st_size < MIN_SHOT:
            found.append(f"the screenshot is blank ({shot.stat().st_size} bytes): {shot}")
    page.close()
    return found, [*info["links"], info["ids"]], size


def explorer_problems(page):
    """Move every control of every build-time explorer on ``page``; the frame shown must follow."""
    found = []
    boxes = page.locator(FRAMES)
    if boxes.count():
        page.wait_for_selector(f"{FRAMES} img", state="attached", timeout=30_000)
    for n in range(boxes.count()):
        box, name = boxes.nth(n), f"explorer {n + 1}"
        first = shown_frame(page, box, f"{name} as loaded", found)
        box.locator(".noUi-handle").first.focus()
        for key in ("ArrowRight", "ArrowRight", "ArrowLeft"):
            page.keyboard.press(key)
            if shown_frame(page, box, f"{name}, slider {key}", found) == first and key == "ArrowRight":
                found.append(f"{name}: the slider moved but the frame stayed {first}")
        for label in box.evaluate(SHOWN)["buttons"]:
            box.locator(".widget-toggle-button", has_text=label).first.click()
            shown_frame(page, box, f"{name}, button {label!r}", found)
    return found


def shown_frame(page, box, when, found):
    """The frame ``box`` shows; a problem goes to ``found`` unless it is the frame of its controls' values."""
    from rnnlib.display.widgets import frame_class

    page.wait_for_timeout(150)  # the manager redraws on the browser's next frames
    shown = box.evaluate(SHOWN)
    labels = [shown["readout"]] + ([shown["button"]] if shown["buttons"] else [])
    if shown["frames"] != [frame_class(*labels)]:
        found.append(f"{when}: the controls show {labels} but the frames shown are {shown['frames']}")
    return shown["frames"]


def page_size(page_path, images):
    """Bytes of the page's HTML and of the image files it loads (inline images are in the HTML)."""
    files = {pathlib.Path(unquote(urlsplit(img["src"]).path)) for img in images if img["src"].startswith("file:")}
    return page_path.stat().st_size + sum(f.stat().st_size for f in files if f.is_file())


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
