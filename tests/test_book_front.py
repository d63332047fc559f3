"""The reader's front door: the intro maps every page of the table of contents, the glossary defines
every term the pages link to, and no lesson prints the source code of a function."""

import pathlib
import re

import pytest
import yaml

ROOT = pathlib.Path(__file__).resolve().parent.parent
TOC = yaml.safe_load((ROOT / "_toc.yml").read_text())
INTRO = (ROOT / "intro.md").read_text()
LESSONS = sorted((ROOT / "chapters").glob("*.md"))
PAGES = [ROOT / "intro.md", ROOT / "running.md", ROOT / "glossary.md", *LESSONS]


def toc_files():
    return [entry["file"] for part in TOC["parts"] for entry in part["chapters"]]


def glossary_terms():
    """The terms of glossary.md: the unindented lines inside its ``{glossary}`` block, lower-cased."""
    text = (ROOT / "glossary.md").read_text()
    block = text.split("```{glossary}\n", 1)[1].split("\n```", 1)[0]
    return {line.strip().lower() for line in block.splitlines() if line.strip() and not line.startswith(" ")}


def term_links(text):
    """Targets of ``{term}`text <target>``` and ``{term}`target``` roles, lower-cased."""
    targets = []
    for body in re.findall(r"\{term\}`([^`]+)`", text):
        match = re.fullmatch(r"(?s).*<([^>]+)>\s*", body)
        targets.append(" ".join((match.group(1) if match else body).split()).lower())
    return targets


@pytest.mark.parametrize("page", [f for f in toc_files() if f.startswith(("chapters/", "exercises/"))])
def test_the_intro_map_links_every_chapter_and_problem_set_of_the_table_of_contents(page):
    assert f"<{page}>`" in INTRO, f"intro.md: add {page} to the map of chapters and problem sets"


def test_the_intro_says_who_the_course_is_for_what_it_assumes_and_links_the_front_pages():
    for words in ("## Who it is for", "**Python**", "**numpy**", "**calculus**", "**basic neural networks**",
                  "## The path through the course", "## Map of chapters and problem sets"):
        assert words in INTRO
    assert "{doc}`running`" in INTRO and "{doc}`glossary`" in INTRO
    assert {"running", "glossary"} <= set(toc_files())


@pytest.mark.parametrize("page", PAGES, ids=[p.name for p in PAGES])
def test_every_term_a_page_links_to_is_defined_in_the_glossary(page):
    missing = sorted(set(term_links(page.read_text())) - glossary_terms())
    assert not missing, f"{page.name}: not in glossary.md: {missing}"


def test_the_first_chapter_and_the_intro_link_their_terms_to_the_glossary():
    chapter = (ROOT / "chapters" / "01_recurrence.md").read_text()
    for term in ("hidden state", "unrolling", "weight sharing", "output layer", "many-to-one", "many-to-many",
                 "encoder–decoder", "padding", "mask", "packed sequence", "stacked rnn", "bidirectional rnn"):
        assert term in term_links(chapter), term
    assert {"hidden state", "lstm", "gru", "backpropagation through time"} <= set(term_links(INTRO))


@pytest.mark.parametrize("lesson", LESSONS, ids=[p.stem for p in LESSONS])
def test_no_lesson_prints_the_source_of_a_function(lesson):
    """Lessons show equations and call rnnlib; a problem set grades what a printed listing would give away."""
    assert "getsource" not in lesson.read_text() and "inspect.getsource" not in lesson.read_text()


def test_the_claims_page_links_every_correction_box_and_only_boxes_that_exist():
    boxes = {name for lesson in LESSONS for name in re.findall(r"^:name: (claim-[a-z0-9-]+)$",
                                                              lesson.read_text(), re.MULTILINE)}
    linked = re.findall(r"\{ref\}`chapter \d+ <(claim-[a-z0-9-]+)>`", (ROOT / "claims.md").read_text())
    assert len(boxes) >= 25
    assert set(linked) == boxes and len(linked) == len(set(linked))
    assert "brief" not in " ".join(p.read_text().lower() for p in [*PAGES, ROOT / "claims.md"])
