"""Instructor commands (each one has a make target; see the README):

    python -m grader grade <assignment> [--student ID] [--workers N] [--unsandboxed]   make grade
    python -m grader feedback <assignment> [--student ID] [--force]                    make feedback
    python -m grader grades [--format plain|canvas] [--to FILE]                        make grades
    python -m grader roster <file.csv>                                                 make roster
    python -m grader extend <assignment> <student> <until>                             make extend
    python -m grader migrate-db <url> [--from URL]                                     make migrate-db
    python -m grader references [--check] [assignment ...]                             make references
"""

import sys

COMMANDS = ("grade", "feedback", "grades", "roster", "extend", "migrate-db", "references")


def main(argv=None):
    argv = list(sys.argv[1:] if argv is None else argv)
    if not argv or argv[0] not in COMMANDS:
        print(__doc__, file=sys.stderr)
        return 2
    from grader.late import PolicyError
    from grader.roster import RosterError

    try:
        if argv[0] == "grade":
            from grader.classroom import main as grade

            return grade(argv[1:])
        if argv[0] == "references":
            from grader.references import main as references

            return references(argv[1:])
        from grader.instructor import main as instructor

        return instructor(argv)
    except (PolicyError, RosterError) as error:
        print(f"error: {error}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
