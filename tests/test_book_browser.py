"""The built book as a reader's browser shows it: headless Chromium, network blocked, every page.

Runs when ``_build/html/index.html`` exists (after ``make book``). A browser that cannot start fails
the test: it is never skipped for that.
"""

import os
import pathlib

import browser_check
import pytest

ROOT = pathlib.Path(__file__).resolve().parent.parent
SITE = pathlib.Path(os.environ.get("BOOK_SITE", ROOT / "_build" / "html"))  # BOOK_SITE: a trial build elsewhere
SHOTS = SITE.parent / "screenshots"


def test_checks_find_what_a_reader_would_see_go_wrong():
    """The page checks themselves, on what INSPECT reports for a page with every fault."""
    info = {
        "mathNodes": 3, "mathjax": True, "rendered": 2, "texErrors": ["Undefined control sequence \\foo"],
        "prose": r"where $$a$$ and \(b\) and $W_{hh}$ stay raw; prices of $5 and $6 are fine",
        "text": "solution line: return np.stack(hs)",
        "images": [{"src": "a.png", "width": 0, "height": 0, "alt": "a plot", "figure": True},
                   {"src": "b.png", "width": 10, "height": 10, "alt": "../_images/" + "0" * 64 + ".png",
                    "figure": True}],
        "outputs": ["Traceback ..."],
    }
    found = browser_check.page_problems(info, {"ps1_recurrence": {"return np.stack(hs)"}})
    assert any("only 2 rendered" in p for p in found)
    assert any(p.startswith("TeX error") for p in found)
    raw = [p for p in found if p.startswith("raw TeX")]
    assert len(raw) == 4 and not any("$5" in p for p in raw)
    assert any(p.startswith("image not loaded: a.png") for p in found)
    assert any(p.startswith("image without alt text") for p in found)
    assert any(p.startswith("cell output shows an error") for p in found)
    assert any("instructor material of ps1_recurrence" in p for p in found)
    clean = dict(info, rendered=3, texErrors=[], prose="no raw tex", text="", outputs=[],
                 images=[{"src": "c.png", "width": 5, "height": 5, "alt": "a decay curve", "figure": True}])
    assert browser_check.page_problems(clean, {"ps1_recurrence": {"return np.stack(hs)"}}) == []
    assert browser_check.page_problems(dict(clean, mathjax=False), {})[0].endswith("MathJax did not load")


def test_link_check_reports_missing_files_and_anchors(tmp_path):
    (tmp_path / "a.html").write_text('<h1 id="top">A</h1>')
    base = tmp_path.as_uri()
    links = [f"{base}/a.html#top", f"{base}/a.html#nowhere", f"{base}/missing.html", "https://example.org/x"]
    found = browser_check.link_problems(links, {}, tmp_path)
    assert found == [f"link to a missing anchor: {base}/a.html#nowhere", f"broken link: {base}/missing.html"]


@pytest.mark.skipif(not (SITE / "index.html").exists(), reason="no built book in _build/html (make book)")
def test_every_page_of_the_built_book_in_headless_chromium():
    problems = browser_check.check_site(SITE, SHOTS, log=lambda line: None)
    pages = set(problems)
    assert {"intro.html", "chapters/01_recurrence.html"} <= pages
    bad = {page: found for page, found in problems.items() if found}
    assert not bad, "\n".join(f"{page}:\n  " + "\n  ".join(found) for page, found in bad.items())
    for page in pages:
        if page.startswith("chapters/"):
            assert (SHOTS / browser_check.screenshot_name(page)).stat().st_size > 10_000
