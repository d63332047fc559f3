"""What scripts/run_lesson.py and check_book.py reject in an executed lesson: lines wider than the book's
content column (code, printed text, the last state of a progress bar), but not the plain-text stand-in of
an output that the book shows as HTML, an image or a widget."""

import pathlib
import sys

import nbformat
from nbformat.v4 import new_code_cell, new_notebook, new_output

sys.path.insert(0, str(pathlib.Path(__file__).resolve().parent.parent / "scripts"))
from run_lesson import WIDTH, problems_of, wide_lines  # noqa: E402


def lesson(*cells):
    return new_notebook(cells=list(cells))


def test_a_line_of_the_full_width_passes_and_one_more_character_fails():
    fits = new_code_cell("x = " + "1" * (WIDTH - 4))
    wide = new_code_cell("y = " + "2" * (WIDTH - 3))
    found = list(wide_lines(lesson(fits, wide)))
    assert found == [(1, wide.source)]


def test_printed_text_and_results_are_checked_html_and_images_are_not():
    printed = new_code_cell("print(...)", outputs=[new_output("stream", name="stdout", text="a" * 100 + "\nok\n")])
    result = new_code_cell("x", outputs=[new_output("execute_result", data={"text/plain": "b" * 90},
                                                    execution_count=1)])
    table = new_code_cell("t", outputs=[new_output("display_data", data={"text/html": "<table>" + "c" * 200,
                                                                          "text/plain": "d" * 200})])
    widget = new_code_cell("w", outputs=[new_output("display_data", data={
        "application/vnd.jupyter.widget-view+json": {"model_id": "1"}, "text/plain": "VBox(" + "e" * 200})])
    found = list(wide_lines(lesson(printed, result, table, widget)))
    assert [index for index, _ in found] == [0, 1]
    assert [len(line) for _, line in found] == [100, 90]


def test_a_progress_bar_counts_only_its_last_redraw():
    redraws = "\r".join(["x" * 120, "y" * 120, "done " + "=" * 40])
    bar = new_code_cell("bar", outputs=[new_output("stream", name="stdout", text=redraws + "\n")])
    assert list(wide_lines(lesson(bar))) == []
    bar.outputs[0].text = "short\r" + "z" * 89 + "\n"
    assert len(list(wide_lines(lesson(bar)))) == 1


def test_problems_name_the_cell_and_the_width():
    nb = lesson(new_code_cell("pass"), new_code_cell("q = " + "3" * 100))
    (problem,) = problems_of(nb)
    assert problem.startswith("cell 1: a line of 104 characters") and f"at most {WIDTH}" in problem
    nbformat.validate(nb)
