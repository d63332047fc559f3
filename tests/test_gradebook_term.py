"""One problem set through a term, in the README's order, as an instructor runs it (issue 17):

roster -> grade (make grade) -> feedback refused while written answers wait -> grade by hand (as the
formgrader does) -> feedback released -> grades (plain and Canvas) -> dashboard -> regrade one student ->
migrate to PostgreSQL. One class of four is graded once for the whole module; the PostgreSQL test grades
nothing (it migrates this class's gradebook).
"""

import csv
import html
import os
import pathlib
import re
import shutil
import tempfile

import pytest

from tests.course import ROOT, Course, solution_sources

PS, NOTEBOOK = "ps1_recurrence", "ps1_recurrence.ipynb"
WRITTEN = "pulse_task"
COURSE_FILE = """
[late]
policy = "per-day"
percent_per_day = 10
cap_percent = 50

[due]
ps1_recurrence = 2026-11-22T12:00:00Z

[extensions]
"""
# submitted: ada on time; bob 2 days and 1 hour late (3 days counted: 30%); cy on time with a mistake;
# eve 2 days late with an extension of 3 days (no penalty); dan is on the roster and hands in nothing.
LATE = {"bob": "2026-11-24 13:00:00.000000 UTC", "eve": "2026-11-24 12:00:00.000000 UTC"}
ROSTER = ("id,first_name,last_name,email,canvas_id\n"
          "cy,Cy,Young,cy@example.org,1003\nada,Ada,Lovelace,ada@example.org,1001\n"
          "bob,Bob,Babbage,bob@example.org,1002\neve,Eve,Noether,eve@example.org,1005\n"
          "dan,Dan,Dijkstra,dan@example.org,1004\n")
WRONG_COUNT = "def rnn_param_count(input_size, hidden_size):\n    return 0\n"


@pytest.fixture(scope="module")
def term():
    from grader import instructor

    root = pathlib.Path(tempfile.mkdtemp(prefix="term-", dir="/tmp"))
    exchange = os.environ.get("GRADER_EXCHANGE_ROOT")
    os.environ["GRADER_EXCHANGE_ROOT"] = str(root / "exchange")  # a throw-away exchange, read by nbgrader_config
    try:
        (root / "exchange").mkdir()
        course = Course(root)
        (root / "course.toml").write_text(COURSE_FILE)
        (root / "class.csv").write_text(ROSTER)
        instructor.roster(root / "class.csv", root)                                  # 1. roster
        instructor.extend(PS, "eve", "2026-11-25T12:00:00Z", root)                  #    an extension
        solution = solution_sources(PS, NOTEBOOK)
        for student in ("ada", "bob", "cy", "eve"):
            course.submit(PS, student, {**solution, **({"rnn_param_count": WRONG_COUNT} if student == "cy" else {})})
        for student, when in LATE.items():
            (root / "submitted" / student / PS / "timestamp.txt").write_text(when)
        course.report = course.grade(PS)                                           # 2. make grade
        course.first_csv = (root / "grades.csv").read_text()
        course.first_feedback = {s: course.feedback_text(PS, s) for s in ("ada", "bob")}
        yield course
    finally:
        shutil.rmtree(root, ignore_errors=True)
        if exchange is None:
            os.environ.pop("GRADER_EXCHANGE_ROOT", None)
        else:
            os.environ["GRADER_EXCHANGE_ROOT"] = exchange


def rows(path):
    with open(path, newline="") as handle:
        return list(csv.DictReader(handle))


def grade_by_hand(course, marks):
    """What the formgrader does when a grader types a score for the written answer."""
    from nbgrader.api import Gradebook

    with Gradebook(course.config.CourseDirectory.db_url, course_id="rnn-course") as gradebook:
        for student, mark in marks.items():
            grade = gradebook.find_grade(WRITTEN, NOTEBOOK[:-6], PS, student)
            grade.manual_score = mark
            grade.needs_manual_grade = False
        gradebook.db.commit()


