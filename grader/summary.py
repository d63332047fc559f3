"""The instructor's dashboard of a problem set, and of the course.

``reports/<assignment>/class_summary.html`` (with ``class_summary.csv``) and ``reports/index.html``,
rewritten by ``make grade``, ``make feedback`` and ``make grades`` from the gradebook and the verdicts
stored in the autograded notebooks:

- the distribution of totals (after late penalties) as a histogram, an image inside the page;
- per question: points, mean, pass rate (full marks), how many await a grader;
- the written questions: each student's mark, or "awaiting a grader";
- each diagnosed mistake (or kind of failure: blank, crash, timeout, ...) with the students who made it;
- crashes, timeouts and submissions that could not be graded, named as such;
- late submissions: when, the deadline that applied (extension or due date), days late, penalty;
- a link to ``similarity.html`` in the same folder when that report exists.

The pages are for the instructor only (they name students and their mistakes); they load nothing: no
script, no stylesheet or image from elsewhere.
"""

import base64
import collections
import csv
import datetime
import html
import io
import json
import pathlib

import nbformat

from grader import late, problem_sets

UNEXPLAINED = "(no single known mistake explains it)"
NOT_GRADED = "not_graded.json"  # reports/<ps>/: the submissions the last `make grade` could not grade


def tally(root, assignment, students):
    """``{exercise: {"passed": n, "failed": n, "mistakes": Counter(mistake -> n), "students": {mistake:
    [student]}}}`` in exercise order."""
    module = problem_sets.load(assignment)
    order = [e.name for e in module.EXERCISES] if module else []
    counts = {name: _entry() for name in order}
    for student in students:
        path = root / "autograded" / student / assignment / (module.NOTEBOOK if module else "")
        if not path.is_file():
            continue
        verdicts = nbformat.read(path, as_version=4).metadata.get("grader", {}).get("verdicts", {})
        for name, verdict in verdicts.items():
            entry = counts.setdefault(name, _entry())
            if verdict["passed"]:
                entry["passed"] += 1
            else:
                entry["failed"] += 1
                mistake = verdict["mistake"] or verdict.get("kind") or _kind(verdict) or UNEXPLAINED
                entry["mistakes"][mistake] += 1
                entry["students"][mistake].append(student)
    return counts


def _entry():
    return {"passed": 0, "failed": 0, "mistakes": collections.Counter(), "students": collections.defaultdict(list)}


def _kind(verdict):
    """The kind of failure of a verdict written before verdicts carried one (crash, timeout, ...)."""
    try:
        from grader.verdicts import failure_kind
    except ImportError:
        return None
    return failure_kind(verdict.get("message") or "")


def write_summary(root, assignment, students=None, db_url=None, failed=None, course_id="rnn-course"):
    """Write the problem set's page and CSV and the course's index; returns their paths and the counts.
    ``failed``: ``{student: reason}`` of a grading run, kept in ``reports/<assignment>/not_graded.json``."""
    root = pathlib.Path(root)
    folder = root / "reports" / assignment
    folder.mkdir(parents=True, exist_ok=True)
    if failed is not None:
        (folder / NOT_GRADED).write_text(json.dumps(failed, indent=1, sort_keys=True))
    not_graded = _read_json(folder / NOT_GRADED)
    grades = _gradebook_view(root, assignment, db_url, course_id) if db_url else None
    if students is None:
        students = sorted(grades["students"]) if grades else sorted(
            p.parent.name for p in (root / "autograded").glob(f"*/{assignment}"))
    counts = tally(root, assignment, students)
    _write_csv(folder / "class_summary.csv", counts)
    (folder / "class_summary.html").write_text(_page(root, assignment, counts, students, grades, not_graded))
    index = write_index(root, db_url, course_id)
    return {"csv": str(folder / "class_summary.csv"), "html": str(folder / "class_summary.html"),
            "index": str(index), "counts": counts}


def _read_json(path):
    try:
        return json.loads(path.read_text())
    except (OSError, ValueError):
        return {}


def _write_csv(path, counts):
    rows = []
    for name, entry in counts.items():
        rows.append({"exercise": name, "what": "passed", "students": entry["passed"], "who": ""})
        for mistake, n in entry["mistakes"].most_common():
            rows.append({"exercise": name, "what": mistake, "students": n,
                         "who": " ".join(sorted(entry["students"][mistake]))})
    with path.open("w", newline="") as handle:
        writer = csv.DictWriter(handle, ["exercise", "what", "students", "who"])
        writer.writeheader()
        writer.writerows(rows)


