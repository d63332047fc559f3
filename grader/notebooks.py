"""Small nbgrader steps: make any submitted notebook gradable; hand executed notebooks on."""

import json
import pathlib

from nbformat.corpus.words import generate_corpus_id
from nbgrader.api import MissingEntry
from nbgrader.preprocessors import NbGraderPreprocessor, OverwriteCells
from traitlets import Unicode


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


class DropDuplicateIds(NbGraderPreprocessor):
    """Keep the nbgrader metadata of the first cell with a given grade_id and remove it from copies
    (nbgrader's DeduplicateIds leaves an empty dict behind, on which its own OverwriteCells fails)."""

    def preprocess(self, nb, resources):
        seen = set()
        for cell in nb.cells:
            grade_id = cell.metadata.get("nbgrader", {}).get("grade_id")
            if grade_id is None:
                continue
            if grade_id in seen:
                self.log.warning("Cell with id '%s' exists multiple times; the copy is graded as ordinary code",
                                 grade_id)
                del cell.metadata["nbgrader"]
            seen.add(grade_id)
        return nb, resources
