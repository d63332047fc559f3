"""Copies found: ``reports/<PS>/similarity.html``, the pairs of submissions whose answers overlap, for the
instructor's eyes only (the course folder is the staff's alone, see `make exchange`).

Each submission's answer cells (the code cells the student writes, read from ``autograded/``, where the
grader has already put every cell back in its place) are compared with every other submission's and with
the published solution (``solutions/``), with copydetect's winnowing (the algorithm of MOSS): the code is
tokenised, names become ``V`` and ``F`` so that renaming variables changes nothing, and fingerprints of
every ``noise`` characters of tokens are kept so that any shared run of ``guarantee`` is found. What the
release gives every student (function signatures, docstrings, stubs) is boilerplate and never counts.

A pair is listed when the shared code covers at least ``threshold`` of either side's answers and at least
``min_shared`` tokens, so that a few short standard lines (``return np.tanh(...)``) that anyone would write
are not enough. The page shows each pair's shared code marked side by side. It is a lead for a person to
read, not a verdict: short answers written the obvious way can match the solution without copying.

    python -m grader.similarity PS [--threshold 0.5] [--min-shared 60]
"""

import argparse
import datetime
import html
import io
import itertools
import pathlib
import re
import sys

import nbformat

THRESHOLD = 0.5
MIN_SHARED = 60
MAX_CHARS = 100_000  # of one submission's answers
NOISE, GUARANTEE = 20, 28   # copydetect's k-gram size and guarantee, in characters of tokens
SOLUTION = "the published solution"
_DELIMITERS = re.compile(r"^[ \t]*### (BEGIN|END) SOLUTION[ \t]*(\n|$)", re.MULTILINE)


def answer_cells(nb):
    """``{grade_id: source}`` of the code cells a student writes (nbgrader's solution cells)."""
    found = {}
    for cell in nb.cells:
        meta = cell.get("metadata", {}).get("nbgrader", {})
        if cell.get("cell_type") == "code" and meta.get("solution") and not meta.get("grade"):
            found[str(meta.get("grade_id"))] = _DELIMITERS.sub("", str(cell.get("source", "")))
    return found


def answers_text(cells, grade_ids):
    """The answer cells in the release's order, at most ``MAX_CHARS`` (a flood of code cannot stall this)."""
    return ("\n\n".join(cells.get(grade_id, "") for grade_id in grade_ids) + "\n")[:MAX_CHARS]


def fingerprint(text, boilerplate=()):
    from copydetect import CodeFingerprint

    return CodeFingerprint("answers.py", NOISE, GUARANTEE - NOISE + 1, boilerplate=list(boilerplate),
                           fp=io.StringIO(text))


def compare(first, second):
    """``(shared tokens, (share of first, share of second), (slices of first, slices of second))``."""
    from copydetect import compare_files

    shared, shares, slices = compare_files(first, second)
    return int(shared), (float(shares[0]), float(shares[1])), slices


def find_pairs(submissions, solution, release, threshold=THRESHOLD, min_shared=MIN_SHARED):
    """``submissions`` maps a student to their answers text; ``solution`` and ``release`` are the
    instructor's and the release's answers text. Returns the flagged pairs, most similar first, as dicts
    with ``a``, ``b`` (``b`` may be ``SOLUTION``), ``shares``, ``shared``, ``marked`` (HTML of each side)."""
    boilerplate = fingerprint(release).hashes
    prints = {student: fingerprint(text, boilerplate) for student, text in submissions.items()}
    reference = fingerprint(solution, boilerplate)
    candidates = [(a, b, prints[a], prints[b]) for a, b in itertools.combinations(sorted(prints), 2)]
    candidates += [(a, SOLUTION, prints[a], reference) for a in sorted(prints)]
    flagged = []
    for a, b, first, second in candidates:
        shared, shares, slices = compare(first, second)
        if shared >= min_shared and max(shares) >= threshold:
            flagged.append({"a": a, "b": b, "shares": shares, "shared": shared,
                            "marked": (_marked(first.raw_code, slices[0]), _marked(second.raw_code, slices[1]))})
    return sorted(flagged, key=lambda pair: (-max(pair["shares"]), pair["a"], pair["b"]))


def _marked(code, slices):
    from copydetect.utils import highlight_overlap

    if len(slices) == 0 or slices.shape[1] == 0:
        return html.escape(code)
    text, _ = highlight_overlap(code, slices, "\x00", "\x01")
    return html.escape(text).replace("\x00", "<mark>").replace("\x01", "</mark>")