def test_make_grade_leaves_written_answers_blank_and_says_they_await_a_grader(term):
    assert term.report["failed"] == {}
    first = {row["student_id"]: row for row in csv.DictReader(term.first_csv.splitlines())}
    assert first["ada"][f"{PS}:{WRITTEN}"] == "" and first["ada"][PS] == ""
    assert first["ada"][f"{PS}:status"] == "awaiting a grader"
    assert float(first["ada"][f"{PS}:test_rnn_step"]) > 0
    for student, text in term.first_feedback.items():
        assert "awaiting a grader" in text, student
        assert not re.search(r"Task\s*\(Score: 0\.0 / ", text), "an ungraded answer is not a 0"


def test_feedback_is_held_back_while_answers_await_a_grader_then_released_with_the_final_penalty(term, capsys):
    from nbgrader.api import Gradebook

    from grader import instructor

    held = instructor.feedback(PS, term.root)                                       # 3. too early
    assert held["held"] == ["ada", "bob", "cy", "eve"] and held["released"] == []
    assert "ada: pulse_task" in capsys.readouterr().err
    assert not list((term.root / "exchange").glob("rnn-course/feedback/*.html"))
    grade_by_hand(term, {"ada": 2.0, "bob": 1.5, "cy": 1.0, "eve": 2.0})           # 4. the formgrader
    done = instructor.feedback(PS, term.root)                                       # 5. make feedback
    assert done["held"] == [] and done["released"] == ["ada", "bob", "cy", "eve"] and done["failed"] == {}
    bar = capsys.readouterr().err
    assert "writing feedback: 100%" in bar and "4/4" in bar, "the progress bar reaches its total"
    with Gradebook(term.config.CourseDirectory.db_url, course_id="rnn-course") as gradebook:
        bob = gradebook.find_submission(PS, "bob")
        raw, top = bob.score, bob.max_score
    assert raw == 7 + 1.5
    penalty = round(min(raw, 0.3 * top), 2)  # 3 started days at 10% of the set's points
    released = [p.read_text() for p in (term.root / "exchange").rglob("*.html")]
    assert len(released) == 4
    bobs = term.feedback_text(PS, "bob")
    assert f"(Score: {round(raw - penalty, 2)} / {top})" in bobs
    assert f"Late submission penalty (Score: -{penalty})" in bobs
    assert any(f"(Score: {round(raw - penalty, 2)} / {top})" in " ".join(html.unescape(p).split())
               for p in released), "the released copy carries the final penalty"
    assert "Late submission penalty" not in term.feedback_text(PS, "eve"), "eve had an extension"
    assert "awaiting a grader" not in term.feedback_text(PS, "ada")


def test_grades_csv_is_one_sorted_row_per_student_with_penalties_on_the_final_total(term):
    from grader import instructor

    instructor.grades(term.root)                                                    # 6. make grades
    table = rows(term.root / "grades.csv")
    assert [r["student_id"] for r in table] == ["ada", "bob", "cy", "dan", "eve"]
    byid = {r["student_id"]: r for r in table}
    assert byid["ada"]["last_name"] == "Lovelace" and byid["ada"]["email"] == "ada@example.org"
    assert float(byid["bob"][f"{PS}:late_penalty"]) == pytest.approx(0.3 * float(byid["bob"][f"{PS}:max_score"]))
    assert float(byid["bob"][PS]) == pytest.approx(8.5 - float(byid["bob"][f"{PS}:late_penalty"]))
    assert byid["bob"][f"{PS}:late_days"] == "3" and byid["eve"][f"{PS}:late_days"] == "0"
    assert float(byid["cy"][f"{PS}:test_rnn_param_count"]) == 0 and float(byid["cy"][f"{PS}:{WRITTEN}"]) == 1
    assert byid["dan"][PS] == "" and byid["dan"][f"{PS}:status"] == "not submitted"
    assert {f"{PS}:test_rnn_step", f"{PS}:test_rnn_forward", f"{PS}:{WRITTEN}"} <= set(table[0])


