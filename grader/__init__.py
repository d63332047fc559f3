"""The course's grading engine, kept apart from ``rnnlib`` (the numeric library the lessons import).

Only ``student`` and ``compare`` (and the generated ``visible/`` data) are ever imported inside a
student's kernel; everything else runs in the instructor's trusted process:

    student.py          what a problem set's test cells call: ``check(name, function, cases)``
    compare.py          plain-number encoding and comparison, shared by both sides
    exercise.py         an exercise: reference, known mistakes, hidden cases, helpers it may call
    ps1_recurrence.py   one module per problem set: its exercises
    problem_sets.py     finds those modules; the references under ``references/`` (generated)
    references.py       ``make references``: hidden cases and reference outputs, bit for bit
    sandbox.py          bubblewrap + prlimit command for a student's kernel
    execute.py          the nbgrader Execute step: sandboxed, crash- and hang-proof, hidden phase
    verdicts.py         the trusted nbgrader step: compares exports with references, writes verdicts
    notebooks.py        nbgrader steps: a submission's cells repaired from the release, executed notebooks
    submissions.py      what ``make grade`` reads of a submission: a copy, links and pipes refused
    classroom.py        ``make grade``: pre-flight, a whole class in parallel under time limits, feedback,
                        CSV, class summary
    inert.py            feedback and formgrader pages that run no student code
    export.py           nbgrader export plugin with per-question scores (no formulas)
    exchange.py         ``nbgrader collect`` without following links
    secret.py           hidden cases from a course secret (per student if asked); the default's warning
    similarity.py       ``reports/<PS>/similarity.html``: answers shared between submissions (copydetect)
    gradebook.py        nbgrader's add_submission made right for SQLAlchemy 2
"""