# ---- what the gradebook says ---------------------------------------------------------------------

def _gradebook_view(root, assignment, db_url, course_id):
    """Totals, per-question scores, written marks and lateness of ``assignment``, from the gradebook."""
    from nbgrader.api import Gradebook, MissingEntry

    from grader import export

    policy = late.load(root)
    with Gradebook(db_url, course_id=course_id) as gradebook:
        try:
            gradebook.find_assignment(assignment)
        except MissingEntry:
            return None
        sets, rows = export.table(gradebook, policy, [assignment])
        written = set()
        for nb in gradebook.find_assignment(assignment).notebooks:
            several = len(nb.assignment.notebooks) > 1
            written |= {export._column(assignment, nb.name, c.name, several) for c in nb.task_cells}
            written |= {export._column(assignment, nb.name, c.name, several)
                        for c in nb.grade_cells if c.cell_type == "markdown"}
        due = policy.due.get(assignment)
    entry = sets[0]
    results = {row["student"].id: row[assignment] for row in rows if row[assignment]["status"] != export.MISSING}
    lateness = {}
    for student, result in results.items():
        seconds = policy.seconds_late(assignment, student, result.get("timestamp"))
        after_due = due is not None and late._utc(result["timestamp"], "timestamp") > due
        if seconds > 0 or after_due:  # late, or after the due date within an extension
            lateness[student] = {"timestamp": result["timestamp"], "deadline": policy.deadline(assignment, student),
                                 "extended": (assignment, student) in policy.extensions, "days": result["days"],
                                 "penalty": result["penalty"]}
    return {"students": sorted(results), "results": results, "questions": entry["questions"],
            "max_score": entry["max_score"], "written": written, "late": lateness, "due": due,
            "policy": policy.describe(), "roster": len(rows)}


# ---- the page ------------------------------------------------------------------------------------

STYLE = ("body{font-family:sans-serif;max-width:64em;margin:2em auto;padding:0 1em;color:#222}"
         "td,th{padding:.2em .8em;text-align:left;vertical-align:top}td.n,th.n{text-align:right}"
         "table{border-collapse:collapse;margin:.5em 0 1.5em}tr:nth-child(even){background:#f4f4f4}"
         "h2{margin-top:1.6em;border-bottom:1px solid #ccc}.who{font-size:.9em;color:#444}"
         "img{max-width:100%}.warn{color:#a00}")


def _page(root, assignment, counts, students, grades, not_graded):
    e = html.escape
    parts = [f"<!doctype html><html lang='en'><head><meta charset='utf-8'>"
             f"<meta http-equiv='Content-Security-Policy' content=\"default-src 'none'; img-src data:; "
             f"style-src 'unsafe-inline'\"><title>{e(assignment)}: class summary</title><style>{STYLE}</style>"
             f"</head><body><p><a href='../index.html'>All problem sets</a></p>",
             f"<h1>{e(assignment)}: class summary</h1>"]
    graded = grades["students"] if grades else students
    facts = [f"{len(graded)} submissions"]
    if grades:
        facts.append(f"{grades['roster']} students in the gradebook")
        facts.append(f"due {grades['due']:%Y-%m-%d %H:%M} UTC" if grades["due"] else "no due date")
        facts.append(f"late policy: {grades['policy']}")
    parts.append(f"<p>{e('; '.join(facts))}. For the instructor only: this page names students.</p>")
    if (root / "reports" / assignment / "similarity.html").is_file():
        parts.append("<p><a href='similarity.html' id='similarity'>Copies found between submissions "
                     "(similarity report)</a></p>")
    if grades:
        parts += _totals(grades)
        parts += _questions(grades, counts)
        parts += _written(grades)
    parts += _mistakes(counts)
    parts += _crashes(counts, not_graded)
    if grades:
        parts += _late(grades)
    return "\n".join(parts) + "\n</body></html>\n"