def test_the_canvas_export_has_canvas_gradebook_import_layout(term):
    from grader import instructor

    path = instructor.grades(term.root, form="canvas")
    with open(path, newline="") as handle:
        lines = list(csv.reader(handle))
    # Canvas's import: the student columns first (name "Last, First", Canvas id, SIS ids, section), then a
    # column per assignment, and an optional second row giving each assignment's points possible.
    assert lines[0] == ["Student", "ID", "SIS User ID", "SIS Login ID", "Section", PS]
    assert lines[1][0] == "Points Possible" and lines[1][1:5] == ["", "", "", ""]
    top = float(lines[1][5])
    students = {line[3]: line for line in lines[2:]}
    assert students["ada"][:2] == ["Lovelace, Ada", "1001"] and float(students["ada"][5]) == top
    assert students["dan"][5] == "", "nothing handed in: left blank, Canvas leaves it ungraded"
    assert all(len(line) == 6 for line in lines)
    assert float(students["bob"][5]) == pytest.approx(8.5 - 0.3 * top)


def test_the_dashboard_shows_distribution_questions_marks_mistakes_and_late_work(term):
    from grader import instructor

    page = (term.root / "reports" / PS / "class_summary.html").read_text()
    assert "data:image/png;base64," in page and "<script" not in page and "http" not in page.split("</title>")[1]
    for part in ("id='totals'", "id='questions'", "id='written'", "id='mistakes'", "id='crashes'", "id='late'"):
        assert part in page, part
    mistakes = page.split("id='mistakes'")[1].split("id='crashes'")[0]
    assert "cy" in mistakes.split("rnn_param_count")[-1]
    late = page.split("id='late'")[1]
    assert "bob" in late and "eve" in late and "(extension)" in late
    similarity = term.root / "reports" / PS / "similarity.html"
    assert similarity.is_file() and "href='similarity.html'" in page, "make grade writes it, and the page links it"
    index = (term.root / "reports" / "index.html").read_text()
    assert f"{PS}/class_summary.html" in index and f"{PS}/similarity.html" in index
    kept = similarity.read_bytes()
    similarity.unlink()
    instructor.grades(term.root)
    assert "similarity.html" not in (term.root / "reports" / PS / "class_summary.html").read_text()
    similarity.write_bytes(kept)
    instructor.grades(term.root)


