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


PIXEL = (
    "data:image/png;base64,"
    "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNk+M9QDwADhgGAWjR9awAAAABJRU5ErkJggg=="
)
# An explorer as the HTML manager draws one: a slider handle, its readout, buttons and one frame per value.
# The slider's keys change the readout; `moves` says whether they also change the frame shown.
EXPLORER = """<div class="rnn-frames">
  <div class="noUi-handle" tabindex="0"></div><span class="widget-readout">1</span>
  <button class="widget-toggle-button mod-active">tanh</button><button class="widget-toggle-button">relu</button>
  FRAMES
</div>
<script>
  const values = ["1", "1.1", "1.2"], moves = MOVES;
  let index = 0, kind = "tanh";
  function show() {
    document.querySelectorAll(".widget-html").forEach(f => { f.style.display =
      f.classList.contains("frame--" + (moves ? values[index] : "1") + "--" + kind) ? "" : "none"; });
  }
  document.querySelector(".noUi-handle").addEventListener("keydown", e => {
    index = Math.max(0, Math.min(2, index + (e.key === "ArrowRight" ? 1 : -1)));
    document.querySelector(".widget-readout").textContent = values[index]; show();
  });
  document.querySelectorAll(".widget-toggle-button").forEach(b => b.addEventListener("click", () => {
    document.querySelectorAll(".widget-toggle-button").forEach(o => o.classList.remove("mod-active"));
    b.classList.add("mod-active"); kind = b.textContent; show();
  }));
  show();
</script>"""


@pytest.mark.parametrize("moves", [True, False])
def test_explorer_check_moves_each_control_and_fails_when_the_frame_does_not_follow(tmp_path, moves):
    from playwright.sync_api import sync_playwright

    frames = "".join(f'<div class="widget-html frame--{v}--{k}"><img alt="x" src="{PIXEL}"></div>'
                     for v in ("1", "1.1", "1.2") for k in ("tanh", "relu"))
    page_path = tmp_path / "page.html"
    page_path.write_text(EXPLORER.replace("FRAMES", frames).replace("MOVES", str(moves).lower()))
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=browser_check.CHROMIUM, args=browser_check.BROWSER_ARGS)
        page = browser.new_page()
        page.goto(page_path.as_uri())
        found = browser_check.explorer_problems(page)
        browser.close()
    if moves:
        assert found == []
    else:
        assert "explorer 1: the slider moved but the frame stayed ['frame--1--tanh']" in found
        assert "explorer 1, slider ArrowRight: the controls show ['1.1', 'tanh'] but the frames shown are " \
               "['frame--1--tanh']" in found


@pytest.mark.skipif(not (SITE / "index.html").exists(), reason="no built book in _build/html (make book)")
def test_every_page_of_the_built_book_in_headless_chromium():
    """Every check of `make browser-check` but the screenshots (two fifths of its time; CI takes them)."""
    problems = browser_check.check_site(SITE, None, log=lambda line: None)
    pages = set(problems)
    assert {"intro.html", "chapters/01_recurrence.html"} <= pages
    bad = {page: found for page, found in problems.items() if found}
    assert not bad, "\n".join(f"{page}:\n  " + "\n  ".join(found) for page, found in bad.items())


def test_browser_check_reports_a_blank_screenshot(tmp_path):
    site, shots = tmp_path / "site", tmp_path / "shots"
    site.mkdir()
    (site / "blank.html").write_text("<html><head><title>b</title></head><body></body></html>")
    words = " ".join(f"word{n}" for n in range(3000))
    (site / "text.html").write_text(f"<html><head><title>t</title></head><body><p>{words}</p></body></html>")
    problems = browser_check.check_site(site, shots, log=lambda line: None)
    assert [p for p in problems["blank.html"] if p.startswith("the screenshot is blank")], problems
    assert problems["text.html"] == []
