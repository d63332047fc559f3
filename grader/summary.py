"""What the class got wrong: for each graded cell, how many students passed it, and how many made
each diagnosed mistake. Written by ``make grade`` as ``reports/<assignment>/class_summary.csv`` and
``class_summary.html``, from the verdicts stored in the autograded notebooks."""

import collections
import csv
import html

import nbformat

from grader import problem_sets


def tally(root, assignment, students):
    """``{exercise: {"passed": n, "failed": n, "mistakes": Counter(mistake -> n)}}`` in exercise order."""
    module = problem_sets.load(assignment)
    order = [e.name for e in module.EXERCISES] if module else []
    counts = {name: {"passed": 0, "failed": 0, "mistakes": collections.Counter()} for name in order}
    for student in students:
        path = root / "autograded" / student / assignment / (module.NOTEBOOK if module else "")
        if not path.is_file():
            continue
        verdicts = nbformat.read(path, as_version=4).metadata.get("grader", {}).get("verdicts", {})
        for name, verdict in verdicts.items():
            entry = counts.setdefault(name, {"passed": 0, "failed": 0, "mistakes": collections.Counter()})
            if verdict["passed"]:
                entry["passed"] += 1
            else:
                entry["failed"] += 1
                entry["mistakes"][verdict["mistake"] or "(no single known mistake explains it)"] += 1
    return counts


def write_summary(root, assignment, students):
    counts = tally(root, assignment, students)
    folder = root / "reports" / assignment
    folder.mkdir(parents=True, exist_ok=True)
    rows = []
    for name, entry in counts.items():
        rows.append({"exercise": name, "what": "passed", "students": entry["passed"]})
        for mistake, n in entry["mistakes"].most_common():
            rows.append({"exercise": name, "what": mistake, "students": n})
    with (folder / "class_summary.csv").open("w", newline="") as handle:
        writer = csv.DictWriter(handle, ["exercise", "what", "students"])
        writer.writeheader()
        writer.writerows(rows)
    (folder / "class_summary.html").write_text(_html(assignment, counts, len(students)))
    return {"csv": str(folder / "class_summary.csv"), "html": str(folder / "class_summary.html"), "counts": counts}


def _html(assignment, counts, n):
    parts = [f"<!doctype html><meta charset='utf-8'><title>{html.escape(assignment)}: what the class got wrong"
             "</title><style>body{font-family:sans-serif;max-width:60em;margin:2em auto}td,th{padding:.2em .8em;"
             "text-align:left}td.n{text-align:right}</style>",
             f"<h1>{html.escape(assignment)}: what the class got wrong</h1><p>{n} submissions.</p>"]
    for name, entry in counts.items():
        parts.append(f"<h2><code>{html.escape(name)}</code>: {entry['passed']} of {n} passed</h2>")
        if entry["mistakes"]:
            parts.append("<table><tr><th>mistake</th><th>students</th></tr>")
            for mistake, k in entry["mistakes"].most_common():
                parts.append(f"<tr><td>{html.escape(mistake)}</td><td class='n'>{k}</td></tr>")
            parts.append("</table>")
    return "\n".join(parts) + "\n"