def test_dashboard_and_feedback_work_offline_in_headless_chromium(term):
    """Like the book's browser check: every request that is not file:// is blocked and counted."""
    from playwright.sync_api import sync_playwright

    sys_path = str(ROOT / "scripts")
    import sys

    sys.path.insert(0, sys_path)
    from browser_check import BROWSER_ARGS, CHROMIUM

    from grader.inert import csp, mathjax_html

    reports = term.root / "reports"
    tex = term.root / "tex.html"  # a student's TeX may not make a link, nor load an extension
    tex.write_text(f'<!doctype html><html><head><meta http-equiv="Content-Security-Policy" content="{csp()}">'
                   f"{mathjax_html()}</head><body><p>$\\href{{javascript:XSS()}}{{x}}$ and $\\require{{cancel}}$ "
                   "and $\\sigma(W_{hh} h_{t-1})$</p></body></html>")
    shim = term.root / "shim.html"  # the MathJax 2 calls of the formgrader's formgrade.js, on the course's MathJax 3
    shim.write_text(f"<!doctype html><html><head>{mathjax_html()}</head><body><p id='late'></p><script>"
                    "window.signalled = []; MathJax.Hub.Startup.signal.Interest(m => window.signalled.push(m));"
                    "const p = document.getElementById('late'); p.textContent = '$x_t$';"
                    "MathJax.Hub.Queue(['Typeset', MathJax.Hub, p]);</script></body></html>")
    pages = {"summary": reports / PS / "class_summary.html", "index": reports / "index.html",
             "feedback": next((term.root / "feedback" / "bob" / PS).glob("*.html")), "tex": tex, "shim": shim}
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=BROWSER_ARGS, timeout=60_000)
        try:
            seen = {}
            for name, path in pages.items():
                page = browser.new_page()
                blocked, errors = [], []
                page.route("**/*", lambda route, blocked=blocked: route.continue_()
                           if route.request.url.startswith("file:")
                           else (blocked.append(route.request.url), route.abort()))
                page.on("console", lambda m, errors=errors: errors.append(m.text) if m.type == "error" else None)
                page.on("pageerror", lambda e, errors=errors: errors.append(str(e)))
                page.goto(path.as_uri(), wait_until="load")
                seen[name] = page.evaluate("""async () => {
                    const mj = window.MathJax;
                    if (mj && mj.startup && mj.startup.promise) { await mj.startup.promise; }
                    await Promise.all([...document.images].map(i => i.decode().catch(() => null)));
                    await new Promise(done => setTimeout(done, 200));
                    return {images: [...document.images].map(i => i.naturalWidth),
                            math: document.querySelectorAll('mjx-container').length,
                            mathErrors: document.querySelectorAll('mjx-merror').length,
                            links: [...document.querySelectorAll('a[href]')].map(a => a.href),
                            signalled: window.signalled || null};
                }""")
                seen[name].update(blocked=blocked, errors=errors)
                page.close()
        finally:
            browser.close()
    for name, info in seen.items():
        assert info["blocked"] == [] and info["errors"] == [], (name, info)
    assert seen["summary"]["images"] and all(w > 100 for w in seen["summary"]["images"]), "the histogram shows"
    assert seen["feedback"]["math"] > 0 and seen["feedback"]["mathErrors"] == 0, "math typeset offline"
    assert seen["tex"]["math"] == 3 and seen["tex"]["links"] == [], seen["tex"]
    assert seen["shim"]["signalled"] == ["End"] and seen["shim"]["math"] == 1, seen["shim"]
    for link in seen["summary"]["links"] + seen["index"]["links"]:
        target = pathlib.Path(link.split("#")[0].removeprefix("file://"))
        assert target.is_file(), link


def test_the_formgraders_view_loads_the_courses_mathjax_not_a_cdn(term):
    from nbconvert.exporters import HTMLExporter
    from nbgrader.server_extensions.formgrader import handlers

    from grader.inert import MATHJAX_SHIM
    from tests.course import load_config

    config = load_config(term.root)
    config.HTMLExporter.template_name = "formgrade"
    config.HTMLExporter.extra_template_basedirs = [handlers.template_path]
    import nbformat

    nb = nbformat.read(term.root / "autograded" / "ada" / PS / NOTEBOOK, as_version=4)
    resources = {"assignment_id": PS, "notebook_id": PS, "submission_id": "s", "index": 0, "total": 1,
                 "base_url": "/", "student": "ada", "last_name": "Lovelace", "first_name": "Ada",
                 "notebook_path": "/x.ipynb"}  # what the formgrader's handler passes
    page, _ = HTMLExporter(config=config).from_notebook_node(nb, resources=resources)
    assert "cdnjs" not in page and "MathJax 2" not in page
    assert MATHJAX_SHIM in page and "window.MathJax = {tex:" in page


def test_regrading_one_student_keeps_the_others_and_the_manual_grade(term):
    before = {r["student_id"]: r for r in rows(term.root / "grades.csv")}
    term.submit(PS, "cy", solution_sources(PS, NOTEBOOK))
    report = _regrade(term, "cy")
    assert report["students"] == 1 and report["failed"] == {}
    after = {r["student_id"]: r for r in rows(term.root / "grades.csv")}
    assert float(after["cy"][f"{PS}:test_rnn_param_count"]) > 0
    assert float(after["cy"][f"{PS}:{WRITTEN}"]) == 1.0, "the manual grade is kept"
    assert {k: v for k, v in after.items() if k != "cy"} == {k: v for k, v in before.items() if k != "cy"}


