"""``make migrate-db TO=postgresql+psycopg://user@host/db``: move the gradebook, all of it, to another database.

    python -m grader migrate-db TO [--from URL]

Copies every row of every nbgrader table (course, students, assignments with their due dates, notebooks,
cells, submissions with their timestamps and late penalties, grades with automatic, manual and extra
credit scores, comments automatic and manual) from the gradebook in use (``--from``, by default the
course's: ``GRADER_DB_URL`` or ``gradebook.db``) into ``TO``, in one transaction, then reads both back and
stops with an error unless every table holds the same rows. ``TO`` must be empty (its tables are created,
with nbgrader's schema version); the source is not changed. Afterwards set ``GRADER_DB_URL`` to ``TO``:
``make grade`` refuses to start an empty gradebook while another one holds grades.
"""

import argparse
import sys

import sqlalchemy

from grader import classroom

# nbgrader's own tables, parents before children
TABLES = ["course", "student", "assignment", "notebook", "submitted_assignment", "base_cell", "source_cell",
          "submitted_notebook", "comment", "grade", "grade_cells", "solution_cells", "task_cells"]


def dump(url):
    """``{table: sorted rows}`` of every nbgrader table at ``url``: what a migration must keep."""
    from nbgrader.api import Base

    engine = sqlalchemy.create_engine(url)
    try:
        with engine.connect() as connection:
            out = {}
            for name in TABLES:
                table = Base.metadata.tables[name]
                rows = connection.execute(sqlalchemy.select(table)).mappings().all()
                out[name] = sorted((tuple((k, _plain(v)) for k, v in sorted(row.items())) for row in rows), key=repr)
            version = connection.execute(sqlalchemy.text("select version_num from alembic_version")).scalar()
            out["alembic_version"] = [version]
            return out
    finally:
        engine.dispose()


def _plain(value):
    return value.isoformat() if hasattr(value, "isoformat") else value


def migrate(source, target, course_id="rnn-course"):
    """Copy the gradebook at ``source`` into the empty database at ``target``; returns the row counts."""
    from nbgrader.api import Base, Gradebook

    if classroom.submissions_in(target):
        raise SystemExit(f"{classroom.shown_url(target)} already holds submissions: migrate into an empty database")
    if not classroom.submissions_in(source) and not _count(source, "assignment"):
        raise SystemExit(f"{classroom.shown_url(source)} holds no gradebook to migrate")
    Gradebook(target, course_id=course_id).close()  # nbgrader's schema and its alembic version
    source_engine, target_engine = sqlalchemy.create_engine(source), sqlalchemy.create_engine(target)
    counts = {}
    try:
        with source_engine.connect() as reading, target_engine.begin() as writing:
            for name in reversed(TABLES):  # the rows Gradebook() just made (its course), and anything else
                writing.execute(sqlalchemy.delete(Base.metadata.tables[name]))
            for name in TABLES:
                table = Base.metadata.tables[name]
                rows = [dict(row) for row in reading.execute(sqlalchemy.select(table)).mappings()]
                if rows:
                    writing.execute(sqlalchemy.insert(table), rows)
                counts[name] = len(rows)
    finally:
        source_engine.dispose()
        target_engine.dispose()
    before, after = dump(source), dump(target)
    different = [name for name in before if before[name] != after.get(name)]
    if different:
        raise SystemExit(f"the copy in {classroom.shown_url(target)} differs from the source in: "
                         f"{', '.join(different)}")
    return counts


def _count(url, table):
    try:
        engine = sqlalchemy.create_engine(url)
        with engine.connect() as connection:
            if not sqlalchemy.inspect(connection).has_table(table):
                return 0
            return connection.execute(sqlalchemy.text(f"select count(*) from {table}")).scalar()
    except Exception:
        return 0


def main(argv=None):
    parser = argparse.ArgumentParser(prog="python -m grader migrate-db", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("to", help="the new gradebook's URL, e.g. postgresql+psycopg://grader@dbhost/rnn_course")
    parser.add_argument("--from", dest="source", default=None, help="the gradebook to copy (default: the one in use)")
    parser.add_argument("--root", default=str(classroom.ROOT))
    args = parser.parse_args(argv)
    import pathlib

    config = classroom._config(pathlib.Path(args.root), {})
    source = args.source or config.CourseDirectory.db_url
    if source == args.to and not args.source:  # GRADER_DB_URL already points at the new one: the old is the file
        source = f"sqlite:///{pathlib.Path(args.root) / 'gradebook.db'}"
    if source == args.to:
        raise SystemExit("TO is the gradebook to copy from: give the new database's URL")
    counts = migrate(source, args.to, config.CourseDirectory.course_id)
    (pathlib.Path(args.root) / classroom.IN_USE).parent.mkdir(exist_ok=True)
    (pathlib.Path(args.root) / classroom.IN_USE).write_text(classroom.shown_url(args.to) + "\n")
    print(f"copied {classroom.shown_url(source)} to {classroom.shown_url(args.to)}: "
          + ", ".join(f"{n} {name}" for name, n in counts.items() if n)
          + f"; every table checked equal. Now: export GRADER_DB_URL='{classroom.shown_url(args.to)}'",
          file=sys.stdout)
    return 0
