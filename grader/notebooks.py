"""Small nbgrader steps: make any submitted notebook gradable; hand executed notebooks on."""

import json
import os
import pathlib
import re
import stat

import nbformat
from nbformat.corpus.words import generate_corpus_id
from nbgrader.api import Gradebook, MissingEntry
from nbgrader.preprocessors import NbGraderPreprocessor, OverwriteCells
from traitlets import Unicode

NOTE_ID = "grader-note"  # the Markdown cell at the top of a graded notebook that says what the grader did


class NormalizeNotebook(NbGraderPreprocessor):
    """Give every cell an id (nbformat 4.4 notebooks have none) and record nbformat 4.5, so the
    later steps and the feedback see one kind of notebook."""

    def preprocess(self, nb, resources):
        seen = set()
        for cell in nb.cells:
            if not cell.get("id") or cell["id"] in seen:
                cell["id"] = generate_corpus_id()
            seen.add(cell["id"])
        if (nb.nbformat, nb.nbformat_minor) < (4, 5):
            nb.nbformat, nb.nbformat_minor = 4, 5
        return nb, resources


class SaveExecuted(NbGraderPreprocessor):
    """Last step of a grading worker: keep the executed notebook and what the hidden phase exported,
    for ``SandboxedExecute(precomputed_dir=...)`` in the process that records the grades."""

    folder = Unicode("").tag(config=True)

    def preprocess(self, nb, resources):
        info = resources["nbgrader"]
        target = pathlib.Path(self.folder) / info["student"] / f"{info['notebook']}.json"
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(json.dumps({"notebook": nb, "grader": resources.get("grader", {})}))
        return nb, resources


class RestoreCells(OverwriteCells):
    """nbgrader's OverwriteCells, without its "checksum has changed" warning for a locked cell that a
    student did not touch: the release lacks the cell's hidden tests or mark scheme, so its checksum
    always differs from the instructor's. Such a cell is restored quietly; a real edit still warns."""

    def preprocess_cell(self, cell, resources, cell_index):
        grade_id = cell.metadata.get("nbgrader", {}).get("grade_id")
        if grade_id and cell.metadata.nbgrader.get("locked"):
            try:
                master = self.gradebook.find_source_cell(grade_id, self.notebook_id, self.assignment_id)
            except MissingEntry:
                master = None
            if master is not None and _without_instructor_regions(master.source) == cell.source:
                cell.source = master.source
        return super().preprocess_cell(cell, resources, cell_index)


def _without_instructor_regions(source):
    kept, hiding = [], False
    for line in source.split("\n"):
        if "BEGIN HIDDEN TESTS" in line or "BEGIN MARK SCHEME" in line:
            hiding = True
        elif "END HIDDEN TESTS" in line or "END MARK SCHEME" in line:
            hiding = False
        elif not hiding:
            kept.append(line)
    return "\n".join(kept)


class RepairFromRelease(NbGraderPreprocessor):
    """Before nbgrader's own steps see a submission: put every cell of the release back as the gradebook
    recorded it (type, grading flags, points, and the text of a locked cell), in the release's order,
    with any locked cell that is missing, so that a student whose notebook metadata changed (a grade id
    renamed or duplicated, a test cell marked as a solution, points changed, cells moved, converted or
    deleted) is graded on their answers. nbgrader's own OverwriteCells fails on some of those (a
    renamed grade id, a test cell marked ``solution``). Cells a student added stay, ordinary, each
    before the release cell it preceded; a cell with grading metadata the release does not know, or a
    second copy of one it does, becomes ordinary too. Each repair is said in the note at the top."""

    release_folder = Unicode("", help="The release folder (<folder>/<assignment>/<notebook>.ipynb): the order of "
                                      "its cells is the order restored (the gradebook records none)").tag(config=True)

    def preprocess(self, nb, resources):
        info = resources["nbgrader"]
        release = _release(info["db_url"], info["assignment"], info["notebook"])
        if not release:
            return nb, resources
        release.sort(key=self._position(info["assignment"], info["notebook"]))
        order = {cell["grade_id"]: index for index, cell in enumerate(release)}
        linked = _not_a_plain_file(resources, info["notebook"])
        if linked:  # `nbgrader autograde` run directly reads submitted/ itself (`make grade` grades a safe copy)
            nb.cells = [_restored(nbformat.v4.new_markdown_cell(), record)[0] for record in release]
            add_note(nb, [f"The submitted notebook is {linked}, which the grader does not follow, so the blank "
                          "notebook was graded."])
            return nb, resources
        notes, groups, pending, seen = [], {}, [], []
        for cell in nb.cells:
            grade_id = _grade_id(cell)
            if grade_id in groups:
                notes.append(f"The cell {grade_id} appeared more than once; the first copy was graded, the "
                             "others were run as ordinary cells.")
            elif grade_id is not None and grade_id not in order:
                notes.append(f"A cell carried grading metadata for {_shown(grade_id)}, which this problem set "
                             "does not have; it was run as an ordinary cell.")
            if grade_id is None or grade_id in groups or grade_id not in order:
                cell.metadata.pop("nbgrader", None)
                pending.append(cell)
                continue
            restored, changes = _restored(cell, release[order[grade_id]])
            if changes:
                notes.append(f"The cell {grade_id} had been changed ({', '.join(changes)}); it was restored from "
                             "the release.")
            groups[grade_id], pending = [*pending, restored], []
            seen.append(grade_id)
        if seen != sorted(seen, key=order.get):
            notes.append("Some cells were not in the release's order; they were put back in order, each with the "
                         "cells you had added just before it.")
        cells = []
        for record in release:
            if record["grade_id"] in groups:
                cells += groups[record["grade_id"]]
            elif record["locked"]:  # a missing answer cell is not put back: its code may be in a cell of yours
                cells.append(_restored(nbformat.v4.new_markdown_cell(), record)[0])
                notes.append(f"The cell {record['grade_id']} was missing from the submission; the grader put it "
                             "back" + (" and ran it." if record["cell_type"] == "code" else "."))
        nb.cells = cells + pending
        if notes:
            add_note(nb, notes)
        return nb, resources

    def _position(self, assignment, notebook):
        """A sort key: each grade id's place in the release notebook (the gradebook's order without one)."""
        path = pathlib.Path(self.release_folder) / assignment / f"{notebook}.ipynb"
        try:
            cells = nbformat.read(path, as_version=4).cells if self.release_folder else []
        except (OSError, ValueError):
            cells = []
        place = {c.get("metadata", {}).get("nbgrader", {}).get("grade_id"): i for i, c in enumerate(cells)}
        return lambda record: place.get(record["grade_id"], len(place))