def _regrade(course, student):
    from grader.classroom import grade_class

    return grade_class(PS, root=course.root, workers=2, progress=False, student=student)


def test_make_grade_stops_when_the_gradebook_in_use_is_empty_but_another_has_grades(term, tmp_path):
    from grader.classroom import grade_class

    empty = f"sqlite:///{tmp_path / 'new.db'}"
    with pytest.raises(SystemExit, match=r"has no grades, but .*gradebook\.db holds 4 submission"):
        grade_class(PS, root=term.root, progress=False, overrides={"CourseDirectory.db_url": empty})


def test_late_policy_arithmetic_and_make_extend(tmp_path):
    from grader import late

    (tmp_path / "course.toml").write_text(COURSE_FILE)
    policy = late.load(tmp_path)
    day = late.DAY
    assert policy.penalty(0, 8, 10) == 0 and policy.penalty(1, 8, 10) == 1.0       # a second late: a day
    assert policy.penalty(2 * day + 1, 8, 10) == 3.0 and policy.penalty(30 * day, 8, 10) == 5.0  # capped
    assert policy.penalty(30 * day, 2, 10) == 2.0, "never below 0"
    zero, none = late.Policy({"late": {"policy": "zero"}}), late.Policy({"late": {"policy": "none"}})
    assert (zero.penalty(1, 8, 10), zero.penalty(0, 8, 10), none.penalty(30 * day, 8, 10)) == (8.0, 0.0, 0.0)
    graced = late.Policy({"late": {"policy": "zero", "grace_minutes": 10}, "due": {PS: "2026-11-22 12:00:00 UTC"}})
    assert graced.seconds_late(PS, "ada", "2026-11-22 12:09:00 UTC") == 0
    assert graced.seconds_late(PS, "ada", "2026-11-22 12:11:00 UTC") == 660
    late.extend(tmp_path, PS, "ada", "2026-11-30T12:00:00Z")
    late.extend(tmp_path, PS, "=x", "2026-11-29T12:00:00+01:00")
    late.extend(tmp_path, PS, "ada", "2026-12-01T12:00:00Z")  # replaced, not added
    policy = late.load(tmp_path)
    assert policy.deadline(PS, "ada").isoformat() == "2026-12-01T12:00:00+00:00"
    assert policy.deadline(PS, "=x").isoformat() == "2026-11-29T11:00:00+00:00"
    assert policy.deadline(PS, "bob").isoformat() == "2026-11-22T12:00:00+00:00"
    with pytest.raises(late.PolicyError):
        late.extend(tmp_path, PS, "ada", "next friday")
    (tmp_path / "course.toml").write_text('[late]\npolicy = "half"\n')
    with pytest.raises(late.PolicyError, match="policy must be one of"):
        late.load(tmp_path)


def test_a_roster_with_a_bad_row_imports_nothing(tmp_path):
    from grader.roster import RosterError, read

    (tmp_path / "bad.csv").write_text("Student ID,First Name,Last Name,Email\nada,A,L,a@x\nada,B,L,b@x\n../x,C,D,e\n")
    with pytest.raises(RosterError, match=r"line 3: 'ada' appears twice; line 4: '../x' cannot be a student id"):
        read(tmp_path / "bad.csv")


