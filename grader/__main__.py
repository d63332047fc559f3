"""Instructor commands: ``python -m grader grade <assignment>`` and ``python -m grader references``."""

import sys


def main(argv=None):
    argv = list(sys.argv[1:] if argv is None else argv)
    if not argv or argv[0] not in ("grade", "references"):
        print("usage: python -m grader grade <assignment> [--workers N] [--unsandboxed]\n"
              "       python -m grader references [--check] [assignment ...]", file=sys.stderr)
        return 2
    if argv[0] == "grade":
        from grader.classroom import main as grade

        return grade(argv[1:])
    from grader.references import main as references

    return references(argv[1:])


if __name__ == "__main__":
    sys.exit(main())