def _totals(grades):
    e = html.escape
    totals = [r["score"] for r in grades["results"].values() if r["score"] is not None]
    waiting = sum(r["status"] == "awaiting a grader" for r in grades["results"].values())
    out = ["<h2 id='totals'>Totals</h2>"]
    if totals:
        mean = sum(totals) / len(totals)
        ordered = sorted(totals)
        median = (ordered[(len(ordered) - 1) // 2] + ordered[len(ordered) // 2]) / 2
        out.append(f"<p>{len(totals)} totals (after late penalties), out of {grades['max_score']:g}: mean "
                   f"{mean:.2f}, median {median:g}, lowest {ordered[0]:g}, highest {ordered[-1]:g}.</p>")
        alt = f"Histogram of the {len(totals)} totals of {grades['max_score']:g} points"
        out.append(f"<img id='histogram' alt='{e(alt)}' src='data:image/png;base64,{_histogram(totals, grades)}'>")
    if waiting:
        out.append(f"<p class='warn'>{waiting} submission(s) have an answer awaiting a grader: their totals are not "
                   "counted yet.</p>")
    if not totals and not waiting:
        out.append("<p>No totals yet.</p>")
    return out


def _histogram(totals, grades):
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    top = float(grades["max_score"]) or 1.0
    bins = [i * top / min(20, max(5, int(top * 2))) for i in range(min(20, max(5, int(top * 2))) + 1)]
    figure, axes = plt.subplots(figsize=(6, 2.6), dpi=100)
    axes.hist(totals, bins=bins, color="#3a6ea5", edgecolor="white")
    axes.set_xlabel(f"total (of {top:g} points, after late penalties)")
    axes.set_ylabel("students")
    axes.set_xlim(0, top)
    axes.yaxis.get_major_locator().set_params(integer=True)
    figure.tight_layout()
    buffer = io.BytesIO()
    figure.savefig(buffer, format="png")
    plt.close(figure)
    return base64.b64encode(buffer.getvalue()).decode()


def _questions(grades, counts):
    e = html.escape
    out = ["<h2 id='questions'>Per question</h2><table><tr><th>question</th><th class='n'>points</th>"
           "<th class='n'>mean</th><th class='n'>pass rate</th><th class='n'>graded</th>"
           "<th class='n'>awaiting a grader</th></tr>"]
    for column, top in grades["questions"]:
        scores = [r["questions"].get(column) for r in grades["results"].values()]
        given = [s for s in scores if s is not None]
        waiting = sum(column in r["questions"] and r["questions"][column] is None for r in grades["results"].values())
        mean = f"{sum(given) / len(given):.2f}" if given else ""
        rate = f"{100 * sum(s >= top for s in given) / len(given):.0f}%" if given else ""
        out.append(f"<tr><td><code>{e(column.split(':')[-1])}</code></td><td class='n'>{top:g}</td>"
                   f"<td class='n'>{mean}</td><td class='n'>{rate}</td><td class='n'>{len(given)}</td>"
                   f"<td class='n'>{waiting or ''}</td></tr>")
    out.append("</table>")
    return out


def _written(grades):
    e = html.escape
    columns = [(c, top) for c, top in grades["questions"] if c in grades["written"]]
    if not columns:
        return []
    out = ["<h2 id='written'>Written questions</h2><table><tr><th>student</th>"
           + "".join(f"<th class='n'><code>{e(c.split(':')[-1])}</code> (of {top:g})</th>" for c, top in columns)
           + "</tr>"]
    for student in grades["students"]:
        marks = grades["results"][student]["questions"]
        cells = "".join(f"<td class='n'>{'awaiting a grader' if marks.get(c) is None else f'{marks[c]:g}'}</td>"
                        for c, _ in columns)
        out.append(f"<tr><td>{e(student)}</td>{cells}</tr>")
    out.append("</table>")
    return out


def _mistakes(counts):
    e = html.escape
    out = ["<h2 id='mistakes'>What the class got wrong</h2>"]
    for name, entry in counts.items():
        total = entry["passed"] + entry["failed"]
        out.append(f"<h3><code>{e(name)}</code>: {entry['passed']} of {total} passed</h3>")
        if entry["mistakes"]:
            out.append("<table><tr><th>mistake</th><th class='n'>students</th><th>who</th></tr>")
            for mistake, k in entry["mistakes"].most_common():
                who = ", ".join(sorted(entry["students"][mistake]))
                out.append(f"<tr><td>{e(mistake)}</td><td class='n'>{k}</td><td class='who'>{e(who)}</td></tr>")
            out.append("</table>")
    return out


def _crashes(counts, not_graded):
    """Crashes and timeouts in the verdicts, and the submissions the last run could not grade."""
    e = html.escape
    found = collections.defaultdict(set)
    for entry in counts.values():
        for mistake, who in entry["students"].items():
            low = mistake.lower()
            if "crash" in low or "timeout" in low or "kernel died" in low or "time limit" in low:
                for student in who:
                    found[student].add(mistake)
    for student, reason in not_graded.items():
        found[student].add(("timeout: " if "time limit" in reason else "not graded: ") + reason)
    out = ["<h2 id='crashes'>Crashes and timeouts</h2>"]
    if not found:
        return out + ["<p>None.</p>"]
    out.append("<table><tr><th>student</th><th>what happened</th></tr>")
    for student in sorted(found):
        out.append(f"<tr><td>{e(student)}</td><td>{'<br>'.join(e(w) for w in sorted(found[student]))}</td></tr>")
    return out + ["</table>"]


def _late(grades):
    e = html.escape
    out = ["<h2 id='late'>Late submissions</h2><p>Handed in after the due date (within an extension: no penalty)."
           "</p>"]
    if not grades["late"]:
        return out + ["<p>None.</p>"]
    out.append("<table><tr><th>student</th><th>submitted (UTC)</th><th>deadline (UTC)</th><th class='n'>days late"
               "</th><th class='n'>penalty</th></tr>")
    for student, info in sorted(grades["late"].items()):
        deadline = f"{info['deadline']:%Y-%m-%d %H:%M}" + (" (extension)" if info["extended"] else "")
        out.append(f"<tr><td>{e(student)}</td><td>{info['timestamp']:%Y-%m-%d %H:%M}</td><td>{e(deadline)}</td>"
                   f"<td class='n'>{info['days']}</td><td class='n'>{info['penalty']:g}</td></tr>")
    return out + ["</table>"]


# ---- the course's index -------------------------------------------------------------------------

def write_index(root, db_url=None, course_id="rnn-course"):
    """``reports/index.html``: every problem set with a report, its submissions, mean and links."""
    e = html.escape
    root = pathlib.Path(root)
    reports = root / "reports"
    reports.mkdir(exist_ok=True)
    stats = {}
    if db_url:
        from nbgrader.api import Gradebook

        from grader import export

        with Gradebook(db_url, course_id=course_id) as gradebook:
            sets, rows = export.table(gradebook, late.load(root))
            for entry in sets:
                results = [row[entry["name"]] for row in rows]
                totals = [r["score"] for r in results if r["score"] is not None]
                stats[entry["name"]] = {
                    "submitted": sum(r["status"] != export.MISSING for r in results),
                    "waiting": sum(r["status"] == export.AWAITING for r in results),
                    "mean": sum(totals) / len(totals) if totals else None, "max": entry["max_score"],
                    "students": len(rows)}
    names = sorted({p.parent.name for p in reports.glob("*/class_summary.html")} | set(stats))
    parts = [f"<!doctype html><html lang='en'><head><meta charset='utf-8'>"
             f"<meta http-equiv='Content-Security-Policy' content=\"default-src 'none'; img-src data:; "
             f"style-src 'unsafe-inline'\"><title>Course dashboard</title><style>{STYLE}</style></head><body>"
             "<h1>Course dashboard</h1>",
             f"<p>Written {datetime.datetime.now(datetime.UTC):%Y-%m-%d %H:%M} UTC. For the instructor only.</p>",
             "<table><tr><th>problem set</th><th class='n'>submitted</th><th class='n'>awaiting a grader</th>"
             "<th class='n'>mean total</th><th>reports</th></tr>"]
    for name in names:
        info = stats.get(name, {})
        links = []
        if (reports / name / "class_summary.html").is_file():
            links.append(f"<a href='{e(name)}/class_summary.html'>class summary</a>")
        if (reports / name / "similarity.html").is_file():
            links.append(f"<a href='{e(name)}/similarity.html'>similarity</a>")
        mean = f"{info['mean']:.2f} / {info['max']:g}" if info.get("mean") is not None else ""
        submitted = f"{info['submitted']} of {info['students']}" if info else ""
        parts.append(f"<tr><td>{e(name)}</td><td class='n'>{submitted}</td><td class='n'>{info.get('waiting') or ''}"
                     f"</td><td class='n'>{mean}</td><td>{' · '.join(links)}</td></tr>")
    parts.append("</table></body></html>\n")
    (reports / "index.html").write_text("\n".join(parts))
    return reports / "index.html"