def test_migrating_to_postgresql_keeps_every_grade_comment_and_due_date(term, tmp_path):
    """Grades nothing: migrates this module's graded class, and compares full exports before and after."""
    from nbgrader.api import Gradebook

    from grader import export, late, migrate
    from tests.test_grading_engine import Postgres

    source = term.config.CourseDirectory.db_url
    with Gradebook(source, course_id="rnn-course") as gradebook:
        comment = gradebook.find_comment(WRITTEN, NOTEBOOK[:-6], PS, "bob")
        comment.manual_comment = "Say why tanh caps the state."
        gradebook.db.commit()
    server = Postgres()
    try:
        counts = migrate.migrate(source, server.url)
        assert counts["grade"] > 0 and counts["comment"] > 0 and counts["student"] == 5
        assert migrate.dump(source) == migrate.dump(server.url)
        policy = late.load(term.root)
        for url, name in ((source, "before.csv"), (server.url, "after.csv")):
            with Gradebook(url, course_id="rnn-course") as gradebook:
                export.write_plain(tmp_path / name, *export.table(gradebook, policy))
                assert gradebook.find_assignment(PS).duedate is not None
        assert (tmp_path / "before.csv").read_text() == (tmp_path / "after.csv").read_text()
        with Gradebook(server.url, course_id="rnn-course") as gradebook:
            assert gradebook.find_comment(WRITTEN, NOTEBOOK[:-6], PS, "bob").manual_comment.startswith("Say why")
            assert gradebook.find_grade(WRITTEN, NOTEBOOK[:-6], PS, "bob").manual_score == 1.5
        with pytest.raises(SystemExit, match="already holds submissions"):
            migrate.migrate(source, server.url)
    finally:
        server.stop()


def test_the_dashboard_names_crashes_and_timeouts(tmp_path):
    """Without grading: verdicts as the trusted step stores them, and what a run could not grade."""
    import nbformat

    from grader.summary import write_summary

    for student, verdict in {"kim": {"kind": "crash: the kernel died", "message": "rnn_step: the kernel died"},
                             "lee": {"message": "rnn_step: the test did not run: stopped after 30 s (an endless "
                                                "loop?)"}}.items():
        folder = tmp_path / "autograded" / student / PS
        folder.mkdir(parents=True)
        nb = nbformat.v4.new_notebook(metadata={"grader": {"verdicts": {"rnn_step": {
            "test_cell": "test_rnn_step", "passed": False, "mistake": None, **verdict}}}})
        nbformat.write(nb, folder / NOTEBOOK)
    summary = write_summary(tmp_path, PS, ["kim", "lee"], failed={"max": "not graded: its time limit of 300 s was "
                                                                          "reached and its grading was stopped"})
    page = pathlib.Path(summary["html"]).read_text()
    crashes = page.split("id='crashes'")[1]
    assert "kim" in crashes and "crash: the kernel died" in crashes
    assert "max" in crashes and "timeout: not graded" in crashes
    assert summary["counts"]["rnn_step"]["students"]["crash: the kernel died"] == ["kim"]


def test_the_grading_progress_bar_reaches_its_total(capsys):
    """Issue 20 item 9: a bar that zipped its items with the students stopped one short."""
    from grader.classroom import _progress
    from grader.instructor import _bar

    outcomes = [("grade", "a", None), ("feedback", "a", None), ("grade", "b", None), ("grade", "c", "x"),
                ("feedback", "b", None)]
    assert list(_progress(iter(outcomes), 3, True)) == outcomes
    assert list(_bar(["a", "b", "c"], True, "writing feedback")) == ["a", "b", "c"]
    printed = capsys.readouterr().err
    assert "grading: 100%" in printed and "3/3" in printed and "writing feedback: 100%" in printed


def test_make_grade_stops_when_grades_were_last_written_to_another_gradebook(tmp_path):
    from grader.classroom import IN_USE, _config, gradebook_in_use

    (tmp_path / IN_USE).parent.mkdir()
    (tmp_path / IN_USE).write_text("postgresql+psycopg://grader:***@db.example/rnn_course\n")
    with pytest.raises(SystemExit, match=r"grader:\*\*\*@db\.example/rnn_course is where grades were last written"):
        gradebook_in_use(_config(tmp_path, {}), tmp_path)
    (tmp_path / IN_USE).write_text(f"sqlite:///{tmp_path / 'gradebook.db'}\n")
    gradebook_in_use(_config(tmp_path, {}), tmp_path)  # the one in use, empty: a first grading goes ahead
