"""After `jupyter-book build`: fail if any rendered page or copied source shows instructor material, or
an executed lesson has a code or output line wider than the page's content column."""

import argparse
import html
import pathlib
import sys

import nbformat

sys.path.insert(0, str(pathlib.Path(__file__).resolve().parent))
from make_exercises import problem_sets  # noqa: E402
from nbcourse import ROOT, solution_fingerprints  # noqa: E402
from run_lesson import WIDTH, WIDTH_PENDING, wide_lines  # noqa: E402


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--site", type=pathlib.Path, default=ROOT / "_build" / "html", help="the built HTML")
    site = parser.parse_args(argv).site.resolve()
    pages = [p for p in site.rglob("*") if p.suffix in {".html", ".ipynb", ".md", ".txt", ".js"}]
    if not pages:
        print(f"no built book under {site}: run `make book`", file=sys.stderr)
        return 1
    prints = {assignment: sorted(solution_fingerprints(assignment)) for assignment in problem_sets()}  # once
    problems = []
    for page in pages:
        text = html.unescape(page.read_text(errors="replace"))
        for strings in prints.values():
            problems += [f"{page.relative_to(site)}: {found!r}" for found in strings if found in text]
    lessons = sorted(p for p in (site / "_sources" / "chapters").glob("*.ipynb") if p.stem not in WIDTH_PENDING)
    wide = [f"{nb_path.name}, cell {index}: {len(line)} characters: {line[:60]}..."
            for nb_path in lessons for index, line in wide_lines(nbformat.read(nb_path, as_version=4))]
    if wide:
        print(f"lines wider than the content column ({WIDTH} characters):\n  " + "\n  ".join(wide),
              file=sys.stderr)
        return 1
    if problems:
        print("instructor material in the rendered book:\n  " + "\n  ".join(problems[:20]), file=sys.stderr)
        return 1
    print(f"checked {len(pages)} built files: no solution or hidden-test text; "
          f"{len(lessons)} lessons: no line wider than {WIDTH} characters "
          f"(not yet checked: {', '.join(sorted(WIDTH_PENDING)) or 'none'})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