def _not_a_plain_file(resources, notebook):
    """What the notebook being sanitized is, when it is not a regular file of its own: a link, or a hard
    link to a file elsewhere. (The gradebook's release cells stand in for it then: the solution cells
    nbgrader records are the release's stubs.)"""
    folder = resources.get("metadata", {}).get("path")
    if not folder:
        return None
    try:
        info = os.lstat(os.path.join(folder, f"{notebook}.ipynb"))
    except OSError:
        return None
    if stat.S_ISLNK(info.st_mode):
        return "a symbolic link"
    if not stat.S_ISREG(info.st_mode):
        return "not a regular file"
    return "a hard link to another file" if info.st_nlink > 1 else None


def _release(db_url, assignment, notebook):
    """The release's cells as the gradebook recorded them: ``[{grade_id, cell_type, source, locked,
    metadata}]``, in the order the database returns them."""
    with Gradebook(db_url) as gradebook:
        try:
            found = gradebook.find_notebook(notebook, assignment)
        except MissingEntry:
            return []
        points = {c.name: c.max_score for c in [*found.grade_cells, *found.task_cells]}
        grade, solution, task = ({c.name for c in cells} for cells in
                                 (found.grade_cells, found.solution_cells, found.task_cells))
        release = []
        for cell in found.source_cells:
            meta = {"grade": cell.name in grade, "grade_id": cell.name, "locked": cell.locked, "schema_version": 3,
                    "solution": cell.name in solution, "task": cell.name in task, "cell_type": cell.cell_type,
                    "checksum": cell.checksum}
            if cell.name in points:
                meta["points"] = points[cell.name]
            release.append({"grade_id": cell.name, "cell_type": cell.cell_type, "source": cell.source,
                            "locked": cell.locked, "metadata": meta})
        return release


def _grade_id(cell):
    """The grade id of a cell with well-formed grading metadata, else None (metadata of the wrong
    type is dropped)."""
    if not isinstance(cell.get("metadata"), dict):
        cell.metadata = {}
    grading = cell.metadata.get("nbgrader")
    if grading is not None and not isinstance(grading, dict):
        cell.metadata["nbgrader"] = {}
        return None
    grade_id = (grading or {}).get("grade_id")
    return grade_id if isinstance(grade_id, str) else None


_FLAGS = ("grade", "solution", "locked", "task")


def _restored(cell, record):
    """``(cell as the release has it, [what had changed])``: the student's text stays unless the cell
    is locked."""
    source = cell.get("source", "")
    source = "".join(source) if isinstance(source, list) else source if isinstance(source, str) else ""
    grading = cell.metadata.get("nbgrader", {}) if isinstance(cell.get("metadata"), dict) else {}
    changes = []
    if cell.get("cell_type") != record["cell_type"]:
        changes.append("its type")
    if any(bool(grading.get(flag)) != bool(record["metadata"][flag]) for flag in _FLAGS):
        changes.append("its grading flags")
    if "points" in record["metadata"] and not _same_points(grading.get("points"), record["metadata"]["points"]):
        changes.append("its points")
    if record["locked"]:
        if source != record["source"] and source != _without_instructor_regions(record["source"]):
            changes.append("its text")
        source = record["source"]
    other = {k: v for k, v in cell.get("metadata", {}).items() if k != "nbgrader"}
    make = nbformat.v4.new_code_cell if record["cell_type"] == "code" else nbformat.v4.new_markdown_cell
    restored = make(source, metadata={**other, "nbgrader": dict(record["metadata"])})
    if isinstance(cell.get("id"), str):
        restored["id"] = cell["id"]
    if record["cell_type"] == "markdown" and isinstance(cell.get("attachments"), dict):
        restored["attachments"] = cell["attachments"]
    return restored, changes


def _same_points(given, recorded):
    try:
        return float(given) == float(recorded)
    except (TypeError, ValueError, OverflowError):
        return False


def _shown(grade_id):
    """A grade id a student wrote, made safe to quote in a note."""
    return "'" + re.sub(r"[^\w.-]", "?", grade_id)[:40] + "'"


def add_note(nb, notes):
    """Add ``notes`` to the note at the top of ``nb`` (made if there is none)."""
    text = " ".join(notes)
    for cell in nb.cells:
        if cell.get("id") == NOTE_ID and cell.cell_type == "markdown":
            cell.source = f"{cell.source} {text}"
            return
    nb.cells.insert(0, nbformat.v4.new_markdown_cell(f"**Note from the grader:** {text}", id=NOTE_ID))