def collect(root, assignment):
    """The answers text of every autograded submission of ``assignment``, and of the solution and release."""
    from grader import problem_sets

    module = problem_sets.load(assignment)
    notebook = module.NOTEBOOK
    release = answer_cells(nbformat.read(root / "exercises" / assignment / notebook, as_version=4))
    solution = answer_cells(nbformat.read(root / "solutions" / assignment / notebook, as_version=4))
    grade_ids = list(release)
    submissions = {}
    for path in sorted((root / "autograded").glob(f"*/{assignment}/{notebook}")):
        try:
            cells = answer_cells(nbformat.read(path, as_version=4))
        except Exception:  # noqa: S112 (an unreadable notebook has no answers to compare)
            continue
        submissions[path.parent.parent.name] = answers_text(cells, grade_ids)
    return submissions, answers_text(solution, grade_ids), answers_text(release, grade_ids)


def write_report(root, assignment, threshold=THRESHOLD, min_shared=MIN_SHARED):
    """Write ``reports/<assignment>/similarity.html``; returns its path, or None (with one line on
    stderr) when it could not be made. Never raises: grading is done by the time it runs."""
    root = pathlib.Path(root)
    try:
        submissions, solution, release = collect(root, assignment)
        pairs = find_pairs(submissions, solution, release, threshold, min_shared)
        target = root / "reports" / assignment / "similarity.html"
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(page(assignment, pairs, len(submissions), threshold, min_shared))
        return target
    except Exception as error:  # noqa: BLE001
        print(f"similarity report for {assignment} not written: {type(error).__name__}: {error}", file=sys.stderr)
        return None


STYLE = """body{font:14px/1.4 system-ui,sans-serif;margin:2em;max-width:90em}table{border-collapse:collapse}
td,th{border:1px solid #ccc;padding:.3em .6em;text-align:left}pre{white-space:pre-wrap;background:#f7f7f7;
padding:.5em;margin:0;font-size:12px}mark{background:#ffd54f}.sides{display:grid;grid-template-columns:1fr 1fr;
gap:1em}details{margin:1em 0;border:1px solid #ddd;padding:.5em}summary{cursor:pointer;font-weight:600}"""


def page(assignment, pairs, count, threshold, min_shared):
    e = html.escape
    among = [p for p in pairs if p["b"] != SOLUTION]
    solution = [p for p in pairs if p["b"] == SOLUTION]

    def rows(found):
        if not found:
            return "<p>None above the threshold.</p>"
        body = "".join(f"<tr><td>{e(p['a'])}</td><td>{e(p['b'])}</td><td>{p['shares'][0]:.0%}</td>"
                       f"<td>{p['shares'][1]:.0%}</td><td>{p['shared']}</td></tr>" for p in found)
        return ("<table><tr><th>submission</th><th>matches</th><th>share of the first</th>"
                f"<th>share of the second</th><th>shared tokens</th></tr>{body}</table>")

    def sides(found):
        return "".join(f"<details><summary>{e(p['a'])} and {e(p['b'])}: {max(p['shares']):.0%}</summary>"
                       f"<div class=sides><div><h4>{e(p['a'])}</h4><pre>{p['marked'][0]}</pre></div>"
                       f"<div><h4>{e(p['b'])}</h4><pre>{p['marked'][1]}</pre></div></div></details>"
                       for p in found)

    made = datetime.datetime.now().strftime("%Y-%m-%d %H:%M")
    return f"""<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8">
<meta http-equiv="Content-Security-Policy" content="default-src 'none'; style-src 'unsafe-inline'">
<title>{e(assignment)}: similar answers</title><style>{STYLE}</style></head><body>
<h1>{e(assignment)}: similar answers</h1>
<p>For the course staff only. {count} graded submissions compared with each other and with the published
solution by winnowing (copydetect): variable names do not matter, code given in the release does not count.
Listed: shared code covering at least {threshold:.0%} of either side and at least {min_shared} tokens. Marked
code is shared. A match is a lead to read, not a proof: short answers written the obvious way can match.
Made {made}.</p>
<h2>Pairs of submissions ({len(among)})</h2>{rows(among)}
<h2>Submissions against the published solution ({len(solution)})</h2>{rows(solution)}
<h2>Shared code, side by side</h2>{sides(among + solution) or "<p>Nothing to show.</p>"}
</body></html>
"""


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("assignment")
    parser.add_argument("--threshold", type=float, default=THRESHOLD)
    parser.add_argument("--min-shared", type=int, default=MIN_SHARED)
    args = parser.parse_args(argv)
    from grader.problem_sets import ROOT

    target = write_report(ROOT, args.assignment, args.threshold, args.min_shared)
    if target:
        print(f"wrote {target}")
    return 0 if target else 1


if __name__ == "__main__":
    sys.exit(main())
