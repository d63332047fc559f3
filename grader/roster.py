"""``make roster FILE=class.csv``: put the class list into the gradebook.

The file is a CSV with a header row. Its columns (any order, names case-insensitive):

- ``id`` (or ``student_id``, ``login``, ``username``): the student's id, the name of their folder under
  ``submitted/`` (required);
- ``first_name`` and ``last_name`` (or ``given_name``/``family_name``), ``email``;
- ``canvas_id`` (optional): the student's Canvas user id, written to the Canvas export's ``ID`` column.

Each student is added or updated (names, email, Canvas id); students already in the gradebook and not in
the file are kept (their grades too) and listed. A row whose id is empty, repeated or unsafe as a student id
(``< > " &``, control characters, slashes) is refused with its line number, and nothing is written.
"""

import csv
import io
import pathlib
import re

ALIASES = {"id": ("id", "student_id", "student id", "login", "username", "user"),
           "first_name": ("first_name", "first name", "given_name", "given name", "firstname"),
           "last_name": ("last_name", "last name", "family_name", "family name", "surname", "lastname"),
           "email": ("email", "e-mail", "mail"),
           "lms_user_id": ("canvas_id", "canvas id", "lms_user_id", "lms id")}
UNSAFE = re.compile(r'[<>"&/\\\x00-\x1f\x7f]')


class RosterError(ValueError):
    pass


def read(path):
    """``[{id, first_name, last_name, email, lms_user_id}]`` from the CSV at ``path``; RosterError if bad."""
    text = pathlib.Path(path).read_text(encoding="utf-8-sig")
    reader = csv.DictReader(io.StringIO(text))
    fields = {name.strip().lower(): name for name in reader.fieldnames or []}
    columns = {key: next((fields[a] for a in aliases if a in fields), None) for key, aliases in ALIASES.items()}
    if columns["id"] is None:
        raise RosterError(f"{path}: no id column (expected one of: {', '.join(ALIASES['id'])})")
    students, seen, problems = [], set(), []
    for line, row in enumerate(reader, start=2):
        entry = {key: (row.get(column) or "").strip() if column else "" for key, column in columns.items()}
        if not entry["id"]:
            problems.append(f"line {line}: no id")
        elif UNSAFE.search(entry["id"]) or entry["id"] in (".", ".."):
            problems.append(f"line {line}: {entry['id']!r} cannot be a student id (it would be a folder name)")
        elif entry["id"] in seen:
            problems.append(f"line {line}: {entry['id']!r} appears twice")
        seen.add(entry["id"])
        students.append(entry)
    if problems:
        raise RosterError(f"{path}: nothing imported; " + "; ".join(problems))
    return students


def import_roster(gradebook, path):
    """Add or update every student of the file; returns ``(added, updated, not_in_file)``."""
    students = read(path)
    known = {s.id for s in gradebook.students}
    for entry in students:
        gradebook.update_or_create_student(entry["id"], **{k: (v or None) for k, v in entry.items() if k != "id"})
    listed = {s["id"] for s in students}
    return (sorted(listed - known), sorted(listed & known), sorted(known - listed))
