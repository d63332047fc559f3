"""Execute lessons the way `make book` does and report what a reader would see.

    .venv/bin/python scripts/run_lesson.py chapters/02_bptt.md [more lessons]

For each lesson: wall time, the number of figures, and every problem the book build would reject or a
reviewer would flag: a cell error, any stderr output (warnings included), a figure cell without a
caption or alt text (myst-nb's ``mystnb: figure: caption`` and ``image: alt`` cell options). Exits 1
when a lesson has an error or stderr output, or misses a caption or alt text.
"""

import argparse
import pathlib
import sys
import time

import jupytext
from nbclient import NotebookClient

WIDTH = 88  # characters of code or text output that the book's content column shows without a scroll bar
# Lessons not yet rewrapped to that width (issue 14 stays open until this set is empty).
WIDTH_PENDING = set()


def wide_lines(nb, width=WIDTH):
    """``(index, line)`` of code lines and plain-text output lines longer than ``width`` characters."""
    for index, cell in enumerate(nb.cells):
        if cell.cell_type != "code":
            continue
        texts = [cell.source]
        for out in cell.get("outputs", []):
            if out.output_type == "stream":
                texts.append(out.text)
            elif set(out.get("data", {})) == {"text/plain"}:  # a richer form (HTML, image, widget) is shown instead
                texts.append(out["data"]["text/plain"])
        for text in texts:
            # A progress bar redraws with carriage returns: only the last state is shown.
            yield from ((index, line) for line in (raw.rstrip("\r").split("\r")[-1] for raw in text.split("\n"))
                        if len(line) > width)


def figure_cells(nb):
    """``(index, cell)`` of the code cells whose outputs include an image."""
    for index, cell in enumerate(nb.cells):
        if cell.cell_type == "code" and any(
            "image/png" in out.get("data", {}) or "image/svg+xml" in out.get("data", {}) for out in cell.outputs
        ):
            yield index, cell


def problems_of(nb, check_width=True):
    found = []
    for index, cell in enumerate(nb.cells):
        for out in cell.get("outputs", []):
            if out.output_type == "error":
                found.append(f"cell {index}: {out.ename}: {out.evalue}")
            if out.output_type == "stream" and out.name == "stderr":
                found.append(f"cell {index}: stderr: {out.text.strip()[:300]}")
    for index, line in wide_lines(nb) if check_width else ():
        found.append(f"cell {index}: a line of {len(line)} characters (at most {WIDTH}): {line[:60]}...")
    for index, cell in figure_cells(nb):
        options = cell.metadata.get("mystnb", {})
        if not options.get("figure", {}).get("caption"):
            found.append(f"cell {index}: a figure without a caption (mystnb: figure: caption)")
        if not options.get("image", {}).get("alt"):
            found.append(f"cell {index}: a figure without alt text (mystnb: image: alt)")
    return found


def run(path, timeout):
    nb = jupytext.read(path)
    start = time.perf_counter()
    client = NotebookClient(nb, timeout=timeout, kernel_name="python3", allow_errors=True,
                            resources={"metadata": {"path": str(path.parent)}})
    client.execute()
    return nb, time.perf_counter() - start


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("lessons", nargs="+", type=pathlib.Path)
    parser.add_argument("--timeout", type=int, default=300, help="seconds per cell")
    args = parser.parse_args(argv)
    failed = False
    for path in args.lessons:
        nb, seconds = run(path, args.timeout)
        problems = problems_of(nb, check_width=path.stem not in WIDTH_PENDING)
        figures = sum(1 for _ in figure_cells(nb))
        print(f"{path}: {seconds:.1f} s, {figures} figure cells, {len(problems)} problems")
        for problem in problems:
            print("  " + problem)
        failed |= bool(problems)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
