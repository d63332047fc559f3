"""Small nbgrader steps that make any submitted notebook gradable."""

from nbformat.corpus.words import generate_corpus_id
from nbgrader.preprocessors import NbGraderPreprocessor


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
